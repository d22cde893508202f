"""Periodic housekeeping of the intel app. Tasks are thin: they call services."""

import logging

from celery import shared_task
from django.core.cache import cache
from django.utils import timezone

log = logging.getLogger("dix.tasks")


@shared_task(name="intel.tasks.heartbeat")
def heartbeat() -> str:
    """Beat → worker round trip, run every 30 s: its timestamp in the cache shows that the
    scheduler, the broker and a worker all work (the `dix:worker-heartbeat` cache key)."""
    now = timezone.now().isoformat()
    cache.set("dix:worker-heartbeat", now, timeout=None)
    log.info("heartbeat", extra={"at": now})
    return now


@shared_task(name="intel.tasks.end_expired_grants", ignore_result=True)
def end_expired_grants() -> int:
    """Run by beat every minute: record the end of access grants that expired (marked,
    audited as `grant.expired`, shared-data counter bumped). See `intel.access.grants_expire`."""
    from intel.access import grants_expire

    ended = grants_expire()
    if ended:
        log.info("access grants ended", extra={"count": ended})
    return ended
