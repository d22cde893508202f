"""The requester's side of an access request: asking (`access_request_create`), answering a
question and withdrawing. Each action is one transaction holding its audit event and, for a
creation, its webhook outbox rows (through `core.events`). The rules of what may be requested
are in `access.targets`; the decider's side is in `access.decisions`; docs/access-requests.md
describes the workflow for desks.

The models (`AccessRequest`, `AccessRequestMessage`, `Grant`) stay in `intel.models.access`:
the visibility rules of `intel` and `notices`, below this app, read grants.
"""

from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from access import policies, records, targets
from core import events
from core.errors import Conflict, FieldInvalid, Forbidden, NotFound
from core.events import EventType
from intel.models import (
    TLP,
    AccessRequest,
    AccessRequestMessage,
    AccessRequestStatus,
    Member,
    Organisation,
)
from intel.models.access import OPEN_STATES


def access_request_create(
    *,
    requester: Member,
    target_type: str,
    target_id: int,
    purpose: str,
    legal_basis: str,
    days: int | None = None,
    expires_at: datetime | None = None,
    case_reference: str = "",
    via_notice_id: int | None = None,
    on_behalf_of: Organisation | None = None,
    http_request: Any = None,
) -> AccessRequest:
    """Ask the owner of an object for access to it (see the module docstring for what may be
    asked). Tells the owner organisation's endpoints (`access_request.created`)."""

    organisation = requester.organisation
    if organisation is None or not policies.may_request(requester):
        raise Forbidden("Auditors and members without an organisation do not request access.")
    if on_behalf_of is not None and on_behalf_of.sponsor_id != organisation.pk:
        raise FieldInvalid(
            "on_behalf_of",
            f"{on_behalf_of.slug} is not an authority sponsored by your organisation "
            f"({organisation.slug}).",
        )
    requested_days, requested_expires_at = records.request_validity(
        days, expires_at, timezone.now()
    )
    with transaction.atomic():
        # One request at a time per organisation, so that two clicks cannot both pass the
        # duplicate check below (PostgreSQL; SQLite serialises writers anyway).
        Organisation.objects.select_for_update().get(pk=organisation.pk)
        via = (
            targets.visible_notice(requester, via_notice_id) if via_notice_id is not None else None
        )
        target = targets.load_target(target_type, target_id)
        if target is None:
            raise NotFound(targets.NOT_FOUND)
        seen = targets.sees(requester, target)
        if not seen and not targets.advertised(via, target):
            raise NotFound(targets.NOT_FOUND)
        if not seen and TLP.above(target.tlp, requester.clearance):
            # Answered like an unknown id: `requestable/` does not offer it either, so a 400
            # here would let a member probe for stricter attachments by sequential ids.
            raise NotFound(targets.NOT_FOUND)
        # From here on the requester knows that the object exists.
        if target.owner_id == organisation.pk:
            raise Conflict(
                f"Your organisation owns this {target.noun}: share it by naming recipients "
                "instead of requesting it."
            )
        if TLP.above(target.tlp, requester.clearance):
            raise FieldInvalid(
                "target_id",
                f"This {target.noun} is marked above your clearance ({requester.clearance}): "
                "a cleared colleague must request it.",
            )
        if on_behalf_of is None:
            if seen:
                raise Conflict(f"You already see this {target.noun}: there is nothing to request.")
        else:
            if target.tlp == TLP.RED:
                raise FieldInvalid(
                    "on_behalf_of", "TLP:RED is shared with named people only: request it yourself."
                )
            if targets.sees(targets._organisation_viewer(on_behalf_of), target):
                raise Conflict(
                    f"{on_behalf_of.slug} already sees this {target.noun}: there is nothing to "
                    "request."
                )
        duplicate = AccessRequest.objects.filter(
            organisation=organisation,
            on_behalf_of=on_behalf_of,
            target_type=target.type,
            target_id=target.id,
            status__in=OPEN_STATES,
        ).first()
        if duplicate is not None:
            raise Conflict(
                f"Request {duplicate.pk} for this {target.noun} is still open: answer or "
                "withdraw it instead of asking again."
            )
        now = timezone.now()
        access_request = AccessRequest.objects.create(
            requester=requester,
            organisation=organisation,
            on_behalf_of=on_behalf_of,
            owner_id=target.owner_id,
            target_type=target.type,
            target_id=target.id,
            via_notice_id=via.pk if via is not None else None,
            purpose=purpose,
            legal_basis=legal_basis,
            case_reference=case_reference,
            requested_days=requested_days,
            requested_expires_at=requested_expires_at,
            created_at=now,
            updated_at=now,
        )
        records.record(
            "access_request.created",
            requester,
            access_request,
            target,
            http_request,
            justification=purpose,
            legal_basis=legal_basis,
            case_reference=case_reference,
            days=requested_days,
            expires_at=requested_expires_at.isoformat() if requested_expires_at else None,
            on_behalf_of=on_behalf_of.slug if on_behalf_of else None,
            via_notice=access_request.via_notice_id,
        )
        events.emit(EventType.ACCESS_REQUEST_CREATED, access_request=access_request)
    return access_request


def access_request_answer(
    *, access_request_id: int, member: Member, message: str, http_request: Any = None
) -> AccessRequest:
    """The requesting organisation answers the decider's question: pending again."""
    with transaction.atomic():
        access_request = records.locked(access_request_id, member)
        _require_requesting_side(access_request, member, "answers")
        if access_request.status != AccessRequestStatus.INFO_REQUESTED:
            raise Conflict(
                f"No question is waiting for an answer (the request is {access_request.status})."
            )
        now = timezone.now()
        AccessRequestMessage.objects.create(
            request=access_request,
            author=member,
            kind=AccessRequestMessage.Kind.ANSWER,
            text=message,
            created_at=now,
        )
        records.set_status(access_request, AccessRequestStatus.PENDING, now)
        records.record(
            "access_request.answered",
            member,
            access_request,
            targets.target_of(access_request),
            http_request,
            message=message,
        )
    return access_request


def access_request_withdraw(
    *, access_request_id: int, member: Member, reason: str = "", http_request: Any = None
) -> AccessRequest:
    """The requesting organisation takes back an open request."""
    with transaction.atomic():
        access_request = records.locked(access_request_id, member)
        _require_requesting_side(access_request, member, "withdraws")
        records.require_open(access_request)
        access_request.decision_reason = reason
        records.set_status(
            access_request, AccessRequestStatus.WITHDRAWN, timezone.now(), "decision_reason"
        )
        records.record(
            "access_request.withdrawn",
            member,
            access_request,
            targets.target_of(access_request),
            http_request,
            justification=reason,
        )
    return access_request


def _require_requesting_side(access_request: AccessRequest, member: Member, verb: str) -> None:
    if not policies.may_act_for_requester(member, access_request):
        raise Forbidden(f"Only the requesting organisation {verb} its request.")
