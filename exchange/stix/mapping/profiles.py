"""A device profile's versions in STIX: the profile, its indicator, its family and suppliers."""

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Case, F, When

from exchange.stix import objects
from exchange.stix.mapping.audience import Audience, Collector, Scope, VisibleProfiles
from intel.models import DeviceProfile, ProfileRevision
from intel.revisions import ParentChange, may_show_nothing_q, parent_change, unseen_revisions
from intel.snapshots import profile_snapshot


@dataclass(frozen=True)
class Revision:
    """One profile revision as the mapping reads it."""

    pk: int
    number: int
    created_at: datetime
    snapshot: Mapping[str, Any]


def profile_revisions(
    audience: Audience, profiles: Any, parents: list[ParentChange] | None = None
) -> tuple[dict[int, list[Revision]], set[int]]:
    """The revisions of `profiles` (ids, or a values() queryset of them) in order, per
    profile, and the ids of those `member` may read (each keeps the label it was written
    under). `parents`, when given, receives the parent-only updates among them (read in the
    same query, for `unseen_revisions`)."""
    by_profile: dict[int, list[Revision]] = defaultdict(list)
    rows: Any = (
        ProfileRevision.objects.filter(profile__in=profiles)
        .order_by("profile_id", "number")
        .values("id", "profile_id", "number", "created_at", "snapshot")
        .annotate(parent_change=Case(When(may_show_nothing_q(), then=F("changes")), default=None))
    )
    for rev in rows:
        by_profile[rev["profile_id"]].append(
            Revision(rev["id"], rev["number"], rev["created_at"], rev["snapshot"])
        )
        diff = rev["parent_change"]
        if parents is not None and diff is not None:
            change = parent_change(rev["profile_id"], rev["number"], diff)
            parents += [change] if change is not None else []
    # Whoever sees a profile reads its latest revision: only older ones are asked about.
    if all(len(revisions) < 2 for revisions in by_profile.values()):
        return by_profile, set()
    readable = set(audience.revisions.filter(profile__in=profiles).values_list("id", flat=True))
    return by_profile, readable


def add_profiles(
    audience: Audience, scope: Scope, visible: VisibleProfiles, out: Collector
) -> set[int]:
    """Add every visible profile version (in scope); return the ids of those profiles."""
    if scope.profile_ids == frozenset():
        return set()
    profiles = audience.profiles
    rows: list[Any]
    if scope.profile_rows is not None:
        rows = [dict(zip(_PROFILE_ROW, row, strict=True)) for row in scope.profile_rows]
    else:
        if scope.profile_ids is not None:
            profiles = profiles.filter(pk__in=scope.profile_ids)
        rows = list(profiles.values(*_PROFILE_ROW))
    if not rows:
        return set()
    # A part of the feed names its profiles: those the member sees are the rows just read.
    selected = profiles.values("id") if scope.profile_ids is None else [r["id"] for r in rows]
    candidates: list[ParentChange] = []
    by_profile, older_visible = profile_revisions(audience, selected, candidates)
    # A change the member may not see (a hidden parent) is no version for them.
    unseen = unseen_revisions(audience.member, [row["id"] for row in rows], candidates=candidates)
    shown: list[tuple[Any, list[Revision], list[datetime]]] = []
    for row in rows:
        every = by_profile.get(row["id"]) or [current_state(row["id"])]
        # Each revision's `modified` comes from the whole history, hidden revisions included:
        # a time nudged past a hidden one must not differ by reader, or one reader's version
        # would share (id, modified) with another's other content.
        times = objects.strictly_after((r.created_at for r in every), floor=row["created_at"])
        hidden = unseen.get(row["id"], set())
        kept = [(r, t) for r, t in zip(every, times, strict=True) if r.number not in hidden]
        shown.append((row, [r for r, _ in kept], [t for _, t in kept]))
    # Whether the member sees a parent is asked of the parents these versions name only.
    visible_ids = visible.among(
        parent
        for _, revisions, _ in shown
        for rev in revisions
        if isinstance(parent := rev.snapshot.get("parent"), int)
    )
    for row, revisions, moments in shown:
        _profile_versions(row, revisions, moments, older_visible, visible_ids, out)
    return {row["id"] for row in rows}


_PROFILE_ROW = ("id", "owner_id", "created_at", "tlp")


def current_state(profile_pk: int) -> Revision:
    """A profile written without revisions (loaded straight into the database): its present
    state as its only version."""
    profile = DeviceProfile.objects.get(pk=profile_pk)
    return Revision(0, profile.version, profile.updated_at, profile_snapshot(profile))


def _profile_versions(
    row: Mapping[str, Any],
    revisions: list[Revision],
    times: list[datetime],
    older_visible: set[int],
    visible_ids: set[int],
    out: Collector,
) -> None:
    created = row["created_at"]
    latest = revisions[-1]
    suppliers = _supplier_keys(row["id"], revisions)
    first_seen: dict[str, datetime] = {}
    for rev, moment in zip(revisions, times, strict=True):
        for key in suppliers[rev.number]:
            first_seen.setdefault(key, moment)

    parents, parent_since = _parent_links(revisions, times)
    shown_parent: tuple[int, int] | None = None
    shown: dict[str, Mapping[str, Any]] = {}  # supplier key → content in the last version shown
    for rev, moment in zip(revisions, times, strict=True):
        if rev is not latest and rev.pk not in older_visible:
            continue
        snap = rev.snapshot
        label = str(snap.get("tlp") or row["tlp"])
        version = {"pk": row["id"], "owner_pk": row["owner_id"], "created": created}
        out.add(
            objects.device_profile(**version, modified=moment, snap=snap, revision=rev.number),
            rev.created_at,
        )
        out.add(objects.profile_indicator(**version, modified=moment, snap=snap), rev.created_at)
        parent = parents[rev.number]
        if parent != shown_parent:
            for link, revoked in ((shown_parent, True), (parent, False)):
                if link is not None and link[0] in visible_ids:
                    out.add(
                        objects.parent_relationship(
                            child_pk=row["id"],
                            parent_pk=link[0],
                            incarnation=link[1],
                            owner_pk=row["owner_id"],
                            created=parent_since[link],
                            modified=moment,
                            label=label,
                            revoked=revoked,
                        ),
                        rev.created_at,
                    )
            shown_parent = parent
        current = suppliers[rev.number]
        changed = [(k, s, False) for k, s in current.items() if shown.get(k) != s]
        gone = [(k, s, True) for k, s in shown.items() if k not in current]
        for key, supplier, revoked in changed + gone:
            common = {
                "key": key,
                "owner_pk": row["owner_id"],
                "created": first_seen[key],
                "modified": moment,
                "supplier": supplier,
                "label": label,
                "revoked": revoked,
            }
            out.add(objects.supplier_identity(**common), rev.created_at)
            out.add(
                objects.supplier_relationship(
                    **common, profile_pk=row["id"], profile_name=str(snap.get("name") or "")
                ),
                rev.created_at,
            )
        shown = current


def _parent_links(
    revisions: list[Revision], times: list[datetime]
) -> tuple[dict[int, tuple[int, int] | None], dict[tuple[int, int], datetime]]:
    """Per revision number, its parent as (parent pk, incarnation), and when each such link
    began. A parent that is dropped and later set again is a new relationship (a revoked STIX
    object stays revoked)."""
    links: dict[int, tuple[int, int] | None] = {}
    since: dict[tuple[int, int], datetime] = {}
    incarnation: dict[int, int] = defaultdict(int)
    previous: int | None = None
    for rev, moment in zip(revisions, times, strict=True):
        parent = rev.snapshot.get("parent")
        parent = parent if isinstance(parent, int) else None
        if parent is not None and parent != previous:
            incarnation[parent] += 1
            since[(parent, incarnation[parent])] = moment
        links[rev.number] = None if parent is None else (parent, incarnation[parent])
        previous = parent
    return links, since


def _supplier_keys(
    profile_pk: int, revisions: list[Revision]
) -> dict[int, dict[str, Mapping[str, Any]]]:
    """Per revision number, its suppliers under stable keys: profile, country, name (same
    name twice: an occurrence number). Supplier rows are replaced on every change of the
    list, so their database ids cannot serve. A supplier that leaves the profile is revoked;
    if it comes back it is a new object (a revoked STIX object stays revoked)."""
    result: dict[int, dict[str, Mapping[str, Any]]] = {}
    incarnation: dict[str, int] = defaultdict(int)
    present: set[str] = set()
    for rev in revisions:
        keyed: dict[str, Mapping[str, Any]] = {}
        seen: dict[str, int] = defaultdict(int)
        for supplier in rev.snapshot.get("suppliers") or []:
            base = "{}:{}:{}".format(
                profile_pk,
                str(supplier.get("country") or "").upper(),
                " ".join(str(supplier.get("name") or "").casefold().split()),
            )
            seen[base] += 1
            base = f"{base}#{seen[base]}"
            if base not in present:
                incarnation[base] += 1
            keyed[f"{base}@{incarnation[base]}"] = supplier
        present = {key.rsplit("@", 1)[0] for key in keyed}
        result[rev.number] = keyed
    return result
