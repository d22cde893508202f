"""The `access` app: the workflow of requests for restricted data."""

from django.apps import AppConfig


class AccessConfig(AppConfig):
    """The access-request workflow (its models live in intel: visibility reads grants)."""

    name = "access"
    default_auto_field = "django.db.models.BigAutoField"
