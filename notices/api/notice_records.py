"""What a notice leaves behind, under `/api/v1/notices/{id}/`: its organisations' receipts and
acknowledgements, and its published versions, as actions the notice viewset inherits."""

from collections.abc import Sequence
from typing import Any

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from core.pagination import (
    CURSOR_PARAMETERS,
    CheckedCursorPagination,
    NumberOrderPagination,
    sub_page,
)
from core.schema import PROBLEM
from core.strict import parse_id
from intel import audit
from intel.api.base import JUSTIFICATION, member_of
from intel.api.visible import get_visible_or_404
from intel.models import DeviceProfile, Organisation
from notices import services
from notices.api.follow_up_serializers import (
    AcknowledgeSerializer,
    AudiencePageSerializer,
    ReceiptPageSerializer,
)
from notices.api.serializers import NoticeVersionSerializer, ReceiptSerializer
from notices.audience import audience_totals
from notices.follow_up import audience_preview, receipts_read
from notices.models import Notice, NoticeVersion
from notices.receipts import organisations_by_id, receipt_rows


class ByIdPagination(CheckedCursorPagination):
    """A notice's audience and receipts: organisations in the order they joined the network
    (by id: a cursor position DIX did not write is then refused, as on every other list)."""

    ordering = ("id",)


CURSOR_QUERY = [
    OpenApiParameter("cursor", str, description="From the `next` or `previous` link."),
    OpenApiParameter("page_size", int, description="Rows per page, 1 to 200."),
    OpenApiParameter(
        "count",
        bool,
        description="`true`: add the exact `count` of rows over all pages (one more query).",
    ),
]

AUDIENCE_EXAMPLE = {
    "totals": {"organisations": 2, "countries": 1},
    "next": None,
    "previous": None,
    "results": [
        {
            "id": 3,
            "slug": "be-desk",
            "name": "Belgian National Desk",
            "country": "BE",
            "reasons": ["named"],
            "members": [],
        },
        {
            "id": 9,
            "slug": "be-prisons",
            "name": "Belgian prison administration",
            "country": "BE",
            "reasons": ["sponsored"],
            "members": [],
        },
    ],
}

RECEIPTS_EXAMPLE = {
    "totals": {"audience": 2, "received": 1, "read": 1, "acknowledged": 1, "reminded": 1},
    "next": None,
    "previous": None,
    "results": [
        {
            "organisation": "be-desk",
            "organisation_id": 3,
            "organisation_name": "Belgian National Desk",
            "country": "BE",
            "reasons": ["named"],
            "received_at": "2026-11-20T09:00:00Z",
            "read_at": "2026-11-20T09:01:00Z",
            "acknowledged_at": "2026-11-20T09:02:00Z",
            "acknowledged_by": "be-officer",
            "outcome": "checked_none_found",
            "comment": "Cell search in 3 prisons.",
            "reminded_at": None,
        },
        {
            "organisation": "de-desk",
            "organisation_id": 4,
            "organisation_name": "German National Desk",
            "country": "DE",
            "reasons": ["named"],
            "received_at": None,
            "read_at": None,
            "acknowledged_at": None,
            "acknowledged_by": None,
            "outcome": None,
            "comment": "",
            "reminded_at": "2026-11-27T09:00:00Z",
        },
    ],
}


class NoticeRecordActions(viewsets.GenericViewSet[Notice]):
    """Receipts and versions of one notice the requesting member may see."""

    def _visible(self, queryset: QuerySet[Notice] | None = None) -> Notice:
        pk = parse_id(self.kwargs["pk"])
        visible = queryset if queryset is not None else self.get_queryset()
        return get_visible_or_404(visible, pk, member=member_of(self.request), object_type="notice")

    @extend_schema(
        summary="Acknowledge a notice",
        description="Acknowledge for your organisation, optionally saying what was done "
        "(`outcome`) with a `comment` (personal data refused, as in seizure reports). The "
        "issuer sees it in `receipts/`. The first acknowledgement's time and member stay; a "
        "later one replaces the outcome and comment it gives.",
        request=AcknowledgeSerializer,
        responses={200: ReceiptSerializer, 409: PROBLEM},
        examples=[
            OpenApiExample(
                "Checked",
                value={"outcome": "checked_none_found", "comment": "Cell search in 3 prisons."},
                request_only=True,
            )
        ],
    )
    @action(detail=True, methods=["post"])
    def acknowledge(self, request: Request, pk: str) -> Response:
        notice = self._visible()
        form = AcknowledgeSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        receipt = services.notice_acknowledge(
            notice=notice,
            member=member_of(request),
            outcome=form.validated_data.get("outcome"),
            comment=form.validated_data.get("comment"),
        )
        return Response(ReceiptSerializer(receipt).data)

    @extend_schema(
        summary="Who the notice reaches",
        description="For the issuing organisation and the secretariat's coordinators (anyone "
        "else: 404): the organisations the notice would reach now — for a draft, once "
        "published — each with why (`reasons`), and for TLP:RED the named members. Computed "
        "by the function the webhook fan-out uses: an organisation listed here, subscribed "
        "and within its subscription's label cap, is sent the notice. Reading the audience of a "
        "TLP:AMBER, AMBER+STRICT or RED notice is recorded in the audit trail.",
        parameters=[*CURSOR_QUERY, JUSTIFICATION],
        responses={200: AudiencePageSerializer},
        examples=[OpenApiExample("Audience", value=AUDIENCE_EXAMPLE, response_only=True)],
    )
    @action(
        detail=True,
        methods=["get"],
        pagination_class=ByIdPagination,
        filterset_class=None,
        query_parameters=CURSOR_PARAMETERS,
    )
    def audience(self, request: Request, pk: str) -> Response:
        notice = self._visible()
        preview = audience_preview(
            notice=notice, reader=member_of(request), audited=request.method != "HEAD"
        )
        reached = {r.organisation.pk: r for r in preview}
        totals = audience_totals(reached.values())
        page = self._page(organisations_by_id(set(reached)))
        rows = [
            {
                "id": org.pk,
                "slug": org.slug,
                "name": org.name,
                "country": org.country,
                "reasons": list(reached[org.pk].reasons),
                "members": [m.username for m in reached[org.pk].members],
            }
            for org in page
        ]
        return self._paged(totals, rows)

    @extend_schema(
        summary="Who received, read and acknowledged",
        description="For the issuing organisation and the secretariat's coordinators (anyone "
        "else: 404): every organisation of the notice's audience (as `audience/` lists it, "
        "the issuer aside) with when it received, read and acknowledged the notice (null: "
        "not yet), what it said it did, and when it was reminded; then any other "
        "organisation that read it (the secretariat). `totals` count the audience. Reading the "
        "receipts of a TLP:AMBER, AMBER+STRICT or RED notice is recorded in the audit trail.",
        parameters=[*CURSOR_QUERY, JUSTIFICATION],
        responses={200: ReceiptPageSerializer},
        examples=[OpenApiExample("Receipts", value=RECEIPTS_EXAMPLE, response_only=True)],
    )
    @action(
        detail=True,
        methods=["get"],
        pagination_class=ByIdPagination,
        filterset_class=None,
        query_parameters=CURSOR_PARAMETERS,
    )
    def receipts(self, request: Request, pk: str) -> Response:
        notice = self._visible()
        follow_up = receipts_read(
            notice=notice, reader=member_of(request), audited=request.method != "HEAD"
        )
        page = self._page(organisations_by_id(follow_up.organisation_ids))
        return self._paged(follow_up.totals, receipt_rows(notice, page, follow_up.reasons))

    def _page(self, organisations: QuerySet[Organisation]) -> list[Organisation]:
        # The stub ties pagination to the viewset's model; these actions page organisations.
        return list(self.paginate_queryset(organisations) or [])  # type: ignore[arg-type]

    def _paged(self, totals: dict[str, int], rows: list[dict[str, Any]]) -> Response:
        assert self.paginator is not None
        page = self.paginator.get_paginated_response(rows).data
        return Response({"totals": totals, **page})

    @extend_schema(
        summary="Published versions",
        description="Every published version, oldest first, as published (immutable), "
        "cursor-paginated. Profiles you may not see are left out.",
        responses={200: NoticeVersionSerializer(many=True)},
    )
    @action(
        detail=True,
        methods=["get"],
        pagination_class=NumberOrderPagination,
        filterset_class=None,
        query_parameters=CURSOR_PARAMETERS,
    )
    def versions(self, request: Request, pk: str) -> Response:
        notice = self._visible()
        versions = NoticeVersion.objects.filter(notice=notice).prefetch_related("profiles")
        rows = sub_page(self, versions)
        return self.get_paginated_response(
            NoticeVersionSerializer(rows, many=True, context=self._version_context(rows)).data
        )

    @extend_schema(
        summary="One published version",
        description="One version by number. Reading a version labelled TLP:AMBER or above is "
        "recorded in the audit trail.",
        parameters=[JUSTIFICATION],
        responses={200: NoticeVersionSerializer},
    )
    @action(
        detail=True,
        methods=["get"],
        url_path=r"versions/(?P<number>\d+)",
        pagination_class=None,
        filterset_class=None,
    )
    def version(self, request: Request, pk: str, number: str) -> Response:
        notice = self._visible()
        row = get_object_or_404(
            NoticeVersion.objects.prefetch_related("profiles"),
            notice=notice,
            number=parse_id(number),
        )
        data = NoticeVersionSerializer(row, context=self._version_context([row])).data
        if request.method == "GET":
            audit.record_read(
                actor=member_of(request),
                action="notice.version_read",
                object_type="notice",
                object_id=notice.pk,
                object_tlp=row.tlp,
                detail={"reference": notice.reference, "version": row.number},
            )
        return Response(data)

    def _version_context(self, rows: Sequence[NoticeVersion]) -> dict[str, Any]:
        ids = {p.pk for row in rows for p in row.profiles.all()}
        visible = DeviceProfile.objects.visible_to(member_of(self.request)).filter(pk__in=ids)
        return {"visible_profile_ids": set(visible.values_list("id", flat=True))}
