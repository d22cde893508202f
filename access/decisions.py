"""The decider's side of an access request: asking for more, approving with an expiry and a
scope (a `Grant`, honoured by every visibility function until it expires or is revoked),
denying; and revoking and expiring grants. Each action is one transaction holding its audit
event and its webhook outbox rows (through `core.events`)."""

from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from access import policies, records, targets
from core import events
from core.errors import Conflict, FieldInvalid, Forbidden
from core.events import EventType
from intel import audit
from intel import changes as changes_version
from intel.models import (
    TLP,
    AccessRequest,
    AccessRequestMessage,
    AccessRequestStatus,
    Attachment,
    Grant,
    GrantScope,
    Member,
    TargetType,
)


def access_request_request_info(
    *, access_request_id: int, member: Member, message: str, http_request: Any = None
) -> AccessRequest:
    """The decider asks the requester for more before deciding; the request waits
    (`info_requested`) until the requester answers."""
    with transaction.atomic():
        access_request = records.locked(access_request_id, member)
        if not policies.may_ask_info(member, access_request):
            raise Forbidden(_ask_info_refusal(member, access_request))
        target = targets.target_of(access_request)
        records.require_open(access_request)
        now = timezone.now()
        AccessRequestMessage.objects.create(
            request=access_request,
            author=member,
            kind=AccessRequestMessage.Kind.INFO_REQUESTED,
            text=message,
            created_at=now,
        )
        records.set_status(access_request, AccessRequestStatus.INFO_REQUESTED, now)
        records.record(
            "access_request.info_requested",
            member,
            access_request,
            target,
            http_request,
            message=message,
        )
    return access_request


def access_request_approve(
    *,
    access_request_id: int,
    member: Member,
    scope: str = GrantScope.OBJECT,
    days: int | None = None,
    expires_at: datetime | None = None,
    note: str = "",
    http_request: Any = None,
) -> AccessRequest:
    """Grant the request: the beneficiary organisation (for TLP:RED, the requesting member)
    sees the object until the expiry (`days` or `expires_at`; by default as requested, see
    `records.grant_expiry`) or a revocation. Tells the requesting side
    (`access_request.decided`)."""

    with transaction.atomic():
        access_request, target = _for_decision(access_request_id, member, widens=True)
        records.require_open(access_request)
        if target is None:
            raise Conflict("The object no longer exists: deny the request instead.")
        if scope == GrantScope.WITH_ATTACHMENTS and target.type != TargetType.PROFILE:
            raise FieldInvalid("scope", "with_attachments applies to profiles only.")
        if not _may_share(member, target, scope):
            raise Forbidden(
                "You share only what you may read yourself: an attachment the scope would "
                "show is beyond your clearance or not shared with you (approve the object "
                "alone)."
            )
        now = timezone.now()
        expires_at = records.grant_expiry(access_request, days, expires_at, now)
        named: Member | None = None
        if target.tlp == TLP.RED:
            named = access_request.requester
            if named is None or not named.is_active:
                raise Conflict("TLP:RED is granted to a named person, and the requester is gone.")
        grant = Grant.objects.create(
            request=access_request,
            organisation_id=access_request.beneficiary_id,
            member=named,
            target_type=target.type,
            target_id=target.id,
            scope=scope,
            granted_by=member,
            created_at=now,
            expires_at=expires_at,
        )
        access_request.decided_by = member
        access_request.decided_at = now
        access_request.decision_reason = note
        records.set_status(
            access_request,
            AccessRequestStatus.APPROVED,
            now,
            "decided_by",
            "decided_at",
            "decision_reason",
        )
        records.record(
            "access_request.approved",
            member,
            access_request,
            target,
            http_request,
            justification=note,
            grant=grant.pk,
            scope=scope,
            expires_at=expires_at.isoformat(),
            beneficiary=access_request.beneficiary_id,
            named_member=named.username if named else None,
        )
        changes_version.bump_on_commit()  # inboxes render what the grant now shows
        events.emit(EventType.ACCESS_REQUEST_DECIDED, access_request=access_request)
    return access_request


def access_request_deny(
    *, access_request_id: int, member: Member, reason: str, http_request: Any = None
) -> AccessRequest:
    """Refuse the request, with the reason the requester will read. Tells the requesting
    side (`access_request.decided`)."""

    if not reason.strip():
        raise FieldInvalid("reason", "A denial states its reason.")
    with transaction.atomic():
        access_request, target = _for_decision(access_request_id, member, widens=False)
        records.require_open(access_request)
        now = timezone.now()
        access_request.decided_by = member
        access_request.decided_at = now
        access_request.decision_reason = reason
        records.set_status(
            access_request,
            AccessRequestStatus.DENIED,
            now,
            "decided_by",
            "decided_at",
            "decision_reason",
        )
        records.record(
            "access_request.denied",
            member,
            access_request,
            target,
            http_request,
            justification=reason,
        )
        events.emit(EventType.ACCESS_REQUEST_DECIDED, access_request=access_request)
    return access_request


def grant_revoke(
    *, access_request_id: int, member: Member, reason: str, http_request: Any = None
) -> AccessRequest:
    """End the request's grant now. The object disappears from the beneficiary's reads at
    once, and webhook deliveries of it still pending are cancelled when their turn comes (the
    engine checks entitlement before every attempt)."""
    if not reason.strip():
        raise FieldInvalid("reason", "A revocation states its reason.")
    with transaction.atomic():
        access_request, target = _for_decision(access_request_id, member, widens=False)
        grant = Grant.objects.select_for_update().filter(request=access_request).first()
        if grant is None:
            raise Conflict("This request has no grant to revoke.")
        now = timezone.now()
        if grant.revoked_at is not None:
            raise Conflict("The grant is already revoked.")
        if grant.expires_at <= now:
            raise Conflict("The grant has already expired.")
        grant.revoked_at = now
        grant.revoked_by = member
        grant.revoke_reason = reason
        grant.ended_notified_at = now  # its end is recorded here, not by the expiry sweep
        grant.save(update_fields=["revoked_at", "revoked_by", "revoke_reason", "ended_notified_at"])
        access_request.updated_at = now
        access_request.save(update_fields=["updated_at"])
        audit.record(
            action="grant.revoked",
            actor=member,
            object_type="grant",
            object_id=grant.pk,
            object_tlp=target.tlp if target else "",
            justification=reason,
            request=http_request,
            detail=_grant_detail(grant),
        )
        changes_version.bump_on_commit()
    return access_request


def grants_expire(*, now: datetime | None = None) -> int:
    """Record the end of every grant that expired since the last sweep (run by beat): mark it
    (`ended_notified_at`), audit `grant.expired`, and move the shared-data counter so that
    cached inbox pages and ETags computed while it was active are not served again. Reads
    already stopped honouring it at its expiry (`GrantQuerySet.active`)."""
    now = now or timezone.now()
    with transaction.atomic():
        ended = list(
            Grant.objects.select_for_update(skip_locked=True)
            .filter(ended_notified_at__isnull=True, revoked_at__isnull=True, expires_at__lte=now)
            .order_by("expires_at", "id")[:1000]
        )
        for grant in ended:
            grant.ended_notified_at = now
            grant.save(update_fields=["ended_notified_at"])
            target = targets.load_target(grant.target_type, grant.target_id)
            audit.record(
                action="grant.expired",
                actor=None,
                object_type="grant",
                object_id=grant.pk,
                object_tlp=target.tlp if target else "",
                detail=_grant_detail(grant),
            )
        if ended:
            changes_version.bump_on_commit()
    return len(ended)


def _for_decision(
    access_request_id: int, member: Member, *, widens: bool
) -> tuple[AccessRequest, targets.Target | None]:
    access_request = records.locked(access_request_id, member)
    target = targets.target_of(access_request)
    policies.check_decide(member, access_request, target, widens=widens)
    return access_request, target


def _ask_info_refusal(member: Member, access_request: AccessRequest) -> str:
    if member.organisation_id in (access_request.organisation_id, access_request.on_behalf_of_id):
        return policies.OWN_REQUEST
    return (
        f"{access_request.owner.slug}'s deciders and the secretariat's coordinators ask the "
        "requester for more."
    )


def _may_share(member: Member, target: targets.Target, scope: str) -> bool:
    """With `with_attachments`, the approver must read every attachment the grant would show
    (an organisation's grant never shows RED), as they read the object itself
    (`policies.check_decide`): nobody hands on what they may not read."""
    if scope != GrantScope.WITH_ATTACHMENTS:
        return True
    annexes = Attachment.objects.filter(profile_id=target.id)
    if target.tlp != TLP.RED:
        annexes = annexes.exclude(tlp=TLP.RED)
    unread = annexes.exclude(id__in=Attachment.objects.visible_to(member).values("id"))
    return not unread.exists()


def _grant_detail(grant: Grant) -> dict[str, Any]:
    return {
        "access_request": grant.request_id,
        "target_type": grant.target_type,
        "target_id": grant.target_id,
        "organisation": grant.organisation_id,
        "member": grant.member_id,
        "scope": grant.scope,
        "expires_at": grant.expires_at.isoformat(),
    }
