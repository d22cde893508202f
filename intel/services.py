"""Every write to device profiles: atomic, keyword-only, typed.

Views validate input with serializers, call one function here, and serialize the result.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone

from core import events
from core.errors import Conflict, FieldInvalid, Forbidden, NotFound, PreconditionFailed
from core.events import EventType
from intel import audit, policies, snapshots, write_checks
from intel.attachments import clean_file_name, clean_upload
from intel.models import (
    TLP,
    Attachment,
    ConcealmentMethod,
    DetectionSignature,
    DeviceProfile,
    Identifier,
    IdentifierKind,
    Member,
    Organisation,
    SalesChannel,
    Supplier,
)

# --- Device profiles -----------------------------------------------------------------------

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
    write_checks.check_clearance(author, tlp)
    now = timezone.now()
    with transaction.atomic():
        profile = DeviceProfile(
            owner=author.organisation, created_by=author, created_at=now, updated_at=now
        )
        for name, value in data.fields.items():
            setattr(profile, name, value)
        if data.parent_set:
            write_checks.check_parent(profile, data.parent, author)
            profile.parent = data.parent
        write_checks.full_clean(profile)
        profile.save()
        _apply_relations(profile, data)
        _refresh_search_text(profile)
        write_checks.refuse_if_invisible_to(author, profile)
        snapshots.record_revision(profile, author=author, action="created", previous={})
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
        profile = write_checks.locked_visible(profile_id, author)
        current = write_checks.seen_version_number(author, profile)
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
            write_checks.check_clearance(author, new_tlp)
        write_checks.check_audience_widening(
            author, profile, data.recipient_organisations, data.recipient_members
        )
        previous = snapshots.profile_snapshot(profile)
        for name, value in data.fields.items():
            setattr(profile, name, value)
        if data.parent_set and not write_checks.keeps_hidden_parent(author, profile, data.parent):
            write_checks.check_parent(profile, data.parent, author)
            profile.parent = data.parent
        write_checks.full_clean(profile)
        unchanged = transaction.savepoint()
        _apply_relations(profile, data)
        if snapshots.profile_snapshot(profile) == previous:
            # Nothing changed: no new version, no revision, and the child rows keep their ids
            # (a list replaced by an equal one must not change what clients read or its ETag).
            transaction.savepoint_rollback(unchanged)
            return profile
        transaction.savepoint_commit(unchanged)
        profile.version += 1
        profile.updated_at = timezone.now()
        profile.save()
        _refresh_search_text(profile)
        write_checks.refuse_if_invisible_to(author, profile)
        revision = snapshots.record_revision(
            profile, author=author, action="updated", previous=previous
        )
        # The outbox rows go into this same transaction (the hook's handler writes them).
        events.emit(EventType.PROFILE_UPDATED, profile=profile, changes=revision.changes)
        _audit_profile("profile.updated", profile, author, fields=sorted(revision.changes))
    return profile


def profile_retire(
    *, profile_id: int, author: Member, reason: str, expected_version: int | None = None
) -> DeviceProfile:
    """Mark a profile retired: kept and readable, no longer current, not deleted."""
    with transaction.atomic():
        profile = write_checks.locked_visible(profile_id, author)
        current = write_checks.seen_version_number(author, profile)
        if expected_version is not None and current != expected_version:
            raise PreconditionFailed(f"The profile is at version {current}.")
        if not policies.may_change_profile(author, profile):
            raise Forbidden("Only the owner's analysts and the secretariat's coordinators.")
        if profile.retired_at is not None:
            raise Conflict("The profile is already retired.")
        previous = snapshots.profile_snapshot(profile)
        profile.retired_at = timezone.now()
        profile.retired_reason = reason
        profile.version += 1
        profile.updated_at = profile.retired_at
        profile.save(update_fields=["retired_at", "retired_reason", "version", "updated_at"])
        snapshots.record_revision(profile, author=author, action="retired", previous=previous)
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
    request_summary: str = "",
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
        profile = write_checks.locked_visible(profile_id, author)
        if not policies.may_change_profile(author, profile):
            raise Forbidden("Only the owner's analysts and the secretariat's coordinators.")
        if profile.retired_at is not None:
            raise Conflict("A retired profile takes no new attachments.")
        label = tlp or profile.tlp
        if TLP.above(profile.tlp, label):
            raise FieldInvalid(
                "tlp", f"An attachment cannot be marked below its profile's {profile.tlp}."
            )
        write_checks.check_clearance(author, label)
        attachment = Attachment(
            profile=profile,
            kind=kind,
            title=title,
            tlp=label,
            original_name=clean_file_name(upload.name or "", clean.content_type),
            request_summary=request_summary,
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
