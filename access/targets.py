"""What an access request may be about: loading its target, who sees it, and what a notice
makes requestable.

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
makes requestable, so that desks never need to guess ids, each named only by the owner's
teaser (`request_summary`) or else its kind and label: never by its name or title.
"""

from dataclasses import dataclass
from typing import Any

from core.errors import NotFound
from intel.models import (
    TLP,
    AccessRequest,
    Attachment,
    DeviceProfile,
    Member,
    Organisation,
    TargetType,
)
from intel.models.access import OPEN_STATES
from intel.visibility import Reader, Viewer
from notices.models import PUBLIC_STATES, Notice

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
    summary: str


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


def target_of(access_request: AccessRequest) -> Target | None:
    return load_target(access_request.target_type, access_request.target_id)


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


def advertised(via: "Notice | None", target: Target) -> bool:
    """The requestability rule for an object the requester does not see (module docstring)."""
    if via is None:
        return False
    if target.type == TargetType.NOTICE:
        return via.superseded_by_id == target.id
    if not via.restricted_data_available:
        return False
    profile_id = target.id if target.type == TargetType.PROFILE else target.profile_id
    return profile_id is not None and via.profiles.filter(pk=profile_id).exists()


def visible_notice(member: Member, notice_id: int) -> "Notice":

    notice = Notice.objects.visible_to(member).filter(pk=notice_id).first()
    if notice is None:
        raise NotFound(NOT_FOUND)
    return notice


def requestable_via_notice(*, member: Member, notice_id: int) -> list[Requestable]:
    """What the notice lets `member` request: the profiles and attachments it advertises as
    restricted data, and its successor, that the member does not see and is cleared for.
    404 when the member does not see the notice."""

    via = visible_notice(member, notice_id)
    cleared = TLP.at_most(member.clearance)
    found: list[tuple[str, int, int | None, int, str]] = []
    if via.restricted_data_available:
        listed = via.profiles.values("id")
        hidden_profiles = (
            DeviceProfile.objects.filter(id__in=listed, tlp__in=cleared)
            .exclude(id__in=DeviceProfile.objects.visible_to(member).values("id"))
            .order_by("id")
        )
        found += [
            (
                TargetType.PROFILE,
                p.pk,
                None,
                p.owner_id,
                p.request_summary or teaser(TargetType.PROFILE.label, p.tlp),
            )
            for p in hidden_profiles.only("id", "owner_id", "tlp", "request_summary")
        ]
        hidden_attachments = (
            Attachment.objects.filter(profile_id__in=listed, tlp__in=cleared)
            .exclude(id__in=Attachment.objects.visible_to(member).values("id"))
            .select_related("profile")
            .order_by("id")
        )
        found += [
            (
                TargetType.ATTACHMENT,
                a.pk,
                a.profile_id,
                a.profile.owner_id,
                a.request_summary or teaser(f"Attachment ({a.get_kind_display()})", a.tlp),
            )
            for a in hidden_attachments
        ]
    if via.superseded_by_id is not None:
        successor = Notice.objects.filter(
            pk=via.superseded_by_id, status__in=PUBLIC_STATES, tlp__in=cleared
        ).first()
        if successor is not None and not sees(
            member, Target(TargetType.NOTICE, successor.pk, successor.issuer_id, successor.tlp)
        ):
            found.append(
                (
                    TargetType.NOTICE,
                    successor.pk,
                    None,
                    successor.issuer_id,
                    teaser(TargetType.NOTICE.label, successor.tlp),
                )
            )
    owners = Organisation.objects.in_bulk({row[3] for row in found})
    open_requests = {
        (r.target_type, r.target_id): r.pk
        for r in AccessRequest.objects.filter(
            organisation_id=member.organisation_id or 0,
            on_behalf_of__isnull=True,
            status__in=OPEN_STATES,
        )
    }
    return [
        Requestable(kind, pk, profile_id, owners[owner], open_requests.get((kind, pk)), summary)
        for kind, pk, profile_id, owner, summary in found
    ]


def teaser(kind: str, tlp: str) -> str:
    """What an object without the owner's teaser is called before a grant: its kind and
    label, nothing of its content."""
    return f"{kind}, {tlp}"
