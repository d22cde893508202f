"""Fixtures of the operations tests: the retention tests' `world` (tests/helpers/audit.py)."""

from tests.helpers.audit import world  # noqa: F401 - the fixture, registered here
