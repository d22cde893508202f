"""The delivery engine: lease due deliveries, re-check entitlement, render, sign, POST
concurrently, record every attempt in bulk, schedule the next try.

A worker process runs `deliver_due`; it loops over batches while there is due work. Any
number of workers may run it at once: a batch is leased with `SELECT … FOR UPDATE SKIP
LOCKED` (PostgreSQL) and a lease that runs out — a killed worker — makes the rows due again.
"""

import concurrent.futures
import contextlib
import json
import logging
import os
import queue
import random
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from intel import changes
from intel.api.serializers import DeviceProfileSerializer
from intel.models import (
    AccessRequest,
    Attachment,
    DeviceProfile,
    Member,
    Organisation,
    TargetType,
)
from intel.revisions import ParentChange, parent_changes, seen_versions
from notices import crypto
from notices.models import (
    Delivery,
    DeliveryAttempt,
    DeliveryState,
    EventType,
    Notice,
    NoticeReceipt,
    SeizureReport,
    Subscription,
    label_cap,
)
from notices.rendering import (
    notice_profiles_seen_by,
    notice_seen_by,
    render_notice,
    webhook_viewer,
    with_profiles,
)
from notices.services import signing_secrets, subscription_disable
from notices.webhooks import (
    Feed,
    Outcome,
    Outgoing,
    Sender,
    SenderSettings,
    send_all,
)

log = logging.getLogger("dix.delivery")

FLUSH_EVERY = 200
FLUSH_SECONDS = 0.25


def sender_settings() -> SenderSettings:
    return SenderSettings(
        concurrency=settings.DIX_WEBHOOK_CONCURRENCY,
        per_host=settings.DIX_WEBHOOK_PER_ENDPOINT,
        connect_timeout=settings.DIX_WEBHOOK_CONNECT_TIMEOUT,
        total_timeout=settings.DIX_WEBHOOK_TIMEOUT,
        allow_loopback=settings.DIX_WEBHOOK_ALLOW_LOOPBACK,
    )


def deliver_due(*, time_budget: float = 60.0) -> int:
    """Deliver batches of due deliveries until none is due or the budget is spent."""
    started = time.monotonic()
    total = 0
    while time.monotonic() - started < time_budget:
        ids = lease_due(settings.DIX_WEBHOOK_BATCH_SIZE)
        if not ids:
            break
        total += deliver_batch(ids)
    return total


def lease_due(limit: int) -> list[int]:
    """Take up to `limit` due deliveries for this worker: state → sending, with a lease."""
    now = timezone.now()
    until = now + timedelta(seconds=settings.DIX_WEBHOOK_LEASE_SECONDS)
    with transaction.atomic():
        due = (
            Delivery.objects.due(now)
            .order_by("next_attempt_at", "id")
            .select_for_update(skip_locked=True)
            .values_list("id", flat=True)[:limit]
        )
        if connection.vendor != "postgresql":
            ids = list(due)
            if ids:
                Delivery.objects.filter(id__in=ids).update(
                    state=DeliveryState.SENDING, leased_until=until
                )
            return ids
        # One statement: the rows taken (locked, skipping those another worker holds) and
        # leased, their ids returned; not a SELECT and then an UPDATE of 500 ids compiled
        # by the ORM (bench/fanout).
        sql, params = due.query.sql_with_params()
        table = connection.ops.quote_name(Delivery._meta.db_table)
        with connection.cursor() as cursor:
            cursor.execute(
                f"WITH taken AS ({sql}) "  # noqa: S608 - the ORM's own SQL and a quoted name
                f"UPDATE {table} AS d SET state = %s, leased_until = %s "
                "FROM taken WHERE d.id = taken.id RETURNING d.id",
                [*params, DeliveryState.SENDING.value, until],
            )
            ids = [row[0] for row in cursor.fetchall()]
    ids.sort()
    return ids


@dataclass(slots=True)
class Endpoint:
    """What the engine reads of a subscription, loaded as plain values: building model
    instances of every delivery, endpoint, organisation and creator of a batch was a third
    of a worker's time (bench/fanout). The organisation is a model, one per organisation."""

    pk: int
    url: str
    enabled: bool
    organisation_id: int
    organisation: Organisation
    label_cap: str
    secret_encrypted: str
    previous_secret_encrypted: str
    previous_secret_expires_at: datetime | None
    failing_since: datetime | None


@dataclass(slots=True)
class Leased:
    """One leased delivery: what it is about, and the outcome fields `_Recorder` writes
    (the names of `Delivery`'s fields, so either may be recorded)."""

    pk: int
    subscription_id: int
    subscription: Endpoint
    event_type: str
    notice_id: int | None
    profile_id: int | None
    access_request_id: int | None
    seizure_report_id: int | None
    webhook_id: str
    attempts: int
    last_status_code: int | None
    last_error: str
    completed_at: datetime | None
    state: str = DeliveryState.SENDING
    leased_until: datetime | None = None
    next_attempt_at: datetime | None = None


# The renderer and the recorder take either: the engine's rows, or model instances.
AnyDelivery = Delivery | Leased
AnyEndpoint = Subscription | Endpoint

_LEASED_COLUMNS = (
    "id",
    "subscription_id",
    "event_type",
    "notice_id",
    "profile_id",
    "access_request_id",
    "seizure_report_id",
    "webhook_id",
    "attempts",
    "last_status_code",
    "last_error",
    "completed_at",
    "subscription__url",
    "subscription__enabled",
    "subscription__organisation_id",
    "subscription__max_tlp",
    "subscription__created_by__clearance",
    "subscription__secret_encrypted",
    "subscription__previous_secret_encrypted",
    "subscription__previous_secret_expires_at",
    "subscription__failing_since",
)


def load_leased(ids: Sequence[int]) -> list[Leased]:
    """The deliveries among `ids` still leased (state sending), with their endpoints, in
    two queries (the rows, then their organisations with their sponsors)."""
    rows = list(
        Delivery.objects.filter(id__in=ids, state=DeliveryState.SENDING)
        .order_by("id")
        .values_list(*_LEASED_COLUMNS)
    )
    organisations = Organisation.objects.select_related("sponsor").in_bulk(
        {row[14] for row in rows}
    )
    endpoints: dict[int, Endpoint] = {}
    leased = []
    for (pk, sub_id, event, notice, profile, request, report, webhook_id, attempts,
         status, error, completed, url, enabled, org_id, max_tlp, clearance, secret,
         previous, previous_until, failing_since) in rows:  # fmt: skip
        if sub_id not in endpoints:
            endpoints[sub_id] = Endpoint(
                pk=sub_id,
                url=url,
                enabled=enabled,
                organisation_id=org_id,
                organisation=organisations[org_id],
                label_cap=label_cap(max_tlp, clearance),
                secret_encrypted=secret,
                previous_secret_encrypted=previous,
                previous_secret_expires_at=previous_until,
                failing_since=failing_since,
            )
        leased.append(
            Leased(
                pk=pk,
                subscription_id=sub_id,
                subscription=endpoints[sub_id],
                event_type=event,
                notice_id=notice,
                profile_id=profile,
                access_request_id=request,
                seizure_report_id=report,
                webhook_id=webhook_id,
                attempts=attempts,
                last_status_code=status,
                last_error=error,
                completed_at=completed,
            )
        )
    return leased


def deliver_batch(ids: Sequence[int], *, trigger: str = "scheduled") -> int:
    """Send one leased batch and record the outcomes; returns the number of attempts."""
    # The notice is not joined here: the renderer loads it once per batch, not once per row.
    deliveries = load_leased(ids)
    renderer = _Renderer()
    encoded: dict[int, str] = {}  # id(data) → its JSON: one payload serves many endpoints
    by_id: dict[int, Leased] = {}
    cancelled: list[Leased] = []
    unsignable: list[Leased] = []
    unrenderable: list[Leased] = []
    renderer.preload(deliveries)
    # The sender starts now and POSTs each delivery as soon as it is rendered and signed.
    feed = Feed()
    sender = _start_sender(feed)
    try:
        for delivery in deliveries:
            _prepare(delivery, renderer, encoded, feed, by_id, cancelled, unsignable, unrenderable)
    finally:
        feed.close()
    _cancel(cancelled)
    _fail_unsignable(unsignable)
    _fail(unrenderable, "the payload could not be rendered (see the worker log)")
    _record_outcomes(sender, by_id, trigger)
    return len(by_id)


def _prepare(
    delivery: Leased,
    renderer: "_Renderer",
    encoded: dict[int, str],
    feed: Feed,
    by_id: dict[int, Leased],
    cancelled: list[Leased],
    unsignable: list[Leased],
    unrenderable: list[Leased],
) -> None:
    """Render, sign and hand one delivery to the sender, or set it aside with the reason."""
    try:
        data = renderer.data_for(delivery)
    except Exception:
        # One payload that cannot be built must not hold back the batch, nor be leased
        # again and again: it fails visibly, and can be resent once mended.
        log.exception("webhook payload could not be rendered", extra={"delivery": delivery.pk})
        unrenderable.append(delivery)
        return
    if data is None:
        cancelled.append(delivery)
        return
    try:
        secrets = renderer.secrets_for(delivery.subscription)
    except crypto.InvalidToken:
        # The key that encrypted the secret is gone (DIX_ENCRYPTION_KEY changed): fail
        # this endpoint's deliveries visibly instead of blocking the batch forever.
        unsignable.append(delivery)
        return
    if id(data) not in encoded:
        encoded[id(data)] = json.dumps(data, separators=(",", ":"), default=str)
    # Byte for byte what json.dumps({"type", "timestamp", "data"}) would write.
    body = (
        f'{{"type":{json.dumps(delivery.event_type)},'
        f'"timestamp":{json.dumps(timezone.now().isoformat())},'
        f'"data":{encoded[id(data)]}}}'
    )
    by_id[delivery.pk] = delivery
    feed.put(
        Outgoing(
            key=delivery.pk,
            endpoint=delivery.subscription_id,
            url=delivery.subscription.url,
            webhook_id=delivery.webhook_id,
            body=body,
            secrets=secrets,
        )
    )


def leased_test_delivery(subscription: Subscription) -> Delivery:
    """A `dix.test` delivery created already leased, so no worker takes it first."""
    return Delivery.objects.create(
        subscription=subscription,
        event_type=EventType.TEST,
        state=DeliveryState.SENDING,
        next_attempt_at=None,
        leased_until=timezone.now() + timedelta(seconds=settings.DIX_WEBHOOK_LEASE_SECONDS),
    )


def send_now(delivery: Delivery) -> Outcome | None:
    """Send one leased delivery synchronously (the subscription test) and record it."""
    outcomes: list[Outcome] = []
    (fresh,) = load_leased([delivery.pk])
    recorder = _Recorder({fresh.pk: fresh}, "manual")
    renderer = _Renderer()
    data = renderer.data_for(fresh)
    body = json.dumps(
        {"type": fresh.event_type, "timestamp": timezone.now().isoformat(), "data": data},
        separators=(",", ":"),
        default=str,
    )
    item = Outgoing(
        key=fresh.pk,
        endpoint=fresh.subscription_id,
        url=fresh.subscription.url,
        webhook_id=fresh.webhook_id,
        body=body,
        secrets=renderer.secrets_for(fresh.subscription),
    )
    send_all([item], sender_settings(), outcomes.append)
    recorder.record(outcomes)
    return outcomes[0]


class _Renderer:
    """Entitlement and rendering, computed once per (event, object, organisation, cap) in a
    batch: a fan-out to 10,000 endpoints of a few hundred organisations renders a few
    hundred payloads, not 10,000."""

    def __init__(self) -> None:
        self._cache: dict[tuple[Any, ...], dict[str, Any] | None] = {}
        self._secrets: dict[int, tuple[str, ...]] = {}
        self._notices: dict[int, tuple[Notice, list[DeviceProfile]] | None] = {}
        self._entitled: dict[tuple[int, int, str], set[int] | None] = {}
        # Per notice, its profiles' parent-only revisions: the same for every recipient,
        # each of whom may see them or not (the versions in its profile summaries).
        self._parent_changes: dict[int, list[ParentChange]] = {}

    def secrets_for(self, sub: AnyEndpoint) -> tuple[str, ...]:
        if sub.pk not in self._secrets:
            self._secrets[sub.pk] = signing_secrets(sub)
        return self._secrets[sub.pk]

    def data_for(self, delivery: AnyDelivery) -> dict[str, Any] | None:
        """The payload's `data`, or None when the endpoint is no longer entitled to it."""
        sub = delivery.subscription
        if not sub.enabled:
            return None
        key = (
            delivery.subscription_id if delivery.event_type == EventType.TEST else None,
            delivery.event_type,
            delivery.notice_id,
            delivery.profile_id,
            delivery.access_request_id,
            delivery.seizure_report_id,
            sub.organisation_id,
            sub.label_cap,
        )
        if key not in self._cache:
            self._cache[key] = self._render(delivery, sub)
        return self._cache[key]

    def _render(self, delivery: AnyDelivery, sub: AnyEndpoint) -> dict[str, Any] | None:
        viewer = webhook_viewer(sub.organisation, sub.label_cap)
        if delivery.event_type == EventType.TEST:
            return {"subscription": sub.pk, "message": "Test event from DIX."}
        if delivery.access_request_id is not None:
            return _render_access_request(delivery.access_request_id, viewer)
        if delivery.seizure_report_id is not None:
            return _render_seizure_report(delivery.seizure_report_id, viewer)
        if delivery.profile_id is not None:
            profile = (
                DeviceProfile.objects.visible_to(viewer)
                .select_related("owner")
                .prefetch_related(
                    "identifiers",
                    "detection_signatures",
                    "concealment_methods",
                    "suppliers__sales_channels",
                    "recipient_organisations",
                    "recipient_members",
                )
                .filter(pk=delivery.profile_id)
                .first()
            )
            if profile is None:
                return None
            profile.visible_attachments = list(  # type: ignore[attr-defined]
                Attachment.objects.visible_to(viewer).filter(profile=profile)
            )
            profile.visible_parent_id = (  # type: ignore[attr-defined]
                profile.parent_id
                if profile.parent_id is not None
                and DeviceProfile.objects.visible_to(viewer).filter(pk=profile.parent_id).exists()
                else None
            )
            return dict(DeviceProfileSerializer(profile, context={"reader": viewer}).data)
        # The notice is loaded once per batch with all its profiles and narrowed to those
        # this recipient may see (as `with_visible_profiles` would load them).
        notice_id = delivery.notice_id
        if notice_id is None:
            return None
        visible = self._notice_entitlement(notice_id, sub)
        loaded = self._notice(notice_id) if visible is not None else None
        if loaded is None or visible is None:
            return None
        notice, profiles = loaded
        shown = [p for p in profiles if p.pk in visible]
        notice.visible_profiles = shown  # type: ignore[attr-defined]
        if notice_id not in self._parent_changes:
            self._parent_changes[notice_id] = parent_changes(p.pk for p in profiles)
        versions = seen_versions(viewer, shown, candidates=self._parent_changes[notice_id])
        return render_notice(notice, versions=versions)

    def preload(self, deliveries: Sequence[AnyDelivery]) -> None:
        """Check, for every (notice, organisation, cap) of a batch, whether it may still see
        the notice and which of its profiles, in two queries of each organisation compiled
        once per shape (`visible_ids_per_viewer`): checking each recipient's entitlement with
        its own `visible_to` queries cost ~10 ms of ORM work per organisation (bench/fanout)."""
        wanted: dict[int, set[tuple[int, str]]] = defaultdict(set)
        organisations = {}
        for d in deliveries:
            sub = d.subscription
            if d.notice_id is None or d.event_type == EventType.TEST or not sub.enabled:
                continue
            if d.access_request_id or d.seizure_report_id or d.profile_id:
                continue
            wanted[d.notice_id].add((sub.organisation_id, sub.label_cap))
            organisations[sub.organisation_id] = sub.organisation
        for notice_id, keys in wanted.items():
            todo = sorted(k for k in keys if (notice_id, *k) not in self._entitled)
            viewers = [webhook_viewer(organisations[org], cap) for org, cap in todo]
            for key, visible in zip(todo, _notice_entitlements(notice_id, viewers), strict=True):
                self._entitled[(notice_id, *key)] = visible

    def _notice_entitlement(self, notice_id: int, sub: AnyEndpoint) -> set[int] | None:
        """The profiles of the notice this endpoint may see, or None if it may not see it."""
        key = (notice_id, sub.organisation_id, sub.label_cap)
        if key not in self._entitled:
            viewer = webhook_viewer(sub.organisation, sub.label_cap)
            self._entitled[key] = _notice_entitlements(notice_id, [viewer])[0]
        return self._entitled[key]

    def _notice(self, notice_id: int) -> tuple[Notice, list[DeviceProfile]] | None:
        if notice_id not in self._notices:
            self._notices[notice_id] = _notice_content(notice_id)
        return self._notices[notice_id]


# The notices a process has loaded, with all their profiles, under the shared-data counter
# they were loaded at (`intel.changes`: every write to a notice or a profile moves it, and a
# lost cache restarts it above any earlier value). Loading a notice with its profiles,
# identifiers and attachments for every batch of a fan-out was a twentieth of a delivering
# process's time (bench/fanout); who may see it and which of its profiles is still checked
# for every batch (`_Renderer.preload`).
_NoticeContent = tuple[Notice, list[DeviceProfile]] | None
_contents: dict[int, tuple[int, _NoticeContent]] = {}
_CONTENTS_AT_MOST = 64


def _notice_content(notice_id: int) -> _NoticeContent:
    try:
        version: int | None = changes.data_version()
    except Exception:
        # The cache is out of reach: load the notice as it is and keep nothing (a webhook
        # must not fail because the shared cache does).
        log.warning("shared-data counter unreadable; notice loaded uncached", exc_info=True)
        version = None
    kept = _contents.get(notice_id)
    if version is not None and kept is not None and kept[0] == version:
        return kept[1]
    notice = with_profiles(Notice.objects.filter(pk=notice_id), DeviceProfile.objects.all()).first()
    content = None if notice is None else (notice, list(notice.visible_profiles))
    if version is not None:
        if len(_contents) >= _CONTENTS_AT_MOST:
            _contents.clear()
        _contents[notice_id] = (version, content)
    return content


def _notice_entitlements(notice_id: int, viewers: list[Member]) -> list[set[int] | None]:
    """Per viewer: None when it may not see the notice, else the ids of the notice's profiles
    it may see."""
    sees = notice_seen_by(notice_id, viewers)
    entitled = [v for v, seen in zip(viewers, sees, strict=True) if seen]
    profiles = iter(notice_profiles_seen_by(notice_id, entitled))
    return [next(profiles) if seen else None for seen in sees]


def _render_access_request(request_id: int, viewer: Member) -> dict[str, Any] | None:
    """A request as its parties read it through the API, while the endpoint's organisation
    is still one of them (requester, on-behalf, owner)."""
    from intel.api.access import AccessRequestSerializer

    req = (
        AccessRequest.objects.visible_to(viewer)
        .select_related("requester", "organisation", "on_behalf_of", "owner", "decided_by")
        .prefetch_related("messages__author")
        .filter(pk=request_id)
        .first()
    )
    if req is None:
        return None
    if req.target_type == TargetType.ATTACHMENT:
        req.attachment_profile_id = (  # type: ignore[attr-defined]
            Attachment.objects.filter(pk=req.target_id).values_list("profile_id", flat=True).first()
        )
    return dict(AccessRequestSerializer(req).data)


def _render_seizure_report(report_id: int, viewer: Member) -> dict[str, Any] | None:
    """The report as the endpoint's organisation may read it (lines of profiles it may not
    see left out), or None when its label no longer lets it."""
    from notices.api.seizures import SeizureReportSerializer, rendering_context

    report = (
        SeizureReport.objects.visible_to(viewer)
        .select_related("organisation", "notice")
        .prefetch_related("lines__profile")
        .filter(pk=report_id)
        .first()
    )
    if report is None:
        return None
    context = rendering_context([report], viewer)
    return dict(SeizureReportSerializer(report, context=context).data)


def _fail_unsignable(deliveries: list[Leased]) -> None:
    if deliveries:
        log.error(
            "webhook secrets unreadable: rotate the secrets of these subscriptions",
            extra={"subscriptions": sorted({d.subscription_id for d in deliveries})},
        )
    _fail(deliveries, "signing secret unreadable (DIX_ENCRYPTION_KEY changed?): rotate the secret")


def _fail(deliveries: list[Leased], error: str) -> None:
    if not deliveries:
        return
    Delivery.objects.filter(id__in=[d.pk for d in deliveries]).update(
        state=DeliveryState.FAILED,
        last_error=error,
        completed_at=timezone.now(),
        next_attempt_at=None,
        leased_until=None,
    )


def _cancel(deliveries: list[Leased]) -> None:
    if not deliveries:
        return
    Delivery.objects.filter(id__in=[d.pk for d in deliveries]).update(
        state=DeliveryState.CANCELLED,
        last_error="cancelled: no longer entitled or endpoint disabled",
        completed_at=timezone.now(),
        next_attempt_at=None,
        leased_until=None,
    )


class _SenderLoop:
    """One sending thread per worker process, and one `Sender` (libcurl multi handle) per
    sender settings, kept from batch to batch: the next batch reuses the connections (and,
    over HTTPS, the TLS sessions) of the last instead of opening its own (connecting was
    ~18 % of the sending thread's time in bench/fanout). Made on first use in the process
    that uses it, so a forked pool process never inherits a parent's thread."""

    def __init__(self) -> None:
        self.pid = os.getpid()
        self.thread = concurrent.futures.ThreadPoolExecutor(1, "dix-webhook-sender")
        self.senders: dict[SenderSettings, Sender] = {}

    def send(
        self, feed: Feed, cfg: SenderSettings, on_outcome: Callable[[Outcome], object]
    ) -> "concurrent.futures.Future[None]":
        def run() -> None:
            sender = self.senders.get(cfg)
            if sender is None or sender.broken:
                for old in self.senders.values():  # settings changed, or it failed
                    with contextlib.suppress(Exception):
                        old.close()
                self.senders = {cfg: Sender(cfg)}
                sender = self.senders[cfg]
            send_all(feed, cfg, on_outcome, sender)

        return self.thread.submit(run)


_sender_loop: _SenderLoop | None = None
_sender_lock = threading.Lock()


def _loop() -> _SenderLoop:
    global _sender_loop
    with _sender_lock:
        if _sender_loop is None or _sender_loop.pid != os.getpid():
            _sender_loop = _SenderLoop()
        return _sender_loop


_Sender = tuple["concurrent.futures.Future[None]", "queue.SimpleQueue[Outcome | None]"]


def _start_sender(feed: Feed) -> _Sender:
    """POST what `feed` receives, on the process's sender loop; outcomes arrive on the
    returned queue, then None."""
    # SimpleQueue: its put is one C call, where Queue's takes a lock and notifies a condition
    # (3 % of a delivering process, bench/fanout).
    results: queue.SimpleQueue[Outcome | None] = queue.SimpleQueue()
    future = _loop().send(feed, sender_settings(), results.put)
    future.add_done_callback(lambda _: results.put(None))
    return future, results


def _record_outcomes(sender: _Sender, by_id: dict[int, Leased], trigger: str) -> None:
    """Record outcomes here, in bulk, as they arrive (every FLUSH_EVERY outcomes or
    FLUSH_SECONDS), so a slow receiver does not hold back the recording of everyone else's
    result."""
    future, results = sender
    recorder = _Recorder(by_id, trigger)
    pending: list[Outcome] = []
    last_flush = time.monotonic()
    # A batch behind a slow endpoint can outlast the lease; while this worker is alive it
    # renews the lease of what it still holds, so no other worker takes it over and sends
    # it twice. A killed worker stops renewing and its rows fall due again.
    outstanding = set(by_id)
    renew_every = settings.DIX_WEBHOOK_LEASE_SECONDS / 3
    last_renewal = time.monotonic()
    done = False
    while not done:
        try:
            item = results.get(timeout=FLUSH_SECONDS)
        except queue.Empty:
            item = ...  # type: ignore[assignment]
        if item is None:
            done = True
        elif isinstance(item, Outcome):
            pending.append(item)
            outstanding.discard(item.key)
        if outstanding and time.monotonic() - last_renewal >= renew_every:
            Delivery.objects.filter(id__in=outstanding, state=DeliveryState.SENDING).update(
                leased_until=timezone.now() + timedelta(seconds=settings.DIX_WEBHOOK_LEASE_SECONDS)
            )
            last_renewal = time.monotonic()
        if pending and (
            done or len(pending) >= FLUSH_EVERY or time.monotonic() - last_flush >= FLUSH_SECONDS
        ):
            recorder.record(pending)
            pending = []
            last_flush = time.monotonic()
    future.result()  # raises what the sender raised, if anything


def next_delay(attempts: int, retry_after: float | None) -> timedelta | None:
    """The wait before the next try after `attempts` failed ones, or None when exhausted.
    ±20 % jitter spreads retries; a receiver's Retry-After is honoured between 5 s and 24 h."""
    schedule = settings.DIX_WEBHOOK_RETRY_SCHEDULE
    if attempts > len(schedule):
        return None
    base = float(schedule[attempts - 1])
    delay = base * random.uniform(0.8, 1.2)  # noqa: S311 - jitter, not cryptography
    if retry_after is not None:
        # Honoured when it asks for longer than the schedule (up to a day); a shorter one
        # would burn through the attempts in minutes.
        delay = max(delay, min(retry_after, 24 * 3600.0))
    return timedelta(seconds=delay)


_OUTCOME_FIELDS = (
    "attempts",
    "last_status_code",
    "last_error",
    "leased_until",
    "state",
    "completed_at",
    "next_attempt_at",
)
_OUTCOME_CASTS = (
    "integer",
    "integer",
    "varchar",
    "timestamptz",
    "varchar",
    "timestamptz",
    "timestamptz",
)


def _update_outcomes(changed: list[Leased]) -> None:
    """Write the outcome fields of `changed`. On PostgreSQL: one `UPDATE … FROM unnest(one
    array per column)`, a statement of fixed size whatever the number of rows. Django's
    `bulk_update` builds a `CASE WHEN id = … THEN …` per field and row, and resolving those
    expressions cost the worker more CPU than the HTTP requests it records; a `VALUES` list
    of a placeholder per field and row was cheaper, but psycopg then parsed a statement of
    8,000 placeholders per flush (bench/fanout). Elsewhere (SQLite): `bulk_update`."""
    if not changed:
        return
    if connection.vendor != "postgresql":
        rows = [
            Delivery(pk=d.pk, **{name: getattr(d, name) for name in _OUTCOME_FIELDS})
            for d in changed
        ]
        Delivery.objects.bulk_update(rows, list(_OUTCOME_FIELDS), batch_size=500)
        return
    quote = connection.ops.quote_name
    columns = _OUTCOME_FIELDS  # the fields' column names are their names
    arrays = ", ".join(f"%s::{cast}[]" for cast in ("bigint", *_OUTCOME_CASTS))
    assignments = ", ".join(f"{quote(c)} = v.{quote(c)}" for c in columns)
    names = ", ".join(quote(c) for c in ("id", *columns))
    params = [[d.pk for d in changed]] + [
        [getattr(d, name) for d in changed] for name in _OUTCOME_FIELDS
    ]
    # Only quoted column names and casts are interpolated; values are parameters.
    sql = (
        f"UPDATE {quote(Delivery._meta.db_table)} AS d SET {assignments} "  # noqa: S608
        f"FROM unnest({arrays}) AS v({names}) WHERE d.id = v.id"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


_ATTEMPT_FIELDS = (
    "delivery_id",
    "number",
    "trigger",
    "started_at",
    "duration_ms",
    "status_code",
    "error",
    "response_body",
    "next_attempt_at",
)


def _insert_attempts(rows: list[tuple[Any, ...]]) -> None:
    """Insert attempt rows (values in `_ATTEMPT_FIELDS` order). On PostgreSQL with one
    `COPY`: `bulk_create` prepared every field of every row through the ORM, ~15 % of a
    worker's time in a fan-out (bench/fanout). Elsewhere (SQLite): `bulk_create`."""
    if not rows:
        return
    if connection.vendor != "postgresql":
        DeliveryAttempt.objects.bulk_create(
            [DeliveryAttempt(**dict(zip(_ATTEMPT_FIELDS, row, strict=True))) for row in rows],
            batch_size=1000,
        )
        return
    quote = connection.ops.quote_name
    columns = ", ".join(quote(f) for f in _ATTEMPT_FIELDS)  # the columns are these names
    table = quote(DeliveryAttempt._meta.db_table)
    # Only quoted names are interpolated; the rows travel as COPY data.
    with (
        connection.cursor() as cursor,
        cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy,
    ):
        for row in rows:
            copy.write_row(row)


class _Recorder:
    """Writes outcomes: attempts inserted, deliveries updated, in a few statements per flush."""

    def __init__(self, deliveries: dict[int, Leased], trigger: str) -> None:
        self.deliveries = deliveries
        self.trigger = trigger

    def record(self, outcomes: list[Outcome]) -> None:
        now = timezone.now()
        attempts: list[tuple[Any, ...]] = []
        changed: list[Leased] = []
        gone: set[int] = set()
        exhausted: set[int] = set()
        failing: set[int] = set()
        healthy: set[int] = set()
        for outcome in outcomes:
            delivery = self.deliveries[outcome.key]
            delivery.attempts += 1
            delivery.last_status_code = outcome.status_code
            delivery.last_error = outcome.error[:500]
            delivery.leased_until = None
            if outcome.succeeded:
                delivery.state = DeliveryState.SUCCEEDED
                delivery.completed_at = now
                delivery.next_attempt_at = None
                healthy.add(delivery.subscription_id)
            elif outcome.status_code == 410:
                delivery.state = DeliveryState.CANCELLED
                delivery.completed_at = now
                delivery.next_attempt_at = None
                gone.add(delivery.subscription_id)
            else:
                if delivery.event_type != EventType.TEST:  # a failed test is not an outage
                    failing.add(delivery.subscription_id)
                retryable = outcome.status_code in (429, 503)
                wait = next_delay(delivery.attempts, outcome.retry_after if retryable else None)
                if wait is None or delivery.event_type == EventType.TEST:
                    delivery.state = DeliveryState.FAILED
                    delivery.completed_at = now
                    delivery.next_attempt_at = None
                    if delivery.event_type != EventType.TEST:
                        exhausted.add(delivery.subscription_id)
                else:
                    delivery.state = DeliveryState.PENDING
                    delivery.next_attempt_at = now + wait
            attempts.append(
                (
                    delivery.pk,
                    delivery.attempts,
                    self.trigger,
                    outcome.started_at,
                    outcome.duration_ms,
                    outcome.status_code,
                    outcome.error[:500],
                    outcome.response_body,
                    delivery.next_attempt_at,
                )
            )
            changed.append(delivery)
        with transaction.atomic():
            _insert_attempts(attempts)
            _update_outcomes(changed)
            # An endpoint disabled while these attempts were in flight: what was just
            # rescheduled stays cancelled, as disabling promised.
            rescheduled = [d.pk for d in changed if d.state == DeliveryState.PENDING]
            if rescheduled:
                Delivery.objects.filter(id__in=rescheduled, subscription__enabled=False).update(
                    state=DeliveryState.CANCELLED, next_attempt_at=None, completed_at=now
                )
            self._receipts([d for d in changed if d.state == DeliveryState.SUCCEEDED], now)
        # Only the clocks that change: most endpoints are healthy and stay so (an UPDATE of
        # every succeeding endpoint per flush was a tenth of a worker's time, bench/fanout).
        endpoints = {d.subscription_id: d.subscription for d in changed}
        stop = {pk for pk in healthy if endpoints[pk].failing_since is not None}
        start = {pk for pk in failing - healthy if endpoints[pk].failing_since is None}
        self._endpoint_health(stop, start, gone, exhausted - healthy, now)
        for pk in stop:
            endpoints[pk].failing_since = None
        for pk in start:
            endpoints[pk].failing_since = now

    def _receipts(self, delivered: list[Leased], now: datetime) -> None:
        pairs = {(d.notice_id, d.subscription.organisation_id) for d in delivered if d.notice_id}
        if not pairs:
            return
        # Sorted: two workers inserting overlapping receipts in different orders would each
        # wait for the other's uncommitted row (a deadlock); in one order they queue.
        ordered = sorted(pairs)
        if connection.vendor != "postgresql":
            NoticeReceipt.objects.bulk_create(
                [
                    NoticeReceipt(notice_id=n, organisation_id=o, received_at=now)
                    for n, o in ordered
                ],
                ignore_conflicts=True,
            )
            return
        # What bulk_create(ignore_conflicts=True) does, without preparing a model per row.
        table = connection.ops.quote_name(NoticeReceipt._meta.db_table)
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {table} (notice_id, organisation_id, received_at) "  # noqa: S608
                "SELECT n, o, %s FROM unnest(%s::bigint[], %s::bigint[]) "
                "WITH ORDINALITY AS v(n, o, i) ORDER BY i ON CONFLICT DO NOTHING",
                [now, [n for n, _ in ordered], [o for _, o in ordered]],
            )

    def _endpoint_health(
        self,
        healthy: set[int],
        failing: set[int],
        gone: set[int],
        exhausted: set[int],
        now: datetime,
    ) -> None:
        """Failures start a clock, a success stops it; a 410 disables at once. An endpoint is
        disabled when a delivery runs out of retries (about three days) while its clock has
        run for DIX_WEBHOOK_DISABLE_AFTER_HOURS: failing for days, not one bad hour."""
        if healthy:
            Subscription.objects.filter(pk__in=healthy, failing_since__isnull=False).update(
                failing_since=None
            )
        if failing:
            Subscription.objects.filter(pk__in=failing, failing_since__isnull=True).update(
                failing_since=now
            )
        if not gone and not exhausted:
            return
        for sub in Subscription.objects.filter(pk__in=gone):
            log.warning("webhook endpoint disabled: 410 Gone", extra={"subscription": sub.pk})
            subscription_disable(subscription=sub, reason="The receiver answered 410 Gone.")
        limit = now - timedelta(hours=settings.DIX_WEBHOOK_DISABLE_AFTER_HOURS)
        for sub in Subscription.objects.filter(pk__in=exhausted, failing_since__lt=limit):
            reason = (
                f"Failing since {sub.failing_since:%Y-%m-%d %H:%M} UTC without a single "
                "successful delivery."
            )
            log.warning(
                "webhook endpoint disabled: failing for days", extra={"subscription": sub.pk}
            )
            subscription_disable(subscription=sub, reason=reason)
