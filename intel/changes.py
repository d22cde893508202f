"""A counter of changes to shared data, for cheap conditional requests.

Every write that can change what a member's inbox renders (a notice published, updated,
withdrawn or acknowledged; a profile filed, changed or retired) bumps the counter after it
commits. An inbox ETag is a digest of (member, organisation, clearance, query, counter), so a
304 needs no query of notices at all. The counter lives in the cache shared by all processes
(Redis in production); when it is missing it restarts from the current time in nanoseconds,
which is above any value it held before, so a lost cache can cost a full answer but never
produce a stale 304.
"""

import time

from django.core.cache import cache
from django.db import transaction

KEY = "dix:shared-data-version"


def data_version() -> int:
    value = cache.get(KEY)
    if value is None:
        cache.add(KEY, time.time_ns(), timeout=None)
        value = cache.get(KEY, 0)
    return int(value)


def bump_on_commit() -> None:
    """Bump the counter now and again once the surrounding transaction commits. The commit
    bump is the one that matters (a poll between the two may pair old data with the first
    new value; the second moves past it); the first keeps the counter moving where a
    transaction's callbacks never run."""
    _bump()
    transaction.on_commit(_bump, robust=True)


def _bump() -> None:
    data_version()  # make sure the key exists before incrementing
    try:
        cache.incr(KEY)
    except ValueError:  # evicted in between
        cache.add(KEY, time.time_ns(), timeout=None)
