"""Settings of the test run (pytest's default): `config.settings`, with what a test needs no more
of made fast.

- The database as configured: SQLite's test database stays a file of its own per test run
  (config.settings), as worker processes and writer threads of some tests share it; in
  memory it is no faster (WAL, `synchronous=NORMAL`, tests in rolled-back transactions).
  With `DATABASE_URL` the configured PostgreSQL is used.
- No `REDIS_URL`: caches in this process's memory. With `REDIS_URL`, Redis as configured.
- MD5 password hashing: the default hasher is slow on purpose.

Processes that tests start run `config.settings`, never this module.
"""

from config.settings import *  # noqa: F403
from config.settings import CACHES, REDIS_URL

# What other processes on this machine share (the file cache, or Redis): for the tests that
# wait for a worker process's mark in the cache.
PROCESS_SHARED_CACHES = CACHES

# An event detail key no action declares fails the test that writes it (intel/audit_details.py).
DIX_AUDIT_STRICT_DETAIL = True

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# The live server the browser tests drive speaks plain HTTP.
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = False

if not REDIS_URL:
    CACHES = {
        alias: {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": f"dix-test-{alias}",
        }
        for alias in CACHES
    }
