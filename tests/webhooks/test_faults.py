"""Faults during delivery, with real parts: Celery worker processes (with beat running the
outbox sweep every second), the configured broker, a verifying receiver on 127.0.0.1.

Each test ends with every delivery completed (succeeded, or cancelled where entitlement was
revoked) and none lost. A duplicate — the same `webhook-id` received again after the
receiver had accepted it — is allowed by Standard Webhooks and counted, not failed.

Workers run with retries after 1 s, 1 s, 2 s (±20 %), a 3 s request timeout and 5 s leases
(see `WORKER_ENV` in conftest.py).
"""

import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from rest_framework.test import APIClient

from intel.models import TLP, Member
from notices.models import Notice
from tests.conftest import Network
from tests.helpers.receiver import Receiver, assert_all_arrived
from tests.webhooks.conftest import OPEN_STATES, WORKER_ENV, Subscribe, Workers, states
from webhooks.models import Delivery, DeliveryState, Subscription

# Real Celery worker processes, waited for (seconds each).
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

Api = Callable[[Member | None], APIClient]
Publish = Callable[..., Notice]

# A fan-out slow enough to be caught in the middle: 5 requests at a time per worker process,
# leased 50 at a time, against a receiver taking 50 ms per answer.
SLOW_FAN_OUT = {"DIX_WEBHOOK_CONCURRENCY": "5", "DIX_WEBHOOK_BATCH_SIZE": "50"}
TIMEOUT = float(WORKER_ENV["DIX_WEBHOOK_TIMEOUT"])
AUDIENCE = {
    "tlp": TLP.AMBER,
    "audience": {"scope": "organisations", "organisations": ["fr-desk", "be-desk", "be-customs"]},
}


def fan_out_subscriptions(
    network: Network, subscribe: Subscribe, prefix: str, count: int
) -> list[Subscription]:
    members = (network.bob, network.dave, network.erin)
    return [subscribe(members[i % 3], f"{prefix}-{i}") for i in range(count)]


def test_worker_killed_mid_fan_out(
    network: Network,
    workers: Workers,
    hook_receiver: Receiver,
    subscribe_endpoint: Subscribe,
    publish_notice: Publish,
) -> None:
    """SIGKILL the worker — its pool processes and beat with it — after about 50 of 300
    deliveries arrived; a new worker finishes the rest: what was leased comes back when the
    lease runs out, what was never taken is swept up at once."""
    hook_receiver.delay = 0.05
    fan_out_subscriptions(network, subscribe_endpoint, "kill", 300)
    first = workers.start(env=SLOW_FAN_OUT)
    notice = publish_notice(network.cora, **AUDIENCE)
    deliveries = Delivery.objects.filter(notice=notice).select_related("subscription")
    assert deliveries.count() == 300

    workers.wait_until(lambda: hook_receiver.count() >= 50, what="50 received", timeout=30)
    workers.kill(first)
    time.sleep(0.5)  # requests already on the wire are still read and recorded
    at_kill = hook_receiver.count()
    open_at_kill = deliveries.filter(state__in=OPEN_STATES).count()
    assert at_kill < 300, "the kill came after the fan-out"
    assert open_at_kill > 0, "the kill came after the fan-out"
    time.sleep(1)
    assert hook_receiver.count() == at_kill, "something of the killed worker still sends"

    started = time.monotonic()
    workers.start(env=SLOW_FAN_OUT)
    assert workers.wait_settled(deliveries) == {DeliveryState.SUCCEEDED: 300}
    duplicates = assert_all_arrived(hook_receiver, deliveries)
    print(
        f"\n[faults] killed after {at_kill} received ({open_at_kill} open); the new worker "
        f"finished in {time.monotonic() - started:.1f} s; {duplicates} duplicates"
    )


def test_broker_emptied_mid_fan_out(
    network: Network,
    workers: Workers,
    hook_receiver: Receiver,
    subscribe_endpoint: Subscribe,
    publish_notice: Publish,
) -> None:
    """The broker loses its messages twice: first the one queued on commit, before any worker
    took it; then, mid fan-out, whatever is queued or unacknowledged. The outbox sweep
    (beat, every second) finds the due deliveries in the database: all are delivered.

    On Redis the loss is a FLUSHDB of the broker's database — what a restart without
    persistence leaves — rather than a restart of a server other processes may share. On the
    filesystem broker the queue's message files are deleted."""
    hook_receiver.delay = 0.05
    fan_out_subscriptions(network, subscribe_endpoint, "flush", 300)
    notice = publish_notice(network.cora, **AUDIENCE)
    deliveries = Delivery.objects.filter(notice=notice).select_related("subscription")
    assert deliveries.count() == 300
    assert workers.queued_messages() >= 1, "the on-commit message was not queued"
    workers.empty_broker()
    assert workers.queued_messages() == 0

    started = time.monotonic()
    workers.start(env=SLOW_FAN_OUT)
    workers.wait_until(lambda: hook_receiver.count() >= 50, what="50 received", timeout=30)
    workers.empty_broker()
    at_loss = hook_receiver.count()
    assert deliveries.filter(state__in=OPEN_STATES).exists(), "the loss came after the fan-out"

    assert workers.wait_settled(deliveries) == {DeliveryState.SUCCEEDED: 300}
    duplicates = assert_all_arrived(hook_receiver, deliveries)
    assert "notices.tasks.sweep_deliveries" in workers.logs(tail=10**7)
    print(
        f"\n[faults] broker emptied before the first worker and again after {at_loss} "
        f"received; all delivered {time.monotonic() - started:.1f} s after the worker "
        f"started; {duplicates} duplicates"
    )


def test_a_receiver_answering_500_then_200(
    network: Network,
    workers: Workers,
    hook_receiver: Receiver,
    subscribe_endpoint: Subscribe,
    publish_notice: Publish,
) -> None:
    """The retry comes from the database schedule (about 1 s later), with the same
    `webhook-id`; both attempts are in the delivery log."""
    flaky = subscribe_endpoint(network.bob, "flaky", behaviour={"fail_first": 1})
    fan_out_subscriptions(network, subscribe_endpoint, "steady", 5)
    workers.start()
    notice = publish_notice(network.cora, **AUDIENCE)
    deliveries = Delivery.objects.filter(notice=notice).select_related("subscription")

    assert workers.wait_settled(deliveries) == {DeliveryState.SUCCEEDED: 6}
    assert assert_all_arrived(hook_receiver, deliveries) == 0
    delivery = deliveries.get(subscription=flaky)
    assert delivery.attempts == 2
    log = list(delivery.attempt_log.order_by("number").values("number", "status_code"))
    assert log == [{"number": 1, "status_code": 500}, {"number": 2, "status_code": 200}]
    first, second = hook_receiver.hits_for("flaky")
    assert first.webhook_id == second.webhook_id == delivery.webhook_id
    assert (first.answered, second.answered) == (500, 200)
    assert second.at - first.at >= 0.75  # the first retry waits 1 s ± 20 %
    assert all(d.attempts == 1 for d in deliveries.exclude(pk=delivery.pk))


def test_a_hanging_receiver_holds_back_nobody(
    network: Network,
    workers: Workers,
    hook_receiver: Receiver,
    subscribe_endpoint: Subscribe,
    publish_notice: Publish,
) -> None:
    """One endpoint hangs past the request timeout twice, then answers; the 50 others in the
    same batch are delivered and recorded before its first attempt even times out."""
    hanging = subscribe_endpoint(
        network.bob, "hanging", behaviour={"hang_first": 2, "hang_seconds": TIMEOUT + 2}
    )
    fan_out_subscriptions(network, subscribe_endpoint, "fast", 50)
    workers.start()
    started = time.monotonic()
    notice = publish_notice(network.cora, **AUDIENCE)
    deliveries = Delivery.objects.filter(notice=notice).select_related("subscription")
    slow = deliveries.filter(subscription=hanging)

    assert workers.wait_settled(deliveries.exclude(subscription=hanging), timeout=TIMEOUT * 3) == {
        DeliveryState.SUCCEEDED: 50
    }
    fast_done = time.monotonic() - started
    (pending,) = slow.values("state", "attempts")
    assert pending == {"state": DeliveryState.SENDING, "attempts": 0}, (pending, fast_done)
    assert fast_done < TIMEOUT

    assert workers.wait_settled(slow) == {DeliveryState.SUCCEEDED: 1}
    delivery = slow.get()
    log = list(delivery.attempt_log.order_by("number").values_list("status_code", "error"))
    assert log == [(None, "timeout"), (None, "timeout"), (200, "")]
    hits = hook_receiver.hits_for("hanging")
    assert [hit.webhook_id for hit in hits] == [delivery.webhook_id] * 3
    assert assert_all_arrived(hook_receiver, deliveries) == 0
    print(
        f"\n[faults] 50 fast endpoints settled {fast_done:.2f} s after publish; the hanging "
        f"one succeeded at attempt 3 after {time.monotonic() - started:.1f} s"
    )


def test_entitlement_revoked_between_two_attempts(
    network: Network,
    api: Api,
    workers: Workers,
    hook_receiver: Receiver,
    subscribe_endpoint: Subscribe,
    publish_notice: Publish,
) -> None:
    """Three endpoints answer their first attempt with 500; while that attempt is in flight
    each loses its entitlement a different way — the organisation is taken out of the
    notice's audience, the endpoint's label cap is lowered below the notice's TLP, the
    endpoint is disabled — and no second attempt is made: the deliveries are cancelled. A
    fourth endpoint failing the same way but keeping its entitlement is retried and succeeds."""
    gates: dict[str, tuple[threading.Event, threading.Event]] = {}

    def gated(member: Member, name: str) -> Subscription:
        gates[name] = (threading.Event(), threading.Event())
        reached, release = gates[name]
        behaviour: dict[str, Any] = {"fail_first": 1, "reached": reached, "release": release}
        return subscribe_endpoint(member, name, behaviour=behaviour)

    revoked = {
        "bob-audience": gated(network.bob, "bob-audience"),
        "dave-cap": gated(network.dave, "dave-cap"),
        "erin-disabled": gated(network.erin, "erin-disabled"),
    }
    control = subscribe_endpoint(network.alice, "alice-control", behaviour={"fail_first": 1})
    as_dave, as_erin = api(network.dave), api(network.erin)
    workers.start()
    notice = publish_notice(network.cora, **AUDIENCE)
    deliveries = Delivery.objects.filter(notice=notice).select_related("subscription")
    assert deliveries.count() == 4

    def patch(client: APIClient, sub: Subscription, body: dict[str, Any]) -> None:
        response = client.patch(f"/api/v1/subscriptions/{sub.pk}/", body, format="json")
        assert response.status_code == 200, response.content

    revocations: dict[str, Callable[[], None]] = {
        # No API changes a published notice's audience: this is the data-level revocation.
        "bob-audience": lambda: notice.audience_organisations.remove(network.be_desk),
        "dave-cap": lambda: patch(as_dave, revoked["dave-cap"], {"max_tlp": TLP.GREEN}),
        "erin-disabled": lambda: patch(as_erin, revoked["erin-disabled"], {"enabled": False}),
    }
    try:
        for name, revoke in revocations.items():
            reached, release = gates[name]
            assert reached.wait(30), f"{name}: first attempt never came\n{workers.logs()}"
            revoke()
            release.set()
    finally:
        for _, release in gates.values():
            release.set()

    mine = deliveries.filter(subscription__in=revoked.values())
    workers.wait_until(
        lambda: (
            mine.filter(state=DeliveryState.CANCELLED, attempts=1).count() == 3
            and deliveries.filter(subscription=control, state=DeliveryState.SUCCEEDED).exists()
        ),
        what=lambda: f"revoked cancelled, the control delivered (now {states(deliveries)})",
    )
    # Longer than the retry (1 s ± 20 %) plus a sweep: had a retry been due, it would be made.
    time.sleep(3)
    for name, sub in revoked.items():
        delivery = deliveries.get(subscription=sub)
        assert delivery.state == DeliveryState.CANCELLED, name
        assert delivery.attempts == 1, name
        assert list(delivery.attempt_log.values_list("status_code", flat=True)) == [500], name
        assert len(hook_receiver.hits_for(name)) == 1, name
    delivered = deliveries.get(subscription=control)
    assert delivered.state == DeliveryState.SUCCEEDED
    assert delivered.attempts == 2
    assert assert_all_arrived(hook_receiver, deliveries) == 0
