"""Periodic housekeeping of the access-request workflow. Tasks are thin: they call services."""

import logging

from celery import shared_task

from access.decisions import grants_expire

log = logging.getLogger("dix.tasks")


# The name is the one beat schedules and queued messages carry: it stays as registered.
@shared_task(name="intel.tasks.end_expired_grants", ignore_result=True)
def end_expired_grants() -> int:
    """Run by beat every minute: record the end of access grants that expired (marked,
    audited as `grant.expired`, shared-data counter bumped). See
    `access.decisions.grants_expire`."""
    ended = grants_expire()
    if ended:
        log.info("access grants ended", extra={"count": ended})
    return ended
