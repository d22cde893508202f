"""What a page keeps in the shared cache between two changes of shared data, under a key made
like the API's inbox ETag (`notices.inbox.inbox_etag`): who asks (member, organisation, its
country and sponsor, clearance), which page with which query, and the shared-data counter of
`intel.changes`. Every write that can change what those pages show of notices and profiles
bumps the counter, so a kept copy is never read back after one; the timeout only bounds how
long unused copies take room, as for the API's inbox pages.

A page asks for its key once (`page_key`, one read of the counter) and derives the keys of
the parts it keeps from it (`part_key`), each with what else decides that part (the language
of rendered HTML, the read marks shown in it). Data is kept with `kept(key, build)`, rendered
parts with Django's `{% cache %}` tag under such a key."""

import hashlib
from collections.abc import Callable
from typing import TypeVar

from django.core.cache import cache

from intel.models import Member
from notices.inbox import inbox_etag

T = TypeVar("T")

SECONDS = 300


def page_key(reader: Member, page: str) -> str:
    """The key of `page` (a name with a version that changes with the shape of what is kept,
    so that no copy of an older shape is read back after a deployment, and the query) as
    `reader` sees it now."""
    org = reader.organisation
    etag = inbox_etag(
        member_id=reader.pk,
        organisation_id=reader.organisation_id,
        country=org.country if org else "",
        sponsor_id=org.sponsor_id if org else None,
        clearance=reader.clearance,
        full_path=page,
    )
    return "dix:portal-page:" + etag.strip('"')


def part_key(key: str, *parts: object) -> str:
    """The key of a part of the page whose key is `key`, decided also by `parts`."""
    return key + ":" + hashlib.sha256(repr(parts).encode()).hexdigest()[:24]


def kept(key: str, build: Callable[[], T], seconds: int = SECONDS) -> T:
    """`build()`'s answer, built once per key (never None)."""
    value: T | None = cache.get(key)
    if value is None:
        value = build()
        cache.set(key, value, seconds)
    return value
