"""The steps every access-request action shares: loading and locking the request, checking
its state, and recording the change with its audit event."""

from datetime import datetime, timedelta
from typing import Any

from access import targets
from core import durations
from core.errors import Conflict, FieldInvalid, NotFound
from intel import audit
from intel.models import (
    AccessRequest,
    Member,
)
from intel.models.access import OPEN_STATES

MAX_GRANT_DAYS = 365  # a year at most: a longer need is a new request, with a fresh purpose
DEFAULT_REQUEST_DAYS = 90  # a request that names no duration asks for a quarter


def request_validity(
    days: int | None, expires_at: datetime | None, now: datetime
) -> tuple[int | None, datetime | None]:
    """The duration a request asks for, as asked (`days` or `expires_at`; neither: the
    default number of days), after the one validity rule (`core.durations`)."""
    durations.validity(
        days=days,
        expires_at=expires_at,
        default=timedelta(days=DEFAULT_REQUEST_DAYS),
        maximum=timedelta(days=MAX_GRANT_DAYS),
        now=now,
    )
    if expires_at is not None:
        return None, expires_at
    return days or DEFAULT_REQUEST_DAYS, None


def grant_expiry(
    access_request: AccessRequest, days: int | None, expires_at: datetime | None, now: datetime
) -> datetime:
    """When an approval's grant ends: as the decider says (`days` or `expires_at`), or else
    as the request asked."""
    if days is None and expires_at is None and access_request.requested_expires_at is not None:
        if access_request.requested_expires_at <= now:
            raise FieldInvalid(
                "expires_at", "The requested expiry has passed: give days or expires_at."
            )
        expires_at = access_request.requested_expires_at
    expiry = durations.validity(
        days=days,
        expires_at=expires_at,
        default=timedelta(days=access_request.requested_days or DEFAULT_REQUEST_DAYS),
        maximum=timedelta(days=MAX_GRANT_DAYS),
        now=now,
    )
    assert expiry is not None  # a default is given
    return expiry


def locked(access_request_id: int, member: Member) -> AccessRequest:
    """The request, locked for this transaction, if the member may see it; else 404."""
    access_request = (
        AccessRequest.objects.visible_to(member)
        .select_for_update()
        .filter(pk=access_request_id)
        .first()
    )
    if access_request is None:
        raise NotFound(targets.NOT_FOUND)
    return access_request


def require_open(access_request: AccessRequest) -> None:
    if access_request.status not in OPEN_STATES:
        raise Conflict(f"The request is already {access_request.status}.")


def set_status(access_request: AccessRequest, status: str, now: datetime, *also: str) -> None:
    access_request.status = status
    access_request.updated_at = now
    access_request.save(update_fields=["status", "updated_at", *also])


def record(
    action: str,
    actor: Member,
    access_request: AccessRequest,
    target: targets.Target | None,
    http_request: Any,
    *,
    justification: str = "",
    **detail: Any,
) -> None:
    audit.record(
        action=action,
        actor=actor,
        object_type="access_request",
        object_id=access_request.pk,
        object_tlp=target.tlp if target else "",
        justification=justification,
        request=http_request,
        detail={
            "target_type": access_request.target_type,
            "target_id": access_request.target_id,
            "owner": access_request.owner_id,
            "organisation": access_request.organisation_id,
            **detail,
        },
    )
