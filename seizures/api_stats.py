"""REST API for the network's seizure statistics (`GET /api/v1/seizures/stats/`)."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.conditional import conditional_response, list_etag
from core.schema import IF_NONE_MATCH, PROBLEM
from core.strict import StrictRequestMixin
from intel.api.base import member_of
from seizures.shapes import NetworkStatsSerializer, render_network_stats
from seizures.stats import GROUPS, READABLE, parse_group_by, seizure_stats

EXAMPLE = {
    "scope": "network",
    "group_by": ["country", "month"],
    "min_cell": 3,
    "totals": {"reports": 4, "devices": 1204, "suppressed_cells": 1},
    "rows": [
        {"country": "BE", "month": "2025-06", "suppressed": True},
        {"country": "FR", "month": "2025-05", "reports": 4, "devices": 1204, "suppressed": False},
    ],
}


class SeizureStatsView(StrictRequestMixin, APIView):
    query_parameters = ("group_by", "scope")

    @extend_schema(
        summary="Seizure statistics",
        description="Reports and devices seized, grouped by any of "
        + ", ".join(f"`{g}`" for g in GROUPS)
        + " (`group_by=country,month`; none: one row for everything). Withdrawn reports are "
        "left out; an amended report counts as its latest version.\n\n"
        "`scope=readable` (the default): over the reports you may read. `scope=network`: over "
        "every report of the network, for the secretariat's coordinators and the members of an "
        "organisation that has published a notice (others: 403). Numbers only; profiles you "
        "may not see are grouped as `other`; a cell of fewer than `min_cell` reports is "
        "`suppressed` (no numbers) and left out of the totals.",
        parameters=[
            OpenApiParameter(
                "group_by",
                OpenApiTypes.STR,
                description="Comma-separated, each at most once: " + ", ".join(GROUPS) + ".",
            ),
            OpenApiParameter(
                "scope",
                OpenApiTypes.STR,
                enum=["readable", "network"],
                description="Default `readable`.",
            ),
            IF_NONE_MATCH,
        ],
        responses={200: NetworkStatsSerializer, 304: None, 403: PROBLEM},
        examples=[OpenApiExample("Network-wide, by country and month", value=EXAMPLE)],
    )
    def get(self, request: Request) -> Response:
        stats = seizure_stats(
            member=member_of(request),
            group_by=parse_group_by(request.query_params.get("group_by")),
            scope=request.query_params.get("scope") or READABLE,
        )
        data = render_network_stats(stats)
        return conditional_response(request, data, list_etag(data))
