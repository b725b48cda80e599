from django.apps import AppConfig


class AdsConfig(AppConfig):
    name = "haven.ads"
    label = "ads"
    verbose_name = "Ads and clusters"
