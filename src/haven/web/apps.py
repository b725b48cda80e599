from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _create_keys(sender: AppConfig, **kwargs: Any) -> None:
    """`haven migrate` is the first-run step: it also creates the node's keys."""
    from haven.web.node import keyring

    keyring()


class WebConfig(AppConfig):
    name = "haven.web"
    label = "web"
    verbose_name = "Web"

    def ready(self) -> None:
        # Sent once per migrated app; creating keys is idempotent (a no-op once they exist).
        post_migrate.connect(_create_keys, dispatch_uid="haven-create-keys")
