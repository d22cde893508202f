"""The versions of a seizure report: each, the first included, kept as a snapshot of its
fields and lines as written, and rendered for a reader with what they may not see left out."""

from typing import Any

from intel.models import Member
from seizures.models import SeizureLine, SeizureReport, SeizureReportVersion

SNAPSHOT_FIELDS = (
    "country",
    "seized_on",
    "facility_type",
    "facilities_searched",
    "notice_id",
    "operation",
    "detection_method",
    "concealment_method",
    "tacs_observed",
    "cash_amount",
    "cash_currency",
    "negative_result",
    "notes",
    "tlp",
)


def snapshot(report: SeizureReport) -> dict[str, Any]:
    """The report's fields and lines as JSON values: what a version keeps."""
    data: dict[str, Any] = {}
    for name in SNAPSHOT_FIELDS:
        value = getattr(report, name)
        data[name.removesuffix("_id")] = (
            value if value is None or isinstance(value, bool | int | list) else str(value)
        )
    data["lines"] = [
        {"profile": line.profile_id, "item_type": line.item_type, "quantity": line.quantity}
        for line in SeizureLine.objects.filter(report=report).order_by("id")
    ]
    data["recipient_organisations"] = sorted(
        report.recipient_organisations.values_list("slug", flat=True)
    )
    return data


def record_version(report: SeizureReport, *, author: Member, reason: str = "") -> None:
    """Keep the report as it now stands as its version `report.version`."""
    SeizureReportVersion.objects.create(
        report=report,
        number=report.version,
        author=author,
        reason=reason,
        snapshot=snapshot(report),
    )
