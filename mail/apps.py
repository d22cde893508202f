"""The `mail` app: members' e-mail preferences, the e-mail outbox and the workers that send it."""

from django.apps import AppConfig

from core import events


class MailConfig(AppConfig):
    """E-mail to members: preferences, the outbox, sending and the daily digest."""

    name = "mail"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # The outbox imports models: it can be imported only once the apps are loaded.
        from mail import outbox

        events.register(outbox.enqueue)
