"""The one event hook: lower layers announce what happened, the outbox (webhooks) listens.

`intel`, `notices`, `access` and `seizures` must not import `webhooks` (it sits above them),
yet every change they make that a subscriber may hear of writes its outbox rows in the same
transaction. So they call `emit(event_type, **targets)`, and the one handler registered here
(`webhooks.outbox.enqueue`, registered by `WebhooksConfig.ready()`) is called synchronously,
inside the caller's transaction, with the same arguments. It decides everything about
delivery (who is entitled, which earlier recipients a withdrawal reaches, what supersedes
what) and returns how many deliveries it wrote, which the caller records in its audit event.

Targets by event (keyword arguments):

| event | targets |
|---|---|
| `notice.published`, `notice.updated`, `notice.withdrawn` | `notice` |
| `profile.updated` | `profile`, `changes` (the revision's diff, or None) |
| `access_request.created`, `access_request.decided` | `access_request` |
| `seizure.reported` | `seizure_report` |

`emit` with no handler registered raises `NoHandler`: an event nobody writes to the outbox is
a webhook silently lost, and every process that writes (web, worker, commands) loads the
installed apps, so a missing handler is a configuration error to see at once, not a no-op.
"""

from collections.abc import Callable
from typing import Any

from django.db import models

from core.vocabularies import vocabulary


class EventType(models.TextChoices):
    NOTICE_PUBLISHED = "notice.published", "notice.published"
    NOTICE_UPDATED = "notice.updated", "notice.updated"
    NOTICE_WITHDRAWN = "notice.withdrawn", "notice.withdrawn"
    PROFILE_UPDATED = "profile.updated", "profile.updated"
    ACCESS_REQUEST_CREATED = "access_request.created", "access_request.created"
    ACCESS_REQUEST_DECIDED = "access_request.decided", "access_request.decided"
    SEIZURE_REPORTED = "seizure.reported", "seizure.reported"
    TEST = "dix.test", "dix.test"


vocabulary(
    "event_type",
    EventType,
    title="Event type",
    description="What happened, as a webhook payload's `type` names it; a subscription "
    "chooses the types it receives.",
    fields=(),
    values={
        EventType.NOTICE_PUBLISHED: "A notice was published to an audience you are in.",
        EventType.NOTICE_UPDATED: "A published notice you received has a new version.",
        EventType.NOTICE_WITHDRAWN: "A notice you received was withdrawn.",
        EventType.PROFILE_UPDATED: "A profile you may see was changed.",
        EventType.ACCESS_REQUEST_CREATED: "Someone asked for access to your organisation's data.",
        EventType.ACCESS_REQUEST_DECIDED: "An access request of your organisation was decided.",
        EventType.SEIZURE_REPORTED: "A seizure report was filed that you may read.",
        EventType.TEST: "A test event, sent on request (`POST /subscriptions/{id}/test/`).",
    },
)


Handler = Callable[..., int]


class NoHandler(RuntimeError):
    """An event was emitted before any handler was registered."""


_handler: Handler | None = None


def register(handler: Handler) -> None:
    """Make `handler(event_type, **targets) -> int` the one receiver of every event.
    Registering the same handler again is harmless; a second, different one is refused."""
    global _handler
    if _handler is not None and _handler is not handler:
        raise RuntimeError(f"An event handler is already registered: {_handler!r}.")
    _handler = handler


def emit(event_type: EventType, **targets: Any) -> int:
    """Tell the handler that `event_type` happened to `targets`, inside the caller's
    transaction; returns the number of deliveries it wrote."""
    if _handler is None:
        raise NoHandler(
            f"{event_type} emitted with no event handler registered: is `webhooks` in "
            "INSTALLED_APPS?"
        )
    return _handler(event_type, **targets)
