"""The visibility rule asked for many viewers at once: one compiled query per shape of viewer.

Used where one question is asked of hundreds of organisations (a notice's webhook fan-out)
or of the same member page after page (a TAXII export); the answers are always the ones
`visible_to` gives (`intel.visibility`).
"""

from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack, contextmanager
from datetime import datetime
from typing import Any

from django.db import connections
from django.db.models import QuerySet

from intel.models.network import Member, Organisation
from intel.visibility import Reader, Viewer

# --- The same rule for many organisations at once ----------------------------------------
#
# Publishing a notice, and delivering it, asks "may this organisation see it?" for every
# subscribed organisation (hundreds). Building and compiling the `visible_to` query costs
# far more ORM work per organisation than the database needs to answer it. But the query
# of two organisations differs only in the values of their ids and countries, as long as
# they take the same branches of the rule (secretariat or not, sponsored or not, with a
# country or not, same clearance). So the query is built once per such shape, for a `Viewer` whose ids and countries are sentinels that no real row holds,
# and run for each organisation with its own values put in the sentinels' places.

_ORG = -7_300_001
_SPONSOR = -7_300_002
_COUNTRY = "#1"  # ISO 3166-1 codes are two letters: no real country is "#1"
_SPONSOR_COUNTRY = "#2"


def _shape(viewer: Viewer) -> tuple[Any, ...]:
    """What the rule branches on, for a viewer that is no member."""
    org = viewer.organisation
    if org is None:
        return (None, viewer.clearance)
    sponsor = org.sponsor
    return (
        org.kind,
        bool(org.country),
        # Same country as the organisation or not: Django drops repeated values of an IN.
        None
        if sponsor is None
        else (sponsor.kind, bool(sponsor.country), sponsor.country == org.country),
        viewer.clearance,
    )


def _stand_in(viewer: Viewer) -> Viewer:
    org = viewer.organisation
    if org is None:
        return Viewer(organisation=None, clearance=viewer.clearance)
    sponsor = org.sponsor
    sponsor_copy = (
        None
        if sponsor is None
        else Organisation(
            pk=_SPONSOR,
            kind=sponsor.kind,
            country=(
                ""
                if not sponsor.country
                else _COUNTRY
                if sponsor.country == org.country
                else _SPONSOR_COUNTRY
            ),
        )
    )
    copy = Organisation(
        pk=_ORG, kind=org.kind, country=_COUNTRY if org.country else "", sponsor=sponsor_copy
    )
    return Viewer.of_organisation(copy, viewer.clearance)


def _values(viewer: Viewer) -> dict[Any, Any]:
    org = viewer.organisation
    if org is None:
        return {}
    values: dict[Any, Any] = {_ORG: org.pk, _COUNTRY: org.country}
    if org.sponsor is not None:
        values |= {_SPONSOR: org.sponsor.pk, _SPONSOR_COUNTRY: org.sponsor.country}
    return values


_Compiled = tuple[str, tuple[Any, ...], str]


def _compiled(queryset: QuerySet[Any]) -> _Compiled:
    sql, params = queryset.query.get_compiler(using=queryset.db).as_sql()
    return sql, tuple(params), queryset.db


def _substitute(params: tuple[Any, ...], values: dict[Any, Any]) -> tuple[Any, ...]:
    # Only ints and strs can be sentinels (a bool or a datetime never equals one).
    return tuple(values.get(p, p) if type(p) in (int, str) else p for p in params)


def _is_time(value: Any) -> bool:
    if isinstance(value, datetime):
        return True
    if not isinstance(value, str) or len(value) < 19:
        return False
    try:  # SQLite receives datetimes as text
        datetime.fromisoformat(value)
    except ValueError:
        return False
    return True


def _same(sql: str, params: tuple[Any, ...], own: _Compiled) -> bool:
    """The filled-in template is the viewer's own query. Times may differ: each build reads
    the clock (a grant's expiry is compared with now)."""
    return (
        sql == own[0]
        and len(params) == len(own[1])
        and all(
            a == b or (_is_time(a) and _is_time(b)) for a, b in zip(params, own[1], strict=True)
        )
    )


# Verified templates kept by the process, per (caller's key, shape): a template is SQL and
# parameters only, so it stays right for as long as the code does. Kept only when it holds
# no time (a time would be the clock of its build) and building it read nothing from the
# database (what it read could change).
_kept: dict[tuple[Any, ...], _Compiled | None] = {}
_KEEP_AT_MOST = 4096


@contextmanager
def _queries_run() -> Iterator[list[str]]:
    """The SQL of every query run inside the block, on any connection."""
    ran: list[str] = []

    def count(execute: Any, sql: str, *args: Any) -> Any:
        ran.append(sql)
        return execute(sql, *args)

    with ExitStack() as watching:
        for connection in connections.all():
            watching.enter_context(connection.execute_wrapper(count))
        yield ran


def _keepable(compiled: _Compiled, ran: list[str]) -> bool:
    """Whether compiled SQL stays right for as long as the code does: building it read
    nothing from the database (what it read could change) and it holds no time (a time
    would be the clock of its build)."""
    return not ran and not any(_is_time(p) for p in compiled[1])


def _build(
    query: Callable[[Viewer], QuerySet[Any]], viewer: Viewer
) -> tuple[_Compiled | None, bool]:
    """The verified template of `viewer`'s shape (None: use per-viewer queries) and whether
    it may be kept."""
    with _queries_run() as ran:
        template = _compiled(query(_stand_in(viewer)))
        own = _compiled(query(viewer))
    filled = _substitute(template[1], _values(viewer))
    verified = template if _same(template[0], filled, own) else None
    return verified, _keepable(template, ran)


def visible_ids_per_viewer(
    viewers: Iterable[Reader],
    query: Callable[[Viewer], QuerySet[Any]],
    *,
    key: tuple[Any, ...] | None = None,
) -> list[set[Any]]:
    """`set(query(viewer))` for each viewer, in order. `query(viewer)` must be a
    `values_list(<one column>, flat=True)` queryset built on a `visible_to(viewer)`; the
    viewers are organisation viewers, no members (as `notices.rendering.webhook_viewer` makes).

    One query is compiled per shape (see above). The first viewer of each shape is also
    compiled the ordinary way and compared with the template filled in for it: should the
    rule ever branch on something `_shape` does not know, that shape falls back to each
    viewer's own query, so the answer is always the one `visible_to` gives.

    `key`: what identifies `query` apart from the viewer (e.g. `("notice", 42)`); with it,
    templates are kept by the process for the next call with the same key (the delivery
    engine asks the same question of every batch of a fan-out)."""
    templates: dict[tuple[Any, ...], _Compiled | None] = {}
    answers: list[set[Any]] = []
    for who in viewers:
        viewer = Viewer.of(who)
        if viewer.member is not None:
            raise ValueError("visible_ids_per_viewer takes organisation viewers, no members")
        shape = _shape(viewer)
        if shape not in templates:
            if key is not None and (key, shape) in _kept:
                templates[shape] = _kept[(key, shape)]
            else:
                templates[shape], keep = _build(query, viewer)
                if key is not None and keep:
                    if len(_kept) >= _KEEP_AT_MOST:
                        _kept.clear()
                    _kept[(key, shape)] = templates[shape]
        compiled = templates[shape]
        if compiled is None:
            answers.append(set(query(viewer)))
            continue
        # One query each: PostgreSQL plans a hundred small queries better than their UNION ALL.
        sql, params, alias = compiled
        with connections[alias].cursor() as cursor:
            cursor.execute(sql, _substitute(params, _values(viewer)))
            answers.append({row[0] for row in cursor.fetchall()})
    return answers


# --- One viewer's rule as SQL, for the pages of an export ---------------------------------
#
# A TAXII pull asks the same member's `visible_to` questions on every page, and building and
# compiling those querysets costs more than the database needs to answer them. The
# SQL of a member's rule is a function of the rows the rule reads from the member object
# alone (the member, its organisation, that organisation's sponsor): everything else it
# depends on (profiles, notices, recipients, grants and their expiry) is read by the
# database when the query runs. So the compiled SQL is kept per process under every column
# of those rows: a changed clearance, role, organisation, sponsor or country is another key,
# and a change of data needs no invalidation because no data is kept.

_sql_kept: dict[tuple[Any, ...], _Compiled] = {}


def _viewer_rows(member: Member) -> tuple[Any, ...]:
    """Every column of the member and of each related row loaded with it (its organisation,
    that one's sponsor): all that building a rule can read without a query."""
    rows: list[Any] = []
    pending: list[Any] = [member]
    seen: set[int] = set()
    while pending:
        obj = pending.pop()
        if id(obj) in seen:
            continue
        seen.add(id(obj))
        meta = obj._meta
        rows.append((meta.label, repr([getattr(obj, f.attname) for f in meta.concrete_fields])))
        pending += [o for o in obj._state.fields_cache.values() if o is not None]
        for prefetched in getattr(obj, "_prefetched_objects_cache", {}).values():
            pending += list(prefetched)
    return tuple(rows)


def viewer_sql(
    name: str, member: Member, query: Callable[[Member], QuerySet[Any]]
) -> tuple[str, tuple[Any, ...]]:
    """The SQL and parameters of `query(member)` (a one-column values() queryset built on a
    `visible_to(member)`), compiled once per process for the member's present rows (see
    above). `name` tells the caller's queries apart. Kept only when building read nothing
    from the database and the SQL holds no time of its own (`_build`'s rule)."""
    key = (name, _viewer_rows(member))
    kept = _sql_kept.get(key)
    if kept is not None:
        return kept[0], kept[1]
    with _queries_run() as ran:
        # Without ordering: the SQL only ever stands in an IN (...), where a sort of every
        # visible row would cost the most and mean nothing.
        compiled = _compiled(query(member).order_by())
    if _keepable(compiled, ran):
        if len(_sql_kept) >= _KEEP_AT_MOST:
            _sql_kept.clear()
        _sql_kept[key] = compiled
    return compiled[0], compiled[1]
