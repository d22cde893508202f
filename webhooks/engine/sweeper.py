"""The sweep: if anything is due (a retry whose time has come, a delivery whose message or
worker was lost), ask a worker to deliver it; one process sweeps at a time."""

import contextlib
import fcntl
import time
from collections.abc import Iterator
from pathlib import Path

from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction

from webhooks.models import Delivery
from webhooks.outbox import queue_delivery_work

SWEEP_LOCK = 0x444958_5357  # "DIXSW": the advisory lock key of the delivery sweep
_SWEPT_KEY = "dix:delivery-sweep"


@contextlib.contextmanager
def sweep_lock() -> Iterator[bool]:
    """Whether this process holds the sweep's lock (held for the block): a PostgreSQL
    advisory lock for the transaction; on SQLite, which serves one machine, a file lock."""
    if connection.vendor == "postgresql":
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [SWEEP_LOCK])
            yield bool(cursor.fetchone()[0])
        return
    with open(Path(settings.DATA_DIR) / "delivery-sweep.lock", "a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def sweep() -> bool:
    """If anything is due — a retry whose time has come, a delivery whose message or worker
    was lost — ask a worker to deliver it. Beat and every worker's own timer call this;
    one sweeps at a time, and a sweep within the last half period is enough for all."""
    with sweep_lock() as held:
        if not held:
            return False
        now = time.time()
        try:
            last = float(cache.get(_SWEPT_KEY) or 0)
            cache.set(_SWEPT_KEY, now, timeout=None)
        except Exception:  # the cache out of reach: sweep anyway
            last = 0.0
        if now - last < settings.DIX_WEBHOOK_SWEEP_SECONDS / 2:
            return False
        if Delivery.objects.due().exists():
            queue_delivery_work(1)
            return True
    return False
