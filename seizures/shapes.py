"""What a seizure report looks like to a reader: the serializers of its output, the queryset
they read and the visibility context they need, one definition for the API, its schema and
the webhook payloads; its versions; and the shapes of a profile's seizure figures and of the
network's seizure statistics."""

from collections.abc import Iterable
from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from intel.models import DeviceProfile
from intel.visibility import Reader
from notices.models import Notice
from seizures import services as seizures
from seizures.models import SeizureLine, SeizureReport, SeizureReportVersion
from seizures.stats import GROUPS, NetworkStats


def readable_seizure_reports(member: Reader) -> QuerySet[SeizureReport]:
    """The seizure reports `member` may read, loaded for `SeizureReportSerializer`."""
    return (
        SeizureReport.objects.visible_to(member)
        .select_related("organisation", "reported_by", "notice")
        .prefetch_related("lines", "recipient_organisations")
    )


def rendering_context(reports: Iterable[SeizureReport], member: Reader) -> dict[str, Any]:
    """Which of the notices and profiles these reports name the member may see."""
    reports = list(reports)
    notice_ids = {r.notice_id for r in reports if r.notice_id is not None}
    profile_ids = {
        line.profile_id for r in reports for line in r.lines.all() if line.profile_id is not None
    }
    notices = Notice.objects.visible_to(member).filter(pk__in=notice_ids)
    profiles = DeviceProfile.objects.visible_to(member).filter(pk__in=profile_ids)
    return {
        "visible_notices": set(notices.values_list("id", flat=True)),
        "visible_profiles": set(profiles.values_list("id", flat=True)),
    }


class SeizureLineSerializer(serializers.ModelSerializer[SeizureLine]):
    """How many devices of one profile, or of an unprofiled item type, were seized."""

    profile = serializers.IntegerField(
        source="profile_id",
        allow_null=True,
        help_text="The id of the profile of the devices seized; null for an `item_type`.",
    )

    class Meta:
        model = SeizureLine
        fields = ("profile", "item_type", "quantity")


class NoticeRefSerializer(serializers.Serializer[Any]):
    """A notice, as a seizure report names it."""

    id = serializers.IntegerField(help_text="The notice's id.")
    reference = serializers.CharField(help_text="The notice's reference, e.g. `DIX-2025-000123`.")


class SeizureReportSerializer(serializers.ModelSerializer[SeizureReport]):
    """A report as the requesting member may receive it: lines of profiles they may not see
    are left out, and the notice is named only if they may see it."""

    organisation = serializers.SlugRelatedField(slug_field="slug", read_only=True)  # type: ignore[var-annotated]
    reported_by = serializers.SlugRelatedField(slug_field="username", read_only=True)  # type: ignore[var-annotated]
    recipient_organisations = serializers.SlugRelatedField(  # type: ignore[var-annotated]
        slug_field="slug",
        many=True,
        read_only=True,
        help_text="Slugs of the organisations the report was sent to.",
    )
    notice = serializers.SerializerMethodField(
        help_text="The notice the report answers, if you may see it; null otherwise."
    )
    lines = serializers.SerializerMethodField(
        help_text="What was seized, line by line: the lines about profiles you may not see are left out."
    )

    class Meta:
        model = SeizureReport
        fields = (
            "id",
            "organisation",
            "reported_by",
            "country",
            "seized_on",
            "facility_type",
            "facilities_searched",
            "notice",
            "operation",
            "detection_method",
            "concealment_method",
            "tacs_observed",
            "cash_amount",
            "cash_currency",
            "negative_result",
            "notes",
            "tlp",
            "recipient_organisations",
            "lines",
            "created_at",
            "version",
            "status",
            "withdrawn_at",
            "withdrawal_reason",
        )
        read_only_fields = fields
        extra_kwargs = {
            "version": {"help_text": "1 when filed, one more at each amendment."},
            "status": {"help_text": "`filed`, or `withdrawn`: no figure counts it any more."},
            "withdrawn_at": {"help_text": "When the report was withdrawn; null if it is not."},
            "withdrawal_reason": {"help_text": "Why it was withdrawn; empty if it is not."},
        }

    @extend_schema_field(NoticeRefSerializer(allow_null=True))
    def get_notice(self, report: SeizureReport) -> dict[str, Any] | None:
        if report.notice_id is None or report.notice_id not in self.context["visible_notices"]:
            return None
        assert report.notice is not None
        return {"id": report.notice_id, "reference": report.notice.reference}

    @extend_schema_field(SeizureLineSerializer(many=True))
    def get_lines(self, report: SeizureReport) -> list[dict[str, Any]]:
        visible = self.context["visible_profiles"]
        shown = [
            line
            for line in report.lines.all()
            if line.profile_id is None or line.profile_id in visible
        ]
        return SeizureLineSerializer(shown, many=True).data  # type: ignore[return-value]


class SeizureFiguresSerializer(serializers.Serializer[Any]):
    """Seizure figures about one profile."""

    reports = serializers.IntegerField(help_text="Reports concerning the profile.")
    negative_reports = serializers.IntegerField(help_text="Of which: searched, nothing found.")
    quantity = serializers.IntegerField(help_text="Devices of this profile seized.")


class SeizureCountryMonthSerializer(SeizureFiguresSerializer):
    """Seizure figures about one profile, for one country and month."""

    country = serializers.CharField(help_text="The country of the searches (ISO 3166-1 alpha-2).")
    month = serializers.CharField(help_text="YYYY-MM, the month of the seizure.")


class SeizureStatsSerializer(serializers.Serializer[Any]):
    """A profile's seizure figures, over the reports you may read."""

    profile = serializers.IntegerField(help_text="The profile's id.")
    totals = SeizureFiguresSerializer(help_text="The figures over every report you may read.")
    by_country_month = SeizureCountryMonthSerializer(
        many=True, help_text="The same figures per country and month of seizure."
    )


def render_stats(stats: seizures.SeizureStats) -> dict[str, Any]:
    return {
        "profile": stats.profile_id,
        "totals": vars(stats.totals),
        "by_country_month": [
            {"country": country, "month": month, **vars(figures)}
            for country, month, figures in stats.by_country_month
        ],
    }


# --- Versions --------------------------------------------------------------------------------


class SeizureSnapshotSerializer(serializers.Serializer[Any]):
    """A report's fields as one version had them."""

    country = serializers.CharField(help_text="Where the search took place (ISO 3166-1 alpha-2).")
    seized_on = serializers.DateField(help_text="The day of the search or seizure.")
    facility_type = serializers.CharField(
        help_text="A value of `facility_type` (docs/vocabularies.md)."
    )
    facilities_searched = serializers.IntegerField(
        allow_null=True, help_text="How many facilities were searched, if known."
    )
    notice = serializers.IntegerField(
        allow_null=True, help_text="The notice answered; null if none or one you may not see."
    )
    operation = serializers.CharField(allow_blank=True, help_text="The operation's name, if any.")
    detection_method = serializers.CharField(
        allow_blank=True, help_text="A value of `detection_method`, or empty."
    )
    concealment_method = serializers.CharField(
        allow_blank=True, help_text="How the devices were hidden, if said."
    )
    tacs_observed = serializers.ListField(
        child=serializers.CharField(), help_text="TACs read on the seized devices."
    )
    cash_amount = serializers.DecimalField(
        max_digits=14, decimal_places=2, allow_null=True, help_text="Cash seized, if any."
    )
    cash_currency = serializers.CharField(
        allow_blank=True, help_text="ISO 4217 code of `cash_amount`."
    )
    negative_result = serializers.BooleanField(help_text="A search that found nothing.")
    notes = serializers.CharField(allow_blank=True, help_text="Free text (never personal data).")
    tlp = serializers.CharField(help_text="The version's TLP label.")
    lines = SeizureLineSerializer(
        many=True, help_text="Lines of profiles you may not see are left out."
    )
    recipient_organisations = serializers.ListField(
        child=serializers.CharField(), help_text="Slugs of the organisations it was shared with."
    )


class SeizureReportVersionSerializer(serializers.Serializer[Any]):
    """One version of a report as the requesting member may read it: lines of profiles they
    may not see are left out, and the notice is named only if they may see it."""

    number = serializers.IntegerField(help_text="1 for the report as filed.")
    author = serializers.CharField(allow_null=True, help_text="Who wrote this version.")
    created_at = serializers.DateTimeField(help_text="When this version was written.")
    reason = serializers.CharField(help_text="Why it was amended; empty for the first.")
    report = SeizureSnapshotSerializer(
        help_text="The report's fields as this version had them (`notice` an id, `lines` "
        "with `profile` ids)."
    )


def render_versions(
    versions: Iterable[SeizureReportVersion], member: Reader
) -> list[dict[str, Any]]:
    versions = list(versions)
    snapshots = [v.snapshot for v in versions]
    notices = {s["notice"] for s in snapshots if s.get("notice") is not None}
    profiles = {
        line["profile"] for s in snapshots for line in s["lines"] if line["profile"] is not None
    }
    visible_notices = set(
        Notice.objects.visible_to(member).filter(pk__in=notices).values_list("id", flat=True)
    )
    visible_profiles = set(
        DeviceProfile.objects.visible_to(member)
        .filter(pk__in=profiles)
        .values_list("id", flat=True)
    )
    out = []
    for version in versions:
        report = dict(version.snapshot)
        if report.get("notice") not in visible_notices:
            report["notice"] = None
        report["lines"] = [
            line
            for line in report["lines"]
            if line["profile"] is None or line["profile"] in visible_profiles
        ]
        out.append(
            {
                "number": version.number,
                "author": version.author.username if version.author else None,
                "created_at": version.created_at,
                "reason": version.reason,
                "report": report,
            }
        )
    return out


# --- Network statistics ----------------------------------------------------------------------


@extend_schema_field(
    {
        "oneOf": [{"type": "integer"}, {"type": "string", "enum": ["other", "none"]}],
        "description": "A profile's id; `other` for profiles you may not see; `none` for "
        "devices without a profile and for negative results. Only with `group_by=profile`.",
    }
)
class ProfileKeyField(serializers.Field):  # type: ignore[type-arg]
    def to_representation(self, value: Any) -> Any:
        return value


class StatsRowSerializer(serializers.Serializer[Any]):
    """One cell of the statistics: its group keys, and its counts unless suppressed."""

    country = serializers.CharField(required=False, help_text="With `group_by=country`.")
    month = serializers.CharField(
        required=False, help_text="YYYY-MM, the month of the seizure; with `group_by=month`."
    )
    profile = ProfileKeyField(required=False)
    profile_name = serializers.CharField(
        required=False,
        allow_null=True,
        help_text="The profile's name, for a profile you may see; with `group_by=profile`.",
    )
    facility_type = serializers.CharField(
        required=False, help_text="With `group_by=facility_type`."
    )
    detection_method = serializers.CharField(
        required=False,
        allow_blank=True,
        help_text="Empty when the report names none; with `group_by=detection_method`.",
    )
    reports = serializers.IntegerField(
        required=False, help_text="Reports in the cell; absent when suppressed."
    )
    devices = serializers.IntegerField(
        required=False, help_text="Devices seized in the cell; absent when suppressed."
    )
    suppressed = serializers.BooleanField(
        help_text="True when the cell holds fewer reports than `min_cell` (scope `network`): "
        "its numbers are left out, and out of the totals."
    )


class StatsTotalsSerializer(serializers.Serializer[Any]):
    """The sums over the cells shown (suppressed cells are left out)."""

    reports = serializers.IntegerField(
        help_text="Sum of the shown cells' reports (a report with lines of several profiles "
        "counts once per profile when grouped by profile)."
    )
    devices = serializers.IntegerField(help_text="Sum of the shown cells' devices.")
    suppressed_cells = serializers.IntegerField(help_text="Cells whose numbers are withheld.")


class NetworkStatsSerializer(serializers.Serializer[Any]):
    """Seizure statistics grouped as asked, over the reports in scope."""

    scope = serializers.ChoiceField(
        choices=["readable", "network"],
        help_text="`readable`: the reports you may read; `network`: every report, numbers only.",
    )
    group_by = serializers.ListField(
        child=serializers.ChoiceField(choices=GROUPS), help_text="The groupings, in order."
    )
    min_cell = serializers.IntegerField(
        allow_null=True,
        help_text="Scope `network`: cells with fewer reports are suppressed. Null otherwise.",
    )
    totals = StatsTotalsSerializer(help_text="Sums over the cells shown.")
    rows = StatsRowSerializer(many=True, help_text="One per group, largest first.")


def render_network_stats(stats: NetworkStats) -> dict[str, Any]:
    rows = []
    for cell in stats.cells:
        row = dict(cell.keys)
        if not cell.suppressed:
            row |= {"reports": cell.reports, "devices": cell.devices}
        rows.append(row | {"suppressed": cell.suppressed})
    return {
        "scope": stats.scope,
        "group_by": list(stats.group_by),
        "min_cell": stats.min_cell,
        "totals": {
            "reports": stats.reports,
            "devices": stats.devices,
            "suppressed_cells": stats.suppressed_cells,
        },
        "rows": rows,
    }
