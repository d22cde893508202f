"""Which STIX object versions a member may receive (docs/stix.md).

Every read starts from the models' `visible_to(member)`; nothing here decides visibility on
its own except where an object takes it from another one (a profile's suppliers from the
profile's revision, a sighting from both its seizure report and its profile).

Versions: a device profile has one version per `ProfileRevision` that shows the member a
change (`intel.revisions`: a hidden parent's is none of theirs) (the latest whenever the
member sees the profile; older ones when `ProfileRevision.objects.visible_to` allows, so
lowering a label never publishes the history written under the higher one); a notice one per
`NoticeVersion`, plus a revoked one when it is withdrawn; suppliers and their relationships
one per revision that changed them (revoked when the supplier leaves the profile). Each
version's `date_added` is when that version entered DIX, so it never changes between calls.

Known limit (by design of `date_added`): an object that becomes visible to a member later
(a new recipient, a grant) keeps its original `date_added`, so a TAXII client paging with
`added_after` only picks it up on a full pull.
"""

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import Any

from django.db import connections
from django.db.models import Case, Exists, F, Min, QuerySet, When
from django.db.models.expressions import RawSQL

from exchange.stix import objects as o
from exchange.stix.entry import Entry
from intel.models import (
    DeviceProfile,
    Member,
    Organisation,
    OrganisationKind,
    ProfileRevision,
    tlp_labels_up_to,
    tlp_rank,
)
from intel.models.tlp import TLP
from intel.revisions import ParentChange, may_show_nothing_q, parent_change, unseen_revisions
from intel.snapshots import profile_snapshot
from intel.visibility_bulk import viewer_sql

# notices builds on intel; the STIX export is the one place in intel that reads notices and
# seizure reports, and nothing in notices imports it.
from notices.models import PUBLIC_STATES, Notice, NoticeStatus, NoticeVersion
from seizures.models import FacilityType, SeizureDetection, SeizureLine, SeizureReport


@dataclass(frozen=True)
class Scope:
    """What to export. The defaults are a member's whole feed (`member_entries`); the bundle
    endpoints narrow it to one profile or one notice and what it names."""

    profile_ids: frozenset[int] | None = None  # None: every profile the member may see
    notice_ids: frozenset[int] | None = None  # None: every notice the member may see
    sightings: bool = True
    directory: bool = True  # every organisation, not only those referenced
    line_ids: frozenset[int] | None = None  # None: every line about an exported profile
    organisation_ids: frozenset[int] | None = None  # None: the whole directory
    fixed: bool = True  # DIX's identity, the extension definition, places, markings
    # (id, owner_id, created_at, tlp) of each of `profile_ids`, when the caller has read them
    # through the member's `Audience` in this request (with the visibility check, in the
    # same statement): they are not read again.
    profile_rows: tuple[tuple[int, int, datetime, str], ...] | None = None


@dataclass
class _Collector:
    entries: list[Entry] = field(default_factory=list)
    location_added: dict[str, datetime] = field(default_factory=dict)

    def add(self, obj: dict[str, Any], date_added: datetime) -> None:
        self.entries.append(
            Entry(
                stix_id=obj["id"],
                stix_type=obj["type"],
                version=obj.get("modified", obj["created"]),
                date_added=date_added,
                obj=obj,
            )
        )


class Audience:
    """What one member may see, as querysets that each hold one model's `visible_to` rule
    compiled to SQL (`intel.visibility_bulk.viewer_sql`): building and compiling the rule
    costs more than the database takes to answer it, and a TAXII page asks a dozen
    questions of it. The SQL holds the member's own ids and labels only, never data: the
    database reads profiles, notices, recipients and grants when each query runs."""

    def __init__(self, member: Member) -> None:
        self.member = member

    def _ids(self, name: str, query: Callable[[Member], "QuerySet[Any]"]) -> RawSQL:
        sql, params = viewer_sql(f"stix.{name}", self.member, query)
        # Django's own compilation of `query`, its values still bound as parameters.
        return RawSQL(sql, params)  # noqa: S611

    @cached_property
    def profile_ids(self) -> RawSQL:
        return self._ids("profiles", lambda m: DeviceProfile.objects.visible_to(m).values("id"))

    @cached_property
    def profiles(self) -> "QuerySet[DeviceProfile]":
        return DeviceProfile.objects.filter(pk__in=self.profile_ids)

    @cached_property
    def revisions(self) -> "QuerySet[ProfileRevision]":
        """The revisions the member may read (each under the label it was written with)."""
        ids = self._ids("revisions", lambda m: ProfileRevision.objects.visible_to(m).values("id"))
        return ProfileRevision.objects.filter(pk__in=ids)

    @cached_property
    def notice_ids(self) -> RawSQL:
        """The published (or later) notices the member receives."""
        return self._ids(
            "notices",
            lambda m: Notice.objects.visible_to(m).filter(status__in=PUBLIC_STATES).values("id"),
        )

    @cached_property
    def notices(self) -> "QuerySet[Notice]":
        return Notice.objects.filter(pk__in=self.notice_ids)

    @cached_property
    def lines(self) -> "QuerySet[SeizureLine]":
        """The seizure lines the member may see as sightings: of a visible report, about a
        profile the member sees."""
        reports = self._ids("reports", lambda m: SeizureReport.objects.visible_to(m).values("id"))
        return SeizureLine.objects.filter(report_id__in=reports, profile_id__in=self.profile_ids)


class _VisibleProfiles:
    """The ids of the profiles the member sees, among those a caller asks about: all of them
    at once for a whole feed, only the ones named by what is exported for a part of it (a
    page must not cost a query of every visible profile)."""

    def __init__(self, audience: Audience, *, everything: bool) -> None:
        self._profiles = audience.profiles
        self._asked: set[int] | None = None if everything else set()
        self._seen: set[int] = (
            set(self._profiles.values_list("id", flat=True)) if everything else set()
        )

    def among(self, ids: Iterable[int]) -> set[int]:
        wanted = set(ids)
        if self._asked is not None and not wanted <= self._asked:
            new = wanted - self._asked
            self._seen |= set(self._profiles.filter(pk__in=new).values_list("id", flat=True))
            self._asked |= new
        return wanted & self._seen


def member_entries(member: Member) -> list[Entry]:
    """Every STIX object version `member` may see, sorted by (date_added, stix_id, version)."""
    return collect(member, Scope())


def collect(member: Member, scope: Scope, audience: Audience | None = None) -> list[Entry]:
    """`audience`: the member's, when the caller has already built it."""
    audience = audience or Audience(member)
    out = _Collector()
    if scope.fixed:
        out.add(o.dix_identity(), o.EPOCH)
        out.add(o.profile_extension_definition(), o.EPOCH)

    visible = _VisibleProfiles(audience, everything=scope.profile_ids is None)
    exported = _profiles(audience, scope, visible, out)
    _notices(audience, scope, visible, out)
    if scope.sightings and scope.line_ids != frozenset():
        # Lines asked for by id are already those about a profile the member sees.
        _sightings(audience, None if scope.line_ids is not None else exported, out, scope.line_ids)
    _organisations(scope, out)
    if not scope.fixed:
        return sorted(out.entries, key=lambda e: (e.date_added, e.stix_id, e.version))
    for country, added in sorted(out.location_added.items()):
        out.add(o.country_location(country), added)
    # Only the markings something here references: a tool such as MISP turns every marking
    # definition it receives into a tag of what it imports.
    used = _referenced(e.obj for e in out.entries)
    for label in TLP.values:
        if o.TLP_MARKING_IDS[label] in used:
            out.add(o.tlp_marking(label), o.EPOCH)
    return sorted(out.entries, key=lambda e: (e.date_added, e.stix_id, e.version))


# --- Profiles, their suppliers ------------------------------------------------------------------


@dataclass(frozen=True)
class _Revision:
    pk: int
    number: int
    created_at: datetime
    snapshot: Mapping[str, Any]


def _revisions(
    audience: Audience, profiles: Any, parents: list[ParentChange] | None = None
) -> tuple[dict[int, list[_Revision]], set[int]]:
    """The revisions of `profiles` (ids, or a values() queryset of them) in order, per
    profile, and the ids of those `member` may read (each keeps the label it was written
    under). `parents`, when given, receives the parent-only updates among them (read in the
    same query, for `unseen_revisions`)."""
    by_profile: dict[int, list[_Revision]] = defaultdict(list)
    rows: Any = (
        ProfileRevision.objects.filter(profile__in=profiles)
        .order_by("profile_id", "number")
        .values("id", "profile_id", "number", "created_at", "snapshot")
        .annotate(parent_change=Case(When(may_show_nothing_q(), then=F("changes")), default=None))
    )
    for rev in rows:
        by_profile[rev["profile_id"]].append(
            _Revision(rev["id"], rev["number"], rev["created_at"], rev["snapshot"])
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


def _profiles(
    audience: Audience, scope: Scope, visible: _VisibleProfiles, out: _Collector
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
    by_profile, older_visible = _revisions(audience, selected, candidates)
    # A change the member may not see (a hidden parent) is no version for them.
    unseen = unseen_revisions(audience.member, [row["id"] for row in rows], candidates=candidates)
    shown: list[tuple[Any, list[_Revision], list[datetime]]] = []
    for row in rows:
        every = by_profile.get(row["id"]) or [_current_state(row["id"])]
        # Each revision's `modified` comes from the whole history, hidden revisions included:
        # a time nudged past a hidden one must not differ by reader, or one reader's version
        # would share (id, modified) with another's other content.
        times = o.strictly_after((r.created_at for r in every), floor=row["created_at"])
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


def _current_state(profile_pk: int) -> _Revision:
    """A profile written without revisions (loaded straight into the database): its present
    state as its only version."""
    profile = DeviceProfile.objects.get(pk=profile_pk)
    return _Revision(0, profile.version, profile.updated_at, profile_snapshot(profile))


def _profile_versions(
    row: Mapping[str, Any],
    revisions: list[_Revision],
    times: list[datetime],
    older_visible: set[int],
    visible_ids: set[int],
    out: _Collector,
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
            o.device_profile(**version, modified=moment, snap=snap, revision=rev.number),
            rev.created_at,
        )
        out.add(o.profile_indicator(**version, modified=moment, snap=snap), rev.created_at)
        parent = parents[rev.number]
        if parent != shown_parent:
            for link, revoked in ((shown_parent, True), (parent, False)):
                if link is not None and link[0] in visible_ids:
                    out.add(
                        o.parent_relationship(
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
            out.add(o.supplier_identity(**common), rev.created_at)
            out.add(
                o.supplier_relationship(
                    **common, profile_pk=row["id"], profile_name=str(snap.get("name") or "")
                ),
                rev.created_at,
            )
        shown = current


def _parent_links(
    revisions: list[_Revision], times: list[datetime]
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
    profile_pk: int, revisions: list[_Revision]
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


# --- Notices ---------------------------------------------------------------------------------------


def _notices(audience: Audience, scope: Scope, visible: _VisibleProfiles, out: _Collector) -> None:
    if scope.notice_ids == frozenset():
        return
    member = audience.member
    notices = audience.notices
    if scope.notice_ids is not None:
        notices = notices.filter(pk__in=scope.notice_ids)
    rows = list(
        notices.values(
            "id",
            "issuer_id",
            "reference",
            "notice_type",
            "tlp",
            "status",
            "withdrawal_reason",
            "changed_at",
        )
    )
    if not rows:
        return
    selected = notices.values("id")
    versions: dict[int, list[Mapping[str, Any]]] = defaultdict(list)
    for version in (
        NoticeVersion.objects.filter(notice__in=selected)
        .order_by("notice_id", "number")
        .values(
            "id",
            "notice_id",
            "number",
            "title",
            "summary",
            "body",
            "action_requested",
            "tlp",
            "published_at",
        )
    ):
        versions[version["notice_id"]].append(version)
    named: dict[int, list[int]] = defaultdict(list)
    through = NoticeVersion.profiles.through.objects
    for version_pk, profile_pk in (
        through.filter(noticeversion__notice__in=selected)
        .order_by("noticeversion_id", "deviceprofile_id")
        .values_list("noticeversion_id", "deviceprofile_id")
    ):
        named[version_pk].append(profile_pk)
    visible_ids = visible.among(p for ids in named.values() for p in ids)
    summaries = _profile_summaries(
        audience, [v for vs in versions.values() for v in vs], named, visible_ids
    )
    cleared = set(tlp_labels_up_to(member.clearance))
    for row in rows:
        _notice_versions(
            member, row, versions[row["id"]], named, summaries, visible_ids, cleared, out
        )


def _profile_summaries(
    audience: Audience,
    versions: list[Mapping[str, Any]],
    named: Mapping[int, list[int]],
    visible_ids: set[int],
) -> dict[int, list[tuple[int, str | None]]]:
    """Per notice version, one line for each profile it names that the member sees: what a
    tool that drops the profile objects still shows through the report, as (profile pk, text).

    The line describes the profile as it stood when that notice version was published (so a
    report version never changes after the fact), and only when that revision reaches the
    member and its label is no stricter than the report's: the report's marking must cover
    all of its text. Otherwise the line only says where the details are: its text is None
    when that is because this member may not read that revision (the report's view then
    says so, see `_view`)."""
    wanted = {p for version in versions for p in named.get(version["id"], [])} & visible_ids
    if not wanted:
        return {}
    revisions, readable = _revisions(audience, wanted)
    result: dict[int, list[tuple[int, str | None]]] = {}
    for version in versions:
        lines: list[tuple[int, str | None]] = []
        for profile_pk in named.get(version["id"], []):
            if profile_pk not in visible_ids:
                continue
            history = revisions.get(profile_pk) or [_current_state(profile_pk)]
            then = [r for r in history if r.created_at <= version["published_at"]] or history[:1]
            rev = then[-1]
            label = str(rev.snapshot.get("tlp") or TLP.RED)
            if not (rev is history[-1] or rev.pk in readable):
                lines.append((profile_pk, None))
            elif tlp_rank(label) <= tlp_rank(version["tlp"]):
                lines.append((profile_pk, o.profile_summary(rev.snapshot, profile_pk)))
            else:
                lines.append((profile_pk, _elsewhere(label, profile_pk)))
        if lines:
            result[version["id"]] = lines
    return result


def _elsewhere(label: str, profile_pk: int) -> str:
    return (
        f"A device profile under {label} ({o.indicator_id(profile_pk)}): its details are in "
        "that indicator and the profile object, under their own label."
    )


def _view(
    versions: list[Mapping[str, Any]],
    named: Mapping[int, list[int]],
    summaries: Mapping[int, list[tuple[int, str | None]]],
    visible_ids: set[int],
) -> str:
    """What this member's rendering of the notice leaves out, over all its versions: the
    profiles it names that the member does not see, and the lines shortened because the
    member may not read the revision they describe. Everything else in a report is the same
    for every member, so equal views give equal content."""
    hidden = sorted({p for v in versions for p in named.get(v["id"], []) if p not in visible_ids})
    unread = sorted(
        f"{v['number']}:{p}"
        for v in versions
        for p, text in summaries.get(v["id"], [])
        if text is None
    )
    if not hidden and not unread:
        return ""
    return "profiles:" + ",".join(map(str, hidden)) + ";lines:" + ",".join(unread)


def _notice_versions(
    member: Member,
    row: Mapping[str, Any],
    versions: list[Mapping[str, Any]],
    named: Mapping[int, list[int]],
    summaries: Mapping[int, list[tuple[int, str | None]]],
    visible_ids: set[int],
    cleared: set[str],
    out: _Collector,
) -> None:
    if not versions:
        return
    created = versions[0]["published_at"]
    times = o.strictly_after((v["published_at"] for v in versions), floor=created)
    issuer = row["issuer_id"]
    report_id = o.report_id(row["id"], _view(versions, named, summaries, visible_ids))
    last_shown: dict[str, Any] | None = None
    for version, moment in zip(versions, times, strict=True):
        # A version is read under the notice's audience; one written under a stricter label
        # than the notice now carries is left to the issuer (the label cannot change after
        # publication today: this only guards the rule).
        stricter = tlp_rank(version["tlp"]) > tlp_rank(row["tlp"])
        if version["tlp"] not in cleared or (stricter and member.organisation_id != issuer):
            continue
        last_shown = _report(
            report_id, row, version, created, moment, moment, named, summaries, visible_ids
        )
        out.add(last_shown, version["published_at"])
    if row["status"] == NoticeStatus.WITHDRAWN and last_shown is not None:
        withdrawn = max(o.to_millis(row["changed_at"]), times[-1] + o.MILLISECOND)
        last = versions[-1]
        report = _report(
            report_id,
            row,
            last,
            created,
            withdrawn,
            times[-1],
            named,
            summaries,
            visible_ids,
            revoked_reason=row["withdrawal_reason"] or "withdrawn by the issuer",
        )
        out.add(report, row["changed_at"])


def _report(
    report_id: str,
    row: Mapping[str, Any],
    version: Mapping[str, Any],
    created: datetime,
    modified: datetime,
    published: datetime,
    named: Mapping[int, list[int]],
    summaries: Mapping[int, list[tuple[int, str | None]]],
    visible_ids: set[int],
    revoked_reason: str | None = None,
) -> dict[str, Any]:
    refs = [o.indicator_id(p) for p in named.get(version["id"], []) if p in visible_ids]
    lines = [
        text if text is not None else _elsewhere_unread(p)
        for p, text in summaries.get(version["id"], [])
    ]
    # A report must name something: when every profile is hidden from this member, it names
    # its issuer (the description still says what the notice is about).
    return o.notice_report(
        report_stix_id=report_id,
        issuer_pk=row["issuer_id"],
        reference=row["reference"],
        notice_type=row["notice_type"],
        title=version["title"],
        summary=version["summary"],
        body=version["body"],
        action_requested=version["action_requested"],
        label=version["tlp"],
        created=created,
        modified=modified,
        published=published,
        object_refs=refs or [o.organisation_id(row["issuer_id"])],
        profiles=lines,
        revoked_reason=revoked_reason,
    )


def _elsewhere_unread(profile_pk: int) -> str:
    return (
        f"A device profile ({o.indicator_id(profile_pk)}): its details are in that indicator "
        "and the profile object."
    )


# --- Seizure reports -------------------------------------------------------------------------------


def _sightings(
    audience: Audience,
    profile_ids: set[int] | None,
    out: _Collector,
    line_ids: frozenset[int] | None,
) -> None:
    """One sighting per line of a visible report whose profile the member sees (in scope:
    about `profile_ids` unless None, among `line_ids` unless None)."""
    if profile_ids is not None and not profile_ids:
        return
    lines = audience.lines
    if line_ids is not None:
        lines = lines.filter(pk__in=line_ids)
    if profile_ids is not None:
        lines = lines.filter(profile_id__in=profile_ids)
    rows = lines.order_by("id").values(
        "id",
        "profile_id",
        "quantity",
        "report__organisation_id",
        "report__country",
        "report__seized_on",
        "report__facility_type",
        "report__detection_method",
        "report__tlp",
        "report__created_at",
    )
    for line in rows:
        country = line["report__country"]
        added = line["report__created_at"]
        out.add(
            o.seizure_sighting(
                line_pk=line["id"],
                organisation_pk=line["report__organisation_id"],
                country=country,
                seized_on=line["report__seized_on"],
                created=added,
                profile_pk=line["profile_id"],
                quantity=line["quantity"],
                facility_label=_choice_label(FacilityType, line["report__facility_type"]),
                detection_label=_choice_label(SeizureDetection, line["report__detection_method"]),
                label=line["report__tlp"],
            ),
            added,
        )
        known = out.location_added.get(country)
        out.location_added[country] = added if known is None else min(known, added)


def _choice_label(choices: Any, value: str) -> str:
    if not value:
        return ""
    try:
        return str(choices(value).label)
    except ValueError:
        return value


# --- The directory -----------------------------------------------------------------------------------


def _organisations(scope: Scope, out: _Collector) -> None:
    if scope.organisation_ids == frozenset():
        return
    referenced = _referenced(e.obj for e in out.entries)
    organisations = Organisation.objects.all()
    if scope.organisation_ids is not None:
        organisations = organisations.filter(pk__in=scope.organisation_ids)
    for org in organisations.order_by("id").values(
        "id", "slug", "name", "kind", "country", "created_at"
    ):
        obj = o.organisation_identity(
            pk=org["id"],
            slug=org["slug"],
            name=org["name"],
            kind_label=_choice_label(OrganisationKind, org["kind"]),
            country=org["country"],
            created=org["created_at"],
        )
        if scope.directory or obj["id"] in referenced:
            out.add(obj, org["created_at"])


def _referenced(objs: Iterable[Mapping[str, Any]]) -> set[str]:
    found: set[str] = set()
    for obj in objs:
        found |= o.references(obj)
    return found


# --- One window of the feed, for paging -------------------------------------------------------


@dataclass(frozen=True)
class Span:
    """`[since, cut)`; None for either end means unbounded."""

    since: datetime | None
    cut: datetime | None

    def holds(self, moment: datetime) -> bool:
        return (self.since is None or moment >= self.since) and (
            self.cut is None or moment < self.cut
        )


def window(member: Member, since: datetime | None, size: int) -> tuple[list[Entry], Span]:
    """Every version of the objects that have a version added in `[since, cut)`, and that
    span: a page of the feed is built from the few objects added around it, never from the
    whole feed. Each source (profile revisions, notice versions, withdrawals, seizure lines,
    organisations) gives its first `size` rows added from `since` on; `cut` is the earliest
    date at which one of them has more (None: all reach the end), so every version added in
    the span comes from a row read here."""
    audience = Audience(member)
    # Per source: every row whoever may see it, the member's share of it (built only when
    # asked: building a rule costs more than asking it), the date column, the object's key.
    # A profile source also reads the profile's row (`Scope.profile_rows`).
    every: dict[str, tuple[QuerySet[Any], Callable[[], QuerySet[Any]], str, str]] = {
        "profiles": (
            ProfileRevision.objects.all(),
            lambda: ProfileRevision.objects.filter(profile_id__in=audience.profile_ids),
            "created_at",
            "profile_id",
        ),
        "bare": (
            DeviceProfile.objects.filter(revisions__isnull=True),
            lambda: audience.profiles.filter(revisions__isnull=True),
            "updated_at",
            "id",
        ),
        "notices": (
            NoticeVersion.objects.all(),
            lambda: NoticeVersion.objects.filter(notice_id__in=audience.notice_ids),
            "published_at",
            "notice_id",
        ),
        "withdrawn": (
            Notice.objects.filter(status=NoticeStatus.WITHDRAWN),
            lambda: audience.notices.filter(status=NoticeStatus.WITHDRAWN),
            "changed_at",
            "id",
        ),
        "lines": (SeizureLine.objects.all(), lambda: audience.lines, "report__created_at", "id"),
        "organisations": (
            Organisation.objects.all(),
            lambda: Organisation.objects.all(),
            "created_at",
            "id",
        ),
    }
    found: dict[str, list[tuple[Any, ...]]] = {name: [] for name in every}
    cut: datetime | None = None

    def first_rows(name: str, **flags: Exists) -> list[tuple[Any, ...]]:
        nonlocal cut
        _, share, column, key = every[name]
        queryset = share()
        if since is not None:
            queryset = queryset.filter(**{f"{column}__gte": since})
        fields = (column, key, *_ROW_OF.get(name, ()), *flags)
        rows = list(queryset.annotate(**flags).order_by(column).values_list(*fields)[: size + 1])
        if len(rows) > size and (cut is None or rows[size][0] < cut):
            cut = rows[size][0]
        return rows

    # Profile revisions are nearly always there; the other sources add nothing to most spans.
    # Their first query also says which others have any row from `since` on, whoever may see
    # them (evaluated once, not per row): only those are asked with the member's visibility.
    others = [name for name in every if name != "profiles"]
    flags = (
        {}
        if since is None
        else {
            f"any_{name}": Exists(base.filter(**{f"{column}__gte": since}))
            for name, (base, _, column, _) in every.items()
            if name in others
        }
    )
    rows = first_rows("profiles", **flags)
    if since is None:
        occupied = set(others)
    elif rows:
        flagged = zip(others, rows[0][-len(others) :], strict=True)
        occupied = {name for name, there in flagged if there}
    else:
        occupied = _any_from(
            {name: (base, column) for name, (base, _, column, _) in every.items()},
            since,
            skip={"profiles"},
        )
    found["profiles"] = [row[: len(row) - len(flags)] for row in rows]
    for name in others:
        if name in occupied:
            found[name] = first_rows(name)
    sources = {
        name: (share(), column, key)
        for name, (_, share, column, key) in every.items()
        if name == "profiles" or name in occupied
    }
    earliest = min((rows[0][0] for rows in found.values() if rows), default=None)
    if cut is not None and earliest is not None and cut <= earliest:
        # More than `size` rows added at the same instant: the span takes all of them.
        later = [
            queryset.filter(**{f"{column}__gt": cut}).aggregate(m=Min(column))["m"]
            for queryset, column, _ in sources.values()
        ]
        cut = min((m for m in later if m is not None), default=None)
        for name, (queryset, column, key) in sources.items():
            bounded = queryset.filter(**{f"{column}__gte": earliest})
            if cut is not None:
                bounded = bounded.filter(**{f"{column}__lt": cut})
            found[name] = list(bounded.values_list(column, key, *_ROW_OF.get(name, ())))
    span = Span(since, cut)
    picked = {
        name: frozenset(row[1] for row in rows if span.holds(row[0]))
        for name, rows in found.items()
    }
    profile_rows = {
        row[1]: row[1:]
        for name in ("profiles", "bare")
        for row in found[name]
        if span.holds(row[0])
    }
    scope = Scope(
        profile_ids=frozenset(profile_rows),
        profile_rows=tuple(profile_rows.values()),
        notice_ids=picked["notices"] | picked["withdrawn"],
        line_ids=picked["lines"],
        organisation_ids=picked["organisations"],
        fixed=False,
    )
    result = collect(member, scope, audience) if any(picked.values()) else []
    fixed = _fixed_entries(audience, span, places=bool(picked["lines"]))
    result += [e for e in fixed if span.holds(e.date_added)]
    return sorted(result, key=lambda e: (e.date_added, e.stix_id, e.version)), span


# The profile's row, read with a profile source's rows (`Scope.profile_rows`).
_ROW_OF = {
    "profiles": ("profile__owner_id", "profile__created_at", "profile__tlp"),
    "bare": ("owner_id", "created_at", "tlp"),
}


def _any_from(
    sources: Mapping[str, tuple[QuerySet[Any], str]], since: datetime, *, skip: set[str]
) -> set[str]:
    """The sources (all rows, whoever may see them; the date column) that have a row added
    from `since` on, asked in one query: a source without any costs nothing more."""
    names = [name for name in sources if name not in skip]
    parts: list[str] = []
    params: list[Any] = []
    alias = "default"
    for name in names:
        queryset, column = sources[name]
        probe = queryset.filter(**{f"{column}__gte": since}).order_by().values("pk")
        sql, args = probe.query.get_compiler(using=probe.db).as_sql()
        parts.append(f"EXISTS ({sql})")
        params += args
        alias = probe.db
    if not parts:
        return set()
    with connections[alias].cursor() as cursor:
        # Django's own compilations of the probes, their values still bound as parameters.
        cursor.execute("SELECT " + ", ".join(parts), params)
        row = cursor.fetchone()
    return {name for name, there in zip(names, row, strict=True) if there}


def _fixed_entries(audience: Audience, span: Span, *, places: bool) -> list[Entry]:
    """DIX's identity, the extension definition, the places of the member's sightings and the
    markings of what the member receives, as `collect` adds them to a whole feed, from
    aggregates only. A place is added with the first line sighted there, so `places` is
    false when the span holds no line: then none of them is in it. The others are added at
    the epoch: only the span that holds it has them."""
    out = _Collector()
    at_epoch = span.holds(o.EPOCH)
    if at_epoch:
        out.add(o.dix_identity(), o.EPOCH)
        out.add(o.profile_extension_definition(), o.EPOCH)
    if places:
        for country, added in (
            audience.lines.values_list("report__country")
            .annotate(first=Min("report__created_at"))
            .order_by("report__country")
        ):
            out.add(o.country_location(country), added)
    in_use = _labels_in_use(audience) if at_epoch else set()
    for label in TLP.values:
        if label in in_use:
            out.add(o.tlp_marking(label), o.EPOCH)
    return out.entries


def _labels_in_use(audience: Audience) -> set[str]:
    """The labels of everything `member` receives: the directory and DIX's own objects
    (CLEAR), every profile version (a readable revision's label, the current label), the
    notice versions within the member's clearance, the seizure reports sighted."""
    member = audience.member
    profiles = audience.profiles
    notices = audience.notices
    labels = {str(TLP.CLEAR)}
    labels |= set(profiles.order_by().values_list("tlp", flat=True).distinct())
    # order_by(): a model's default ordering would join its columns into the DISTINCT.
    # The revisions the member reads are already those of profiles they see.
    labels |= set(audience.revisions.order_by().values_list("tlp", flat=True).distinct())
    labels |= set(
        NoticeVersion.objects.filter(
            notice__in=notices.values("id"), tlp__in=tlp_labels_up_to(member.clearance)
        )
        .order_by()
        .values_list("tlp", flat=True)
        .distinct()
    )
    labels |= set(audience.lines.order_by().values_list("report__tlp", flat=True).distinct())
    return labels
