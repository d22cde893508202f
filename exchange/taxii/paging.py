"""Filtering, sorting and paging of a member's STIX entries (TAXII 2.1 §3.3–§3.5).

Order: every listing is sorted by `(date_added, id, version)`, a total order in which
`date_added` never changes and new versions come last. The `next` cursor is that key of the
last item returned, so the next page starts strictly after it: objects added between two
requests come after the cursor (they are neither skipped nor repeated), and a cursor stays
valid however long the client waits. It is opaque to clients (base64 of JSON) but carries no
secret and no filter: the filters are the ones sent with each request.

`match[version]` is applied before `added_after` and the cursor: "first" is the object's first
version, not the first one after the cursor, and "last" only moves forward (to a version
added later, hence after the cursor).
"""

import base64
import binascii
import json
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from django.http import QueryDict

from exchange.stix import feed
from exchange.stix.entry import Entry
from exchange.taxii.errors import InvalidParameter

# A page is never larger, whatever `limit` asks (§3.4: the server may cap it).
MAX_PAGE_SIZE = 1000
# Cursors DIX gives are ~200 characters (ids are bounded); longer ones are not ours.
MAX_CURSOR_LENGTH = 1000

SPEC_VERSION = "2.1"

Key = tuple[datetime, str, str]

_TIMESTAMP = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?"
    # `Z`, or an offset; an unencoded `+` in a query string arrives as a space.
    r"(?:([Zz])|([+\- ])(\d{2}):?(\d{2}))?"
)


def parse_timestamp(raw: str) -> datetime | None:
    """A TAXII/STIX timestamp (RFC 3339, `Z` or an offset, 0 to 9 fractional digits, kept to
    the microsecond), or None. Without a zone it is taken as UTC, as clients mean it."""
    match = _TIMESTAMP.fullmatch(raw)
    if match is None:
        return None
    year, month, day, hour, minute, second, fraction, _z, sign, off_h, off_m = match.groups()
    try:
        moment = datetime(
            int(year),
            int(month),
            int(day),
            int(hour),
            int(minute),
            int(second),
            int((fraction or "0")[:6].ljust(6, "0")),
            tzinfo=UTC,
        )
        if sign:
            offset = timedelta(hours=int(off_h), minutes=int(off_m))
            if offset >= timedelta(hours=24):
                return None
            moment = moment - offset if sign in "+ " else moment + offset
    except (ValueError, OverflowError):
        return None
    return moment


def taxii_timestamp(moment: datetime) -> str:
    """§2: UTC with exactly six fractional digits, e.g. `2025-05-12T09:30:00.123456Z`."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def key_of(entry: Entry) -> Key:
    return (entry.date_added, entry.stix_id, entry.version)


# --- The request ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Query:
    """What one listing request asks for. `None` for a `match[...]` means "not filtered"."""

    added_after: datetime | None = None
    limit: int = MAX_PAGE_SIZE
    after: Key | None = None  # from `next`
    ids: frozenset[str] | None = None
    types: frozenset[str] | None = None
    versions: tuple[str | datetime, ...] = ("last",)
    spec_versions: frozenset[str] | None = None


def parse_query(params: QueryDict, *, matches: Iterable[str]) -> Query:
    """The query parameters of a listing endpoint; `matches` names the `match[...]` fields
    that endpoint honours (others are ignored, as §3.4.1 allows). Malformed values are a 400
    naming the parameter (§3.3)."""
    fields = set(matches)
    return Query(
        added_after=_added_after(params),
        limit=_limit(params),
        after=_next(params),
        ids=_match_set(params, "id") if "id" in fields else None,
        types=_match_set(params, "type") if "type" in fields else None,
        versions=_match_version(params) if "version" in fields else ("last",),
        spec_versions=_match_set(params, "spec_version") if "spec_version" in fields else None,
    )


def _single(params: QueryDict, name: str) -> str | None:
    values = params.getlist(name)
    if not values:
        return None
    if len(values) > 1:
        raise InvalidParameter(name, "give it once.")
    return values[0]


def _added_after(params: QueryDict) -> datetime | None:
    raw = _single(params, "added_after")
    if raw is None:
        return None
    moment = parse_timestamp(raw)
    if moment is None:
        raise InvalidParameter(
            "added_after", "expected one timestamp such as 2025-05-12T09:30:00.000000Z."
        )
    return moment


def _limit(params: QueryDict) -> int:
    raw = _single(params, "limit")
    if raw is None:
        return MAX_PAGE_SIZE
    if not (raw.isascii() and raw.isdigit()) or int(raw) < 1:
        raise InvalidParameter("limit", "expected a positive integer.")
    return min(int(raw), MAX_PAGE_SIZE)


def _values(params: QueryDict, name: str) -> list[str] | None:
    """A `match[...]` parameter's comma-separated values (repeating it ORs them too)."""
    raw = params.getlist(f"match[{name}]")
    if not raw:
        return None
    values = [v.strip() for item in raw for v in item.split(",")]
    if any(not v for v in values):
        raise InvalidParameter(f"match[{name}]", "empty value.")
    return values


def _match_set(params: QueryDict, name: str) -> frozenset[str] | None:
    values = _values(params, name)
    return None if values is None else frozenset(values)


def _match_version(params: QueryDict) -> tuple[str | datetime, ...]:
    values = _values(params, "version")
    if values is None:
        return ("last",)
    out: list[str | datetime] = []
    for value in values:
        if value in ("last", "first", "all"):
            out.append(value)
            continue
        moment = parse_timestamp(value)
        if moment is None:
            raise InvalidParameter(
                "match[version]", f"{value!r} is neither last, first, all nor a timestamp."
            )
        out.append(moment)
    return tuple(out)


def encode_cursor(key: Key) -> str:
    date_added, stix_id, version = key
    raw = json.dumps([taxii_timestamp(date_added), stix_id, version], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _next(params: QueryDict) -> Key | None:
    raw = _single(params, "next")
    if raw is None:
        return None
    try:
        if len(raw) > MAX_CURSOR_LENGTH:
            raise ValueError
        decoded = json.loads(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))
        stamp, stix_id, version = decoded
        moment = parse_timestamp(stamp)
        if moment is None or not isinstance(stix_id, str) or not isinstance(version, str):
            raise ValueError
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError):
        raise InvalidParameter(
            "next", "not a cursor this server gave; send back the `next` of the last page."
        ) from None
    return (moment, stix_id, version)


# --- Selecting and paging ----------------------------------------------------------------------


def select(entries: Iterable[Entry], query: Query) -> list[Entry]:
    """The entries matching `match[id|type|spec_version|version]`, in key order (before
    `added_after`, the cursor and `limit`)."""
    candidates = [
        e
        for e in entries
        if (query.ids is None or e.stix_id in query.ids)
        and (query.types is None or e.stix_type in query.types)
        and (query.spec_versions is None or _spec_version(e) in query.spec_versions)
    ]
    return sorted(_versions(candidates, query.versions), key=key_of)


def _spec_version(entry: Entry) -> str:
    return str(entry.obj.get("spec_version", SPEC_VERSION))


def _versions(entries: Sequence[Entry], wanted: tuple[str | datetime, ...]) -> list[Entry]:
    if "all" in wanted:
        return list(entries)
    by_id: dict[str, list[Entry]] = defaultdict(list)
    for entry in entries:
        by_id[entry.stix_id].append(entry)
    moments = {w for w in wanted if isinstance(w, datetime)}
    chosen: list[Entry] = []
    for versions in by_id.values():
        # An object's versions in order of their `version` timestamp; ties by date_added.
        versions.sort(key=lambda e: (_version_moment(e), e.date_added))
        picked: dict[Key, Entry] = {}
        if "first" in wanted:
            picked[key_of(versions[0])] = versions[0]
        if "last" in wanted:
            picked[key_of(versions[-1])] = versions[-1]
        for entry in versions:
            if _version_moment(entry) in moments:
                picked[key_of(entry)] = entry
        chosen.extend(picked.values())
    return chosen


def _version_moment(entry: Entry) -> datetime:
    return parse_timestamp(entry.version) or datetime.min.replace(tzinfo=UTC)


@dataclass(frozen=True)
class Page:
    items: list[Entry]
    more: bool
    next: str | None


def page(selected: Sequence[Entry], query: Query) -> Page:
    """One page of `selected` (in key order): after `added_after` and the cursor, at most
    `limit` items, with a cursor whenever more remain."""
    remaining = [
        e
        for e in selected
        if (query.added_after is None or e.date_added > query.added_after)
        and (query.after is None or key_of(e) > query.after)
    ]
    items = remaining[: query.limit]
    more = len(remaining) > len(items)
    return Page(items=items, more=more, next=encode_cursor(key_of(items[-1])) if more else None)


def windowed(query: Query) -> bool:
    """Whether `paged` serves the query. A `match[id]` query names a few objects wherever they
    are in the feed: it reads the feed once instead of walking all of it window by window."""
    return query.ids is None


def paged(member: Any, holds: Callable[[Entry], bool], query: Query) -> Page:
    """The page `page(select(entries(member)), query)` would give, built from the windows of
    the feed that follow the cursor (`feed.window`) until the page is full: its cost follows
    the page, not the feed."""
    since = query.added_after
    if query.after is not None and (since is None or query.after[0] > since):
        since = query.after[0]
    items: list[Entry] = []
    # A profile revision, the commonest row, is two objects (the profile and its indicator):
    # the first window reads half a page of rows (and two more: the row at the cursor's
    # instant, already served, and one to tell that more follow), so that a page builds about
    # the objects it serves; a window that falls short is followed by one sized to what is
    # still missing.
    size = query.limit // 2 + 2
    while True:
        found, span = feed.window(member, since, size)
        selected = select([e for e in found if holds(e)], query)
        items += [
            e
            for e in page(selected, replace(query, limit=len(selected) or 1)).items
            if span.holds(e.date_added)
        ]
        if len(items) > query.limit or span.cut is None:
            break
        since = span.cut
        size = query.limit + 1 - len(items)
    shown = items[: query.limit]
    more = len(items) > len(shown)
    return Page(items=shown, more=more, next=encode_cursor(key_of(shown[-1])) if more else None)
