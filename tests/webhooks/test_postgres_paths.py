"""The PostgreSQL-only statements of the webhook outbox, checked for what the portable
(SQLite) path gives: the fan-out's `INSERT … SELECT … FROM unnest`, the lease's one-statement
`UPDATE … RETURNING`, outcomes' `UPDATE … FROM unnest`, attempts' `COPY` and receipts' `ON
CONFLICT DO NOTHING` (the audit chain's advisory lock: tests/intel/test_audit_chain.py, the sweep's:
test_sweep.py).

Marked `postgres`: skipped unless DATABASE_URL names PostgreSQL (README, "Tests")."""

import pytest
from django.db import connection
from django.utils import timezone

from notices.models import NoticeReceipt
from tests.conftest import Network
from tests.factories import NoticeFactory, SubscriptionFactory
from tests.helpers.receiver import Receiver
from tests.webhooks.conftest import Subscribe
from webhooks.engine import deliver_due, lease_due
from webhooks.models import Delivery, DeliveryAttempt, DeliveryState

pytestmark = pytest.mark.postgres


def test_the_fan_out_writes_the_rows_bulk_create_would(network: Network) -> None:
    subscriptions = [SubscriptionFactory(member=m) for m in (network.bob, network.charlie)]

    notice = NoticeFactory(author=network.alice, published=True, publisher=network.cora)

    assert connection.vendor == "postgresql"
    rows = list(Delivery.objects.filter(notice=notice).order_by("subscription_id"))
    assert [d.subscription_id for d in rows] == sorted(s.pk for s in subscriptions)
    default = Delivery(subscription_id=0)
    for row in rows:
        assert (row.state, row.attempts, row.event_type) == (
            DeliveryState.PENDING,
            default.attempts,
            "notice.published",
        )
        assert row.next_attempt_at is not None
        assert row.next_attempt_at <= timezone.now()
    assert len({row.webhook_id for row in rows}) == len(rows)


def test_the_lease_takes_each_due_delivery_once(network: Network) -> None:
    for member in (network.bob, network.charlie, network.dave):
        SubscriptionFactory(member=member)
    NoticeFactory(author=network.alice, published=True, publisher=network.cora)

    first = lease_due(2)
    second = lease_due(10)

    assert len(first) == 2
    assert len(second) == 1
    assert not set(first) & set(second)
    leased = Delivery.objects.filter(id__in=first + second)
    assert set(leased.values_list("state", flat=True)) == {DeliveryState.SENDING}
    assert not leased.filter(leased_until__isnull=True).exists()
    assert lease_due(10) == []


def test_outcomes_attempts_and_receipts_are_written(
    network: Network, hook_receiver: Receiver, subscribe_endpoint: Subscribe
) -> None:
    subscribe_endpoint(network.bob, "be-1")
    subscribe_endpoint(network.bob, "be-2")
    subscribe_endpoint(network.charlie, "de", behaviour={"fail_first": 1})
    notice = NoticeFactory(author=network.alice, published=True, publisher=network.cora)

    assert deliver_due(time_budget=10) == 3

    deliveries = Delivery.objects.filter(notice=notice).select_related("subscription")
    outcomes = {
        (d.subscription.organisation_id, d.state, d.attempts, d.last_status_code)
        for d in deliveries
    }
    assert outcomes == {
        (network.be_desk.pk, DeliveryState.SUCCEEDED, 1, 200),
        (network.de_desk.pk, DeliveryState.PENDING, 1, 500),
    }
    attempts = DeliveryAttempt.objects.filter(delivery__notice=notice)
    assert sorted(attempts.values_list("number", "status_code")) == [(1, 200), (1, 200), (1, 500)]
    # Two deliveries to one organisation, one receipt (the second insert conflicts).
    assert list(NoticeReceipt.objects.filter(notice=notice).values_list("organisation_id")) == [
        (network.be_desk.pk,)
    ]
