"""The delivery engine's promises under faults, with real parts (conftest.py): Celery worker
processes on the test database and the configured broker, a verifying receiver on 127.0.0.1.

- a hanging endpoint holds back nobody else: no batch barrier, a slow lane in the sender;
- outcomes already sent survive lost database connections: no re-send, every attempt logged;
- a crashed worker's deliveries go out again without beat;
- per endpoint and notice, events go in order, each carrying the notice as of its version;
- an endpoint that answers 2xx again gets its waiting retries at once.

Workers run with `WORKER_ENV` (conftest.py) unless a test says otherwise.
"""

import threading
from collections.abc import Callable

import pytest
from django.db import connection
from rest_framework.test import APIClient

from config.celery import WORKER_APPLICATION_NAME
from intel.models import TLP, Member
from notices.models import Notice
from tests.conftest import Network
from tests.helpers.receiver import Receiver, assert_all_arrived
from tests.webhooks.conftest import OPEN_STATES, Subscribe, Workers, filesystem_broker, states
from webhooks.models import Delivery, DeliveryState, Subscription

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

Api = Callable[[Member | None], APIClient]
Publish = Callable[..., Notice]

AUDIENCE = {
    "tlp": TLP.AMBER,
    "audience": {"scope": "organisations", "organisations": ["fr-desk", "be-desk", "be-customs"]},
}


def members(network: Network) -> tuple[Member, ...]:
    return (network.bob, network.dave, network.erin)


def test_hanging_endpoints_hold_back_nobody_across_batches(
    network: Network,
    workers: Workers,
    hook_receiver: Receiver,
    subscribe_endpoint: Subscribe,
    publish_notice: Publish,
) -> None:
    """One worker process, 5 requests at a time, batches of 5; 10 of 40 endpoints, spread
    over the batches, hang past the request timeout. Every other endpoint is delivered
    while the hanging ones' first attempts are still outstanding: the worker leases the
    next batch without waiting for the slowest request of the last, and requests running
    for more than a second stop taking the turns of the others."""
    hanging: list[Subscription] = []
    for i in range(40):
        behaviour = {"hang_first": 1, "hang_seconds": 14.0} if i % 4 == 0 else {}
        sub = subscribe_endpoint(members(network)[i % 3], f"ep-{i}", behaviour=behaviour)
        if behaviour:
            hanging.append(sub)
    workers.start(
        concurrency=1,
        env={
            "DIX_WEBHOOK_CONCURRENCY": "5",
            "DIX_WEBHOOK_BATCH_SIZE": "5",
            "DIX_WEBHOOK_TIMEOUT": "12",
        },
    )
    notice = publish_notice(network.cora, **AUDIENCE)
    deliveries = Delivery.objects.filter(notice=notice)
    healthy = deliveries.exclude(subscription__in=hanging)
    assert healthy.count() == 30

    workers.wait_settled(healthy, timeout=30)
    assert states(healthy) == {DeliveryState.SUCCEEDED: 30}
    slow = deliveries.filter(subscription__in=hanging)
    assert states(slow) == {DeliveryState.SENDING: 10}, "a hanging endpoint held the others"
    assert not slow.filter(attempts__gt=0).exists()


@pytest.mark.postgres  # terminates the worker's connections (pg_terminate_backend)
def test_outcomes_survive_lost_database_connections(
    network: Network,
    workers: Workers,
    hook_receiver: Receiver,
    subscribe_endpoint: Subscribe,
    publish_notice: Publish,
) -> None:
    """20 endpoints hold their answers; meanwhile every database connection of the worker
    is terminated (`pg_terminate_backend`, found by the worker's `application_name`); then
    they answer. The worker reconnects and records every outcome: each webhook arrived
    once, and each delivery has its one attempt in the log."""
    release = threading.Event()
    reached: list[threading.Event] = []
    for i in range(20):
        reached.append(threading.Event())
        behaviour = {"reached": reached[-1], "release": release}
        subscribe_endpoint(members(network)[i % 3], f"held-{i}", behaviour=behaviour)
    workers.start()
    notice = publish_notice(network.cora, **AUDIENCE)
    deliveries = Delivery.objects.filter(notice=notice).select_related("subscription")
    try:
        for event in reached:
            assert event.wait(30), f"a request never came\n{workers.logs()}"
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND application_name = %s",
                [WORKER_APPLICATION_NAME],
            )
            terminated = cursor.rowcount
        assert terminated > 0, "no worker connection found"
    finally:
        release.set()

    assert workers.wait_settled(deliveries) == {DeliveryState.SUCCEEDED: 20}
    assert assert_all_arrived(hook_receiver, deliveries) == 0
    assert hook_receiver.count() == 20, "a webhook was sent again"
    for delivery in deliveries:
        assert delivery.attempts == 1
        assert list(delivery.attempt_log.values_list("number", "status_code")) == [(1, 200)]
    assert "database connection lost; reconnecting" in workers.logs(tail=10**7)


def test_a_killed_worker_is_recovered_without_beat(
    network: Network,
    api: Api,
    workers: Workers,
    hook_receiver: Receiver,
    subscribe_endpoint: Subscribe,
    publish_notice: Publish,
) -> None:
    """The only worker is SIGKILLed mid fan-out (its beat with it), and the worker started
    after it runs without beat: its own timer sweeps, finds what the dead worker had leased
    once the lease has run out and what it never took, and delivers all of it."""
    hook_receiver.delay = 0.05
    for i in range(120):
        subscribe_endpoint(members(network)[i % 3], f"kill-{i}")
    slow = {"DIX_WEBHOOK_CONCURRENCY": "5", "DIX_WEBHOOK_BATCH_SIZE": "20"}
    first = workers.start(env=slow)
    notice = publish_notice(network.cora, **AUDIENCE)
    deliveries = Delivery.objects.filter(notice=notice).select_related("subscription")
    workers.wait_until(lambda: hook_receiver.count() >= 20, what="20 received", timeout=30)
    workers.kill(first)
    at_kill = hook_receiver.count()
    assert deliveries.filter(state__in=OPEN_STATES).exists(), "the kill came after the fan-out"
    # Accepted by the receiver but not recorded when the worker died: these may go twice.
    accepted = {hit.webhook_id for hit in hook_receiver.snapshot() if hit.answered == 200}
    recorded = set(
        deliveries.filter(state=DeliveryState.SUCCEEDED).values_list("webhook_id", flat=True)
    )

    workers.start(beat=False, env=slow)
    assert workers.wait_settled(deliveries) == {DeliveryState.SUCCEEDED: 120}
    duplicates = assert_all_arrived(hook_receiver, deliveries)
    assert duplicates <= len(accepted - recorded), "more than what was in flight went twice"
    if not filesystem_broker():  # the cache is shared with the workers only on Redis
        deep = APIClient().get("/healthz?deep")
        assert deep.json()["checks"]["workers"] == "ok", deep.json()
    print(f"\n[engine] killed after {at_kill} received; {duplicates} duplicates")


def test_events_of_a_notice_go_in_order_as_of_their_version(
    network: Network,
    api: Api,
    workers: Workers,
    hook_receiver: Receiver,
    subscribe_endpoint: Subscribe,
    publish_notice: Publish,
) -> None:
    """A notice is published (v1) and updated (v2) before any worker runs. The endpoint
    subscribed to publications only gets `notice.published` as version 1 was, not as the
    notice stands; the one subscribed to updates too gets only `notice.updated` (v2): its
    older `notice.published` is superseded, not sent after or beside it. The withdrawal
    then reaches both, last, as a withdrawal."""
    only_published = subscribe_endpoint(
        network.bob, "published-only", event_types=["notice.published"]
    )
    both = subscribe_endpoint(network.dave, "both")
    notice = publish_notice(network.cora, title="First title", **AUDIENCE)
    coordinator = api(network.cora)
    updated = coordinator.post(
        f"/api/v1/notices/{notice.pk}/update/",
        {"change_note": "Second version.", "title": "Second title"},
        format="json",
    )
    assert updated.status_code == 200, updated.content
    deliveries = Delivery.objects.filter(notice=notice)

    workers.start()
    workers.wait_settled(deliveries)
    received = {
        name: [(h.payload["type"], h.payload["data"]) for h in hook_receiver.hits_for(name)]
        for name in ("published-only", "both")
    }
    [(kind, data)] = received["published-only"]
    assert (kind, data["version"], data["status"]) == ("notice.published", 1, "published")
    assert data["title"] == "First title"
    [(kind, data)] = received["both"]
    assert (kind, data["version"], data["status"]) == ("notice.updated", 2, "published")
    assert data["title"] == "Second title"
    published_to_both = deliveries.get(subscription=both, event_type="notice.published")
    assert published_to_both.state == DeliveryState.SUPERSEDED
    assert published_to_both.attempts == 0

    withdrawn = coordinator.post(
        f"/api/v1/notices/{notice.pk}/withdraw/", {"reason": "Issued in error."}, format="json"
    )
    assert withdrawn.status_code == 200, withdrawn.content
    workers.wait_settled(deliveries)
    for sub in (only_published, both):
        name = sub.url.rsplit("/", 1)[-1]
        last = hook_receiver.hits_for(name)[-1].payload
        assert last["type"] == "notice.withdrawn"
        assert (last["data"]["status"], last["data"]["version"]) == ("withdrawn", 2)
        assert last["data"]["withdrawal_reason"] == "Issued in error."
    assert hook_receiver.unverified() == []
    sequences = {
        name: [hit.payload["type"] for hit in hook_receiver.hits_for(name)]
        for name in ("published-only", "both")
    }
    assert sequences == {
        "published-only": ["notice.published", "notice.withdrawn"],
        "both": ["notice.updated", "notice.withdrawn"],
    }


def test_an_endpoint_back_from_an_outage_gets_its_retries_at_once(
    network: Network,
    api: Api,
    workers: Workers,
    hook_receiver: Receiver,
    subscribe_endpoint: Subscribe,
    publish_notice: Publish,
) -> None:
    """Two endpoints answer 500 while two notices are published: each delivery fails twice
    and waits a minute for its third attempt. Both come back; one answers a test event, the
    other the delivery of a third notice. Each one's waiting deliveries then go at once,
    long before their scheduled attempt, one at a time and in the order of the events."""
    down = {"fail_first": 10**6}
    tested = subscribe_endpoint(network.bob, "tested", behaviour=down)
    fed = subscribe_endpoint(network.dave, "fed", behaviour=down)
    workers.start(env={"DIX_WEBHOOK_RETRY_SCHEDULE": "1,60", "DIX_WEBHOOK_PER_ENDPOINT": "1"})
    notices = [publish_notice(network.cora, title=f"Notice {i}", **AUDIENCE) for i in (1, 2)]
    waiting = Delivery.objects.filter(notice__in=notices)
    workers.wait_until(
        lambda: waiting.filter(attempts=2, state=DeliveryState.PENDING).count() == 4,
        what=lambda: f"four deliveries failed twice (now {states(waiting)})",
    )

    hook_receiver.change("tested", fail_first=0)
    hook_receiver.change("fed", fail_first=0)
    response = api(network.bob).post(f"/api/v1/subscriptions/{tested.pk}/test/")
    assert response.status_code == 200, response.content
    assert response.json()["succeeded"], response.content
    third = publish_notice(network.cora, title="Notice 3", **AUDIENCE)
    everything = Delivery.objects.filter(notice__in=[*notices, third])
    assert workers.wait_settled(everything, timeout=40) == {DeliveryState.SUCCEEDED: 6}

    for delivery in waiting:
        log = list(delivery.attempt_log.order_by("number"))
        assert [a.status_code for a in log] == [500, 500, 200]
        assert log[2].started_at < log[1].next_attempt_at, "the retry waited for its schedule"
    for sub in (tested, fed):
        name = sub.url.rsplit("/", 1)[-1]
        order = [hit.webhook_id for hit in hook_receiver.hits_for(name) if hit.answered == 200]
        retried = list(
            waiting.filter(subscription=sub).order_by("pk").values_list("webhook_id", flat=True)
        )
        assert [w for w in order if w in retried] == retried
