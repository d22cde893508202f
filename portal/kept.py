"""What a page keeps in the shared cache between two changes of shared data, under a key made
like the API's inbox ETag (`notices.inbox.inbox_etag`): who asks (member, organisation, its
country and sponsor, clearance), which page with which query, and the shared-data counter of
`intel.changes`. Every write that can change what those pages show of notices and profiles
bumps the counter, so a kept copy is never read back after one; the timeout only bounds how
long unused copies take room, as for the API's inbox pages."""

from collections.abc import Callable
from typing import TypeVar

from django.core.cache import cache

from intel.models import Member
from notices.inbox import inbox_etag

T = TypeVar("T")

SECONDS = 300


def kept(reader: Member, page: str, build: Callable[[], T]) -> T:
    """`build()`'s answer for `reader` on `page` (a name with its version and the query: the
    version changes with the shape of what is kept, so that no copy of an older shape is read
    back after a deployment), built once per change of shared data."""
    org = reader.organisation
    etag = inbox_etag(
        member_id=reader.pk,
        organisation_id=reader.organisation_id,
        country=org.country if org else "",
        sponsor_id=org.sponsor_id if org else None,
        clearance=reader.clearance,
        full_path=page,
    )
    key = "dix:portal-page:" + etag.strip('"')
    value: T | None = cache.get(key)
    if value is None:
        value = build()
        cache.set(key, value, SECONDS)
    return value
