"""One window of the feed for TAXII paging: the objects added around a page, not the whole feed."""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import connections
from django.db.models import Exists, Min, QuerySet

from exchange.stix import objects
from exchange.stix.entry import Entry
from exchange.stix.mapping.audience import Audience, Collector, Scope
from exchange.stix.mapping.export import collect
from intel.models import TLP, DeviceProfile, Member, Organisation, ProfileRevision
from notices.models import Notice, NoticeStatus, NoticeVersion
from seizures.models import SeizureLine


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
    out = Collector()
    at_epoch = span.holds(objects.EPOCH)
    if at_epoch:
        out.add(objects.dix_identity(), objects.EPOCH)
        out.add(objects.profile_extension_definition(), objects.EPOCH)
    if places:
        for country, added in (
            audience.lines.values_list("report__country")
            .annotate(first=Min("report__created_at"))
            .order_by("report__country")
        ):
            out.add(objects.country_location(country), added)
    in_use = _labels_in_use(audience) if at_epoch else set()
    for label in TLP.values:
        if label in in_use:
            out.add(objects.tlp_marking(label), objects.EPOCH)
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
            notice__in=notices.values("id"), tlp__in=TLP.at_most(member.clearance)
        )
        .order_by()
        .values_list("tlp", flat=True)
        .distinct()
    )
    labels |= set(audience.lines.order_by().values_list("report__tlp", flat=True).distinct())
    return labels
