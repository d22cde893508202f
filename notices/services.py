"""Every write to notices: atomic, keyword-only, typed.

Publishing, updating, withdrawing and superseding write the notice and emit the event
(`core.events`) in one transaction: the outbox writes its deliveries in that transaction.
"""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone

from core import events
from core.errors import Conflict, FieldInvalid, Forbidden, NotFound
from core.events import EventType
from core.personal_data import refuse_personal_data
from intel import audit, changes
from intel.models import DeviceProfile, Member, Organisation
from intel.models.tlp import TLP
from notices import policies
from notices.models import (
    UNPUBLISHED_STATES,
    AudienceScope,
    Notice,
    NoticeCountry,
    NoticeReceipt,
    NoticeStatus,
    NoticeVersion,
)

CONTENT_FIELDS = ("title", "summary", "body", "action_requested")
# What an update may change besides the content: dates and the advertisement of restricted data.
UPDATABLE_FIELDS = (*CONTENT_FIELDS, "review_due_at", "respond_by", "restricted_data_available")

# --- Notices -------------------------------------------------------------------------------


@dataclass
class NoticeInput:
    """A draft's content. `None` for a relation means "unchanged"."""

    fields: Mapping[str, Any]
    profiles: Sequence[DeviceProfile] | None = None
    audience_organisations: Sequence[Organisation] | None = None
    audience_countries: Sequence[str] | None = None
    recipient_members: Sequence[Member] | None = None


def notice_create_draft(*, author: Member, data: NoticeInput) -> Notice:
    """A draft issued by the author's organisation, seen there and by the secretariat only
    as far as the notice would reach once published (`Notice.objects.visible_to`)."""
    if not policies.may_draft(author):
        raise Forbidden("Analysts and coordinators draft notices.")
    assert author.organisation is not None
    _check_label(author, data.fields.get("tlp", TLP.GREEN))
    with transaction.atomic():
        notice = Notice(issuer=author.organisation, created_by=author, reference="pending")
        for name, value in data.fields.items():
            setattr(notice, name, value)
        notice.save()
        # Unique across the system because the id is; the year is the year of drafting.
        changes.bump_on_commit()
        notice.reference = f"DIX-{notice.created_at.year}-{notice.pk:06d}"
        notice.save(update_fields=["reference"])
        _apply_notice_relations(notice, data)
        _check_audience(notice)
        _audit_notice("notice.drafted", notice, author)
    return notice


def notice_edit_draft(*, notice_id: int, author: Member, data: NoticeInput) -> Notice:
    """Change a draft. Published notices change only through `notice_update`."""
    with transaction.atomic():
        notice = _locked_visible(notice_id, author)
        if notice.status == NoticeStatus.SUBMITTED:
            raise Conflict(
                "The notice is submitted for review: it cannot be edited until a reviewer "
                "returns it."
            )
        if notice.status != NoticeStatus.DRAFT:
            raise Conflict("Only a draft can be edited; publish an update instead.")
        if not policies.may_edit_draft(author, notice):
            raise Forbidden("Only the issuer's analysts and coordinators edit its drafts.")
        if "tlp" in data.fields:
            _check_label(author, data.fields["tlp"])
        for name, value in data.fields.items():
            setattr(notice, name, value)
        notice.changed_at = timezone.now()
        changes.bump_on_commit()  # the drafters' inbox and `since` see the edit
        notice.save()
        _apply_notice_relations(notice, data, author=author)
        _check_audience(notice)
        _refuse_if_invisible_to(author, notice)
        _audit_notice("notice.draft_edited", notice, author, fields=_changed_names(data))
    return notice


def notice_publish(*, notice_id: int, author: Member) -> Notice:
    """Publish a draft, submitted or not (a coordinator may publish without review), as
    version 1 and write the outbox for every entitled subscription."""
    with transaction.atomic():
        notice = _locked_visible(notice_id, author)
        if not policies.may_publish(author, notice):
            raise Forbidden("Only the issuer's coordinators or the secretariat publish.")
        if notice.status not in UNPUBLISHED_STATES:
            raise Conflict(f"The notice is already {notice.status}.")
        now = timezone.now()
        notice.status = NoticeStatus.PUBLISHED
        notice.version = 1
        notice.published_at = now
        notice.changed_at = now
        changes.bump_on_commit()
        notice.save(update_fields=["status", "version", "published_at", "changed_at"])
        _write_version(notice, author=author, change_note="")
        sent = events.emit(EventType.NOTICE_PUBLISHED, notice=notice)
        _audit_notice("notice.published", notice, author, deliveries=sent)
    return notice


def notice_submit(*, notice_id: int, author: Member) -> Notice:
    """Submit a draft for review: it waits, unchangeable, until a reviewer publishes or
    returns it; `notice.submitted` tells the reviewers' organisations."""
    with transaction.atomic():
        notice = _locked_visible(notice_id, author)
        if not policies.may_edit_draft(author, notice):
            raise Forbidden("Only the issuer's analysts and coordinators submit its drafts.")
        if notice.status != NoticeStatus.DRAFT:
            raise Conflict(f"Only a draft can be submitted; the notice is {notice.status}.")
        now = timezone.now()
        notice.status = NoticeStatus.SUBMITTED
        notice.submitted_at = now
        notice.submitted_by = author
        notice.changed_at = now
        changes.bump_on_commit()
        notice.save(update_fields=["status", "submitted_at", "submitted_by", "changed_at"])
        sent = events.emit(EventType.NOTICE_SUBMITTED, notice=notice)
        _audit_notice("notice.submitted", notice, author, deliveries=sent)
    return notice


def notice_return(*, notice_id: int, author: Member, comment: str) -> Notice:
    """A reviewer sends a submitted notice back to its drafter with a comment; it is a
    draft again."""
    with transaction.atomic():
        notice = _locked_visible(notice_id, author)
        if not policies.may_review(author, notice):
            raise Forbidden("Only the issuer's coordinators or the secretariat review.")
        if notice.status != NoticeStatus.SUBMITTED:
            raise Conflict(
                f"Only a submitted notice can be returned; the notice is {notice.status}."
            )
        if not comment.strip():
            raise FieldInvalid("comment", "Say what the drafter should change.")
        now = timezone.now()
        notice.status = NoticeStatus.DRAFT
        notice.returned_at = now
        notice.returned_by = author
        notice.review_comment = comment
        notice.changed_at = now
        changes.bump_on_commit()
        notice.save(
            update_fields=["status", "returned_at", "returned_by", "review_comment", "changed_at"]
        )
        # The comment is notice content: the audit event says that it was returned, not why.
        _audit_notice("notice.returned", notice, author)
    return notice


def notice_discard(*, notice_id: int, author: Member) -> None:
    """Delete a notice that was never published (a draft, submitted or returned). Published
    notices and their versions are never deleted: they are withdrawn."""
    with transaction.atomic():
        notice = _locked_visible(notice_id, author)
        if notice.status not in UNPUBLISHED_STATES:
            raise Conflict(
                f"A {notice.status} notice is never deleted: withdraw it instead.",
            )
        if not policies.may_discard(author, notice):
            raise Forbidden("Only the notice's drafters and reviewers delete a draft.")
        changes.bump_on_commit()
        notice.delete()
        notice.pk = notice_id  # `delete` clears it; the audit event names the deleted notice
        _audit_notice("notice.discarded", notice, author)


def notice_update(*, notice_id: int, author: Member, data: NoticeInput, change_note: str) -> Notice:
    """Publish a new immutable version (same reference) with a change note."""
    with transaction.atomic():
        notice = _locked_visible(notice_id, author)
        if not policies.may_publish(author, notice):
            raise Forbidden("Only the issuer's coordinators or the secretariat publish updates.")
        if notice.status != NoticeStatus.PUBLISHED:
            raise Conflict(f"A {notice.status} notice cannot be updated.")
        for name in data.fields:
            if name not in UPDATABLE_FIELDS:
                raise FieldInvalid(name, "This field cannot change after publication.")
        for name, value in data.fields.items():
            setattr(notice, name, value)
        if data.profiles is not None:
            notice.profiles.set(_keeping_hidden_profiles(notice, data.profiles, author))
        notice.version += 1
        notice.changed_at = timezone.now()
        changes.bump_on_commit()
        notice.save()
        _write_version(notice, author=author, change_note=change_note)
        sent = events.emit(EventType.NOTICE_UPDATED, notice=notice)
        _audit_notice(
            "notice.updated", notice, author, fields=_changed_names(data), deliveries=sent
        )
    return notice


def notice_withdraw(*, notice_id: int, author: Member, reason: str) -> Notice:
    """Withdraw a published notice; the withdrawal reaches every earlier recipient."""
    with transaction.atomic():
        notice = _locked_visible(notice_id, author)
        if not policies.may_publish(author, notice):
            raise Forbidden("Only the issuer's coordinators or the secretariat withdraw.")
        if notice.status not in (NoticeStatus.PUBLISHED, NoticeStatus.SUPERSEDED):
            raise Conflict(f"A {notice.status} notice cannot be withdrawn.")
        if not reason.strip():
            raise FieldInvalid("reason", "A withdrawal needs a reason.")
        notice.status = NoticeStatus.WITHDRAWN
        notice.withdrawal_reason = reason
        notice.changed_at = timezone.now()
        changes.bump_on_commit()
        notice.save(update_fields=["status", "withdrawal_reason", "changed_at"])
        # The outbox reaches every earlier recipient of the notice too.
        sent = events.emit(EventType.NOTICE_WITHDRAWN, notice=notice)
        _audit_notice("notice.withdrawn", notice, author, deliveries=sent)
    return notice


def notice_supersede(*, notice_id: int, author: Member, by_id: int) -> Notice:
    """Mark a published notice superseded by another published one."""
    with transaction.atomic():
        notice = _locked_visible(notice_id, author)
        if not policies.may_publish(author, notice):
            raise Forbidden("Only the issuer's coordinators or the secretariat supersede.")
        if notice.status != NoticeStatus.PUBLISHED:
            raise Conflict(f"A {notice.status} notice cannot be superseded.")
        successor = Notice.objects.visible_to(author).filter(pk=by_id).first()
        if successor is None or successor.pk == notice.pk:
            raise FieldInvalid("superseded_by", "No such published notice.")
        if successor.status != NoticeStatus.PUBLISHED:
            raise FieldInvalid("superseded_by", "The successor must be published.")
        notice.status = NoticeStatus.SUPERSEDED
        notice.superseded_by = successor
        notice.changed_at = timezone.now()
        changes.bump_on_commit()
        notice.save(update_fields=["status", "superseded_by", "changed_at"])
        sent = events.emit(EventType.NOTICE_UPDATED, notice=notice)
        _audit_notice(
            "notice.superseded", notice, author, deliveries=sent, superseded_by=successor.pk
        )
    return notice


def notice_acknowledge(
    *, notice: Notice, member: Member, outcome: str | None = None, comment: str | None = None
) -> NoticeReceipt:
    """Acknowledge for the member's organisation, saying what was done (`outcome`, `comment`).

    The first acknowledgement's time and member stay; a later one replaces the outcome and
    the comment it gives (each left as it was when not given), so a desk can report
    `in_progress` first and `seized` once its checks end. A repeat that changes nothing
    records nothing."""
    if member.organisation is None:
        raise Conflict("Acknowledgements are made for an organisation; you belong to none.")
    if notice.status in UNPUBLISHED_STATES:
        raise Conflict("A draft cannot be acknowledged.")
    if comment:
        refuse_personal_data("comment", comment, holds="Acknowledgements say what was done")
    now = timezone.now()
    with transaction.atomic():
        receipt, _ = NoticeReceipt.objects.select_for_update().get_or_create(
            notice=notice, organisation=member.organisation
        )
        receipt.received_at = receipt.received_at or now
        receipt.read_at = receipt.read_at or now
        acknowledged_now = receipt.acknowledged_at is None
        if acknowledged_now:
            receipt.acknowledged_at = now
            receipt.acknowledged_by = member
        changed = [
            name
            for name, value in (("outcome", outcome), ("comment", comment))
            if value is not None and getattr(receipt, name) != value
        ]
        if outcome is not None:
            receipt.outcome = outcome
        if comment is not None:
            receipt.comment = comment
        receipt.save()
        if acknowledged_now or changed:
            changes.bump_on_commit()
            _audit_notice(
                "notice.acknowledged" if acknowledged_now else "notice.acknowledgement_changed",
                notice,
                member,
                fields=changed,
                outcome=receipt.outcome,
            )
    return receipt


def receipts_mark(
    *, notices: Iterable[Notice], organisation: Organisation | None, read: bool
) -> None:
    """Record that an organisation received (listed) or read (opened) published notices.
    Cheap when nothing is new: one query to find what is already recorded."""
    if organisation is None:
        return
    # The issuer is not a recipient of its own notice.
    ids = [
        n.pk
        for n in notices
        if n.status not in UNPUBLISHED_STATES and n.issuer_id != organisation.pk
    ]
    if not ids:
        return
    now = timezone.now()
    existing = {
        r.notice_id: r
        for r in NoticeReceipt.objects.filter(notice_id__in=ids, organisation=organisation)
    }
    missing = [i for i in ids if i not in existing]
    if missing:
        NoticeReceipt.objects.bulk_create(
            [
                NoticeReceipt(
                    notice_id=i,
                    organisation=organisation,
                    received_at=now,
                    read_at=now if read else None,
                )
                for i in missing
            ],
            ignore_conflicts=True,
        )
    if read:
        unread = [i for i, r in existing.items() if r.read_at is None]
        if unread:
            NoticeReceipt.objects.filter(
                notice_id__in=unread, organisation=organisation, read_at__isnull=True
            ).update(read_at=now)


def _audit_notice(
    action: str, notice: Notice, actor: Member, fields: Sequence[str] = (), **detail: Any
) -> None:
    """One event per notice write (call it last in the transaction): reference, version,
    status and the names of changed fields, never their content."""
    audit.record(
        action=action,
        actor=actor,
        object_type="notice",
        object_id=notice.pk,
        object_tlp=notice.tlp,
        detail={
            "reference": notice.reference,
            "version": notice.version,
            "status": notice.status,
            **({"fields": list(fields)} if fields else {}),
            **detail,
        },
    )


def _changed_names(data: NoticeInput) -> list[str]:
    """The body's names of the fields a write sends (`audience.scope`, `profile_ids`…)."""
    names = {f"audience.{name[9:]}" if name == "audience_scope" else name for name in data.fields}
    relations = {
        "profile_ids": data.profiles,
        "audience.organisations": data.audience_organisations,
        "audience.countries": data.audience_countries,
        "audience.members": data.recipient_members,
    }
    names |= {name for name, value in relations.items() if value is not None}
    return sorted(names)


def _write_version(notice: Notice, *, author: Member, change_note: str) -> NoticeVersion:
    version = NoticeVersion.objects.create(
        notice=notice,
        number=notice.version,
        tlp=notice.tlp,
        change_note=change_note,
        published_by=author,
        published_at=notice.changed_at,
        **{name: getattr(notice, name) for name in CONTENT_FIELDS},
    )
    version.profiles.set(notice.profiles.all())
    return version


def _apply_notice_relations(
    notice: Notice, data: NoticeInput, *, author: Member | None = None
) -> None:
    """`author`: the member changing an existing notice (None when creating it)."""
    if data.profiles is not None:
        profiles = data.profiles
        if author is not None:
            profiles = _keeping_hidden_profiles(notice, profiles, author)
        notice.profiles.set(profiles)
    if data.audience_organisations is not None:
        notice.audience_organisations.set(data.audience_organisations)
    if data.recipient_members is not None:
        notice.recipient_members.set(data.recipient_members)
    if data.audience_countries is not None:
        notice.countries.all().delete()
        NoticeCountry.objects.bulk_create(
            [NoticeCountry(notice=notice, country=c) for c in sorted(set(data.audience_countries))]
        )


def _keeping_hidden_profiles(
    notice: Notice, submitted: Sequence[DeviceProfile], author: Member
) -> list[DeviceProfile]:
    """The submitted profiles plus those of the notice the author may not see: a member
    sends the list as they read it, so what they cannot see is kept as it is, never
    removed by omission (only someone who sees a profile can take it off a notice)."""
    hidden = notice.profiles.exclude(pk__in=DeviceProfile.objects.visible_to(author).values("id"))
    kept = {p.pk: p for p in submitted}
    for profile in hidden:
        kept.setdefault(profile.pk, profile)
    return list(kept.values())


def _check_audience(notice: Notice) -> None:
    if (
        notice.audience_scope == AudienceScope.ORGANISATIONS
        and not notice.audience_organisations.exists()
    ):
        raise FieldInvalid("audience.organisations", "Name at least one organisation.")
    if notice.audience_scope == AudienceScope.COUNTRIES and not notice.countries.exists():
        raise FieldInvalid("audience.countries", "Name at least one country.")
    if notice.tlp == TLP.RED and not notice.recipient_members.exists():
        raise FieldInvalid("audience.members", "A TLP:RED notice names its recipients.")


def _check_label(author: Member, tlp: str, field: str = "tlp") -> None:
    if TLP.above(tlp, author.clearance):
        raise FieldInvalid(field, f"{tlp} is above your clearance ({author.clearance}).")


def _locked_visible(notice_id: int, author: Member) -> Notice:
    """The notice, locked for this transaction, if the author may see it; else 404."""
    notice = Notice.objects.visible_to(author).select_for_update().filter(pk=notice_id).first()
    if notice is None:
        raise NotFound("Not found.")
    return notice


def _refuse_if_invisible_to(author: Member, notice: Notice) -> None:
    """An edit that would hide the draft from its own editor is refused (and rolled back):
    they would get a 404 for a write that succeeded."""
    if not Notice.objects.visible_to(author).filter(pk=notice.pk).exists():
        raise FieldInvalid(
            "audience.members",
            "With this label and audience you could no longer see this notice; name yourself "
            "among its recipients (TLP:RED) or keep your organisation in its audience.",
        )
