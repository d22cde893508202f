"""The e-mail outbox: one `EmailMessage` row per member to tell of an event, written in the
caller's transaction; nothing is sent here. `enqueue` is registered as a `core.events`
handler (`MailConfig.ready`); the workers send (`mail.sending`)."""

from typing import Any

from celery import current_app
from django.db import transaction

from core.events import EventType
from mail.models import Delivery, EmailMessage
from mail.preferences import delivery_of
from mail.recipients import recipients

SEND_DUE_TASK = "mail.tasks.send_due"

# The keyword targets of `core.events.emit` an e-mail row refers to.
_REFERENCES = ("notice", "organisation", "access_request", "profile", "seizure_report")


def enqueue(event_type: str, **targets: Any) -> int:
    """Write the e-mail rows of one event (a `core.events` handler). Returns 0: the count
    `emit` returns is the webhook deliveries' (what the callers audit), and e-mails are none."""
    if event_type == EventType.TEST:
        return 0
    members = recipients(event_type, **targets)
    if not members:
        return 0
    refs = {name: targets[name] for name in _REFERENCES if targets.get(name) is not None}
    notice = refs.get("notice")
    rows = [
        EmailMessage(
            member=member,
            event_type=event_type,
            delivery=delivery_of(member, event_type),
            notice_version=notice.version if notice is not None else 0,
            **refs,
        )
        for member in members
    ]
    EmailMessage.objects.bulk_create(rows, batch_size=500)
    if any(row.delivery == Delivery.IMMEDIATE for row in rows):
        # A lost message costs only the wait for beat's next `send_due`.
        transaction.on_commit(lambda: current_app.send_task(SEND_DUE_TASK), robust=True)
    return 0
