"""Every write to the network and to device profiles: atomic, keyword-only, typed.

Views validate input with serializers, call one function here, and serialize the result.
"""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone

from core import events
from core.errors import Conflict, FieldInvalid, Forbidden, NotFound, PreconditionFailed
from core.events import EventType
from intel import audit, policies
from intel import changes as changes_version
from intel.attachments import clean_upload
from intel.models import (
    TLP,
    ApiToken,
    Attachment,
    ConcealmentMethod,
    DetectionSignature,
    DeviceProfile,
    Identifier,
    IdentifierKind,
    Member,
    Organisation,
    ProfileRevision,
    SalesChannel,
    Supplier,
)
from intel.models.network import hash_token
from intel.revisions import seen_version

# --- The network ---------------------------------------------------------------------------

# The fields that decide who sees what (DESIGN.md §4): changed only by a platform superuser
# (the admin shows them read-only to other staff) or an operator's command, and every change
# of one is in the audit trail with its old and new value.
ORGANISATION_ENTITLEMENTS = ("kind", "sponsor", "country")
MEMBER_ENTITLEMENTS = ("organisation", "role", "clearance", "is_active", "is_staff", "is_superuser")


def entitlements_of(obj: Organisation | Member) -> dict[str, Any]:
    """An organisation's or a member's entitlement fields as the trail records them
    (organisations by slug)."""
    names = ORGANISATION_ENTITLEMENTS if isinstance(obj, Organisation) else MEMBER_ENTITLEMENTS
    values: dict[str, Any] = {}
    for name in names:
        value = getattr(obj, name)
        values[name] = value.slug if isinstance(value, Organisation) else value
    return values


def entitlement_changes(before: Mapping[str, Any], obj: Organisation | Member) -> dict[str, Any]:
    """`{field: {"old", "new"}}` for each entitlement field that differs from `before`."""
    after = entitlements_of(obj)
    return {
        name: {"old": before.get(name), "new": value}
        for name, value in after.items()
        if before.get(name) != value
    }


def organisation_create(
    *,
    slug: str,
    name: str,
    kind: str,
    country: str = "",
    sponsor: Organisation | None = None,
    actor: Member | None = None,
) -> Organisation:
    """Create an organisation after the model's own checks (country, sponsor rules).
    `actor`: who did it; None for the command line."""
    org = Organisation(slug=slug, name=name, kind=kind, country=country, sponsor=sponsor)
    _full_clean(org)
    with transaction.atomic():
        org.save()
        audit.record(
            action="organisation.created",
            actor=actor,
            object_type="organisation",
            object_id=org.pk,
            detail={"slug": org.slug, **entitlements_of(org)},
        )
    return org


def member_create(
    *,
    organisation: Organisation | None,
    username: str,
    role: str,
    clearance: str,
    email: str = "",
    password: str | None = None,
    is_staff: bool = False,
    actor: Member | None = None,
) -> Member:
    """Create a member; without a password the member signs in with API tokens only.
    `actor`: who did it; None for the command line."""
    member = Member(
        organisation=organisation,
        username=username,
        email=email,
        role=role,
        clearance=clearance,
        is_staff=is_staff,
    )
    if password:
        try:
            validate_password(password, member)
        except ValidationError as exc:
            raise FieldInvalid("password", " ".join(exc.messages)) from exc
        member.set_password(password)
    else:
        member.set_unusable_password()
    _full_clean(member, exclude=["password"])
    with transaction.atomic():
        member.save()
        audit.record(
            action="member.created",
            actor=actor,
            object_type="member",
            object_id=member.pk,
            detail={"username": member.username, **entitlements_of(member)},
        )
    return member


@dataclass(frozen=True)
class IssuedToken:
    token: ApiToken
    secret: str  # the only time the clear value exists outside the client


def token_issue(
    *,
    member: Member,
    name: str,
    expires_at: datetime | None = None,
    known_secret: str | None = None,
    not_after: datetime | None = None,
    actor: Member | None = None,
) -> IssuedToken:
    """Issue a bearer token; only its hash is stored. `known_secret` is for the demo loader's
    published demo tokens only; the API never takes it. `not_after`: a token issued with an
    expiring token expires no later than it (a short-lived token cannot mint a permanent
    one). `actor`: who issued it (the member, through the API); None for the command line."""
    if expires_at is not None and expires_at <= timezone.now():
        raise FieldInvalid("expires_at", "The expiry must be in the future.")
    if not_after is not None and (expires_at is None or expires_at > not_after):
        expires_at = not_after
    secret = known_secret or ApiToken.generate()
    with transaction.atomic():
        token = ApiToken.objects.create(
            member=member,
            name=name,
            key_prefix=secret[:10],
            key_hash=hash_token(secret),
            expires_at=expires_at,
        )
        audit.record(
            action="token.issued",
            actor=actor,
            object_type="token",
            object_id=token.pk,
            detail=_token_detail(token),
        )
    return IssuedToken(token=token, secret=secret)


def token_revoke(*, token: ApiToken, actor: Member | None = None) -> ApiToken:
    """Revoke a token for good; revoking twice is harmless (and recorded once)."""
    if token.revoked_at is None:
        with transaction.atomic():
            token.revoked_at = timezone.now()
            token.save(update_fields=["revoked_at"])
            audit.record(
                action="token.revoked",
                actor=actor,
                object_type="token",
                object_id=token.pk,
                detail=_token_detail(token),
            )
    return token


def _token_detail(token: ApiToken) -> dict[str, Any]:
    return {
        "member": token.member.username,
        "member_id": token.member_id,
        "name": token.name,
        "key_prefix": token.key_prefix,
        "expires_at": token.expires_at,
    }


# --- Device profiles -----------------------------------------------------------------------

PROFILE_FIELDS = (
    "name",
    "aliases",
    "device_class",
    "manufacturer_country",
    "length_mm",
    "width_mm",
    "depth_mm",
    "weight_g",
    "housing_material",
    "metal_content",
    "network_technologies",
    "gsm_bands",
    "bluetooth",
    "sim_slots",
    "battery_mah",
    "talk_time_min",
    "phonebook_capacity",
    "voice_changer",
    "price_amount",
    "price_currency",
    "legal_status",
    "notes",
    "tlp",
)
CHILDREN = ("identifiers", "detection_signatures", "concealment_methods", "suppliers")


@dataclass
class ProfileInput:
    """What a create or a partial update carries. `None` in a list field means "unchanged"."""

    fields: Mapping[str, Any]
    parent: DeviceProfile | None = None
    parent_set: bool = False
    recipient_organisations: Sequence[Organisation] | None = None
    recipient_members: Sequence[Member] | None = None
    identifiers: Sequence[Mapping[str, Any]] | None = None
    detection_signatures: Sequence[Mapping[str, Any]] | None = None
    concealment_methods: Sequence[Mapping[str, Any]] | None = None
    suppliers: Sequence[Mapping[str, Any]] | None = None


def profile_create(*, author: Member, data: ProfileInput) -> DeviceProfile:
    """File a new profile owned by the author's organisation, with revision 1."""
    if not policies.may_file_profiles(author):
        raise Forbidden("Only analysts and the secretariat's coordinators file profiles.")
    assert author.organisation is not None
    tlp = data.fields.get("tlp", TLP.AMBER)
    _check_clearance(author, tlp)
    now = timezone.now()
    with transaction.atomic():
        profile = DeviceProfile(
            owner=author.organisation, created_by=author, created_at=now, updated_at=now
        )
        for name, value in data.fields.items():
            setattr(profile, name, value)
        if data.parent_set:
            _check_parent(profile, data.parent, author)
            profile.parent = data.parent
        _full_clean(profile)
        profile.save()
        _apply_relations(profile, data)
        _refresh_search_text(profile)
        _refuse_if_invisible_to(author, profile)
        _record_revision(profile, author=author, action="created", previous={})
        _audit_profile("profile.created", profile, author)
    return profile


def profile_update(
    *, profile_id: int, author: Member, data: ProfileInput, expected_version: int | None
) -> DeviceProfile:
    """Change a profile if nobody changed it since the author read `expected_version`.

    The row is locked for the whole change, so two editors holding the same version cannot
    both win: the second gets 412 (no lost update).
    """
    with transaction.atomic():
        profile = _locked_visible(profile_id, author)
        current = _seen_version(author, profile)
        if expected_version is not None and current != expected_version:
            raise PreconditionFailed(
                f"The profile is at version {current}; you sent changes to version "
                f"{expected_version}. Read it again and reapply your change."
            )
        if not policies.may_change_profile(author, profile):
            raise Forbidden(
                "Only the owner organisation's analysts and the secretariat's coordinators "
                "change a profile."
            )
        if profile.retired_at is not None:
            raise Conflict("A retired profile cannot be changed.")
        new_tlp = data.fields.get("tlp")
        if new_tlp is not None:
            if not policies.may_set_tlp(author, profile, new_tlp):
                raise FieldInvalid("tlp", "Only the owner organisation may lower the TLP label.")
            _check_clearance(author, new_tlp)
        _check_audience_widening(author, profile, data)
        previous = profile_snapshot(profile)
        for name, value in data.fields.items():
            setattr(profile, name, value)
        if data.parent_set and not _keeps_hidden_parent(author, profile, data.parent):
            _check_parent(profile, data.parent, author)
            profile.parent = data.parent
        _full_clean(profile)
        unchanged = transaction.savepoint()
        _apply_relations(profile, data)
        if profile_snapshot(profile) == previous:
            # Nothing changed: no new version, no revision, and the child rows keep their ids
            # (a list replaced by an equal one must not change what clients read or its ETag).
            transaction.savepoint_rollback(unchanged)
            return profile
        transaction.savepoint_commit(unchanged)
        profile.version += 1
        profile.updated_at = timezone.now()
        profile.save()
        _refresh_search_text(profile)
        _refuse_if_invisible_to(author, profile)
        revision = _record_revision(profile, author=author, action="updated", previous=previous)
        # The outbox rows go into this same transaction (the hook's handler writes them).
        events.emit(EventType.PROFILE_UPDATED, profile=profile, changes=revision.changes)
        _audit_profile("profile.updated", profile, author, fields=sorted(revision.changes))
    return profile


def profile_retire(
    *, profile_id: int, author: Member, reason: str, expected_version: int | None = None
) -> DeviceProfile:
    """Mark a profile retired: kept and readable, no longer current, not deleted."""
    with transaction.atomic():
        profile = _locked_visible(profile_id, author)
        current = _seen_version(author, profile)
        if expected_version is not None and current != expected_version:
            raise PreconditionFailed(f"The profile is at version {current}.")
        if not policies.may_change_profile(author, profile):
            raise Forbidden("Only the owner's analysts and the secretariat's coordinators.")
        if profile.retired_at is not None:
            raise Conflict("The profile is already retired.")
        previous = profile_snapshot(profile)
        profile.retired_at = timezone.now()
        profile.retired_reason = reason
        profile.version += 1
        profile.updated_at = profile.retired_at
        profile.save(update_fields=["retired_at", "retired_reason", "version", "updated_at"])
        _record_revision(profile, author=author, action="retired", previous=previous)
        _audit_profile("profile.retired", profile, author)
    return profile


def attachment_add(
    *,
    profile_id: int,
    author: Member,
    kind: str,
    title: str,
    tlp: str | None,
    upload: UploadedFile,
) -> Attachment:
    """Attach a photo or PDF. Its label defaults to the profile's and may not be lower.

    The content is cleaned before any lock is taken; the profile row is then locked so that
    a concurrent retire cannot slip in between the checks and the insert. Attachments carry
    their own label, so they are not part of the profile's revisions (a revision readable
    under the profile's label must not reveal a stricter attachment)."""
    seen = DeviceProfile.objects.visible_to(author).filter(pk=profile_id).first()
    if seen is None:
        raise NotFound("Not found.")
    if not policies.may_change_profile(author, seen):  # before spending time on the file
        raise Forbidden("Only the owner's analysts and the secretariat's coordinators.")
    clean = clean_upload(upload, max_bytes=settings.DIX_ATTACHMENT_MAX_BYTES)
    with transaction.atomic():
        profile = _locked_visible(profile_id, author)
        if not policies.may_change_profile(author, profile):
            raise Forbidden("Only the owner's analysts and the secretariat's coordinators.")
        if profile.retired_at is not None:
            raise Conflict("A retired profile takes no new attachments.")
        label = tlp or profile.tlp
        if TLP.above(profile.tlp, label):
            raise FieldInvalid(
                "tlp", f"An attachment cannot be marked below its profile's {profile.tlp}."
            )
        _check_clearance(author, label)
        attachment = Attachment(
            profile=profile,
            kind=kind,
            title=title,
            tlp=label,
            content_type=clean.content_type,
            size=len(clean.content),
            sha256=clean.sha256,
            uploaded_by=author,
        )
        attachment.file.save("upload", ContentFile(clean.content), save=False)
        try:
            attachment.save()
            audit.record(
                action="attachment.added",
                actor=author,
                object_type="attachment",
                object_id=attachment.pk,
                object_tlp=attachment.tlp,
                detail={"profile": profile.pk, "kind": kind, "sha256": attachment.sha256},
            )
        except Exception:
            attachment.file.delete(save=False)
            raise
    return attachment


def _audit_profile(
    action: str, profile: DeviceProfile, author: Member, fields: Sequence[str] = ()
) -> None:
    """One event per profile write: who, which version, which fields (names, not values:
    the trail is read by auditors whatever the profile's label)."""
    detail: dict[str, Any] = {"version": profile.version}
    if fields:
        detail["fields"] = list(fields)
    audit.record(
        action=action,
        actor=author,
        object_type="profile",
        object_id=profile.pk,
        object_tlp=profile.tlp,
        detail=detail,
    )


# --- Revisions ----------------------------------------------------------------------------


def _json_value(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    return value


def profile_snapshot(profile: DeviceProfile) -> dict[str, Any]:
    """The profile as plain JSON: what a revision stores and diffs. Children are listed
    without their database ids, so replacing a list with an equal one changes nothing."""
    snap: dict[str, Any] = {name: _json_value(getattr(profile, name)) for name in PROFILE_FIELDS}
    snap["parent"] = profile.parent_id
    snap["retired"] = profile.retired_at is not None
    snap["retired_reason"] = profile.retired_reason
    snap["recipient_organisations"] = sorted(
        profile.recipient_organisations.values_list("slug", flat=True)
    )
    snap["recipient_members"] = sorted(profile.recipient_members.values_list("username", flat=True))
    snap["identifiers"] = [
        {"kind": i.kind, "value": i.value, "note": i.note} for i in profile.identifiers.all()
    ]
    snap["detection_signatures"] = [
        {
            "method": d.method,
            "expected_outcome": d.expected_outcome,
            "evidence": d.evidence,
            "reliability_note": d.reliability_note,
        }
        for d in profile.detection_signatures.all()
    ]
    snap["concealment_methods"] = [
        {"stage": c.stage, "vector": c.vector, "description": c.description}
        for c in profile.concealment_methods.all()
    ]
    snap["suppliers"] = [
        {
            "name": s.name,
            "role": s.role,
            "country": s.country,
            "locality": s.locality,
            "status": s.status,
            "notes": s.notes,
            "sales_channels": [
                {
                    "kind": c.kind,
                    "platform": c.platform,
                    "address": c.address,
                    "status": c.status,
                    "notes": c.notes,
                }
                for c in s.sales_channels.all()
            ],
        }
        for s in profile.suppliers.prefetch_related("sales_channels")
    ]
    return snap


def _record_revision(
    profile: DeviceProfile, *, author: Member, action: str, previous: Mapping[str, Any]
) -> ProfileRevision:
    changes_version.bump_on_commit()  # inboxes render profile summaries
    snapshot = profile_snapshot(profile)
    changes = {
        key: {"old": previous.get(key), "new": value}
        for key, value in snapshot.items()
        if previous.get(key) != value and not (not previous and value in (None, "", [], {}))
    }
    return ProfileRevision.objects.create(
        profile=profile,
        number=profile.version,
        # The profile's `updated_at` as of this version: what a reader who sees no later
        # change reads as the profile's time (`intel.revisions.seen_versions`).
        created_at=profile.updated_at,
        author=author,
        action=action,
        tlp=TLP.stricter(profile.tlp, previous.get("tlp") or profile.tlp),
        changes=changes,
        snapshot=snapshot,
    )


# --- Helpers ------------------------------------------------------------------------------


def _full_clean(obj: Any, exclude: Iterable[str] | None = None) -> None:
    try:
        obj.full_clean(exclude=list(exclude or []), validate_unique=True)
    except ValidationError as exc:
        errors = exc.message_dict
        field = next(iter(errors))
        raise FieldInvalid(field, " ".join(errors[field])) from exc


def _check_clearance(author: Member, tlp: str) -> None:
    if TLP.above(tlp, author.clearance):
        raise FieldInvalid("tlp", f"{tlp} is above your clearance ({author.clearance}).")


def _locked_visible(profile_id: int, author: Member) -> DeviceProfile:
    """The profile, locked for this transaction, if the author may see it; else 404."""
    profile = (
        DeviceProfile.objects.visible_to(author).select_for_update().filter(pk=profile_id).first()
    )
    if profile is None:
        raise NotFound("Not found.")
    return profile


def _seen_version(author: Member, profile: DeviceProfile) -> int:
    """The version the author read: changes they may not see are no version for them (their
    ETag names this one), and cannot conflict with what they send."""
    return seen_version(author, profile).number


def _keeps_hidden_parent(
    author: Member, profile: DeviceProfile, parent: DeviceProfile | None
) -> bool:
    """`parent: null` from a member who may not see the current parent: they read no parent
    and send none back, so the parent they cannot see is kept as it is, never removed by
    omission. Naming a parent they may see replaces it."""
    return (
        parent is None
        and profile.parent_id is not None
        and not DeviceProfile.objects.visible_to(author).filter(pk=profile.parent_id).exists()
    )


def _check_audience_widening(author: Member, profile: DeviceProfile, data: ProfileInput) -> None:
    """Adding recipients shares the profile further, like lowering its label: the owner's
    call alone. Anyone who may change the profile may remove recipients."""
    if author.organisation_id == profile.owner_id:
        return
    if data.recipient_organisations is not None:
        added = {o.pk for o in data.recipient_organisations} - set(
            profile.recipient_organisations.values_list("id", flat=True)
        )
        if added:
            raise FieldInvalid(
                "recipient_organisations", "Only the owner organisation may add recipients."
            )
    if data.recipient_members is not None:
        added = {m.pk for m in data.recipient_members} - set(
            profile.recipient_members.values_list("id", flat=True)
        )
        if added:
            raise FieldInvalid(
                "recipient_members", "Only the owner organisation may add recipients."
            )


def _refuse_if_invisible_to(author: Member, profile: DeviceProfile) -> None:
    """A change that would hide the profile from its own author is refused (and rolled back
    with the transaction): the author would get a 404 for a write that succeeded, and could
    not read, correct or retire it afterwards. Name your organisation (AMBER) or yourself
    (RED) as a recipient instead."""
    if not DeviceProfile.objects.visible_to(author).filter(pk=profile.pk).exists():
        raise FieldInvalid(
            "tlp",
            f"With {profile.tlp} and these recipients you could no longer see this profile; "
            "add your organisation to recipient_organisations (or yourself to "
            "recipient_members for TLP:RED).",
        )


def _check_parent(
    profile: DeviceProfile, parent: DeviceProfile | None, author: Member | None = None
) -> None:
    if (
        parent is not None
        and author is not None
        and not DeviceProfile.objects.visible_to(author).filter(pk=parent.pk).exists()
    ):
        raise FieldInvalid("parent", f'Invalid pk "{parent.pk}" - object does not exist.')
    node = parent
    while node is not None:
        if profile.pk is not None and node.pk == profile.pk:
            raise FieldInvalid("parent", "A profile cannot be its own ancestor.")
        node = node.parent


def _apply_relations(profile: DeviceProfile, data: ProfileInput) -> None:
    if data.recipient_organisations is not None:
        profile.recipient_organisations.set(data.recipient_organisations)
    if data.recipient_members is not None:
        profile.recipient_members.set(data.recipient_members)
    if data.identifiers is not None:
        profile.identifiers.all().delete()
        Identifier.objects.bulk_create([_identifier(profile, item) for item in data.identifiers])
    if data.detection_signatures is not None:
        profile.detection_signatures.all().delete()
        DetectionSignature.objects.bulk_create(
            [DetectionSignature(profile=profile, **item) for item in data.detection_signatures]
        )
    if data.concealment_methods is not None:
        profile.concealment_methods.all().delete()
        ConcealmentMethod.objects.bulk_create(
            [ConcealmentMethod(profile=profile, **item) for item in data.concealment_methods]
        )
    if data.suppliers is not None:
        profile.suppliers.all().delete()
        for item in data.suppliers:
            fields = dict(item)
            channels = fields.pop("sales_channels", [])
            supplier = Supplier.objects.create(profile=profile, **fields)
            SalesChannel.objects.bulk_create(
                [SalesChannel(supplier=supplier, **channel) for channel in channels]
            )


def _identifier(profile: DeviceProfile, item: Mapping[str, Any]) -> Identifier:
    """TAC and TAC range become one inclusive interval; the GSMA test range is flagged."""
    kind = item["kind"]
    value = item["value"]
    start = end = ""
    if kind == IdentifierKind.TAC:
        start = end = value
    elif kind == IdentifierKind.TAC_RANGE:
        start, end = value.split("-")
    return Identifier(
        profile=profile,
        kind=kind,
        value=value,
        note=item.get("note", ""),
        tac_start=start,
        tac_end=end,
        is_test_value=bool(start) and start.startswith("00"),
    )


def _refresh_search_text(profile: DeviceProfile) -> None:
    parts = [profile.name, *profile.aliases, profile.notes]
    parts += [i.value for i in profile.identifiers.all()]
    parts += [s.name for s in profile.suppliers.all()]
    profile.search_text = "\n".join(p for p in parts if p).lower()
    profile.save(update_fields=["search_text"])
