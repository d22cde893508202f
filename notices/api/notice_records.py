"""What a notice leaves behind, under `/api/v1/notices/{id}/`: its organisations' receipts and
acknowledgements, and its published versions, as actions the notice viewset inherits."""

from collections.abc import Sequence
from typing import Any

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from core.errors import NotFound
from core.pagination import CURSOR_PARAMETERS, NumberOrderPagination, sub_page
from core.schema import PROBLEM
from core.strict import parse_id
from intel import audit
from intel.api.base import JUSTIFICATION, member_of
from intel.models import DeviceProfile
from notices import policies, services
from notices.api.serializers import NoticeVersionSerializer, ReceiptSerializer
from notices.models import Notice, NoticeReceipt, NoticeVersion


class NoticeRecordActions(viewsets.GenericViewSet[Notice]):
    """Receipts and versions of one notice the requesting member may see."""

    def _visible(self, queryset: QuerySet[Notice] | None = None) -> Notice:
        pk = parse_id(self.kwargs["pk"])
        return get_object_or_404(queryset if queryset is not None else self.get_queryset(), pk=pk)

    @extend_schema(
        summary="Acknowledge a notice",
        description="Acknowledge for your organisation. The issuer sees it in `receipts/`.",
        request=None,
        responses={200: ReceiptSerializer, 409: PROBLEM},
    )
    @action(detail=True, methods=["post"], accepts_body=False)
    def acknowledge(self, request: Request, pk: str) -> Response:
        notice = self._visible()
        receipt = services.notice_acknowledge(notice=notice, member=member_of(request))
        return Response(ReceiptSerializer(receipt).data)

    @extend_schema(
        summary="Who received, read and acknowledged",
        description="For the issuing organisation and the secretariat's coordinators: one "
        "row per organisation that received the notice. Anyone else: 404.",
        responses={200: ReceiptSerializer(many=True)},
    )
    @action(detail=True, methods=["get"], pagination_class=None, filterset_class=None)
    def receipts(self, request: Request, pk: str) -> Response:
        notice = self._visible()
        if not policies.may_see_receipts(member_of(request), notice):
            raise NotFound("Not found.")
        rows = NoticeReceipt.objects.filter(notice=notice).select_related(
            "organisation", "acknowledged_by"
        )
        return Response(ReceiptSerializer(rows.order_by("organisation__slug"), many=True).data)

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
