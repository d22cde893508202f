"""What a seizure report looks like to a reader: the serializers of its output, the queryset
they read and the visibility context they need, one definition for the API, its schema and
the webhook payloads; and the shape of a profile's seizure figures."""

from collections.abc import Iterable
from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from intel.models import DeviceProfile
from intel.visibility import Reader
from notices.models import Notice
from seizures import services as seizures
from seizures.models import SeizureLine, SeizureReport


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
        )
        read_only_fields = fields

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
