"""Access requests and grants: every write of the workflow, and what a member may request.

A member asks to see one object it may not yet see (a profile, an attachment or a notice);
the owner organisation — or the secretariat's coordinators — asks for more information,
approves with an expiry and a scope, or denies with a reason. An approval writes a `Grant`,
which every visibility function honours until it expires or is revoked. Each action is one
transaction holding its audit event and, for a creation or a decision, its webhook outbox
rows (through `core.events`). docs/access-requests.md describes the workflow for desks.

The models (`AccessRequest`, `AccessRequestMessage`, `Grant`) stay in `intel.models.access`:
the visibility rules of `intel` and `notices`, below this app, read grants.

What may be requested — the rule that keeps the existence of unseen objects secret:

- an object the requester sees: only on behalf of a sponsored authority that does not see it
  (otherwise 409: there is nothing to ask for);
- an object the requester does not see: only when it learnt of it from a notice it sees,
  named as `via_notice`:
  - a profile listed in that notice, when the notice advertises restricted data
    (`restricted_data_available`);
  - an attachment of a profile listed in that notice, on the same condition;
  - the notice that superseded it (the superseded notice shows its successor's reference).

Anything else — an id that does not exist, or one the requester has no way to know of —
answers 404 with the body of any unseen object. `requestable_via_notice` lists what a notice
makes requestable, so that desks never need to guess ids.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from access import policies
from core import events
from core.errors import Conflict, FieldInvalid, Forbidden, NotFound
from core.events import EventType
from intel import audit
from intel import changes as changes_version
from intel.models import (
    TLP,
    AccessRequest,
    AccessRequestMessage,
    AccessRequestStatus,
    Attachment,
    DeviceProfile,
    Grant,
    GrantScope,
    Member,
    Organisation,
    TargetType,
    tlp_labels_up_to,
)
from intel.models.access import OPEN_STATES
from intel.visibility import Reader, Viewer
from notices.models import PUBLIC_STATES, Notice

MAX_GRANT_DAYS = 365  # a year at most: a longer need is a new request, with a fresh purpose

NOT_FOUND = "Not found."


@dataclass(frozen=True)
class Target:
    """What a request is about, loaded without regard to who asks (callers check that)."""

    type: str
    id: int
    owner_id: int
    tlp: str
    profile_id: int | None = None  # an attachment's profile

    @property
    def noun(self) -> str:
        return TargetType(self.type).label.lower()


@dataclass(frozen=True)
class Requestable:
    """One object a notice lets its reader request (see `requestable_via_notice`)."""

    target_type: str
    target_id: int
    profile_id: int | None
    owner: Organisation
    open_request_id: int | None


# --- Targets ---------------------------------------------------------------------------------


def load_target(target_type: str, target_id: int) -> Target | None:
    """The object, whoever may see it; None if it does not exist (or, for a notice, is a
    draft: drafts are never shared by grant)."""

    if target_type == TargetType.PROFILE:
        row = DeviceProfile.objects.filter(pk=target_id).values("owner_id", "tlp").first()
        if row is None:
            return None
        return Target(target_type, target_id, row["owner_id"], row["tlp"])
    if target_type == TargetType.ATTACHMENT:
        att = (
            Attachment.objects.filter(pk=target_id)
            .values("profile_id", "profile__owner_id", "tlp")
            .first()
        )
        if att is None:
            return None
        return Target(
            target_type, target_id, att["profile__owner_id"], att["tlp"], att["profile_id"]
        )
    if target_type == TargetType.NOTICE:
        notice = (
            Notice.objects.filter(pk=target_id, status__in=PUBLIC_STATES)
            .values("issuer_id", "tlp")
            .first()
        )
        if notice is None:
            return None
        return Target(target_type, target_id, notice["issuer_id"], notice["tlp"])
    return None


def sees(viewer: Reader, target: Target) -> bool:
    """Whether `viewer` may see the target now, through the model's visibility function."""

    model: Any = {
        TargetType.PROFILE: DeviceProfile,
        TargetType.ATTACHMENT: Attachment,
        TargetType.NOTICE: Notice,
    }[TargetType(target.type)]
    return bool(model.objects.visible_to(viewer).filter(pk=target.id).exists())


def _organisation_viewer(organisation: Organisation) -> Viewer:
    """Any cleared member of this organisation (named nowhere, so TLP:RED is out of its
    reach, as it is out of reach of grants on behalf of others)."""
    return Viewer.of_organisation(organisation, TLP.AMBER_STRICT)


def _advertised(via: "Notice | None", target: Target) -> bool:
    """The requestability rule for an object the requester does not see (module docstring)."""
    if via is None:
        return False
    if target.type == TargetType.NOTICE:
        return via.superseded_by_id == target.id
    if not via.restricted_data_available:
        return False
    profile_id = target.id if target.type == TargetType.PROFILE else target.profile_id
    return profile_id is not None and via.profiles.filter(pk=profile_id).exists()


def _visible_notice(member: Member, notice_id: int) -> "Notice":

    notice = Notice.objects.visible_to(member).filter(pk=notice_id).first()
    if notice is None:
        raise NotFound(NOT_FOUND)
    return notice


def requestable_via_notice(*, member: Member, notice_id: int) -> list[Requestable]:
    """What the notice lets `member` request: the profiles and attachments it advertises as
    restricted data, and its successor, that the member does not see and is cleared for.
    404 when the member does not see the notice."""

    via = _visible_notice(member, notice_id)
    cleared = TLP.at_most(member.clearance)
    found: list[tuple[str, int, int | None, int]] = []
    if via.restricted_data_available:
        listed = via.profiles.values("id")
        hidden_profiles = (
            DeviceProfile.objects.filter(id__in=listed, tlp__in=cleared)
            .exclude(id__in=DeviceProfile.objects.visible_to(member).values("id"))
            .order_by("id")
        )
        found += [
            (TargetType.PROFILE, p.pk, None, p.owner_id)
            for p in hidden_profiles.only("id", "owner_id")
        ]
        hidden_attachments = (
            Attachment.objects.filter(profile_id__in=listed, tlp__in=cleared)
            .exclude(id__in=Attachment.objects.visible_to(member).values("id"))
            .select_related("profile")
            .order_by("id")
        )
        found += [
            (TargetType.ATTACHMENT, a.pk, a.profile_id, a.profile.owner_id)
            for a in hidden_attachments
        ]
    if via.superseded_by_id is not None:
        successor = Notice.objects.filter(
            pk=via.superseded_by_id, status__in=PUBLIC_STATES, tlp__in=cleared
        ).first()
        if successor is not None and not sees(
            member, Target(TargetType.NOTICE, successor.pk, successor.issuer_id, successor.tlp)
        ):
            found.append((TargetType.NOTICE, successor.pk, None, successor.issuer_id))
    owners = Organisation.objects.in_bulk({owner for *_, owner in found})
    open_requests = {
        (r.target_type, r.target_id): r.pk
        for r in AccessRequest.objects.filter(
            organisation_id=member.organisation_id or 0,
            on_behalf_of__isnull=True,
            status__in=OPEN_STATES,
        )
    }
    return [
        Requestable(kind, pk, profile_id, owners[owner], open_requests.get((kind, pk)))
        for kind, pk, profile_id, owner in found
    ]


# --- The request's life ------------------------------------------------------------------------


def access_request_create(
    *,
    requester: Member,
    target_type: str,
    target_id: int,
    purpose: str,
    legal_basis: str,
    requested_days: int,
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
    _check_days("requested_days", requested_days)
    with transaction.atomic():
        # One request at a time per organisation, so that two clicks cannot both pass the
        # duplicate check below (PostgreSQL; SQLite serialises writers anyway).
        Organisation.objects.select_for_update().get(pk=organisation.pk)
        via = _visible_notice(requester, via_notice_id) if via_notice_id is not None else None
        target = load_target(target_type, target_id)
        if target is None:
            raise NotFound(NOT_FOUND)
        seen = sees(requester, target)
        if not seen and not _advertised(via, target):
            raise NotFound(NOT_FOUND)
        if not seen and TLP.above(target.tlp, requester.clearance):
            # Answered like an unknown id: `requestable/` does not offer it either, so a 400
            # here would let a member probe for stricter attachments by sequential ids.
            raise NotFound(NOT_FOUND)
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
            if sees(_organisation_viewer(on_behalf_of), target):
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
            created_at=now,
            updated_at=now,
        )
        _record(
            "access_request.created",
            requester,
            access_request,
            target,
            http_request,
            justification=purpose,
            legal_basis=legal_basis,
            case_reference=case_reference,
            requested_days=requested_days,
            on_behalf_of=on_behalf_of.slug if on_behalf_of else None,
            via_notice=access_request.via_notice_id,
        )
        events.emit(EventType.ACCESS_REQUEST_CREATED, access_request=access_request)
    return access_request


def access_request_request_info(
    *, request_id: int, member: Member, message: str, http_request: Any = None
) -> AccessRequest:
    """The decider asks the requester for more before deciding; the request waits
    (`info_requested`) until the requester answers."""
    with transaction.atomic():
        access_request, target = _for_decision(request_id, member)
        _require_open(access_request)
        now = timezone.now()
        AccessRequestMessage.objects.create(
            request=access_request,
            author=member,
            kind=AccessRequestMessage.Kind.INFO_REQUESTED,
            text=message,
            created_at=now,
        )
        _set_status(access_request, AccessRequestStatus.INFO_REQUESTED, now)
        _record(
            "access_request.info_requested",
            member,
            access_request,
            target,
            http_request,
            message=message,
        )
    return access_request


def access_request_answer(
    *, request_id: int, member: Member, message: str, http_request: Any = None
) -> AccessRequest:
    """The requesting organisation answers the decider's question: pending again."""
    with transaction.atomic():
        access_request = _locked(request_id, member)
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
        _set_status(access_request, AccessRequestStatus.PENDING, now)
        _record(
            "access_request.answered",
            member,
            access_request,
            _target_of(access_request),
            http_request,
            message=message,
        )
    return access_request


def access_request_withdraw(
    *, request_id: int, member: Member, reason: str = "", http_request: Any = None
) -> AccessRequest:
    """The requesting organisation takes back an open request."""
    with transaction.atomic():
        access_request = _locked(request_id, member)
        _require_requesting_side(access_request, member, "withdraws")
        _require_open(access_request)
        access_request.decision_reason = reason
        _set_status(
            access_request, AccessRequestStatus.WITHDRAWN, timezone.now(), "decision_reason"
        )
        _record(
            "access_request.withdrawn",
            member,
            access_request,
            _target_of(access_request),
            http_request,
            justification=reason,
        )
    return access_request


def access_request_approve(
    *,
    request_id: int,
    member: Member,
    scope: str = GrantScope.OBJECT,
    days: int | None = None,
    expires_at: datetime | None = None,
    note: str = "",
    http_request: Any = None,
) -> AccessRequest:
    """Grant the request: the beneficiary organisation (for TLP:RED, the requesting member)
    sees the object until the expiry — by default the requested duration, at most
    `MAX_GRANT_DAYS` — or a revocation. Tells the requesting side (`access_request.decided`)."""

    if days is not None and expires_at is not None:
        raise FieldInvalid("expires_at", "Give either days or expires_at, not both.")
    if days is not None:
        _check_days("days", days)
    with transaction.atomic():
        access_request, target = _for_decision(request_id, member)
        _require_open(access_request)
        if target is None:
            raise Conflict("The object no longer exists: deny the request instead.")
        if scope == GrantScope.WITH_ATTACHMENTS and target.type != TargetType.PROFILE:
            raise FieldInvalid("scope", "with_attachments applies to profiles only.")
        if not _may_share(member, target, scope):
            raise Forbidden(
                f"You share only what you may read yourself: this {target.noun} (or one of "
                "the attachments the scope would show) is beyond your clearance or not "
                "shared with you."
            )
        now = timezone.now()
        if expires_at is None:
            expires_at = now + timedelta(days=days or access_request.requested_days)
        if expires_at <= now:
            raise FieldInvalid("expires_at", "The expiry must be in the future.")
        if expires_at > now + timedelta(days=MAX_GRANT_DAYS):
            raise FieldInvalid("expires_at", f"A grant lasts at most {MAX_GRANT_DAYS} days.")
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
        _set_status(
            access_request,
            AccessRequestStatus.APPROVED,
            now,
            "decided_by",
            "decided_at",
            "decision_reason",
        )
        _record(
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
    *, request_id: int, member: Member, reason: str, http_request: Any = None
) -> AccessRequest:
    """Refuse the request, with the reason the requester will read. Tells the requesting
    side (`access_request.decided`)."""

    if not reason.strip():
        raise FieldInvalid("reason", "A denial states its reason.")
    with transaction.atomic():
        access_request, target = _for_decision(request_id, member)
        _require_open(access_request)
        now = timezone.now()
        access_request.decided_by = member
        access_request.decided_at = now
        access_request.decision_reason = reason
        _set_status(
            access_request,
            AccessRequestStatus.DENIED,
            now,
            "decided_by",
            "decided_at",
            "decision_reason",
        )
        _record(
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
    *, request_id: int, member: Member, reason: str, http_request: Any = None
) -> AccessRequest:
    """End the request's grant now. The object disappears from the beneficiary's reads at
    once, and webhook deliveries of it still pending are cancelled when their turn comes (the
    engine checks entitlement before every attempt)."""
    if not reason.strip():
        raise FieldInvalid("reason", "A revocation states its reason.")
    with transaction.atomic():
        access_request, target = _for_decision(request_id, member)
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
            target = load_target(grant.target_type, grant.target_id)
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


# --- Helpers ----------------------------------------------------------------------------------


def _check_days(field: str, days: int) -> None:
    if not 1 <= days <= MAX_GRANT_DAYS:
        raise FieldInvalid(field, f"Between 1 and {MAX_GRANT_DAYS} days.")


def _locked(request_id: int, member: Member) -> AccessRequest:
    """The request, locked for this transaction, if the member may see it; else 404."""
    access_request = (
        AccessRequest.objects.visible_to(member).select_for_update().filter(pk=request_id).first()
    )
    if access_request is None:
        raise NotFound(NOT_FOUND)
    return access_request


def _target_of(access_request: AccessRequest) -> Target | None:
    return load_target(access_request.target_type, access_request.target_id)


def _for_decision(request_id: int, member: Member) -> tuple[AccessRequest, Target | None]:
    access_request = _locked(request_id, member)
    target = _target_of(access_request)
    if member.organisation_id in (access_request.organisation_id, access_request.on_behalf_of_id):
        raise Forbidden("Your organisation made this request: the object's owner decides it.")
    if not policies.may_decide(member, access_request, target.tlp if target else ""):
        raise Forbidden(
            "Only the owner organisation's analysts and coordinators, and the secretariat's "
            "coordinators (except for TLP:RED), decide access requests."
        )
    return access_request, target


def _may_share(member: Member, target: Target, scope: str) -> bool:
    """An approval hands the object to another organisation: the approver must be cleared
    for it and, on the owner's side, see it (TLP:RED: be one of its named people), like
    anyone who widens a profile's audience. With `with_attachments`, the same holds for
    every attachment the grant would show (an organisation's grant never shows RED)."""
    cleared = tlp_labels_up_to(member.clearance)
    owner_side = member.organisation_id == target.owner_id
    if target.tlp not in cleared or (owner_side and not sees(member, target)):
        return False
    if scope != GrantScope.WITH_ATTACHMENTS:
        return True
    annexes = Attachment.objects.filter(profile_id=target.id)
    if target.tlp != TLP.RED:
        annexes = annexes.exclude(tlp=TLP.RED)
    if owner_side:
        annexes = annexes.exclude(id__in=Attachment.objects.visible_to(member).values("id"))
    else:
        annexes = annexes.exclude(tlp__in=cleared)
    return not annexes.exists()


def _require_open(access_request: AccessRequest) -> None:
    if access_request.status not in OPEN_STATES:
        raise Conflict(f"The request is already {access_request.status}.")


def _require_requesting_side(access_request: AccessRequest, member: Member, verb: str) -> None:
    if not policies.may_act_for_requester(member, access_request):
        raise Forbidden(f"Only the requesting organisation {verb} its request.")


def _set_status(access_request: AccessRequest, status: str, now: datetime, *also: str) -> None:
    access_request.status = status
    access_request.updated_at = now
    access_request.save(update_fields=["status", "updated_at", *also])


def _record(
    action: str,
    actor: Member,
    access_request: AccessRequest,
    target: Target | None,
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
