"""The outbox: one `Delivery` per entitled subscription for every event, written in the
caller's transaction, delivery work queued once it commits. `enqueue` is the one entry
point, registered as the `core.events` handler (`WebhooksConfig.ready`).

Who is told:
- `notice.*`: every subscription entitled to the notice (a withdrawal also every earlier
  recipient of it); for `notice.submitted`, a notice not yet published, that is the
  subscriptions of the issuer and of the secretariat where it may read the draft
  (`Notice.objects.visible_to`), i.e. the reviewers' organisations;
  `notice.reminder`: those of the one organisation reminded;
- `profile.updated`: every subscription whose organisation may see the profile and the change;
- `access_request.created`: the deciding organisation (the object's owner or issuer);
- `access_request.decided`: the requesting organisation and the one it asked on behalf of;
- `seizure.reported`, `seizure.amended`, `seizure.withdrawn`: the organisations the report
  was sent to (the linked notice's issuer among them; an amendment only adds to them), as
  far as the report's label lets each endpoint see it when the delivery is sent.
"""

import json
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, NamedTuple, Protocol, TypeVar

from celery import current_app
from django.conf import settings
from django.db import connection, transaction
from django.db.models import TextField
from django.db.models.functions import Cast

from core.events import EventType
from intel.models import AccessRequest, DeviceProfile, Organisation
from intel.revisions import ParentChange, may_show_nothing, unseen_revisions
from notices.audience import notice_seen_by
from notices.models import Notice
from notices.rendering import notice_profiles_seen_by, webhook_viewer
from seizures.models import SeizureReport
from webhooks.models import Delivery, Subscription, label_cap

# The name `webhooks.tasks.deliver_due` is registered under, kept from its first home
# because queued messages carry it. The outbox sends by name: the task runs the engine, which
# queues through the outbox.
DELIVER_DUE_TASK = "notices.tasks.deliver_due"


def enqueue(event_type: str, **targets: Any) -> int:
    """Write the outbox rows of one event (the `core.events` handler); returns their number."""
    match event_type:
        case EventType.NOTICE_SUBMITTED | EventType.NOTICE_PUBLISHED | EventType.NOTICE_UPDATED:
            return fan_out_notice(targets["notice"], event_type)
        case EventType.NOTICE_WITHDRAWN:
            notice = targets["notice"]
            earlier = (
                Subscription.objects.filter(deliveries__notice=notice)
                .select_related("created_by")
                .distinct()
            )
            return fan_out_notice(notice, event_type, also=earlier)
        case EventType.NOTICE_REMINDER:
            return fan_out_notice(
                targets["notice"], event_type, organisation_id=targets["organisation"].pk
            )
        case EventType.PROFILE_UPDATED:
            return fan_out_profile_updated(targets["profile"], changes=targets.get("changes"))
        case EventType.ACCESS_REQUEST_CREATED | EventType.ACCESS_REQUEST_DECIDED:
            return fan_out_access_request(targets["access_request"], event_type)
        case EventType.SEIZURE_REPORTED | EventType.SEIZURE_AMENDED | EventType.SEIZURE_WITHDRAWN:
            return fan_out_seizure_report(targets["seizure_report"], event_type)
    raise ValueError(f"No outbox for the event {event_type!r}.")


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


def fan_out_notice(
    notice: Notice,
    event: str,
    *,
    also: Iterable[Subscription] = (),
    organisation_id: int | None = None,
) -> int:
    """Write one pending Delivery per subscription entitled to this notice event (plus
    `also`, for a withdrawal's earlier recipients; only those of `organisation_id` when
    given), inside the caller's transaction, and queue the delivery work for after the
    commit. Returns the number of deliveries."""
    # JSON list membership in Python: portable across SQLite and PostgreSQL, and cheap at
    # the design size (20k subscriptions). Rows, not model instances: loading every whole
    # subscription with its creator would dominate the publish call.
    candidates = {c.pk: c for c in _candidates(event, organisation_id=organisation_id)}
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
    # Who is in the audience: the function the issuer's audience preview shows.
    sees = notice_seen_by(notice, viewers)
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


def _candidates(event: str, *, organisation_id: int | None = None) -> list[_Candidate]:
    """The enabled subscriptions to `event` (of one organisation, when given), with their
    label caps (`label_cap`).

    The JSON list columns are read as text and each distinct text decoded once: nearly all
    subscriptions share a few filter lists, and decoding five JSON fields of every row
    would weigh on the publish call."""
    lists = ("event_types", "notice_types", "device_classes", "countries", "tac_prefixes")
    decoded: dict[str, list[str]] = {}

    def decode(text: str) -> list[str]:
        if text not in decoded:
            decoded[text] = json.loads(text)
        return decoded[text]

    subscriptions = Subscription.objects.filter(enabled=True)
    if organisation_id is not None:
        subscriptions = subscriptions.filter(organisation_id=organisation_id)
    found = []
    for pk, org_id, max_tlp, clearance, events, *filters in subscriptions.annotate(
        **{f"{name}_text": Cast(name, TextField()) for name in lists}
    ).values_list(
        "pk",
        "organisation_id",
        "max_tlp",
        "created_by__clearance",
        *(f"{name}_text" for name in lists),
    ):
        if event not in decode(events):
            continue
        found.append(_Candidate(pk, org_id, label_cap(max_tlp, clearance), *map(decode, filters)))
    return found


def _insert_deliveries(subscription_ids: Sequence[int], **fields: Any) -> None:
    """One pending Delivery per subscription, all alike but for the subscription and the
    webhook-id. On PostgreSQL: one `INSERT … SELECT … FROM unnest(ids, webhook_ids)`, the
    other columns as they would be saved (the model's defaults included) from a prototype
    row, where `bulk_create` would prepare every field of every row in Python. Elsewhere
    (SQLite): `bulk_create`."""
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
    tasks = max(1, min(8, -(-count // settings.DIX_WEBHOOK_BATCH_SIZE)))

    def send() -> None:
        for _ in range(tasks):
            current_app.send_task(DELIVER_DUE_TASK)

    transaction.on_commit(send, robust=True)


def fan_out_access_request(access_request: AccessRequest, event: str) -> int:
    """One delivery per subscription (to this event) of the organisations concerned."""
    if event == EventType.ACCESS_REQUEST_CREATED:
        org_ids = {access_request.owner_id}
    else:
        org_ids = {access_request.organisation_id}
        if access_request.on_behalf_of_id is not None:
            org_ids.add(access_request.on_behalf_of_id)
    return _write(_subscriptions(org_ids, event), event=event, access_request=access_request)


def fan_out_seizure_report(report: SeizureReport, event: str) -> int:
    """One delivery per subscription (to this event) of the organisations the report was
    sent to, its own aside; whether each may read it is asked when it is sent (the payload
    is the report as `readable_seizure_reports` gives it to the endpoint, or nothing)."""
    org_ids = set(report.recipient_organisations.values_list("pk", flat=True))
    org_ids.discard(report.organisation_id)
    return _write(_subscriptions(org_ids, event), event=event, seizure_report=report)


def _subscriptions(org_ids: Iterable[int], event: str) -> list[Subscription]:
    return [
        s
        for s in Subscription.objects.filter(enabled=True, organisation_id__in=list(org_ids))
        if event in s.event_types
    ]


def _write(subs: list[Subscription], *, event: str, **target: Any) -> int:
    deliveries = [Delivery(subscription=s, event_type=event, **target) for s in subs]
    Delivery.objects.bulk_create(deliveries)
    if deliveries:
        queue_delivery_work(len(deliveries))
    return len(deliveries)
