"""REST API for seizure and hit reports (`/api/v1/seizures/`) and a profile's seizure figures
(`/api/v1/profiles/{id}/seizure-stats/`).

Reports are filed, amended (a new version, the old kept) or withdrawn, never deleted. Every
read starts from
`SeizureReport.objects.visible_to(member)` and renders for that member: a line of a profile the
member may not see, and a notice the member may not see, are left out.
"""

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

import django_filters
from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from django.urls import reverse
from drf_spectacular.utils import (
    OpenApiExample,
    extend_schema,
    extend_schema_view,
)
from rest_framework import exceptions, mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.conditional import conditional_response, list_etag
from core.errors import FieldInvalid, Forbidden
from core.pagination import CURSOR_PARAMETERS, NumberOrderPagination, sub_page
from core.schema import IF_NONE_MATCH, PROBLEM
from core.serializers import TAC_RE, CountryField, StrictFieldsMixin
from core.strict import (
    BooleanFilter,
    CountryFilter,
    FilterId,
    IdFilter,
    SlugFilter,
    StrictRequestMixin,
    parse_id,
)
from intel import audit
from intel.api.base import member_of
from intel.api.visible import get_visible_or_404
from intel.models import TLP, DetectionMethod, DeviceProfile, Member, Organisation
from notices.models import Notice
from seizures import amendments, policies
from seizures import services as seizures
from seizures.models import FacilityType, SeizureLine, SeizureReport
from seizures.shapes import (
    SeizureReportSerializer,
    SeizureReportVersionSerializer,
    SeizureStatsSerializer,
    readable_seizure_reports,
    render_stats,
    render_versions,
    rendering_context,
)

# Annotations inside the viewsets cannot say `list[...]`: there `list` is the list action.
Rendered = list[dict[str, Any]]

MAX_COUNT = 1_000_000  # far above any real seizure, far below the database's integer range

# --- Serializers -----------------------------------------------------------------------------


class SeizureLineWriteSerializer(StrictFieldsMixin, serializers.Serializer[Any]):
    """A profile you may see, or an `item_type` for devices without a profile."""

    profile = serializers.PrimaryKeyRelatedField(
        queryset=DeviceProfile.objects.none(),
        required=False,
        allow_null=True,
        help_text="The id of the profile of the devices seized (a profile you see); null with `item_type`.",
    )
    item_type = serializers.CharField(
        max_length=60,
        required=False,
        allow_blank=True,
        help_text="For devices without a profile, e.g. `other_mobile_phone`.",
    )
    quantity = serializers.IntegerField(
        min_value=1, max_value=MAX_COUNT, help_text="How many were seized (at least 1)."
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if (attrs.get("profile") is None) == (not attrs.get("item_type")):
            raise serializers.ValidationError(
                "Give either a profile or an item_type (for devices without a profile), not "
                "both and not neither."
            )
        return attrs


class SeizureReportWriteSerializer(StrictFieldsMixin, serializers.Serializer[Any]):
    """A report as a desk files it."""

    country = CountryField(
        required=False, help_text="ISO 3166-1 alpha-2; defaults to your organisation's country."
    )
    seized_on = serializers.DateField(help_text="The day of the search; not in the future.")
    facility_type = serializers.ChoiceField(
        choices=FacilityType.choices,
        help_text="Where the search took place: a value of `facility_type` (docs/vocabularies.md).",
    )
    facilities_searched = serializers.IntegerField(
        min_value=1,
        max_value=MAX_COUNT,
        required=False,
        allow_null=True,
        help_text="How many facilities (prisons, cells, buildings) were searched, if known.",
    )
    notice = serializers.PrimaryKeyRelatedField(
        queryset=Notice.objects.none(),
        required=False,
        allow_null=True,
        help_text="The notice this report answers (one you may see). Its issuer receives the "
        "report.",
    )
    operation = serializers.CharField(
        max_length=200,
        required=False,
        allow_blank=True,
        help_text="The operation's name or reference, if any.",
    )
    detection_method = serializers.ChoiceField(
        choices=DetectionMethod.choices,
        required=False,
        allow_blank=True,
        help_text="What found the devices: a value of `detection_method` (docs/vocabularies.md) (the profiles' list); empty if not said.",
    )
    concealment_method = serializers.CharField(
        max_length=200,
        required=False,
        allow_blank=True,
        help_text="How the devices were hidden, in a few words.",
    )
    tacs_observed = serializers.ListField(
        child=serializers.CharField(max_length=8),
        required=False,
        max_length=500,
        help_text="IMEI TACs (8 digits) of the devices found. Never whole IMEIs.",
    )
    cash_amount = serializers.DecimalField(
        max_digits=14,
        decimal_places=2,
        min_value=Decimal("0.01"),
        required=False,
        allow_null=True,
        help_text="Cash seized; with `cash_currency`.",
    )
    cash_currency = serializers.CharField(
        max_length=3, required=False, allow_blank=True, help_text="ISO 4217, e.g. EUR."
    )
    negative_result = serializers.BooleanField(
        default=False, help_text="Searched, nothing found: then no lines."
    )
    notes = serializers.CharField(
        max_length=5000,
        required=False,
        allow_blank=True,
        help_text="Anything else about the search, in free text (never personal data: checked for phone numbers, e-mail addresses and IMSIs).",
    )
    tlp = serializers.ChoiceField(
        choices=TLP.choices,
        default=TLP.GREEN,
        help_text="At most your clearance; TLP:RED is refused (a report goes to organisations).",
    )
    recipient_organisations = serializers.SlugRelatedField(
        slug_field="slug",
        many=True,
        required=False,
        queryset=Organisation.objects.all(),
        help_text="Organisations the report is sent to (slugs); the notice's issuer is added.",
    )
    lines = SeizureLineWriteSerializer(  # type: ignore[call-arg]  # ListSerializer takes max_length; the stubs lag
        many=True,
        required=False,
        max_length=100,
        help_text="What was seized, line by line (up to 100); none for a negative result.",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        member = _member(self.context)
        if member is not None:
            # A notice or profile the reporter cannot see is answered like one that does not
            # exist.
            self.fields["notice"].queryset = Notice.objects.visible_to(member)  # type: ignore[attr-defined]
            line = self.fields["lines"].child  # type: ignore[attr-defined]
            line.fields["profile"].queryset = DeviceProfile.objects.visible_to(member)

    def validate_tacs_observed(self, tacs: list[str]) -> list[str]:
        for tac in tacs:
            if not TAC_RE.fullmatch(tac):
                raise serializers.ValidationError(f"{tac!r}: a TAC is exactly 8 digits.")
        return tacs

    def to_input(self) -> seizures.SeizureInput:
        fields = dict(self.validated_data)
        lines = [
            seizures.SeizureLineInput(
                profile=line.get("profile"),
                item_type=line.get("item_type", ""),
                quantity=line["quantity"],
            )
            for line in fields.pop("lines", [])
        ]
        return seizures.SeizureInput(lines=lines, **fields)


class SeizureReportAmendSerializer(SeizureReportWriteSerializer):
    """The fields to change, each as when filing, and why. `lines`, when given, replaces the
    lines you may see; `recipient_organisations` adds to those the report was sent to."""

    reason = serializers.CharField(
        max_length=2000, help_text="Why the report is amended (kept with the new version)."
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        # A partial body makes every field optional; the reason is not.
        if not attrs.get("reason", "").strip():
            raise serializers.ValidationError({"reason": ["Say why the report is amended."]})
        return attrs

    def to_changes(self) -> dict[str, Any]:
        fields = dict(self.validated_data)
        fields.pop("reason")
        if "lines" in fields:
            lines = []
            for index, line in enumerate(fields["lines"]):
                # A partial body makes every field optional, the lines' quantities included.
                if "quantity" not in line:
                    raise FieldInvalid(f"lines.{index}.quantity", "This field is required.")
                lines.append(
                    seizures.SeizureLineInput(
                        profile=line.get("profile"),
                        item_type=line.get("item_type", ""),
                        quantity=line["quantity"],
                    )
                )
            fields["lines"] = lines
        return fields


class SeizureReportWithdrawSerializer(StrictFieldsMixin, serializers.Serializer[Any]):
    """Why the report is withdrawn."""

    reason = serializers.CharField(
        max_length=2000,
        help_text="Why the report is withdrawn, e.g. a double count; shown with the report.",
    )


def _member(context: dict[str, Any]) -> Member | None:
    request = context.get("request")
    user = getattr(request, "user", None)
    return user if isinstance(user, Member) else None


# --- Filters ---------------------------------------------------------------------------------


class SeizureReportFilter(django_filters.FilterSet):  # type: ignore[misc]  # django-filter ships no types
    """Each filter works on reports already cut by `visible_to`."""

    country = CountryFilter(field_name="country", help_text="ISO 3166-1 alpha-2.")
    facility_type = django_filters.MultipleChoiceFilter(
        choices=FacilityType.choices, help_text="Facility type(s)."
    )
    notice = IdFilter(
        method="filter_notice", help_text="Reports answering this notice (an id you may see)."
    )
    profile = IdFilter(
        method="filter_profile",
        help_text="Reports with a line of this profile (an id you may see).",
    )
    seized_from = django_filters.DateFilter(
        field_name="seized_on", lookup_expr="gte", help_text="Seized on or after (YYYY-MM-DD)."
    )
    seized_until = django_filters.DateFilter(
        field_name="seized_on", lookup_expr="lte", help_text="Seized on or before (YYYY-MM-DD)."
    )
    negative_result = BooleanFilter(
        help_text="`true`: searches that found nothing; `false`: seizures."
    )
    organisation = SlugFilter(
        field_name="organisation__slug", help_text="Reporting organisation's slug."
    )

    class Meta:
        model = SeizureReport
        fields: list[str] = []

    def filter_notice(
        self, queryset: QuerySet[SeizureReport], name: str, value: FilterId
    ) -> QuerySet[SeizureReport]:
        """A notice the member may not see matches nothing, exactly like a missing one."""
        visible = Notice.objects.visible_to(self.request.user).values("id")
        return queryset.filter(notice_id=value, notice_id__in=visible)

    def filter_profile(
        self, queryset: QuerySet[SeizureReport], name: str, value: FilterId
    ) -> QuerySet[SeizureReport]:
        visible = DeviceProfile.objects.visible_to(self.request.user).values("id")
        lines = SeizureLine.objects.filter(profile_id=value, profile_id__in=visible)
        return queryset.filter(id__in=lines.values("report_id"))


# --- Views -----------------------------------------------------------------------------------

REPORT_EXAMPLE = {
    "country": "FR",
    "seized_on": "2025-05-20",
    "facility_type": "prison",
    "facilities_searched": 66,
    "notice": 1,
    "operation": "Operation Prison Break",
    "detection_method": "targeted_cell_search",
    "lines": [
        {"profile": 1, "quantity": 88},
        {"item_type": "other_mobile_phone", "quantity": 76},
    ],
    "tlp": "TLP:GREEN",
}
NEGATIVE_EXAMPLE = {
    "country": "BE",
    "seized_on": "2025-06-12",
    "facility_type": "prison",
    "facilities_searched": 3,
    "notice": 1,
    "detection_method": "targeted_cell_search",
    "negative_result": True,
    "tlp": "TLP:GREEN",
}


@extend_schema_view(
    list=extend_schema(
        summary="Seizure reports",
        description="The seizure and hit reports you may see, newest first. Filters: "
        "country, facility_type, notice, profile, seized_from / seized_until, "
        "negative_result, organisation. Lines of profiles you may not see are left out.",
        parameters=[IF_NONE_MATCH],
        responses={200: SeizureReportSerializer(many=True), 304: None, 404: PROBLEM},
    ),
    retrieve=extend_schema(
        summary="One seizure report",
        description="The report as you may receive it. Reading an AMBER or AMBER+STRICT "
        "report is recorded in the audit trail. 404 if it does not exist or is not visible.",
        parameters=[IF_NONE_MATCH],
        responses={200: SeizureReportSerializer, 304: None},
    ),
    create=extend_schema(
        summary="Report a seizure or a negative search",
        description="File a report for your organisation (auditors do not report). It is "
        "never deleted: amend it (a new version) or withdraw it. A positive report has at least one line (a profile "
        "you may see, or an `item_type`, and a quantity); a negative result "
        "(`negative_result: true`, searched and nothing found) has none. The date may not be "
        "in the future; cash seized takes an amount and an ISO 4217 currency. The label is at "
        "most your clearance and at most TLP:AMBER+STRICT. The linked notice's issuer "
        "receives the report (`seizure.reported` webhook). Free text holding a phone number, "
        "an e-mail address, an IMSI or a full IMEI is refused: reports hold device data, not "
        "people.",
        request=SeizureReportWriteSerializer,
        responses={201: SeizureReportSerializer, 403: PROBLEM, 404: PROBLEM},
        examples=[
            OpenApiExample("Seizure in prisons", value=REPORT_EXAMPLE, request_only=True),
            OpenApiExample("Searched, nothing found", value=NEGATIVE_EXAMPLE, request_only=True),
        ],
    ),
)
class SeizureReportViewSet(
    StrictRequestMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet[SeizureReport],
):
    queryset = SeizureReport.objects.none()
    serializer_class = SeizureReportSerializer
    filterset_class = SeizureReportFilter
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_queryset(self) -> QuerySet[SeizureReport]:
        if getattr(self, "swagger_fake_view", False):
            return SeizureReport.objects.none()
        return readable_seizure_reports(member_of(self.request))

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        data = self.get_paginated_response(self._render(page or [])).data
        return conditional_response(request, data, list_etag(data))

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        member = member_of(request)
        report = get_visible_or_404(
            self.get_queryset(),
            parse_id(self.kwargs["pk"]),
            member=member,
            object_type="seizure_report",
        )
        audit.record_read(
            actor=member,
            object_type="seizure_report",
            object_id=report.pk,
            object_tlp=report.tlp,
            request=request,
        )
        data = self._render([report])[0]
        return conditional_response(request, data, list_etag(data))

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        member = member_of(request)
        if not policies.may_report(member):
            raise Forbidden("Members of an organisation report seizures; auditors do not.")
        form = SeizureReportWriteSerializer(data=request.data, context={"request": request})
        form.is_valid(raise_exception=True)
        report = seizures.seizure_report_create(
            reporter=member, data=form.to_input(), request=request
        )
        data = self._render([get_object_or_404(self.get_queryset(), pk=report.pk)])[0]
        location = reverse("seizure-report-detail", kwargs={"pk": report.pk})
        return Response(data, status=status.HTTP_201_CREATED, headers={"Location": location})

    @extend_schema(
        summary="Amend a seizure report",
        description="Write a new version of a report of your organisation (whoever may report "
        "for it; not auditors: 403): the fields sent replace the current ones, checked as when "
        "filing (personal data refused in free text and in `reason`); `lines`, when sent, "
        "replaces the lines you may see; `recipient_organisations` adds recipients (a report "
        "sent stays sent). The previous version is kept (`GET …/versions/`) and every figure "
        "counts the latest. A withdrawn report: 409.",
        request=SeizureReportAmendSerializer,
        responses={200: SeizureReportSerializer, 403: PROBLEM, 409: PROBLEM},
        examples=[
            OpenApiExample(
                "A recount",
                value={
                    "lines": [{"profile": 1, "quantity": 90}],
                    "reason": "Recount at the evidence store: 90, not 88.",
                },
                request_only=True,
            )
        ],
    )
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        member = member_of(request)
        report = get_object_or_404(self.get_queryset(), pk=parse_id(self.kwargs["pk"]))
        form = SeizureReportAmendSerializer(
            data=request.data, partial=True, context={"request": request}
        )
        form.is_valid(raise_exception=True)
        amendments.seizure_report_amend(
            member=member,
            report=report,
            changes=form.to_changes(),
            reason=form.validated_data["reason"],
            request=request,
        )
        return Response(self._render([get_object_or_404(self.get_queryset(), pk=report.pk)])[0])

    @extend_schema(
        summary="Withdraw a seizure report",
        description="Withdraw a report of your organisation, with a reason (whoever may report "
        "for it; not auditors: 403). It stays readable, `status: withdrawn`, and no figure "
        "counts it any more. Reports are never deleted. Already withdrawn: 409.",
        request=SeizureReportWithdrawSerializer,
        responses={200: SeizureReportSerializer, 403: PROBLEM, 409: PROBLEM},
        examples=[
            OpenApiExample(
                "A double count",
                value={"reason": "Filed twice: the same search as report 1."},
                request_only=True,
            )
        ],
    )
    @action(detail=True, methods=["post"])
    def withdraw(self, request: Request, pk: str) -> Response:
        member = member_of(request)
        report = get_object_or_404(self.get_queryset(), pk=parse_id(pk))
        form = SeizureReportWithdrawSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        amendments.seizure_report_withdraw(
            member=member, report=report, reason=form.validated_data["reason"], request=request
        )
        return Response(self._render([get_object_or_404(self.get_queryset(), pk=report.pk)])[0])

    @extend_schema(
        summary="A seizure report's versions",
        description="Every version of a report you may read, the first (as filed) included, "
        "oldest first, cursor-paginated: who wrote it, when, why, and the report's fields as "
        "they were. Lines of profiles and a notice you may not see are left out. Reading an "
        "AMBER or AMBER+STRICT report's versions is recorded in the audit trail.",
        responses={200: SeizureReportVersionSerializer(many=True)},
    )
    @action(
        detail=True,
        methods=["get"],
        pagination_class=NumberOrderPagination,
        filterset_class=None,
        query_parameters=CURSOR_PARAMETERS,
    )
    def versions(self, request: Request, pk: str) -> Response:
        member = member_of(request)
        report = get_visible_or_404(
            self.get_queryset(), parse_id(pk), member=member, object_type="seizure_report"
        )
        audit.record_read(
            actor=member,
            object_type="seizure_report",
            object_id=report.pk,
            object_tlp=report.tlp,
            request=request,
            detail={"versions": True},
        )
        rows = sub_page(self, report.versions.select_related("author"))
        return self.get_paginated_response(render_versions(rows, member))

    # Not an operation of the schema: like any method an endpoint lacks, DELETE answers 405,
    # here with a problem saying what to do instead.
    @extend_schema(exclude=True)
    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        raise exceptions.MethodNotAllowed(
            "DELETE",
            detail="Seizure reports are never deleted: withdraw it instead "
            "(POST /api/v1/seizures/{id}/withdraw/ with a reason).",
        )

    def _render(self, reports: Iterable[SeizureReport]) -> Rendered:
        reports = list(reports)
        context = rendering_context(reports, member_of(self.request))
        return SeizureReportSerializer(reports, many=True, context=context).data  # type: ignore[return-value]


class ProfileSeizureStatsView(StrictRequestMixin, APIView):
    @extend_schema(
        summary="A profile's seizure figures",
        description="Over the seizure reports you may see that concern this profile (a line "
        "of it, or answering a notice about it that you may see), by country and month of "
        "seizure (YYYY-MM): reports, negative reports and the quantity of this profile "
        "seized; plus totals. 404 if you may not see the profile.",
        parameters=[IF_NONE_MATCH],
        responses={200: SeizureStatsSerializer, 304: None},
        examples=[
            OpenApiExample(
                "The demo's mini phone",
                value={
                    "profile": 1,
                    "totals": {"reports": 3, "negative_reports": 1, "quantity": 588},
                    "by_country_month": [
                        {
                            "country": "FR",
                            "month": "2025-05",
                            "reports": 2,
                            "negative_reports": 0,
                            "quantity": 588,
                        },
                        {
                            "country": "BE",
                            "month": "2025-06",
                            "reports": 1,
                            "negative_reports": 1,
                            "quantity": 0,
                        },
                    ],
                },
                response_only=True,
            )
        ],
    )
    def get(self, request: Request, pk: str) -> Response:
        member = member_of(request)
        profile = get_visible_or_404(
            DeviceProfile.objects.visible_to(member),
            parse_id(pk),
            member=member,
            object_type="profile",
        )
        data = render_stats(seizures.profile_seizure_stats(profile=profile, member=member))
        return conditional_response(request, data, list_etag(data))
