"""Every write to notices, subscriptions and deliveries: atomic, keyword-only, typed.

Publishing, updating and withdrawing write the notice and the outbox (one `Delivery` per
entitled subscription) in one transaction; delivery work is queued only once it commits.
"""

import contextlib
import json
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, NamedTuple, Protocol, TypeVar
from urllib.parse import urlsplit

from django.conf import settings
from django.db import connection, transaction
from django.db.models import TextField
from django.db.models.functions import Cast
from django.utils import timezone

from intel import audit, changes
from intel.errors import Conflict, FieldInvalid, Forbidden, NotFound
from intel.models import DeviceProfile, Member, Organisation, Role, tlp_rank
from intel.models.tlp import TLP
from intel.revisions import ParentChange, may_show_nothing, unseen_revisions
from notices import crypto
from notices.models import (
    AudienceScope,
    Delivery,
    DeliveryState,
    EventType,
    Notice,
    NoticeCountry,
    NoticeReceipt,
    NoticeStatus,
    NoticeVersion,
    Subscription,
    label_cap,
    new_signing_secret,
)
from notices.rendering import notice_profiles_seen_by, notice_seen_by, webhook_viewer

CONTENT_FIELDS = ("title", "summary", "body", "action_requested")

# --- Who may -------------------------------------------------------------------------------


# Every write to a notice first loads it through `_locked_visible`: nobody changes a notice
# they may not read (a TLP:RED draft's unnamed colleagues included), and a notice they may
# not read answers 404. The role rules below then say who of those who see it may act.


def can_draft(member: Member) -> bool:
    return member.organisation is not None and member.role in (Role.ANALYST, Role.COORDINATOR)


def can_edit_draft(member: Member, notice: Notice) -> bool:
    """The issuer's analysts and coordinators; the secretariat's coordinators, any desk's."""
    return can_draft(member) and (
        member.organisation_id == notice.issuer_id or member.is_secretariat_coordinator
    )


def can_publish(member: Member, notice: Notice) -> bool:
    """The secretariat's coordinators publish any notice; a desk's coordinator its own."""
    if member.is_secretariat_coordinator:
        return True
    return member.role == Role.COORDINATOR and member.organisation_id == notice.issuer_id


def can_see_receipts(member: Member, notice: Notice) -> bool:
    return member.organisation_id == notice.issuer_id or member.is_secretariat_coordinator


def can_manage_subscriptions(member: Member) -> bool:
    return member.organisation is not None and member.role != Role.AUDITOR


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
    if not can_draft(author):
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
        if notice.status != NoticeStatus.DRAFT:
            raise Conflict("Only a draft can be edited; publish an update instead.")
        if not can_edit_draft(author, notice):
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
    """Publish a draft as version 1 and write the outbox for every entitled subscription."""
    with transaction.atomic():
        notice = _locked_visible(notice_id, author)
        if not can_publish(author, notice):
            raise Forbidden("Only the issuer's coordinators or the secretariat publish.")
        if notice.status != NoticeStatus.DRAFT:
            raise Conflict(f"The notice is already {notice.status}.")
        now = timezone.now()
        notice.status = NoticeStatus.PUBLISHED
        notice.version = 1
        notice.published_at = now
        notice.changed_at = now
        changes.bump_on_commit()
        notice.save(update_fields=["status", "version", "published_at", "changed_at"])
        _write_version(notice, author=author, change_note="")
        sent = fan_out_notice(notice, EventType.NOTICE_PUBLISHED)
        _audit_notice("notice.published", notice, author, deliveries=sent)
    return notice


def notice_update(*, notice_id: int, author: Member, data: NoticeInput, change_note: str) -> Notice:
    """Publish a new immutable version (same reference) with a change note."""
    with transaction.atomic():
        notice = _locked_visible(notice_id, author)
        if not can_publish(author, notice):
            raise Forbidden("Only the issuer's coordinators or the secretariat publish updates.")
        if notice.status != NoticeStatus.PUBLISHED:
            raise Conflict(f"A {notice.status} notice cannot be updated.")
        for name in data.fields:
            if name not in (*CONTENT_FIELDS, "review_due_at", "restricted_data_available"):
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
        sent = fan_out_notice(notice, EventType.NOTICE_UPDATED)
        _audit_notice(
            "notice.updated", notice, author, fields=_changed_names(data), deliveries=sent
        )
    return notice


def notice_withdraw(*, notice_id: int, author: Member, reason: str) -> Notice:
    """Withdraw a published notice; the withdrawal reaches every earlier recipient."""
    with transaction.atomic():
        notice = _locked_visible(notice_id, author)
        if not can_publish(author, notice):
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
        earlier = (
            Subscription.objects.filter(deliveries__notice=notice)
            .select_related("created_by")
            .distinct()
        )
        sent = fan_out_notice(notice, EventType.NOTICE_WITHDRAWN, also=earlier)
        _audit_notice("notice.withdrawn", notice, author, deliveries=sent)
    return notice


def notice_supersede(*, notice_id: int, author: Member, by_id: int) -> Notice:
    """Mark a published notice superseded by another published one."""
    with transaction.atomic():
        notice = _locked_visible(notice_id, author)
        if not can_publish(author, notice):
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
        sent = fan_out_notice(notice, EventType.NOTICE_UPDATED)
        _audit_notice(
            "notice.superseded", notice, author, deliveries=sent, superseded_by=successor.pk
        )
    return notice


def notice_acknowledge(*, notice: Notice, member: Member) -> NoticeReceipt:
    """Acknowledge for the member's organisation (once; later calls keep the first)."""
    if member.organisation is None:
        raise Conflict("Acknowledgements are made for an organisation; you belong to none.")
    if notice.status == NoticeStatus.DRAFT:
        raise Conflict("A draft cannot be acknowledged.")
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
            changes.bump_on_commit()
        receipt.save()
        if acknowledged_now:  # later calls keep the first acknowledgement and record nothing
            _audit_notice("notice.acknowledged", notice, member)
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
        n.pk for n in notices if n.status != NoticeStatus.DRAFT and n.issuer_id != organisation.pk
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
    names = set(data.fields)
    for relation in ("profiles", "audience_organisations", "audience_countries"):
        if getattr(data, relation) is not None:
            names.add(relation)
    if data.recipient_members is not None:
        names.add("recipient_members")
    return sorted(names)


def _audit_subscription(
    action: str, sub: Subscription, actor: Member | None, **detail: Any
) -> None:
    audit.record(
        action=action,
        actor=actor,
        object_type="subscription",
        object_id=sub.pk,
        detail={"organisation": sub.organisation_id, **detail},
    )


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
        raise FieldInvalid("audience_organisations", "Name at least one organisation.")
    if notice.audience_scope == AudienceScope.COUNTRIES and not notice.countries.exists():
        raise FieldInvalid("audience_countries", "Name at least one country.")
    if notice.tlp == TLP.RED and not notice.recipient_members.exists():
        raise FieldInvalid("recipient_members", "A TLP:RED notice names its recipients.")


def _check_label(author: Member, tlp: str, field: str = "tlp") -> None:
    if tlp_rank(tlp) > tlp_rank(author.clearance):
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
            "recipient_members",
            "With this label and audience you could no longer see this notice; name yourself "
            "among its recipients (TLP:RED) or keep your organisation in its audience.",
        )


# --- The outbox ----------------------------------------------------------------------------


class _Grouped(Protocol):
    @property
    def organisation_id(self) -> int: ...
    @property
    def label_cap(self) -> str: ...


class _Filtered(Protocol):
    @property
    def notice_types(self) -> list[str]: ...
    @property
    def device_classes(self) -> list[str]: ...
    @property
    def countries(self) -> list[str]: ...
    @property
    def tac_prefixes(self) -> list[str]: ...


_G = TypeVar("_G", bound=_Grouped)


def _groups(subscriptions: Iterable[_G]) -> dict[tuple[int, str], list[_G]]:
    """Subscriptions by (organisation, label cap): entitlement is the same within a group."""
    groups: dict[tuple[int, str], list[_G]] = defaultdict(list)
    for sub in subscriptions:
        groups[(sub.organisation_id, sub.label_cap)].append(sub)
    return groups


def _matches(
    sub: _Filtered,
    *,
    notice_type: str | None,
    profiles: list[DeviceProfile],
    countries: set[str],
) -> bool:
    if notice_type is not None and sub.notice_types and notice_type not in sub.notice_types:
        return False
    if sub.device_classes and not {p.device_class for p in profiles} & set(sub.device_classes):
        return False
    if sub.countries and not countries & set(sub.countries):
        return False
    if sub.tac_prefixes:
        ranges = [
            (i.tac_start, i.tac_end)
            for p in profiles
            for i in p.identifiers.all()
            if i.kind in ("tac", "tac_range")
        ]
        if not any(
            start <= prefix.ljust(8, "9") and end >= prefix.ljust(8, "0")
            for prefix in sub.tac_prefixes
            for start, end in ranges
        ):
            return False
    return True


def fan_out_notice(notice: Notice, event: str, *, also: Iterable[Subscription] = ()) -> int:
    """Write one pending Delivery per subscription entitled to this notice event (plus
    `also`, for a withdrawal's earlier recipients), inside the caller's transaction, and
    queue the delivery work for after the commit. Returns the number of deliveries."""
    # JSON list membership in Python: portable across SQLite and PostgreSQL, and cheap at
    # the design size (20k subscriptions). Rows, not model instances: loading 10,000 whole
    # subscriptions with their creators cost ~0.5 s of the publish call (bench/fanout).
    candidates = {c.pk: c for c in _candidates(event)}
    also = list(also)
    forced = {s.pk for s in also}
    for sub in also:
        if sub.enabled:
            candidates[sub.pk] = _Candidate.of(sub)
    # With their sponsors: visibility reads a national authority's sponsor.
    organisations = Organisation.objects.select_related("sponsor").in_bulk(
        {s.organisation_id for s in candidates.values()}
    )
    entitled: list[int] = []
    notice_countries = {notice.issuer.country, *notice.audience_countries}
    groups = _groups(candidates.values())
    keys = list(groups)
    viewers = [webhook_viewer(organisations[org_id], cap) for org_id, cap in keys]
    sees = notice_seen_by(notice.pk, viewers)
    # The profiles a group may see matter only to device class, country and TAC filters:
    # without any, `_matches` looks at the notice type alone (no query of profiles).
    filtered = [
        i
        for i, key in enumerate(keys)
        if sees[i] and any(s.device_classes or s.countries or s.tac_prefixes for s in groups[key])
    ]
    visible: dict[int, set[int]] = {}
    profiles_by_id: dict[int, DeviceProfile] = {}
    if filtered:
        profiles_by_id = (
            DeviceProfile.objects.filter(notices=notice).prefetch_related("identifiers").in_bulk()
        )
        found = notice_profiles_seen_by(notice.pk, [viewers[i] for i in filtered])
        visible = dict(zip(filtered, found, strict=True))
    for i, key in enumerate(keys):
        if not sees[i]:
            continue
        profiles = [profiles_by_id[pk] for pk in sorted(visible.get(i, ()))]
        countries = notice_countries | {p.manufacturer_country for p in profiles}
        entitled.extend(
            sub.pk
            for sub in groups[key]
            if sub.pk in forced
            or _matches(sub, notice_type=notice.notice_type, profiles=profiles, countries=countries)
        )
    _insert_deliveries(
        entitled,
        event_type=event,
        notice_id=notice.pk,
        notice_version=notice.version,
        notice_status=notice.status,
    )
    if entitled:
        queue_delivery_work(len(entitled))
    return len(entitled)


class _Candidate(NamedTuple):
    """What `fan_out_notice` reads of a subscription: its group and its filters."""

    pk: int
    organisation_id: int
    label_cap: str
    notice_types: list[str]
    device_classes: list[str]
    countries: list[str]
    tac_prefixes: list[str]

    @classmethod
    def of(cls, sub: Subscription) -> "_Candidate":
        return cls(
            sub.pk,
            sub.organisation_id,
            sub.label_cap,
            sub.notice_types,
            sub.device_classes,
            sub.countries,
            sub.tac_prefixes,
        )


def _candidates(event: str) -> list[_Candidate]:
    """The enabled subscriptions to `event`, with their label caps (`label_cap`).

    The JSON list columns are read as text and each distinct text decoded once: nearly all
    subscriptions share a few filter lists, and decoding five JSON fields of every row was
    a fifth of the publish call at 10,000 subscriptions (bench/fanout)."""
    lists = ("event_types", "notice_types", "device_classes", "countries", "tac_prefixes")
    decoded: dict[str, list[str]] = {}

    def decode(text: str) -> list[str]:
        if text not in decoded:
            decoded[text] = json.loads(text)
        return decoded[text]

    found = []
    for pk, org_id, max_tlp, clearance, events, *filters in (
        Subscription.objects.filter(enabled=True)
        .annotate(**{f"{name}_text": Cast(name, TextField()) for name in lists})
        .values_list(
            "pk",
            "organisation_id",
            "max_tlp",
            "created_by__clearance",
            *(f"{name}_text" for name in lists),
        )
    ):
        if event not in decode(events):
            continue
        found.append(_Candidate(pk, org_id, label_cap(max_tlp, clearance), *map(decode, filters)))
    return found


def _insert_deliveries(subscription_ids: Sequence[int], **fields: Any) -> None:
    """One pending Delivery per subscription, all alike but for the subscription and the
    webhook-id. On PostgreSQL: one `INSERT … SELECT … FROM unnest(ids, webhook_ids)`, the
    other columns as they would be saved (the model's defaults included) from a prototype
    row. `bulk_create` prepares every field of every row in Python: 0.9 s of the publish
    call for 10,000 rows, against ~0.05 s (bench/fanout). Elsewhere (SQLite): `bulk_create`."""
    if not subscription_ids:
        return
    subscription = Delivery._meta.get_field("subscription")
    webhook_id = Delivery._meta.get_field("webhook_id")
    if connection.vendor != "postgresql":
        Delivery.objects.bulk_create(
            [Delivery(subscription_id=pk, **fields) for pk in subscription_ids], batch_size=2000
        )
        return
    quote = connection.ops.quote_name
    prototype = Delivery(subscription_id=0, **fields)
    columns = [subscription.column, webhook_id.column]
    selects = ["v.subscription_id", "v.webhook_id"]
    params: list[Any] = []
    for field in Delivery._meta.concrete_fields:
        if field.primary_key or field.column in columns:
            continue
        columns.append(field.column)
        selects.append(f"%s::{field.db_type(connection)}")
        params.append(field.get_db_prep_save(field.pre_save(prototype, add=True), connection))
    ids = list(subscription_ids)
    params += [ids, [webhook_id.get_default() for _ in ids]]
    # Only quoted names and types from the model's own fields are interpolated. In the
    # given order, so that ids (the order workers lease in) keep an organisation's
    # deliveries together: a batch then renders for a few organisations, not for all.
    sql = (
        f"INSERT INTO {quote(Delivery._meta.db_table)} "  # noqa: S608
        f"({', '.join(quote(c) for c in columns)}) "
        f"SELECT {', '.join(selects)} "
        f"FROM unnest(%s::{subscription.db_type(connection)}[], "
        f"%s::{webhook_id.db_type(connection)}[]) "
        "WITH ORDINALITY AS v(subscription_id, webhook_id, n) ORDER BY v.n"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def fan_out_profile_updated(
    profile: DeviceProfile, *, changes: Mapping[str, Any] | None = None
) -> int:
    """`profile.updated` for every subscription whose organisation may see the profile and
    the change (`changes`: the revision's diff; one that shows an organisation nothing, a
    parent it may not see, is no update for it)."""
    hidden_change = (
        [ParentChange(profile.pk, profile.version, changes)]
        if changes is not None and may_show_nothing("updated", changes)
        else []
    )
    subs = [
        s
        for s in Subscription.objects.filter(enabled=True).select_related("created_by")
        if EventType.PROFILE_UPDATED in s.event_types
    ]
    organisations = Organisation.objects.in_bulk({s.organisation_id for s in subs})
    deliveries = []
    for (org_id, cap), group in _groups(subs).items():
        viewer = webhook_viewer(organisations[org_id], cap)
        if not DeviceProfile.objects.visible_to(viewer).filter(pk=profile.pk).exists():
            continue
        if hidden_change and unseen_revisions(viewer, [profile.pk], candidates=hidden_change):
            continue
        for sub in group:
            if _matches(
                sub, notice_type=None, profiles=[profile], countries={profile.manufacturer_country}
            ):
                deliveries.append(
                    Delivery(
                        subscription=sub, event_type=EventType.PROFILE_UPDATED, profile=profile
                    )
                )
    Delivery.objects.bulk_create(deliveries, batch_size=2000)
    if deliveries:
        queue_delivery_work(len(deliveries))
    return len(deliveries)


def queue_delivery_work(count: int) -> None:
    """After commit, ask workers to deliver. Enough tasks to spread a large fan-out over
    the workers; a lost message only delays delivery until the next sweep."""
    from notices.tasks import deliver_due

    tasks = max(1, min(8, -(-count // settings.DIX_WEBHOOK_BATCH_SIZE)))

    def enqueue() -> None:
        for _ in range(tasks):
            deliver_due.delay()

    transaction.on_commit(enqueue, robust=True)


# --- Subscriptions -------------------------------------------------------------------------


@dataclass(frozen=True)
class IssuedSecret:
    subscription: Subscription
    secret: str


def subscription_create(*, member: Member, fields: Mapping[str, Any]) -> IssuedSecret:
    """Register a webhook endpoint for the member's organisation; its secret is shown once."""
    if not can_manage_subscriptions(member):
        raise Forbidden("Auditors do not manage subscriptions.")
    assert member.organisation is not None
    fields = dict(fields)
    if "max_tlp" in fields:
        _check_label(member, fields["max_tlp"], "max_tlp")
    else:
        fields["max_tlp"] = min(
            (TLP.AMBER_STRICT, member.clearance), key=lambda label: tlp_rank(label)
        )
    secret = new_signing_secret()
    with transaction.atomic():
        sub = Subscription.objects.create(
            organisation=member.organisation,
            created_by=member,
            secret_encrypted=crypto.encrypt(secret),
            **fields,
        )
        _audit_subscription(
            "subscription.created",
            sub,
            member,
            host=urlsplit(sub.url).hostname or "",
            event_types=sub.event_types,
            max_tlp=sub.max_tlp,
        )
    return IssuedSecret(subscription=sub, secret=secret)


def subscription_update(
    *, subscription: Subscription, member: Member, fields: Mapping[str, Any]
) -> Subscription:
    """Change an endpoint. Re-enabling clears the disabled reason and failure clock; a
    disabled endpoint's pending deliveries were cancelled and are not revived (recover them)."""
    if not can_manage_subscriptions(member):
        raise Forbidden("Auditors do not manage subscriptions.")
    if "max_tlp" in fields:
        _check_label(member, fields["max_tlp"], "max_tlp")
    with transaction.atomic():
        sub = Subscription.objects.select_for_update().get(pk=subscription.pk)
        for name, value in fields.items():
            setattr(sub, name, value)
        if fields.get("enabled") is True:
            sub.disabled_reason = ""
            sub.disabled_at = None
            sub.failing_since = None
        elif fields.get("enabled") is False:
            sub.disabled_reason = fields.get("disabled_reason") or "disabled by its organisation"
            sub.disabled_at = timezone.now()
            _cancel_pending(sub, "endpoint disabled")
        sub.save()
        _audit_subscription(
            "subscription.updated",
            sub,
            member,
            fields=sorted(fields),
            enabled=sub.enabled,
            host=urlsplit(sub.url).hostname or "",
        )
    return sub


def subscription_rotate_secret(*, subscription: Subscription, member: Member) -> IssuedSecret:
    """A new secret; the old one stays valid (deliveries signed with both) for the overlap."""
    if not can_manage_subscriptions(member):
        raise Forbidden("Auditors do not manage subscriptions.")
    secret = new_signing_secret()
    with transaction.atomic():
        sub = Subscription.objects.select_for_update().get(pk=subscription.pk)
        sub.previous_secret_encrypted = sub.secret_encrypted
        sub.previous_secret_expires_at = timezone.now() + timedelta(
            hours=settings.DIX_WEBHOOK_ROTATION_OVERLAP_HOURS
        )
        sub.secret_encrypted = crypto.encrypt(secret)
        sub.save(
            update_fields=[
                "secret_encrypted",
                "previous_secret_encrypted",
                "previous_secret_expires_at",
            ]
        )
        _audit_subscription(
            "subscription.secret_rotated",
            sub,
            member,
            previous_secret_expires_at=sub.previous_secret_expires_at,
        )
    return IssuedSecret(subscription=sub, secret=secret)


class _Secrets(Protocol):
    """What signing reads of an endpoint: a `Subscription`, or the engine's `Endpoint`."""

    secret_encrypted: str
    previous_secret_encrypted: str
    previous_secret_expires_at: datetime | None


def signing_secrets(sub: _Secrets, now: datetime | None = None) -> tuple[str, ...]:
    now = now or timezone.now()
    secrets = [crypto.decrypt(sub.secret_encrypted)]
    if (
        sub.previous_secret_encrypted
        and sub.previous_secret_expires_at
        and sub.previous_secret_expires_at > now
    ):
        # An old secret that cannot be read any more is simply not used.
        with contextlib.suppress(crypto.InvalidToken):
            secrets.append(crypto.decrypt(sub.previous_secret_encrypted))
    return tuple(secrets)


def subscription_disable(*, subscription: Subscription, reason: str) -> None:
    """Disable an endpoint (410 Gone, or failing for days) and cancel what is pending."""
    with transaction.atomic():
        updated = Subscription.objects.filter(pk=subscription.pk, enabled=True).update(
            enabled=False, disabled_reason=reason[:500], disabled_at=timezone.now()
        )
        if updated:
            _cancel_pending(subscription, reason)
            # Nobody did it: the delivery engine (410 Gone, or failing for days).
            _audit_subscription("subscription.disabled", subscription, None, reason=reason[:500])


def _cancel_pending(sub: Subscription, reason: str) -> None:
    Delivery.objects.filter(
        subscription=sub, state__in=(DeliveryState.PENDING, DeliveryState.SENDING)
    ).update(
        state=DeliveryState.CANCELLED,
        last_error=f"cancelled: {reason}"[:500],
        completed_at=timezone.now(),
        next_attempt_at=None,
        leased_until=None,
    )


def delivery_resend(*, delivery: Delivery, member: Member) -> Delivery:
    """Queue one delivery again now (same `webhook-id`: receivers can dedupe)."""
    if not can_manage_subscriptions(member):
        raise Forbidden("Auditors do not manage subscriptions.")
    if not delivery.subscription.enabled:
        raise Conflict("The endpoint is disabled; enable it first.")
    if delivery.state in (DeliveryState.PENDING, DeliveryState.SENDING):
        raise Conflict("The delivery is already queued.")
    with transaction.atomic():
        Delivery.objects.filter(pk=delivery.pk).update(
            state=DeliveryState.PENDING, next_attempt_at=timezone.now(), completed_at=None
        )
        queue_delivery_work(1)
        audit.record(
            action="delivery.resent",
            actor=member,
            object_type="delivery",
            object_id=delivery.pk,
            detail={
                "subscription": delivery.subscription_id,
                "webhook_id": delivery.webhook_id,
                "event_type": delivery.event_type,
            },
        )
    delivery.refresh_from_db()
    return delivery


def deliveries_recover(*, subscription: Subscription, member: Member, since: datetime) -> int:
    """Queue again every failed or cancelled delivery of this endpoint created since `since`."""
    if not can_manage_subscriptions(member):
        raise Forbidden("Auditors do not manage subscriptions.")
    if not subscription.enabled:
        raise Conflict("The endpoint is disabled; enable it first.")
    with transaction.atomic():
        count = Delivery.objects.filter(
            subscription=subscription,
            created_at__gte=since,
            state__in=(DeliveryState.FAILED, DeliveryState.CANCELLED),
        ).update(state=DeliveryState.PENDING, next_attempt_at=timezone.now(), completed_at=None)
        if count:
            queue_delivery_work(count)
        _audit_subscription(
            "subscription.deliveries_recovered", subscription, member, since=since, requeued=count
        )
    return count
