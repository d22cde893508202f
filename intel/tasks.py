"""Periodic housekeeping of the intel app. Tasks are thin: they call services."""

import logging

from celery import shared_task
from django.core.cache import cache
from django.utils import timezone

from core.heartbeat import BEAT_HEARTBEAT_KEY

log = logging.getLogger("dix.tasks")


@shared_task(name="intel.tasks.heartbeat")
def heartbeat() -> str:
    """Beat → worker round trip, run every 30 s: its timestamp in the cache shows that the
    scheduler, the broker and a worker all work (the `dix:worker-heartbeat` cache key)."""
    now = timezone.now().isoformat()
    cache.set(BEAT_HEARTBEAT_KEY, now, timeout=None)
    log.info("heartbeat", extra={"at": now})
    return now
