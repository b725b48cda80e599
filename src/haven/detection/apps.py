from django.apps import AppConfig


class DetectionConfig(AppConfig):
    name = "haven.detection"
    label = "detection"
    verbose_name = "Detection"
