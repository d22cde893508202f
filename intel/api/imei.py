"""REST API for bulk IMEI checks (`POST /api/v1/imei-checks/`), docs/imei-checks.md.

Three ways to send the list, one answer: JSON (an object `{"imeis": [...]}` or the bare
array), a CSV file as the multipart field `file`, or a CSV body (`Content-Type: text/csv`).
The answer holds every item in input order, so it is not paginated. What the endpoint accepts
is in `intel.api.imei_input`, what it answers in `intel.api.imei_result`.
"""

from django.http import HttpResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework.parsers import MultiPartParser
from rest_framework.renderers import BrowsableAPIRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.views import APIView

from core.strict import StrictRequestMixin
from intel.api.base import member_of
from intel.api.imei_csv import COLUMNS, ImeiCsvRenderer, csv_rows
from intel.api.imei_input import (
    MAX_BODY_BYTES,
    ImeiCsvParser,
    ImeiCsvUploadSerializer,
    ImeiJsonParser,
    ImeiListSerializer,
    count_within_limit,
    imeis_from_csv,
    read_bounded,
    too_large,
)
from intel.api.imei_result import ImeiCheckResultSerializer, render
from intel.imei import MAX_ITEMS, imei_check_perform

EXAMPLE_ANSWER = {
    "summary": {"items": 3, "valid": 2, "invalid": 1, "matched": 2},
    "sha256": "1942123a9fc70418e81466a8c87873a38c985b563c582aefea58e8d2eac16507",
    "profiles": [
        {
            "id": 2,
            "name": "L8star ultra-compact mini phone",
            "tlp": "TLP:GREEN",
            "device_class": "mini_phone",
            "retired": False,
            "url": "/api/v1/profiles/2/",
        }
    ],
    "items": [
        {
            "input": "00-999900-000005-3",
            "normalised": "009999000000053",
            "kind": "imei",
            "valid": True,
            "reason": None,
            "tac": "00999900",
            "profiles": [2],
        },
        {
            "input": "00999900000004",
            "normalised": "009999000000046",
            "kind": "imei",
            "valid": True,
            "reason": None,
            "tac": "00999900",
            "profiles": [2],
        },
        {
            "input": "009999000000013",
            "normalised": None,
            "kind": None,
            "valid": False,
            "reason": "bad_check_digit",
            "tac": None,
            "profiles": [],
        },
    ],
}


EXAMPLE_CSV = (
    ",".join(COLUMNS) + "\r\n"
    "00-999900-000005-3,009999000000053,imei,true,,00999900,true,2,"
    "L8star ultra-compact mini phone\r\n"
    "009999000000013,,,false,bad_check_digit,,false,,\r\n"
)


class ImeiCheckView(StrictRequestMixin, APIView):
    parser_classes = [ImeiJsonParser, ImeiCsvParser, MultiPartParser]
    renderer_classes = [JSONRenderer, BrowsableAPIRenderer, ImeiCsvRenderer]

    @extend_schema(
        summary="Check IMEIs against device profiles",
        description=(
            f"Check 1 to {MAX_ITEMS:,} seized IMEIs at once: each is normalised (spaces, "
            "tabs, hyphens, dots and slashes removed), validated (14 or 15 digits, the Luhn "
            "check digit on 15; 16 digits are an IMEISV, which has none) and matched by its "
            "TAC (the first 8 digits) against the TACs and inclusive TAC ranges of the "
            "profiles **you may see**; a profile you may not see is never matched nor named.\n\n"
            'Send a JSON array `[...]` or object `{"imeis": [...]}`, or a CSV: as the multipart '
            "file field "
            "`file`, or as the body with `Content-Type: text/csv` (one IMEI per line or in the "
            "first column, UTF-8, a header line skipped). The body may hold up to "
            f"{MAX_BODY_BYTES:,} bytes. The answer lists every item in input order (it is not "
            "paginated) and the matched profiles once.\n\n"
            "With `Accept: text/csv` the answer is a CSV streamed row by row: a header, then "
            "one row per item in input order (`" + "`, `".join(COLUMNS) + "`; several "
            "profiles' ids separated by spaces and names by ` | `; a cell that a spreadsheet "
            "would take for a formula starts with an apostrophe).\n\n"
            "DIX keeps no IMEI: the audit trail records one `imei_check.performed` event with "
            "the counts and the answer's `sha256`.\n\n"
            f"More than {MAX_ITEMS:,} items: 413 `too-many-imeis`; a larger body: 413 "
            "`request-too-large`; an empty list or an item that is not a string: 400 naming "
            "the field (`imeis.3`)."
        ),
        request={
            "application/json": ImeiListSerializer,
            "multipart/form-data": ImeiCsvUploadSerializer,
            "text/csv": OpenApiTypes.STR,
        },
        responses={
            (200, "application/json"): OpenApiResponse(
                ImeiCheckResultSerializer,
                description="Every item in input order, the matched profiles, the counts.",
            ),
            (200, "text/csv"): OpenApiResponse(
                OpenApiTypes.STR,
                description="With `Accept: text/csv`: a header and one row per item.",
            ),
            413: OpenApiResponse(
                description="Problem details: more than "
                f"{MAX_ITEMS:,} items (`too-many-imeis`) or more than {MAX_BODY_BYTES:,} "
                "bytes (`request-too-large`)."
            ),
        },
        examples=[
            OpenApiExample(
                "Three IMEIs as written on the devices",
                value={"imeis": ["00-999900-000005-3", "00999900000004", "009999000000013"]},
                request_only=True,
                media_type="application/json",
            ),
            OpenApiExample(
                "A CSV body with a header",
                value="imei\n00-999900-000005-3\n00999900000004\n009999000000013\n",
                request_only=True,
                media_type="text/csv",
            ),
            OpenApiExample(
                "The answer",
                value=EXAMPLE_ANSWER,
                response_only=True,
                status_codes=["200"],
                media_type="application/json",
            ),
            OpenApiExample(
                "The answer as CSV",
                value=EXAMPLE_CSV,
                response_only=True,
                status_codes=["200"],
                media_type="text/csv",
            ),
        ],
    )
    def post(self, request: Request) -> HttpResponseBase:
        try:
            declared = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            declared = 0
        if declared > MAX_BODY_BYTES:  # refused before a byte of it is read
            too_large()
        data = request.data
        media_type = request.content_type.split(";")[0].strip().lower()
        if media_type == ImeiCsvParser.media_type:
            imeis, source = data.get("imeis", []), "csv"  # an empty body parses to {}
            count_within_limit(imeis, "body")
        elif media_type == MultiPartParser.media_type:
            upload = ImeiCsvUploadSerializer(data=data)
            upload.is_valid(raise_exception=True)
            imeis = imeis_from_csv(read_bounded(upload.validated_data["file"]), field="file")
            source = "csv"
            count_within_limit(imeis, "file")
        else:
            form = ImeiListSerializer(data=data)
            form.is_valid(raise_exception=True)
            imeis, source = form.validated_data["imeis"], "json"
        result = imei_check_perform(member=member_of(request), imeis=imeis, source=source)
        if isinstance(request.accepted_renderer, ImeiCsvRenderer):
            response = StreamingHttpResponse(
                csv_rows(result), content_type="text/csv; charset=utf-8"
            )
            response["Content-Disposition"] = 'attachment; filename="imei-check.csv"'
            return response
        return HttpResponse(render(result), content_type="application/json")
