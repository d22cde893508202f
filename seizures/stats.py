"""Seizure statistics for the network: reports and devices grouped by country, month,
profile, facility type and detection method, counted in the database.

Two scopes (docs/seizures.md):
- `readable`: over the reports in force the member may read (`visible_to`), every cell shown;
- `network`: over every report in force, for those who brief the network
  (`policies.may_see_network_stats`): numbers only, profiles they may not see grouped as
  `other`, and each cell of fewer than `DIX_STATS_MIN_CELL` reports suppressed — shown without
  numbers and left out of the totals, so that no total minus the shown cells gives it back.
"""

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db.models import Case, Count, F, IntegerField, Sum, Value, When
from django.db.models.functions import Coalesce, TruncMonth

from core.errors import FieldInvalid, Forbidden
from intel.models import DeviceProfile, Member
from seizures import policies
from seizures.models import SeizureReport

GROUPS = ("country", "month", "profile", "facility_type", "detection_method")
READABLE = "readable"
NETWORK = "network"
SCOPES = (READABLE, NETWORK)

# Profile keys that are not profile ids: lines of profiles the member may not see, and
# reports with no profile line (unprofiled items, negative results).
OTHER = -1
NONE = 0
PROFILE_KEY_NAMES = {OTHER: "other", NONE: "none"}


@dataclass(frozen=True)
class StatsCell:
    """One group: its keys, and its figures unless suppressed."""

    keys: dict[str, Any]
    reports: int | None
    devices: int | None
    suppressed: bool = False


@dataclass(frozen=True)
class NetworkStats:
    scope: str
    group_by: tuple[str, ...]
    min_cell: int | None
    cells: list[StatsCell]
    reports: int
    devices: int
    suppressed_cells: int


def parse_group_by(raw: str | None) -> tuple[str, ...]:
    """`country,month` → ("country", "month"); each name once, in the order given."""
    if not raw:
        return ()
    names: list[str] = []
    for name in (part.strip() for part in raw.split(",")):
        if name not in GROUPS:
            raise FieldInvalid(
                "group_by", f"{name!r} is not a grouping; choose among {', '.join(GROUPS)}."
            )
        if name in names:
            raise FieldInvalid("group_by", f"{name!r} is given twice.")
        names.append(name)
    return tuple(names)


def seizure_stats(*, member: Member, group_by: tuple[str, ...], scope: str) -> NetworkStats:
    """The reports and devices of each group, over the scope's reports in force."""
    if scope not in SCOPES:
        raise FieldInvalid("scope", f"Choose `{READABLE}` (the default) or `{NETWORK}`.")
    reports = SeizureReport.objects.in_force()
    if scope == NETWORK:
        if not policies.may_see_network_stats(member):
            raise Forbidden(
                "Network-wide figures are for the secretariat's coordinators and for members "
                "of an organisation that has published a notice; ask with scope=readable (the "
                "default) for the figures of the reports you may read."
            )
    else:
        reports = reports.visible_to(member)
    keys: dict[str, Any] = {}
    if "month" in group_by:
        keys["month"] = TruncMonth("seized_on")
    if "profile" in group_by:
        visible = DeviceProfile.objects.visible_to(member).values("id")
        keys["profile_key"] = Case(
            When(lines__profile_id__in=visible, then=F("lines__profile_id")),
            When(lines__profile_id__isnull=False, then=Value(OTHER)),
            default=Value(NONE),
            output_field=IntegerField(),
        )
    columns = [("profile_key" if name == "profile" else name) for name in group_by]
    figures = {
        "reports": Count("id", distinct=True),
        "devices": Coalesce(Sum("lines__quantity"), 0),
    }
    if columns:
        rows = list(
            reports.order_by()
            .annotate(**keys)
            .values(*columns)
            .annotate(**figures)
            .order_by(*columns)
        )
    else:  # one cell: everything
        rows = [reports.order_by().aggregate(**figures)]
        rows = [row for row in rows if row["reports"]]
    minimum = settings.DIX_STATS_MIN_CELL if scope == NETWORK else None
    names: dict[int, str] = {}
    if "profile" in group_by:
        # Only ids the member may see are left as ids: the Case above names the rest `other`.
        ids = {row["profile_key"] for row in rows} - set(PROFILE_KEY_NAMES)
        names = dict(DeviceProfile.objects.filter(pk__in=ids).values_list("id", "name"))
    cells = [_cell(row, group_by, minimum, names) for row in rows]
    shown = [cell for cell in cells if not cell.suppressed]
    return NetworkStats(
        scope=scope,
        group_by=group_by,
        min_cell=minimum,
        cells=cells,
        reports=sum(cell.reports or 0 for cell in shown),
        devices=sum(cell.devices or 0 for cell in shown),
        suppressed_cells=len(cells) - len(shown),
    )


def _cell(
    row: dict[str, Any], group_by: tuple[str, ...], minimum: int | None, names: dict[int, str]
) -> StatsCell:
    keys: dict[str, Any] = {}
    for name in group_by:
        if name == "month":
            keys[name] = f"{row['month']:%Y-%m}"
        elif name == "profile":
            key = row["profile_key"]
            keys[name] = PROFILE_KEY_NAMES.get(key, key)
            keys["profile_name"] = names.get(key)
        else:
            keys[name] = row[name]
    if minimum is not None and row["reports"] < minimum:
        return StatsCell(keys=keys, reports=None, devices=None, suppressed=True)
    return StatsCell(keys=keys, reports=row["reports"], devices=row["devices"])
