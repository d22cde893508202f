"""What an IMEI check accepts: the body limit, the JSON and CSV parsers, and the list's
validation.

The endpoint reads its body itself, up to `MAX_BODY_BYTES`, and answers 413 beyond it: Django's
`DATA_UPLOAD_MAX_MEMORY_SIZE`, which DRF applies to JSON bodies, is below what `MAX_ITEMS`
IMEIs written with separators take. The list is checked by plain type tests because a DRF
`ListField` runs a field object per item; the serializers' fields still describe the input for
the OpenAPI schema.
"""

import json
import re
from typing import Any, NoReturn

from rest_framework import exceptions, serializers
from rest_framework.parsers import BaseParser

from core.errors import ApplicationError
from core.serializers import StrictFieldsMixin, refuse_unknown_fields
from intel.imei import MAX_ITEMS, TooManyImeis

# Room for `MAX_ITEMS` IMEIs with generous separators.
MAX_BODY_BYTES = 8 * 1024 * 1024
_CELL_END = re.compile(r"[,;\t]")  # CSV as spreadsheets export it: comma, semicolon or tab
_ASCII_DIGIT = re.compile(r"[0-9]")


class RequestTooLarge(ApplicationError):
    status = 413
    slug = "request-too-large"
    title = "Request body too large"


def too_large() -> NoReturn:
    raise RequestTooLarge(
        f"An IMEI check body may hold at most {MAX_BODY_BYTES:,} bytes ({MAX_ITEMS:,} IMEIs "
        "with separators take about 2.3 MB)."
    )


def read_bounded(stream: Any) -> bytes:
    """The body, read by us rather than through `request.body` (and so Django's 2 MiB
    limit), refused beyond `MAX_BODY_BYTES`."""
    data = stream.read(MAX_BODY_BYTES + 1) if stream is not None else b""
    if len(data) > MAX_BODY_BYTES:
        too_large()
    return bytes(data)


def _refuse_nan(constant: str) -> NoReturn:
    raise ValueError(f"{constant} is not JSON")


class ImeiJsonParser(BaseParser):
    """JSON, read with our own size limit. Deliberately not a `JSONParser` subclass: DRF
    hands those `request.body`, which applies Django's smaller limit."""

    media_type = "application/json"

    def parse(self, stream: Any, media_type: Any = None, parser_context: Any = None) -> Any:
        raw = read_bounded(stream)
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
        return {"imeis": imeis_from_csv(read_bounded(stream), field="body")}


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


def count_within_limit(imeis: list[Any], field: str) -> None:
    if not imeis:
        raise serializers.ValidationError({field: ["Send at least one IMEI."]}, code="empty")
    if len(imeis) > MAX_ITEMS:
        raise TooManyImeis(
            f"At most {MAX_ITEMS:,} IMEIs per check; this one has {len(imeis):,}. Split the list.",
            errors={field: [f"At most {MAX_ITEMS:,} items; {len(imeis):,} sent."]},
        )


class ImeiListSerializer(serializers.Serializer[Any]):
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
        count_within_limit(imeis, "imeis")
        not_strings = [i for i, item in enumerate(imeis) if not isinstance(item, str)]
        if not_strings:
            message = "Not a string: send each IMEI as a JSON string (leading zeros matter)."
            raise serializers.ValidationError(
                {"imeis": {str(i): [message] for i in not_strings[:10]}}
            )
        return {"imeis": imeis}


class ImeiCsvUploadSerializer(StrictFieldsMixin, serializers.Serializer[Any]):
    """A CSV file of IMEIs to check, sent as `multipart/form-data`."""

    file = serializers.FileField(
        help_text="A CSV file (UTF-8): one IMEI per line, or IMEIs in the first column; a "
        f"header line is skipped. At most {MAX_ITEMS:,} lines and {MAX_BODY_BYTES:,} bytes."
    )
