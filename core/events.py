"""The one event hook: lower layers announce what happened, the listeners above them hear it.

`intel`, `notices`, `access` and `seizures` must not import `webhooks` or `mail` (they sit
above them), yet every change they make that a subscriber or a member may hear of writes its
outbox rows in the same transaction. So they call `emit(event_type, **targets)`, and each
handler registered here is called synchronously, in the order of registration, inside the
caller's transaction, with the same arguments:

- `webhooks.outbox.enqueue` (registered by `WebhooksConfig.ready()`) writes one webhook
  delivery per entitled subscription and returns how many it wrote;
- `mail.outbox.enqueue` (registered by `MailConfig.ready()`) writes one e-mail row per member
  who may see the object and wants to hear of it, and returns 0: e-mails are no deliveries.

`emit` returns the sum of what the handlers return, so the count a caller records in its
audit event stays the number of webhook deliveries written.

Targets by event (keyword arguments):

| event | targets |
|---|---|
| `notice.submitted`, `notice.published`, `notice.updated`, `notice.withdrawn` | `notice` |
| `notice.reminder` | `notice`, `organisation` (the audience organisation reminded) |
| `profile.updated` | `profile`, `changes` (the revision's diff, or None) |
| `access_request.created`, `access_request.decided` | `access_request` |
| `seizure.reported`, `seizure.amended`, `seizure.withdrawn` | `seizure_report` |

`emit` with no handler registered raises `NoHandler`: an event nobody writes to the outbox is
a webhook silently lost, and every process that writes (web, worker, commands) loads the
installed apps, so a missing handler is a configuration error to see at once, not a no-op.
"""

from collections.abc import Callable
from typing import Any

from django.db import models

from core.vocabularies import vocabulary


class EventType(models.TextChoices):
    NOTICE_SUBMITTED = "notice.submitted", "notice.submitted"
    NOTICE_PUBLISHED = "notice.published", "notice.published"
    NOTICE_UPDATED = "notice.updated", "notice.updated"
    NOTICE_WITHDRAWN = "notice.withdrawn", "notice.withdrawn"
    NOTICE_REMINDER = "notice.reminder", "notice.reminder"
    PROFILE_UPDATED = "profile.updated", "profile.updated"
    ACCESS_REQUEST_CREATED = "access_request.created", "access_request.created"
    ACCESS_REQUEST_DECIDED = "access_request.decided", "access_request.decided"
    SEIZURE_REPORTED = "seizure.reported", "seizure.reported"
    SEIZURE_AMENDED = "seizure.amended", "seizure.amended"
    SEIZURE_WITHDRAWN = "seizure.withdrawn", "seizure.withdrawn"
    TEST = "dix.test", "dix.test"


vocabulary(
    "event_type",
    EventType,
    title="Event type",
    description="What happened, as a webhook payload's `type` names it; a subscription "
    "chooses the types it receives.",
    fields=(),
    values={
        EventType.NOTICE_SUBMITTED: "A draft of your organisation waits for review (sent to "
        "the issuer's and the secretariat's subscriptions).",
        EventType.NOTICE_PUBLISHED: "A notice was published to an audience you are in.",
        EventType.NOTICE_UPDATED: "A published notice you received has a new version.",
        EventType.NOTICE_WITHDRAWN: "A notice you received was withdrawn.",
        EventType.NOTICE_REMINDER: "A notice you received is past its `respond_by` and your "
        "organisation has not acknowledged it (once per notice).",
        EventType.PROFILE_UPDATED: "A profile you may see was changed.",
        EventType.ACCESS_REQUEST_CREATED: "Someone asked for access to your organisation's data.",
        EventType.ACCESS_REQUEST_DECIDED: "An access request of your organisation was decided.",
        EventType.SEIZURE_REPORTED: "A seizure report was filed that you may read.",
        EventType.SEIZURE_AMENDED: "A seizure report sent to you has a new version.",
        EventType.SEIZURE_WITHDRAWN: "A seizure report sent to you was withdrawn.",
        EventType.TEST: "A test event, sent on request (`POST /subscriptions/{id}/test/`).",
    },
)


Handler = Callable[..., int]


class NoHandler(RuntimeError):
    """An event was emitted before any handler was registered."""


_handlers: list[Handler] = []


def register(handler: Handler) -> None:
    """Add `handler(event_type, **targets) -> int` to the receivers of every event, after
    those registered before it. Registering the same handler again is harmless."""
    if handler not in _handlers:
        _handlers.append(handler)


def emit(event_type: EventType, **targets: Any) -> int:
    """Tell every handler that `event_type` happened to `targets`, inside the caller's
    transaction; returns the sum of their counts (the webhook deliveries written)."""
    if not _handlers:
        raise NoHandler(
            f"{event_type} emitted with no event handler registered: are `webhooks` and "
            "`mail` in INSTALLED_APPS?"
        )
    return sum(handler(event_type, **targets) for handler in _handlers)
