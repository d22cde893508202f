"""The delivery sweep: beat and every worker's own timer run it, one at a time."""

import threading
from collections.abc import Iterator

import pytest
from django.core.cache import cache
from django.db import connection

from tests.conftest import Network
from webhooks.engine import sweeper
from webhooks.models import Delivery, Subscription

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def due(network: Network, monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """One due delivery; what the sweep queues is counted instead of sent to the broker."""
    sub = Subscription.objects.create(
        organisation=network.be_desk,
        created_by=network.bob,
        url="https://example.org/hook",
        event_types=["dix.test"],
    )
    Delivery.objects.create(subscription=sub, event_type="dix.test")
    queued: list[int] = []
    monkeypatch.setattr(sweeper, "queue_delivery_work", queued.append)
    cache.delete("dix:delivery-sweep")
    yield queued
    cache.delete("dix:delivery-sweep")


def hold_the_lock_elsewhere(held: threading.Event, release: threading.Event) -> None:
    """Another process's sweep, in progress: here, another thread with its own connection."""
    try:
        with sweeper.sweep_lock() as mine:
            assert mine
            held.set()
            release.wait(10)
    finally:
        connection.close()


def test_one_sweep_at_a_time(due: list[int]) -> None:
    held, release = threading.Event(), threading.Event()
    other = threading.Thread(target=hold_the_lock_elsewhere, args=(held, release))
    other.start()
    try:
        assert held.wait(10)
        assert sweeper.sweep() is False
        assert due == []
    finally:
        release.set()
        other.join(10)
    assert sweeper.sweep() is True
    assert due == [1]


def test_a_sweep_just_made_elsewhere_is_enough(due: list[int]) -> None:
    assert sweeper.sweep() is True
    assert sweeper.sweep() is False  # within half a sweep period of the last one
    assert due == [1]
