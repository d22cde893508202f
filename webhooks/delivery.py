"""The delivery engine: lease due deliveries, re-check entitlement, render, sign, POST
concurrently, record every attempt in bulk, schedule the next try.

A worker process runs `deliver_due`: one pipeline that leases a batch whenever its sender
runs short of work, while earlier requests are still outstanding, so a slow endpoint delays
its own deliveries only. Any number of workers may run it at once: a batch is leased with
`SELECT … FOR UPDATE SKIP LOCKED` (PostgreSQL), a live worker renews the leases of what it
still holds, and a lease that runs out — a killed worker — makes the rows due again.
Outcomes already sent are written through lost database connections (`_reconnecting`).
"""

import concurrent.futures
import contextlib
import fcntl
import json
import logging
import os
import queue
import random
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import InterfaceError, OperationalError, connection, transaction
from django.utils import timezone

from access.api import AccessRequestSerializer
from core.events import EventType
from intel import changes
from intel.api.serializers import DeviceProfileSerializer
from intel.models import (
    AccessRequest,
    Attachment,
    DeviceProfile,
    Organisation,
    TargetType,
    tlp_rank,
)
from intel.revisions import ParentChange, parent_changes, seen_versions
from intel.visibility import Viewer
from notices.models import Notice, NoticeReceipt, NoticeStatus, NoticeVersion
from notices.rendering import (
    notice_profiles_seen_by,
    notice_seen_by,
    render_notice,
    webhook_viewer,
    with_profiles,
)
from seizures.api import SeizureReportSerializer, rendering_context
from seizures.models import SeizureReport
from webhooks import crypto
from webhooks.models import Delivery, DeliveryAttempt, DeliveryState, Subscription, label_cap
from webhooks.outbox import queue_delivery_work
from webhooks.services import signing_secrets, subscription_disable
from webhooks.webhooks import (
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
# While requests are outstanding and nothing was due, look for new due work this often.
IDLE_LEASE_SECONDS = 0.5
# Outstanding deliveries one pipeline holds at most (leased, not yet recorded), in batches:
# a bound on memory when many endpoints hang.
OUTSTANDING_BATCHES = 8
# Writing what was sent survives this many lost connections in a row, waiting between tries.
RECONNECT_WAITS = (0.1, 0.5, 1.0, 2.0, 4.0)
# A delivery that must wait for an earlier event of its notice to the same endpoint, still
# in flight, is due again after this.
ORDER_WAIT_SECONDS = 1.0

NOTICE_EVENTS = (EventType.NOTICE_PUBLISHED, EventType.NOTICE_UPDATED, EventType.NOTICE_WITHDRAWN)


def _connection_errors() -> tuple[type[BaseException], ...]:
    """What a lost database connection raises: Django's wrapped errors, and psycopg's own
    from the raw cursor `_insert_attempts` copies through."""
    errors: list[type[BaseException]] = [OperationalError, InterfaceError]
    try:
        import psycopg
    except ImportError:  # SQLite only
        pass
    else:
        errors += [psycopg.OperationalError, psycopg.InterfaceError]
    return tuple(errors)


CONNECTION_ERRORS = _connection_errors()


def _reconnecting(what: str, write: Callable[[], Any]) -> Any:
    """Run `write`; on a lost database connection drop it, wait and run it again, a few
    times. Raises the last error when the database stays out of reach."""
    for wait in (*RECONNECT_WAITS, None):
        try:
            return write()
        except CONNECTION_ERRORS:
            if wait is None:
                raise
            log.warning("database connection lost; reconnecting", extra={"writing": what})
            with contextlib.suppress(Exception):
                connection.close()
            time.sleep(wait)
    raise AssertionError("unreachable")


def sender_settings() -> SenderSettings:
    return SenderSettings(
        concurrency=settings.DIX_WEBHOOK_CONCURRENCY,
        per_host=settings.DIX_WEBHOOK_PER_ENDPOINT,
        connect_timeout=settings.DIX_WEBHOOK_CONNECT_TIMEOUT,
        total_timeout=settings.DIX_WEBHOOK_TIMEOUT,
        allow_loopback=settings.DIX_WEBHOOK_ALLOW_LOOPBACK,
        slow_lane=settings.DIX_WEBHOOK_SLOW_LANE,
    )


def deliver_due(*, time_budget: float = 60.0) -> int:
    """Deliver due deliveries until none is due or outstanding, or the budget is spent
    (what is outstanding then is still finished and recorded); returns the attempts made."""
    return _Pipeline("scheduled").run(time_budget)


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
    notice_version: int | None
    notice_status: str
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
    "notice_version",
    "notice_status",
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
        {row[16] for row in rows}
    )
    endpoints: dict[int, Endpoint] = {}
    leased = []
    for (pk, sub_id, event, notice, version, announced, profile, request, report, webhook_id, attempts,
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
                notice_version=version,
                notice_status=announced,
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


class _Pipeline:
    """One `deliver_due` run. The sender (`_SenderLoop`, its own thread) takes items as they
    are prepared; this thread leases a new batch whenever the sender runs short of work —
    not when the slowest request of the last batch has ended —, records outcomes in bulk as
    they arrive, and renews the leases of what is still outstanding."""

    def __init__(self, trigger: str) -> None:
        self.outstanding: dict[int, Leased] = {}  # handed to the sender, not yet recorded
        self.recorder = _Recorder(self.outstanding, trigger)
        self.feed = Feed()
        self.future, self.results = _start_sender(self.feed)
        self.sent = 0

    def run(self, time_budget: float) -> int:
        batch = settings.DIX_WEBHOOK_BATCH_SIZE
        renew_every = settings.DIX_WEBHOOK_LEASE_SECONDS / 3
        started = last_flush = last_renewal = next_lease = time.monotonic()
        leasing, finished, wait = True, False, 0.0
        pending: list[Outcome] = []
        try:
            while not finished:
                finished = self.collect(pending, wait)
                now = time.monotonic()
                # Outcomes are recorded before more is leased; at once when nothing else is
                # outstanding (the sender is idle: nothing to wait for), and after a 410 (the
                # next batch must find that endpoint disabled).
                if pending and (
                    finished
                    or len(pending) >= FLUSH_EVERY
                    or len(pending) >= len(self.outstanding)
                    or now - last_flush >= FLUSH_SECONDS
                    or any(o.status_code == 410 for o in pending)
                ):
                    self.record(pending)
                    pending = []
                    last_flush = now
                if self.outstanding and now - last_renewal >= renew_every:
                    self.renew()
                    last_renewal = now
                if leasing and now - started >= time_budget:
                    leasing = False
                if leasing and now >= next_lease and self.wants_work(batch):
                    taken = self.lease(batch)
                    if taken == batch:
                        next_lease = now  # more may be due: look again once there is room
                    elif taken > 0 or (taken == 0 and self.outstanding):
                        next_lease = now + IDLE_LEASE_SECONDS
                    else:  # nothing due and nothing outstanding, or the database is gone
                        leasing = False
                if not leasing and not self.feed.closed:
                    self.feed.close()  # the sender returns once what it has is done
                wait = FLUSH_SECONDS
                if leasing and self.wants_work(batch):
                    wait = min(wait, max(0.0, next_lease - time.monotonic()))
        finally:
            self.feed.close()
        self.future.result()  # raises what the sender raised, if anything
        return self.sent

    def wants_work(self, batch: int) -> bool:
        """Room for another batch: the sender has less than half a batch waiting or running
        outside its slow lane, and the pipeline holds less than its bound."""
        feed = self.feed
        return (
            len(feed.pending) + feed.busy < max(1, batch // 2)
            and len(self.outstanding) < batch * OUTSTANDING_BATCHES
        )

    def collect(self, pending: list[Outcome], wait: float) -> bool:
        """Move the outcomes that arrived (waiting up to `wait` for the first) to `pending`;
        True once the sender has finished."""
        try:
            item = self.results.get(timeout=wait) if wait > 0 else self.results.get_nowait()
        except queue.Empty:
            return False
        while True:
            if item is None:
                return True
            pending.append(item)
            try:
                item = self.results.get_nowait()
            except queue.Empty:
                return False

    def lease(self, batch: int) -> int:
        """Lease a batch and hand it to the sender; the number leased, -1 when the database
        stayed out of reach."""
        try:
            ids = _reconnecting("lease", lambda: lease_due(batch))
        except CONNECTION_ERRORS:
            log.exception("due deliveries could not be leased: the database is out of reach")
            return -1
        if ids:
            self.hand_over(ids)
        return len(ids)

    def hand_over(self, ids: Sequence[int]) -> None:
        """Check, render, sign and hand each leased delivery to the sender; write what is set
        aside (cancelled, superseded, waiting for an earlier event, failed)."""
        aside = _Aside()
        try:
            deliveries = _reconnecting("load", lambda: load_leased(ids))
            superseded, waiting = _reconnecting("order", lambda: _notice_order(deliveries))
        except CONNECTION_ERRORS:
            log.exception("leased deliveries could not be loaded; their leases will run out")
            return
        ready = []
        for delivery in deliveries:
            if delivery.pk in superseded:
                aside.superseded.append(delivery)
            elif delivery.pk in waiting:
                aside.waiting.append(delivery)
            else:
                ready.append(delivery)
        # The notice is not joined here: the renderer loads it once per batch, not once per row.
        renderer = _Renderer()
        encoded: dict[int, str] = {}  # id(data) → its JSON: one payload serves many endpoints
        prepared = 0
        try:
            renderer.preload(ready)
            for delivery in ready:
                if _prepare(delivery, renderer, encoded, aside):
                    self.outstanding[delivery.pk] = delivery
                    self.feed.put(aside.outgoing.pop())
                    self.sent += 1
                prepared += 1
        except CONNECTION_ERRORS:
            # Not sent: back in the queue, and tried again once the database answers.
            log.warning("database connection lost while preparing deliveries; they wait")
            aside.waiting.extend(ready[prepared:])
        try:
            _reconnecting("set aside", aside.write)
        except CONNECTION_ERRORS:
            log.exception("deliveries set aside could not be written; their leases will run out")

    def record(self, outcomes: list[Outcome]) -> None:
        """Write outcomes of requests that were made, through lost connections: an outcome
        dropped here would be sent again when its lease runs out."""
        plan = self.recorder.plan(outcomes)
        try:
            _reconnecting("outcomes", lambda: self.recorder.write(plan))
        except CONNECTION_ERRORS:
            log.exception(
                "webhook outcomes could not be recorded: these deliveries are sent again when "
                "their lease runs out",
                extra={"deliveries": sorted(o.key for o in outcomes)},
            )
        for outcome in outcomes:
            self.outstanding.pop(outcome.key, None)

    def renew(self) -> None:
        """While this worker lives it renews the leases of what it still holds, so nobody
        else takes them; a killed worker stops renewing and its rows fall due again."""
        until = timezone.now() + timedelta(seconds=settings.DIX_WEBHOOK_LEASE_SECONDS)
        try:
            Delivery.objects.filter(
                id__in=list(self.outstanding), state=DeliveryState.SENDING
            ).update(leased_until=until)
        except CONNECTION_ERRORS:
            log.warning("leases could not be renewed; trying again")
            with contextlib.suppress(Exception):
                connection.close()


@dataclass
class _Aside:
    """A batch's deliveries that are not sent, by reason, and the one item `_prepare` made."""

    cancelled: list[Leased] = field(default_factory=list)
    superseded: list[Leased] = field(default_factory=list)
    waiting: list[Leased] = field(default_factory=list)
    unsignable: list[Leased] = field(default_factory=list)
    unrenderable: list[Leased] = field(default_factory=list)
    outgoing: list[Outgoing] = field(default_factory=list)

    def write(self) -> None:
        _finish(self.cancelled, DeliveryState.CANCELLED, CANCELLED_ERROR)
        _finish(self.superseded, DeliveryState.SUPERSEDED, SUPERSEDED_ERROR)
        _fail_unsignable(self.unsignable)
        _finish(
            self.unrenderable,
            DeliveryState.FAILED,
            "the payload could not be rendered (see the worker log)",
        )
        if self.waiting:
            Delivery.objects.filter(id__in=[d.pk for d in self.waiting]).update(
                state=DeliveryState.PENDING,
                leased_until=None,
                next_attempt_at=timezone.now() + timedelta(seconds=ORDER_WAIT_SECONDS),
            )


def _notice_order(deliveries: Sequence[Leased]) -> tuple[set[int], set[int]]:
    """Per endpoint and notice, events go out in the order they happened, and never an older
    one after a newer: of the leased notice deliveries, those superseded (the endpoint has
    a newer delivery of the notice, whatever became of it) and those that must wait (an
    earlier one of the notice to the endpoint is being sent). Events of a notice are
    written under its row lock, so their ids are in the order of the events."""
    candidates = [
        d for d in deliveries if d.notice_id is not None and d.event_type in NOTICE_EVENTS
    ]
    if not candidates:
        return set(), set()
    notice_ids = {d.notice_id for d in candidates}
    # A notice whose publication is all that has happened to it has no other event: most
    # fan-outs need no look at other deliveries.
    only_published = set(
        Notice.objects.filter(
            pk__in=notice_ids, version=1, status=NoticeStatus.PUBLISHED
        ).values_list("pk", flat=True)
    )
    candidates = [d for d in candidates if d.notice_id not in only_published]
    if not candidates:
        return set(), set()
    leased = {d.pk for d in deliveries}
    newest: dict[tuple[int, int], int] = {}
    in_flight: dict[tuple[int, int], int] = {}  # the earliest being sent elsewhere
    rows = Delivery.objects.filter(
        notice_id__in={d.notice_id for d in candidates},
        subscription_id__in={d.subscription_id for d in candidates},
        event_type__in=NOTICE_EVENTS,
    ).values_list("pk", "subscription_id", "notice_id", "state")
    for pk, sub_id, notice_id, state in rows:
        key = (sub_id, notice_id)
        newest[key] = max(pk, newest.get(key, 0))
        if state == DeliveryState.SENDING and pk not in leased:
            in_flight[key] = min(pk, in_flight.get(key, pk))
    superseded, waiting = set(), set()
    for d in candidates:
        key = (d.subscription_id, d.notice_id)  # type: ignore[assignment]
        if newest.get(key, d.pk) > d.pk:
            superseded.add(d.pk)
        elif in_flight.get(key, d.pk) < d.pk:
            waiting.add(d.pk)
    return superseded, waiting


def _prepare(
    delivery: Leased, renderer: "_Renderer", encoded: dict[int, str], aside: _Aside
) -> bool:
    """Render and sign one delivery into `aside.outgoing`, or set it aside with the reason.
    A lost database connection propagates: that is no fault of the payload."""
    try:
        data = renderer.data_for(delivery)
    except CONNECTION_ERRORS:
        raise
    except Exception:
        # One payload that cannot be built must not hold back the batch, nor be leased
        # again and again: it fails visibly, and can be resent once mended.
        log.exception("webhook payload could not be rendered", extra={"delivery": delivery.pk})
        aside.unrenderable.append(delivery)
        return False
    if data is None:
        aside.cancelled.append(delivery)
        return False
    try:
        secrets = renderer.secrets_for(delivery.subscription)
    except crypto.InvalidToken:
        # The key that encrypted the secret is gone (DIX_ENCRYPTION_KEY changed): fail
        # this endpoint's deliveries visibly instead of blocking the batch forever.
        aside.unsignable.append(delivery)
        return False
    if id(data) not in encoded:
        encoded[id(data)] = json.dumps(data, separators=(",", ":"), default=str)
    # Byte for byte what json.dumps({"type", "timestamp", "data"}) would write.
    body = (
        f'{{"type":{json.dumps(delivery.event_type)},'
        f'"timestamp":{json.dumps(timezone.now().isoformat())},'
        f'"data":{encoded[id(data)]}}}'
    )
    aside.outgoing.append(
        Outgoing(
            key=delivery.pk,
            endpoint=delivery.subscription_id,
            url=delivery.subscription.url,
            webhook_id=delivery.webhook_id,
            body=body,
            secrets=secrets,
        )
    )
    return True


def leased_test_delivery(subscription: Subscription) -> Delivery:
    """A `dix.test` delivery created already leased, so no worker takes it first. Nobody
    renews this lease: it outlasts the longest request."""
    seconds = settings.DIX_WEBHOOK_LEASE_SECONDS + settings.DIX_WEBHOOK_TIMEOUT
    return Delivery.objects.create(
        subscription=subscription,
        event_type=EventType.TEST,
        state=DeliveryState.SENDING,
        next_attempt_at=None,
        leased_until=timezone.now() + timedelta(seconds=seconds),
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


def payload_bodies(deliveries: Sequence[AnyDelivery]) -> list[str | None]:
    """The body each delivery would be sent with now, or None where its endpoint may no
    longer receive it. Each payload is rendered once per (event, object, organisation, cap),
    as for a leased batch; nothing is leased, sent or recorded (bench/fanout's anchor sends
    these bodies)."""
    renderer = _Renderer()
    bodies: list[str | None] = []
    for delivery in deliveries:
        data = renderer.data_for(delivery)
        bodies.append(
            None
            if data is None
            else json.dumps(
                {
                    "type": delivery.event_type,
                    "timestamp": timezone.now().isoformat(),
                    "data": data,
                },
                separators=(",", ":"),
                default=str,
            )
        )
    return bodies


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
            delivery.notice_version,
            delivery.notice_status,
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
        if notice_id not in self._parent_changes:
            self._parent_changes[notice_id] = parent_changes(p.pk for p in profiles)
        candidates = self._parent_changes[notice_id]
        if delivery.event_type not in NOTICE_EVENTS or delivery.notice_version is None:
            shown = [p for p in profiles if p.pk in visible]
            notice.visible_profiles = shown  # type: ignore[attr-defined]
            return render_notice(
                notice, versions=seen_versions(viewer, shown, candidates=candidates)
            )
        return _render_as_announced(
            delivery, notice, profiles, visible, sub.label_cap, viewer=viewer, candidates=candidates
        )

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


@dataclass(frozen=True)
class _Version:
    """A published version's content (`NoticeVersion`), which never changes."""

    number: int
    title: str
    summary: str
    body: str
    action_requested: str
    tlp: str
    published_at: datetime
    profile_ids: frozenset[int]


_versions: dict[tuple[int, int], _Version | None] = {}


def _notice_version(notice_id: int, number: int) -> _Version | None:
    key = (notice_id, number)
    if key not in _versions:
        row = NoticeVersion.objects.filter(notice_id=notice_id, number=number).first()
        if len(_versions) >= 4 * _CONTENTS_AT_MOST:
            _versions.clear()
        _versions[key] = (
            None
            if row is None
            else _Version(
                number=row.number,
                title=row.title,
                summary=row.summary,
                body=row.body,
                action_requested=row.action_requested,
                tlp=row.tlp,
                published_at=row.published_at,
                profile_ids=frozenset(row.profiles.values_list("pk", flat=True)),
            )
        )
    return _versions[key]


# The notice's status each event announces, for deliveries written before they kept it.
_ANNOUNCED = {
    EventType.NOTICE_PUBLISHED: NoticeStatus.PUBLISHED,
    EventType.NOTICE_WITHDRAWN: NoticeStatus.WITHDRAWN,
}


def _render_as_announced(
    delivery: AnyDelivery,
    notice: Notice,
    profiles: list[DeviceProfile],
    visible: set[int],
    cap: str,
    *,
    viewer: Viewer,
    candidates: Sequence[ParentChange],
) -> dict[str, Any] | None:
    """A notice event's `data`: the notice as of the version and status the event
    announces, not as it stands when the request is made (a late `notice.published` must
    not carry a withdrawal). Entitlement is today's: the notice must still be visible to
    the endpoint, the version's label within its cap, and only the profiles it may see now
    are shown."""
    version = _notice_version(notice.pk, delivery.notice_version or 0)
    if version is None:
        shown = [p for p in profiles if p.pk in visible]
        notice.visible_profiles = shown  # type: ignore[attr-defined]
        return render_notice(notice, versions=seen_versions(viewer, shown, candidates=candidates))
    if tlp_rank(version.tlp) > tlp_rank(cap):
        return None
    status = delivery.notice_status or _ANNOUNCED.get(
        delivery.event_type,  # type: ignore[call-overload]
        NoticeStatus.PUBLISHED if version.number < notice.version else notice.status,
    )
    shown = [p for p in profiles if p.pk in visible and p.pk in version.profile_ids]
    notice.visible_profiles = shown  # type: ignore[attr-defined]
    data = render_notice(notice, versions=seen_versions(viewer, shown, candidates=candidates))
    data.update(
        status=status,
        version=version.number,
        title=version.title,
        summary=version.summary,
        body=version.body,
        action_requested=version.action_requested,
        tlp=version.tlp,
        restricted_data_available=(
            notice.restricted_data_available and len(shown) < len(version.profile_ids)
        ),
        changed_at=(
            version.published_at if status == NoticeStatus.PUBLISHED else notice.changed_at
        ).isoformat(),
        superseded_by=data["superseded_by"] if status == NoticeStatus.SUPERSEDED else None,
        withdrawal_reason=notice.withdrawal_reason if status == NoticeStatus.WITHDRAWN else "",
    )
    return data


def _notice_entitlements(notice_id: int, viewers: list[Viewer]) -> list[set[int] | None]:
    """Per viewer: None when it may not see the notice, else the ids of the notice's profiles
    it may see."""
    sees = notice_seen_by(notice_id, viewers)
    entitled = [v for v, seen in zip(viewers, sees, strict=True) if seen]
    profiles = iter(notice_profiles_seen_by(notice_id, entitled))
    return [next(profiles) if seen else None for seen in sees]


def _render_access_request(request_id: int, viewer: Viewer) -> dict[str, Any] | None:
    """A request as its parties read it through the API, while the endpoint's organisation
    is still one of them (requester, on-behalf, owner)."""
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


def _render_seizure_report(report_id: int, viewer: Viewer) -> dict[str, Any] | None:
    """The report as the endpoint's organisation may read it (lines of profiles it may not
    see left out), or None when its label no longer lets it."""
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


CANCELLED_ERROR = "cancelled: no longer entitled or endpoint disabled"
SUPERSEDED_ERROR = "superseded: a newer event of this notice goes to this endpoint instead"


def _fail_unsignable(deliveries: list[Leased]) -> None:
    if deliveries:
        log.error(
            "webhook secrets unreadable: rotate the secrets of these subscriptions",
            extra={"subscriptions": sorted({d.subscription_id for d in deliveries})},
        )
    _finish(
        deliveries,
        DeliveryState.FAILED,
        "signing secret unreadable (DIX_ENCRYPTION_KEY changed?): rotate the secret",
    )


def _finish(deliveries: list[Leased], state: str, error: str) -> None:
    """Close deliveries that are not sent (no attempt): failed, cancelled or superseded."""
    if not deliveries:
        return
    Delivery.objects.filter(id__in=[d.pk for d in deliveries]).update(
        state=state,
        last_error=error,
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


@dataclass
class _Plan:
    """What one flush writes, worked out once so that writing it may be tried again."""

    now: datetime
    attempts: list[tuple[Any, ...]]
    changed: list[Leased]
    healthy: set[int]
    failing: set[int]
    gone: set[int]
    exhausted: set[int]
    tried: bool = False


class _Recorder:
    """Writes outcomes: attempts inserted, deliveries updated, in a few statements per flush."""

    def __init__(self, deliveries: dict[int, Leased], trigger: str) -> None:
        self.deliveries = deliveries
        self.trigger = trigger

    def record(self, outcomes: list[Outcome]) -> None:
        self.write(self.plan(outcomes))

    def plan(self, outcomes: list[Outcome]) -> _Plan:
        """Apply the outcomes to the leased deliveries (their next state) and list the rows
        to write."""
        now = timezone.now()
        plan = _Plan(now, [], [], set(), set(), set(), set())
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
                plan.healthy.add(delivery.subscription_id)
            elif outcome.status_code == 410:
                delivery.state = DeliveryState.CANCELLED
                delivery.completed_at = now
                delivery.next_attempt_at = None
                plan.gone.add(delivery.subscription_id)
            else:
                if delivery.event_type != EventType.TEST:  # a failed test is not an outage
                    plan.failing.add(delivery.subscription_id)
                retryable = outcome.status_code in (429, 503)
                wait = next_delay(delivery.attempts, outcome.retry_after if retryable else None)
                if wait is None or delivery.event_type == EventType.TEST:
                    delivery.state = DeliveryState.FAILED
                    delivery.completed_at = now
                    delivery.next_attempt_at = None
                    if delivery.event_type != EventType.TEST:
                        plan.exhausted.add(delivery.subscription_id)
                else:
                    delivery.state = DeliveryState.PENDING
                    delivery.next_attempt_at = now + wait
            plan.attempts.append(
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
            plan.changed.append(delivery)
        return plan

    def write(self, plan: _Plan) -> None:
        """Write a plan; idempotent, so a write cut off by a lost connection (even during
        its commit) may be run again: attempts already in the log are not inserted twice."""
        now, changed, attempts = plan.now, plan.changed, plan.attempts
        with transaction.atomic():
            if plan.tried:
                written = set(
                    DeliveryAttempt.objects.filter(
                        delivery_id__in=[row[0] for row in attempts]
                    ).values_list("delivery_id", "number")
                )
                attempts = [row for row in attempts if (row[0], row[1]) not in written]
            plan.tried = True
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
        stop = {pk for pk in plan.healthy if endpoints[pk].failing_since is not None}
        start = {pk for pk in plan.failing - plan.healthy if endpoints[pk].failing_since is None}
        self._endpoint_health(stop, start, plan.gone, plan.exhausted - plan.healthy, now)
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
        run for DIX_WEBHOOK_DISABLE_AFTER_HOURS: failing for days, not one bad hour.

        An endpoint that answers 2xx again gets its waiting retries at once: a short outage
        costs seconds, not the schedule's next wait (five minutes by the third attempt).
        They are due together and go out in the order they were written, within the
        endpoint's concurrency limit."""
        if healthy:
            Subscription.objects.filter(pk__in=healthy, failing_since__isnull=False).update(
                failing_since=None
            )
            waiting = Delivery.objects.filter(
                subscription_id__in=healthy, state=DeliveryState.PENDING, next_attempt_at__gt=now
            ).update(next_attempt_at=now)
            if waiting:
                queue_delivery_work(waiting)
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


# --- The sweep ------------------------------------------------------------------------------

SWEEP_LOCK = 0x444958_5357  # "DIXSW": the advisory lock key of the delivery sweep
_SWEPT_KEY = "dix:delivery-sweep"


@contextlib.contextmanager
def _sweep_lock() -> Iterator[bool]:
    """Whether this process holds the sweep's lock (held for the block): a PostgreSQL
    advisory lock for the transaction; on SQLite, which serves one machine, a file lock."""
    if connection.vendor == "postgresql":
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [SWEEP_LOCK])
            yield bool(cursor.fetchone()[0])
        return
    with open(Path(settings.DATA_DIR) / "delivery-sweep.lock", "a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def sweep() -> bool:
    """If anything is due — a retry whose time has come, a delivery whose message or worker
    was lost — ask a worker to deliver it. Beat and every worker's own timer call this;
    one sweeps at a time, and a sweep within the last half period is enough for all."""
    with _sweep_lock() as held:
        if not held:
            return False
        now = time.time()
        try:
            last = float(cache.get(_SWEPT_KEY) or 0)
            cache.set(_SWEPT_KEY, now, timeout=None)
        except Exception:  # the cache out of reach: sweep anyway
            last = 0.0
        if now - last < settings.DIX_WEBHOOK_SWEEP_SECONDS / 2:
            return False
        if Delivery.objects.due().exists():
            queue_delivery_work(1)
            return True
    return False
