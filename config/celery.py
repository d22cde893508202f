"""The Celery app. Celery is the distributed engine: any number of workers on any machine
that reaches the broker named by `REDIS_URL` (or the embedded filesystem broker by default)."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("dix")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
