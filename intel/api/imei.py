"""REST API for bulk IMEI checks (`POST /api/v1/imei-checks/`), docs/imei-checks.md.

Three ways to send the list, one answer: JSON (an object `{"imeis": [...]}` or the bare
array), a CSV file as the multipart field `file`, or a CSV body (`Content-Type: text/csv`).
The answer holds every item in input order, so it is not paginated.

Two things differ from the other endpoints, both for 100,000 items:

- The body limit. Django's `DATA_UPLOAD_MAX_MEMORY_SIZE` (2 MiB here), which DRF applies to
  JSON bodies, is below what 100,000 IMEIs written with separators take (~2.3 MB). This
  endpoint's parsers read the body themselves, up to `MAX_BODY_BYTES` (8 MiB: 80 bytes an
  item), and answer 413 beyond it.
- Validation and rendering. A DRF `ListField` runs a field object per item, and the result
  serializer plus `JSONRenderer` take seconds for 100,000 answers; here the list is checked
  by plain type tests and the answer is written as text by `render` (orjson is not
  installed; bench/README.md has the figures). The serializers below still describe both
  for the OpenAPI schema.
"""

import json
import re
from typing import Any, NoReturn

from django.http import HttpResponse
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import exceptions, serializers
from rest_framework.parsers import BaseParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.views import APIView

from core.errors import ApplicationError
from core.serializers import StrictFieldsMixin, refuse_unknown_fields
from core.strict import StrictRequestMixin
from intel.api.base import member_of
from intel.imei import MAX_ITEMS, REASONS, ImeiCheck, TooManyImeis, imei_check_perform
from intel.models import TLP, DeviceClass

MAX_BODY_BYTES = 8 * 1024 * 1024
_CELL_END = re.compile(r"[,;\t]")  # CSV as spreadsheets export it: comma, semicolon or tab
_ASCII_DIGIT = re.compile(r"[0-9]")


class RequestTooLarge(ApplicationError):
    status = 413
    slug = "request-too-large"
    title = "Request body too large"


def _too_large() -> NoReturn:
    raise RequestTooLarge(
        f"An IMEI check body may hold at most {MAX_BODY_BYTES:,} bytes ({MAX_ITEMS:,} IMEIs "
        "with separators take about 2.3 MB)."
    )


def _read_bounded(stream: Any) -> bytes:
    """The body, read by us rather than through `request.body` (and so Django's 2 MiB
    limit), refused beyond `MAX_BODY_BYTES`."""
    data = stream.read(MAX_BODY_BYTES + 1) if stream is not None else b""
    if len(data) > MAX_BODY_BYTES:
        _too_large()
    return bytes(data)


def _refuse_nan(constant: str) -> NoReturn:
    raise ValueError(f"{constant} is not JSON")


class ImeiJsonParser(BaseParser):
    """JSON, read with our own size limit. Deliberately not a `JSONParser` subclass: DRF
    hands those `request.body`, which applies Django's smaller limit."""

    media_type = "application/json"

    def parse(self, stream: Any, media_type: Any = None, parser_context: Any = None) -> Any:
        raw = _read_bounded(stream)
        try:
            return json.loads(raw.decode("utf-8"), parse_constant=_refuse_nan)
        except (UnicodeDecodeError, ValueError, RecursionError) as exc:
            detail = "The body is not JSON in UTF-8"
            if isinstance(exc, json.JSONDecodeError):
                detail += f" (line {exc.lineno}, column {exc.colno}: {exc.msg})"
            raise exceptions.ParseError(detail + ".") from None


class ImeiCsvParser(BaseParser):
    media_type = "text/csv"

    def parse(
        self, stream: Any, media_type: Any = None, parser_context: Any = None
    ) -> dict[str, list[str]]:
        """`{"imeis": [the first column]}`; the view reads it as it reads a JSON body."""
        return {"imeis": imeis_from_csv(_read_bounded(stream), field="body")}


def imeis_from_csv(raw: bytes, *, field: str) -> list[str]:
    """The first column of each line (UTF-8, a byte-order mark allowed; cells end at a comma,
    semicolon or tab; surrounding quotes and spaces dropped). Blank lines and lines whose first
    cell is empty are skipped, and so is a first line without any digit in its first cell: a
    header such as `IMEI` or `imei,seized_at`."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise serializers.ValidationError(
            {field: ["The CSV is not UTF-8 text. Save it as CSV UTF-8."]}
        ) from None
    imeis: list[str] = []
    for line in text.splitlines():
        cell = _CELL_END.split(line, 1)[0].strip().strip('"').strip()
        if cell:
            imeis.append(cell)
    # Only the first line may be a header: later cells without digits are invalid items.
    if imeis and not _ASCII_DIGIT.search(imeis[0]):
        del imeis[0]
    return imeis


# --- Serializers -----------------------------------------------------------------------------


def _count_within_limit(imeis: list[Any], field: str) -> None:
    if not imeis:
        raise serializers.ValidationError({field: ["Send at least one IMEI."]}, code="empty")
    if len(imeis) > MAX_ITEMS:
        raise TooManyImeis(
            f"At most {MAX_ITEMS:,} IMEIs per check; this one has {len(imeis):,}. Split the list.",
            errors={field: [f"At most {MAX_ITEMS:,} items; {len(imeis):,} sent."]},
        )


class ImeiListSerializer(serializers.Serializer):
    """`{"imeis": [...]}`, or the bare JSON array `[...]` (read as the value of `imeis`, so
    its errors name `imeis` too). The fields describe the schema; `to_internal_value` checks
    the list with plain type tests (a `ListField` runs a field object per item)."""

    imeis = serializers.ListField(
        child=serializers.CharField(allow_blank=True, trim_whitespace=False),
        min_length=1,
        max_length=MAX_ITEMS,
        help_text=f"1 to {MAX_ITEMS:,} IMEIs (14 or 15 digits) or IMEISVs (16 digits), each a "
        "string (leading zeros matter); spaces, hyphens, dots and slashes are ignored.",
    )

    def to_internal_value(self, data: Any) -> dict[str, list[str]]:
        if isinstance(data, list):  # a bare JSON array: the list on its own
            data = {"imeis": data}
        if not isinstance(data, dict):
            message = 'Send a JSON array of IMEIs, or an object {"imeis": ["…", "…"]}.'
            raise serializers.ValidationError({"non_field_errors": [message]})
        refuse_unknown_fields(data, self.fields)
        imeis = data.get("imeis")
        if imeis is None:
            raise serializers.ValidationError({"imeis": ["This field is required."]})
        if not isinstance(imeis, list):
            raise serializers.ValidationError({"imeis": ["Expected a list of strings."]})
        _count_within_limit(imeis, "imeis")
        not_strings = [i for i, item in enumerate(imeis) if not isinstance(item, str)]
        if not_strings:
            message = "Not a string: send each IMEI as a JSON string (leading zeros matter)."
            raise serializers.ValidationError(
                {"imeis": {str(i): [message] for i in not_strings[:10]}}
            )
        return {"imeis": imeis}


class ImeiCsvUploadSerializer(StrictFieldsMixin, serializers.Serializer):
    file = serializers.FileField(
        help_text="A CSV file (UTF-8): one IMEI per line, or IMEIs in the first column; a "
        f"header line is skipped. At most {MAX_ITEMS:,} lines and {MAX_BODY_BYTES:,} bytes."
    )


class ImeiCheckItemSerializer(serializers.Serializer):
    input = serializers.CharField(help_text="The item as sent.")
    normalised = serializers.CharField(
        allow_null=True,
        help_text="Valid IMEI: its 15 digits (the check digit computed when 14 were sent). "
        "Valid IMEISV: its 16 digits. Null when invalid.",
    )
    kind = serializers.ChoiceField(
        choices=["imei", "imeisv"], allow_null=True, help_text="Null when invalid."
    )
    valid = serializers.BooleanField()
    reason = serializers.ChoiceField(
        choices=list(REASONS),
        allow_null=True,
        help_text="Why the item is invalid; null when valid. "
        + " ".join(f"`{code}`: {text}" for code, text in REASONS.items()),
    )
    tac = serializers.CharField(
        allow_null=True, help_text="Type Allocation Code: the first 8 digits. Null when invalid."
    )
    profiles = serializers.ListField(
        child=serializers.IntegerField(),
        help_text="Ids of the profiles you may see whose TAC or TAC range holds this TAC "
        "(described once in the answer's `profiles`). Empty when invalid.",
    )


class ImeiCheckProfileSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    tlp = serializers.ChoiceField(choices=TLP.choices)
    device_class = serializers.ChoiceField(choices=DeviceClass.choices)
    retired = serializers.BooleanField()
    url = serializers.CharField(help_text="The profile: `GET` it for the details.")


class ImeiCheckSummarySerializer(serializers.Serializer):
    items = serializers.IntegerField()
    valid = serializers.IntegerField()
    invalid = serializers.IntegerField()
    matched = serializers.IntegerField(help_text="Valid items matching at least one profile.")


class ImeiCheckResultSerializer(serializers.Serializer):
    summary = ImeiCheckSummarySerializer()
    sha256 = serializers.CharField(
        help_text="SHA-256 (hex) of the valid items' normalised forms in input order, one per "
        "line, each line ending with a newline: `sha256sum` of that list. The audit trail keeps "
        "this digest and the counts, never the IMEIs."
    )
    profiles = ImeiCheckProfileSerializer(many=True, help_text="The profiles matched.")
    items = ImeiCheckItemSerializer(many=True, help_text="Every item, in input order.")


def _head(result: ImeiCheck) -> dict[str, Any]:
    """The answer without its items: the counts, the digest and the profiles matched."""
    return {
        "summary": {
            "items": result.count,
            "valid": result.valid,
            "invalid": result.invalid,
            "matched": result.matched,
        },
        "sha256": result.digest,
        "profiles": [
            {
                "id": p["id"],
                "name": p["name"],
                "tlp": p["tlp"],
                "device_class": p["device_class"],
                "retired": p["retired_at"] is not None,
                "url": reverse("profile-detail", kwargs={"pk": p["id"]}),
            }
            for p in result.profiles
        ],
    }


def as_data(result: ImeiCheck) -> dict[str, Any]:
    """The answer as dicts and lists: what `render` writes as text, in the form
    `ImeiCheckResultSerializer` and `json.dumps` take (bench/imei_check compares the three)."""
    return _head(result) | {
        "items": [
            {
                "input": raw,
                "normalised": value,
                "kind": kind,
                "valid": value is not None,
                "reason": reason,
                "tac": value[:8] if value else None,
                "profiles": result.matches.get(value[:8], []) if value else [],
            }
            for raw, (kind, value, reason) in zip(result.inputs, result.checked, strict=True)
        ]
    }


def render(result: ImeiCheck) -> bytes:
    """The answer as JSON bytes, as `ImeiCheckResultSerializer` describes it.

    The items are written as text: each is its JSON-escaped input followed by a tail that is
    the same for every item of a given outcome (kind and TAC, or reason), made once. For
    100,000 items this takes a fraction of what `json.dumps` over `as_data` or DRF's renderer
    take (bench/imei_check measures the three)."""
    head = _head(result)
    invalid_tails: dict[str | None, str] = {}  # by reason
    valid_tails: dict[str | None, dict[str, str]] = {"imei": {}, "imeisv": {}}  # kind → TAC →
    texts = []
    for raw, (kind, value, reason) in zip(result.inputs, result.checked, strict=True):
        if value is None:
            tail = invalid_tails.get(reason)
            if tail is None:
                tail = invalid_tails[reason] = (
                    ',"normalised":null,"kind":null,"valid":false,'
                    f'"reason":{_json(reason)},"tac":null,"profiles":[]}}'
                )
            texts.append(f'{{"input":{_json_string(raw)}{tail}')
        else:
            tac = value[:8]
            by_tac = valid_tails[kind]
            tail = by_tac.get(tac)
            if tail is None:
                tail = by_tac[tac] = (
                    f'","kind":{_json(kind)},"valid":true,"reason":null,"tac":"{tac}",'
                    f'"profiles":{_json(result.matches.get(tac, []))}}}'
                )
            texts.append(f'{{"input":{_json_string(raw)},"normalised":"{value}{tail}')
    return f'{_json(head)[:-1]},"items":[{",".join(texts)}]}}'.encode()


def _json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))


_json_string = json.encoder.encode_basestring_ascii  # what json.dumps does to a str, in C


# --- The view --------------------------------------------------------------------------------

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


class ImeiCheckView(StrictRequestMixin, APIView):
    parser_classes = [ImeiJsonParser, ImeiCsvParser, MultiPartParser]

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
            200: OpenApiResponse(
                ImeiCheckResultSerializer,
                description="Every item in input order, the matched profiles, the counts.",
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
                "The answer", value=EXAMPLE_ANSWER, response_only=True, status_codes=["200"]
            ),
        ],
    )
    def post(self, request: Request) -> HttpResponse:
        try:
            declared = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            declared = 0
        if declared > MAX_BODY_BYTES:  # refused before a byte of it is read
            _too_large()
        data = request.data
        media_type = request.content_type.split(";")[0].strip().lower()
        if media_type == ImeiCsvParser.media_type:
            imeis, source = data.get("imeis", []), "csv"  # an empty body parses to {}
            _count_within_limit(imeis, "body")
        elif media_type == MultiPartParser.media_type:
            upload = ImeiCsvUploadSerializer(data=data)
            upload.is_valid(raise_exception=True)
            imeis = imeis_from_csv(_read_bounded(upload.validated_data["file"]), field="file")
            source = "csv"
            _count_within_limit(imeis, "file")
        else:
            form = ImeiListSerializer(data=data)
            form.is_valid(raise_exception=True)
            imeis, source = form.validated_data["imeis"], "json"
        result = imei_check_perform(member=member_of(request), imeis=imeis, source=source)
        return HttpResponse(render(result), content_type="application/json")
