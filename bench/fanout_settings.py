"""Settings for bench/fanout.py (the bench process and its Celery worker): the product's
settings, with this run's own Celery queue and cache key prefix, so that two runs sharing
Redis db 12 cannot take each other's tasks."""

import os

from config.settings import *  # noqa: F403

_TAG = os.environ.get("BENCH_TAG", "dix-bench")
CELERY_TASK_DEFAULT_QUEUE = _TAG
CACHES["default"]["KEY_PREFIX"] = _TAG  # noqa: F405
