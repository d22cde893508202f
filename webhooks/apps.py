"""The `webhooks` app: subscriptions, the outbox and the delivery engine; it registers the event hook's handler."""

from django.apps import AppConfig

from core import events


class WebhooksConfig(AppConfig):
    """Webhook subscriptions, the outbox and the delivery engine."""

    name = "webhooks"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # The outbox imports models: it can be imported only once the apps are loaded.
        from webhooks import outbox

        events.register(outbox.enqueue)
