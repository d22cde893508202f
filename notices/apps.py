"""The `notices` app: alert notices, their audiences, versions and receipts."""

from django.apps import AppConfig


class NoticesConfig(AppConfig):
    """Alert notices: their versions, audiences, receipts and inbox."""

    name = "notices"
    default_auto_field = "django.db.models.BigAutoField"
