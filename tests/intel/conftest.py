"""Fixtures of the intel tests: the audit-trail tests' `world` (tests/helpers/audit.py)."""

from tests.helpers.audit import world  # noqa: F401 - the fixture, registered here
