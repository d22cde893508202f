"""The Django app of operations: commands spanning apps, health checks, retention (no models)."""

from django.apps import AppConfig


class OperationsConfig(AppConfig):
    """Cross-app operations: commands spanning apps, health checks, retention. No models."""

    name = "operations"
    default_auto_field = "django.db.models.BigAutoField"
