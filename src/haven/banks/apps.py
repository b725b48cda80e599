from django.apps import AppConfig


class BanksConfig(AppConfig):
    name = "haven.banks"
    label = "banks"
    verbose_name = "Banks"
