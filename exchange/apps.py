"""The Django app of the exchange: STIX 2.1 exports and the TAXII 2.1 server (no models)."""

from django.apps import AppConfig


class ExchangeConfig(AppConfig):
    """STIX 2.1 exports and the TAXII 2.1 server. No models."""

    name = "exchange"
    default_auto_field = "django.db.models.BigAutoField"
