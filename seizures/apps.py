"""The `seizures` app: seizure and hit reports."""

from django.apps import AppConfig


class SeizuresConfig(AppConfig):
    """Seizure and hit reports."""

    name = "seizures"
    default_auto_field = "django.db.models.BigAutoField"
