"""Recording outcomes: each delivery's next state, its attempt in the log, the receipts of
what arrived and the health of each endpoint (its failure clock, disabling)."""

import logging
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from core.events import EventType
from webhooks.engine import bulk
from webhooks.engine.load import Leased
from webhooks.models import Delivery, DeliveryAttempt, DeliveryState, Subscription
from webhooks.outbox import queue_delivery_work
from webhooks.sender import Outcome
from webhooks.services import subscription_disable

log = logging.getLogger("dix.delivery")


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


@dataclass
class Plan:
    """What one flush writes, worked out once so that writing it may be tried again."""

    now: datetime
    attempts: list[tuple[Any, ...]]
    changed: list[Leased]
    healthy: set[int]
    failing: set[int]
    gone: set[int]
    exhausted: set[int]
    tried: bool = False


class Recorder:
    """Writes outcomes: attempts inserted, deliveries updated, in a few statements per flush."""

    def __init__(self, deliveries: dict[int, Leased], trigger: str) -> None:
        self.deliveries = deliveries
        self.trigger = trigger

    def record(self, outcomes: list[Outcome]) -> None:
        self.write(self.plan(outcomes))

    def plan(self, outcomes: list[Outcome]) -> Plan:
        """Apply the outcomes to the leased deliveries (their next state) and list the rows
        to write."""
        now = timezone.now()
        plan = Plan(now, [], [], set(), set(), set(), set())
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

    def write(self, plan: Plan) -> None:
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
            bulk.insert_attempts(attempts)
            bulk.update_outcomes(changed)
            # An endpoint disabled while these attempts were in flight: what was just
            # rescheduled stays cancelled, as disabling promised.
            rescheduled = [d.pk for d in changed if d.state == DeliveryState.PENDING]
            if rescheduled:
                Delivery.objects.filter(id__in=rescheduled, subscription__enabled=False).update(
                    state=DeliveryState.CANCELLED, next_attempt_at=None, completed_at=now
                )
            bulk.insert_receipts(
                {
                    (d.notice_id, d.subscription.organisation_id)
                    for d in changed
                    if d.state == DeliveryState.SUCCEEDED and d.notice_id
                },
                now,
            )
        # Only the clocks that change: most endpoints are healthy and stay so.
        endpoints = {d.subscription_id: d.subscription for d in changed}
        stop = {pk for pk in plan.healthy if endpoints[pk].failing_since is not None}
        start = {pk for pk in plan.failing - plan.healthy if endpoints[pk].failing_since is None}
        self._endpoint_health(stop, start, plan.gone, plan.exhausted - plan.healthy, now)
        for pk in stop:
            endpoints[pk].failing_since = None
        for pk in start:
            endpoints[pk].failing_since = now

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
