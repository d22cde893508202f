"""`/healthz`: the process answers; `/healthz?deep` also that the workers and beat are alive.
`/readyz`: the database and the broker answer too."""

import logging
from datetime import datetime

from celery import current_app
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.utils import timezone

from core.heartbeat import BEAT_HEARTBEAT_KEY, WORKER_SEEN_KEY

log = logging.getLogger("dix.health")


def healthz(request: HttpRequest) -> JsonResponse:
    if "deep" not in request.GET:
        return JsonResponse({"status": "ok"})
    checks = {"database": _database_ok(), "broker": _broker_ok()}
    seen = {"workers": _last_seen(WORKER_SEEN_KEY), "beat": _last_seen(BEAT_HEARTBEAT_KEY)}
    limit = settings.DIX_SILENT_SECONDS
    now = timezone.now()
    for name, at in seen.items():
        checks[name] = at is not None and (now - at).total_seconds() <= limit
    ok = all(checks.values())
    return JsonResponse(
        {
            "status": "ok" if ok else "unavailable",
            "checks": {k: "ok" if v else _failure(k) for k, v in checks.items()},
            "last_seen": {k: v.isoformat() if v else None for k, v in seen.items()},
        },
        status=200 if ok else 503,
    )


def readyz(request: HttpRequest) -> JsonResponse:
    checks = {"database": _database_ok(), "broker": _broker_ok()}
    ready = all(checks.values())
    return JsonResponse(
        {
            "status": "ok" if ready else "unavailable",
            "checks": {k: "ok" if v else "failed" for k, v in checks.items()},
        },
        status=200 if ready else 503,
    )


def _failure(check: str) -> str:
    return "silent" if check in ("workers", "beat") else "failed"


def _last_seen(key: str) -> datetime | None:
    try:
        value = cache.get(key)
        return datetime.fromisoformat(value) if value else None
    except Exception:
        log.exception("health: cache unreadable")
        return None


def _database_ok() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception:
        log.exception("readiness: database unreachable")
        return False
    return True


def _broker_ok() -> bool:
    try:
        with current_app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=0, timeout=2)
    except Exception:
        log.exception("readiness: broker unreachable")
        return False
    return True
