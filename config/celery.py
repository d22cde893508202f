"""The Celery app. Celery is the distributed engine: any number of workers on any machine
that reaches the broker named by `REDIS_URL` (or the embedded filesystem broker by default)."""

import os
from typing import Any

from celery import Celery
from celery.signals import worker_init, worker_ready

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("dix")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

WORKER_APPLICATION_NAME = "dix-worker"


@worker_init.connect
def _name_database_connections(**kwargs: Any) -> None:
    """A worker's PostgreSQL connections say so (`pg_stat_activity.application_name`), so an
    operator (or a test) can tell them from the web's."""
    # config/celery.py is imported by config/__init__.py, before Django's settings are set up.
    from django.conf import settings

    database = settings.DATABASES["default"]
    if "postgresql" in database["ENGINE"]:
        database.setdefault("OPTIONS", {})["application_name"] = WORKER_APPLICATION_NAME


@worker_ready.connect
def _start_worker_timer(**kwargs: Any) -> None:
    """Every worker sweeps on its own timer and says it is alive: delivery does not depend on
    beat alone."""
    # The composition root reaches an app only once Django's apps are loaded (worker ready).
    from webhooks.tasks import start_worker_timer

    start_worker_timer()
