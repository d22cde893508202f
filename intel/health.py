"""`/healthz`: the process answers. `/readyz`: the database and the broker answer too."""

import logging

from django.db import connection
from django.http import HttpRequest, JsonResponse

log = logging.getLogger("dix.health")


def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


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
    from config.celery import app

    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=0, timeout=2)
    except Exception:
        log.exception("readiness: broker unreachable")
        return False
    return True
