"""The steps of an access request that decide nothing: the secretariat routing it to the
owner, and the parties' comments. Each is one transaction holding its message and its audit
event; who may take them is `access.policies`."""

from typing import Any

from django.db import transaction
from django.utils import timezone

from access import policies, records, targets
from core import events
from core.errors import Forbidden
from core.events import EventType
from intel.models import AccessRequest, AccessRequestMessage, Member


def access_request_route(
    *, access_request_id: int, member: Member, note: str = "", http_request: Any = None
) -> AccessRequest:
    """The secretariat hands an open request to the organisation that decides it: a note on
    the request, and the owner's endpoints are told again (`access_request.created`)."""
    with transaction.atomic():
        access_request = records.locked(access_request_id, member)
        if not policies.may_route(member, access_request):
            raise Forbidden("The secretariat's coordinators route requests to their owner.")
        records.require_open(access_request)
        owner = access_request.owner.slug
        text = note.strip() or f"Routed to {owner}, which decides."
        now = timezone.now()
        AccessRequestMessage.objects.create(
            request=access_request,
            author=member,
            kind=AccessRequestMessage.Kind.ROUTED,
            text=text,
            created_at=now,
        )
        access_request.updated_at = now
        access_request.save(update_fields=["updated_at"])
        delivered = events.emit(EventType.ACCESS_REQUEST_CREATED, access_request=access_request)
        records.record(
            "access_request.routed",
            member,
            access_request,
            targets.target_of(access_request),
            http_request,
            message=text,
            routed_to=owner,
            deliveries=delivered,
        )
    return access_request


def access_request_comment(
    *, access_request_id: int, member: Member, message: str, http_request: Any = None
) -> AccessRequest:
    """A party's remark on the request, whatever its state; it changes nothing else."""
    with transaction.atomic():
        access_request = records.locked(access_request_id, member)
        if not policies.may_comment(member, access_request):
            raise Forbidden(
                "The requesting organisation, the owner's deciders and the secretariat's "
                "coordinators comment on a request."
            )
        now = timezone.now()
        AccessRequestMessage.objects.create(
            request=access_request,
            author=member,
            kind=AccessRequestMessage.Kind.COMMENT,
            text=message,
            created_at=now,
        )
        access_request.updated_at = now
        access_request.save(update_fields=["updated_at"])
        records.record(
            "access_request.commented",
            member,
            access_request,
            targets.target_of(access_request),
            http_request,
            message=message,
        )
    return access_request
