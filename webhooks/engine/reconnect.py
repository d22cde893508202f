"""Database writes that survive a lost connection: what a lost connection raises, and
`reconnecting`, which drops the connection, waits and tries again a few times."""

import contextlib
import logging
import time
from collections.abc import Callable
from typing import Any

import psycopg
from django.db import InterfaceError, OperationalError, connection

log = logging.getLogger("dix.delivery")

# Writing what was sent survives this many lost connections in a row, waiting between tries.
RECONNECT_WAITS = (0.1, 0.5, 1.0, 2.0, 4.0)


# What a lost database connection raises: Django's wrapped errors, and psycopg's own from the
# raw cursor the attempts are copied through.
CONNECTION_ERRORS: tuple[type[BaseException], ...] = (
    OperationalError,
    InterfaceError,
    psycopg.OperationalError,
    psycopg.InterfaceError,
)


def reconnecting(what: str, write: Callable[[], Any]) -> Any:
    """Run `write`; on a lost database connection drop it, wait and run it again, a few
    times. Raises the last error when the database stays out of reach."""
    for wait in (*RECONNECT_WAITS, None):
        try:
            return write()
        except CONNECTION_ERRORS:
            if wait is None:
                raise
            log.warning("database connection lost; reconnecting", extra={"writing": what})
            with contextlib.suppress(Exception):
                connection.close()
            time.sleep(wait)
    raise AssertionError("unreachable")
