"""The delivery pipeline, top-down: lease a batch, load it, put it in order, check
entitlement, render and sign, hand it to the sender, record what comes back.

A worker process runs `deliver_due`: one pipeline that leases a batch whenever its sender
runs short of work, while earlier requests are still outstanding, so a slow endpoint delays
its own deliveries only. Any number of workers may run it at once: a batch is leased with
`SELECT … FOR UPDATE SKIP LOCKED` (PostgreSQL), a live worker renews the leases of what it
still holds, and a lease that runs out (a killed worker) makes the rows due again. Outcomes
already sent are written through lost database connections (`reconnect.reconnecting`).
"""

import logging
import queue
import time
from collections.abc import Sequence

from django.conf import settings

from webhooks.engine.aside import Aside
from webhooks.engine.lease import lease_due, renew_leases
from webhooks.engine.load import Leased, load_leased
from webhooks.engine.order import notice_order
from webhooks.engine.payloads import Renderer, body, prepare
from webhooks.engine.reconnect import CONNECTION_ERRORS, reconnecting
from webhooks.engine.record import Recorder
from webhooks.engine.send import sender_settings, start_sender
from webhooks.models import Delivery
from webhooks.sender import Feed, Outcome, Outgoing, send_all

log = logging.getLogger("dix.delivery")

FLUSH_EVERY = 200
FLUSH_SECONDS = 0.25
# While requests are outstanding and nothing was due, look for new due work this often.
IDLE_LEASE_SECONDS = 0.5
# Outstanding deliveries one pipeline holds at most (leased, not yet recorded), in batches:
# a bound on memory when many endpoints hang.
OUTSTANDING_BATCHES = 8


def deliver_due(*, time_budget: float = 60.0) -> int:
    """Deliver due deliveries until none is due or outstanding, or the budget is spent
    (what is outstanding then is still finished and recorded); returns the attempts made."""
    return _Pipeline("scheduled").run(time_budget)


def send_now(delivery: Delivery) -> Outcome | None:
    """Send one leased delivery synchronously (the subscription test) and record it."""
    outcomes: list[Outcome] = []
    (leased,) = load_leased([delivery.pk])
    renderer = Renderer()
    data = renderer.data_for(leased)
    item = Outgoing(
        key=leased.pk,
        endpoint=leased.subscription_id,
        url=leased.subscription.url,
        webhook_id=leased.webhook_id,
        body=body(leased.event_type, data),
        secrets=renderer.secrets_for(leased.subscription),
    )
    send_all([item], sender_settings(), outcomes.append)
    Recorder({leased.pk: leased}, "manual").record(outcomes)
    return outcomes[0]


class _Pipeline:
    """One `deliver_due` run. The sender (`send.SenderLoop`, its own thread) takes items as they
    are prepared; this thread leases a new batch whenever the sender runs short of work —
    not when the slowest request of the last batch has ended —, records outcomes in bulk as
    they arrive, and renews the leases of what is still outstanding."""

    def __init__(self, trigger: str) -> None:
        self.outstanding: dict[int, Leased] = {}  # handed to the sender, not yet recorded
        self.recorder = Recorder(self.outstanding, trigger)
        self.feed = Feed()
        self.future, self.results = start_sender(self.feed)
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
            ids = reconnecting("lease", lambda: lease_due(batch))
        except CONNECTION_ERRORS:
            log.exception("due deliveries could not be leased: the database is out of reach")
            return -1
        if ids:
            self.hand_over(ids)
        return len(ids)

    def hand_over(self, ids: Sequence[int]) -> None:
        """One leased batch: load it, put it in order, check entitlement, render and sign
        each delivery and hand it to the sender; write what is set aside (cancelled,
        superseded, waiting for an earlier event, failed)."""
        aside = Aside()
        try:
            deliveries = reconnecting("load", lambda: load_leased(ids))
            superseded, waiting = reconnecting("order", lambda: notice_order(deliveries))
        except CONNECTION_ERRORS:
            log.exception("leased deliveries could not be loaded; their leases will run out")
            return
        ready: list[Leased] = []
        for delivery in deliveries:
            if delivery.pk in superseded:
                aside.superseded.append(delivery)
            elif delivery.pk in waiting:
                aside.waiting.append(delivery)
            else:
                ready.append(delivery)
        # The notice is not joined here: the renderer loads it once per batch, not once per row.
        renderer = Renderer()
        encoded: dict[int, str] = {}  # id(data) → its JSON: one payload serves many endpoints
        prepared = 0
        try:
            renderer.entitlement.preload(ready)
            for delivery in ready:
                item = prepare(delivery, renderer, encoded, aside)
                if item is not None:
                    self.outstanding[delivery.pk] = delivery
                    self.feed.put(item)
                    self.sent += 1
                prepared += 1
        except CONNECTION_ERRORS:
            # Not sent: back in the queue, and tried again once the database answers.
            log.warning("database connection lost while preparing deliveries; they wait")
            aside.waiting.extend(ready[prepared:])
        try:
            reconnecting("set aside", aside.write)
        except CONNECTION_ERRORS:
            log.exception("deliveries set aside could not be written; their leases will run out")

    def record(self, outcomes: list[Outcome]) -> None:
        """Write outcomes of requests that were made, through lost connections: an outcome
        dropped here would be sent again when its lease runs out."""
        plan = self.recorder.plan(outcomes)
        try:
            reconnecting("outcomes", lambda: self.recorder.write(plan))
        except CONNECTION_ERRORS:
            log.exception(
                "webhook outcomes could not be recorded: these deliveries are sent again when "
                "their lease runs out",
                extra={"deliveries": sorted(o.key for o in outcomes)},
            )
        for outcome in outcomes:
            self.outstanding.pop(outcome.key, None)

    def renew(self) -> None:
        """Renew the leases of what this pipeline still holds."""
        renew_leases(self.outstanding)
