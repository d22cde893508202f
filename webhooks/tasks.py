"""Celery tasks and the worker's own timer: thin, they call the delivery engine. Retries are
rows in the database (`Delivery.next_attempt_at`), never long countdowns held by the broker."""

import logging
import threading

from celery import shared_task
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.utils import timezone

from core.heartbeat import WORKER_SEEN_KEY
from webhooks import engine
from webhooks.outbox import DELIVER_DUE_TASK

log = logging.getLogger("dix.tasks")


@shared_task(name=DELIVER_DUE_TASK, ignore_result=True)
def deliver_due() -> int:
    """Deliver due deliveries until none is due (or a minute has passed)."""
    return engine.deliver_due()


@shared_task(name="notices.tasks.sweep_deliveries", ignore_result=True)
def sweep_deliveries() -> bool:
    """Run by beat every few seconds (and by every worker's timer): if anything is due, ask
    a worker to deliver it."""
    return engine.sweep()


def worker_tick() -> None:
    """One beat of a worker's own timer: say the worker is alive, and sweep. Without beat,
    retries and the deliveries of a dead worker still go out."""
    try:
        cache.set(WORKER_SEEN_KEY, timezone.now().isoformat(), timeout=None)
    except Exception:
        log.warning("worker heartbeat not written: cache out of reach", exc_info=True)
    try:
        engine.sweep()
    except Exception:
        log.warning("delivery sweep failed; trying again at the next tick", exc_info=True)
    finally:
        # The timer's thread keeps no connection between ticks: none to go stale, none for a
        # forked pool process to inherit.
        connection.close()


def start_worker_timer() -> threading.Thread:
    """Run `worker_tick` every DIX_WEBHOOK_SWEEP_SECONDS on a daemon thread of this process."""
    stop = threading.Event()

    def loop() -> None:
        while not stop.wait(settings.DIX_WEBHOOK_SWEEP_SECONDS):
            worker_tick()

    thread = threading.Thread(target=loop, name="dix-worker-timer", daemon=True)
    thread.start()
    return thread
