"""Who the export is for and what it covers: the member's audience, the scope, the collector."""

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import Any

from django.db.models import QuerySet
from django.db.models.expressions import RawSQL

from exchange.stix.entry import Entry
from intel.models import DeviceProfile, Member, ProfileRevision
from intel.visibility_bulk import viewer_sql
from notices.models import PUBLIC_STATES, Notice
from seizures.models import SeizureLine, SeizureReport


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
    # through the member's `Audience` in this call (with the visibility check, in the
    # same statement): they are not read again.
    profile_rows: tuple[tuple[int, int, datetime, str], ...] | None = None


@dataclass
class Collector:
    """The entries an export gathers, and when each sighted country was first sighted."""

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
        """The seizure lines the member may see as sightings: of a visible report in force
        (not withdrawn; its lines are those of its latest version), about a profile the
        member sees."""
        reports = self._ids(
            "reports", lambda m: SeizureReport.objects.in_force().visible_to(m).values("id")
        )
        return SeizureLine.objects.filter(report_id__in=reports, profile_id__in=self.profile_ids)


class VisibleProfiles:
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
