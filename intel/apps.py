"""The `intel` app: the network, device profiles, who sees what, the audit trail."""

from django.apps import AppConfig


class IntelConfig(AppConfig):
    """The network of desks, device profiles and everything a desk files about them."""

    name = "intel"
    verbose_name = "Device intelligence"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Signal handlers import models: only once the apps are loaded.
        from intel import signals

        signals.connect()
        # Every choice field of the API lists its allowed values when it refuses one. `intel`
        # is the lowest app: its `ready` runs before any request, whatever else is installed.
        from core import choices

        choices.install()
