"""Settings of the test run (pytest's default): `config.settings`, with what a test needs no more
of made fast.

- SQLite (no `DATABASE_URL`): the test database in memory. A run that starts Celery worker
  processes on the test database puts it in a file instead (tests/conftest.py,
  `django_db_modify_db_settings`). With `DATABASE_URL` the configured PostgreSQL is used.
- No `REDIS_URL`: caches in this process's memory. With `REDIS_URL`, Redis as configured.
- MD5 password hashing: the default hasher costs a tenth of a second per password on purpose.

Processes that tests start run `config.settings`, never this module.
"""

from config.settings import *  # noqa: F403
from config.settings import CACHES, DATABASES, REDIS_URL

# What other processes on this machine share (the file cache, or Redis): for the tests that
# wait for a worker process's mark in the cache.
PROCESS_SHARED_CACHES = CACHES

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

if not REDIS_URL:
    CACHES = {
        alias: {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": f"dix-test-{alias}",
        }
        for alias in CACHES
    }

if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The file config.settings names, kept for runs with worker processes (tests/conftest.py).
    SQLITE_TEST_FILE = DATABASES["default"]["TEST"]["NAME"]
    DATABASES["default"]["TEST"] = {"NAME": ":memory:"}
