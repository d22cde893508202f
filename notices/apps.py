from django.apps import AppConfig


class NoticesConfig(AppConfig):
    """Alert notices, subscriptions and webhook deliveries (see the notices issue)."""

    name = "notices"
    default_auto_field = "django.db.models.BigAutoField"
