"""Cursor pagination: stable under inserts, no offsets, no total counts."""

import base64
import binascii
from datetime import UTC, datetime
from typing import Any
from urllib import parse

from django.core.exceptions import ValidationError as ModelValidationError
from django.db.models import Field, QuerySet
from rest_framework.exceptions import NotFound
from rest_framework.pagination import Cursor, CursorPagination
from rest_framework.request import Request

from core.strict import NUL, refusal

BIGINT = 2**63

PAGE_DESCRIPTION = "One page of a list: follow `next` until it is null to read the whole list."
PAGE_FIELDS = {
    "next": "The URL of the next page; null on the last page.",
    "previous": "The URL of the previous page; null on the first page.",
    "results": "The items of this page, in the list's order.",
}


class CheckedCursorPagination(CursorPagination):
    """DRF's cursor pagination, refusing with a 400 naming the parameter what DRF would pass
    to the database unchecked (a cursor's position is any text once base64-decoded) or
    silently replace (a `page_size` that is not a number)."""

    page_size_query_param = "page_size"
    max_page_size = 200
    invalid_cursor_message = "Not a cursor DIX gave: follow the `next` or `previous` link."
    _position_field: Field[Any, Any] | None = None

    def paginate_queryset(
        self, queryset: QuerySet[Any], request: Request, view: Any = None
    ) -> list[Any] | None:
        first = self.get_ordering(request, queryset, view)[0].lstrip("-")
        self._position_field = queryset.model._meta.get_field(first)
        return super().paginate_queryset(queryset, request, view)

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        paginated: dict[str, Any] = super().get_paginated_response_schema(schema)
        paginated["description"] = PAGE_DESCRIPTION
        properties = paginated.get("properties", {})
        for name, text in PAGE_FIELDS.items():
            # drf-spectacular also calls this with a placeholder object for `results`, which
            # it finds again by identity: only schemas proper are described (copied).
            if isinstance(properties.get(name), dict):
                properties[name] = {**properties[name], "description": text}
        return paginated

    def decode_cursor(self, request: Request) -> Cursor | None:
        encoded = request.query_params.get(self.cursor_query_param)
        if encoded is not None and not _well_formed(encoded):
            raise self._bad_cursor()
        try:
            cursor = super().decode_cursor(request)
        except NotFound:
            raise self._bad_cursor() from None
        if cursor is None or cursor.position is None or self._position_field is None:
            return cursor
        position = str(cursor.position)
        if NUL in position:
            raise self._bad_cursor()
        try:
            value = self._position_field.to_python(position)
            if isinstance(value, datetime):
                if value.tzinfo is None:  # DIX writes positions with their offset
                    raise ValueError
                value.astimezone(UTC)  # out-of-range dates fail here, not in the query
        except (ModelValidationError, ValueError, TypeError, OverflowError):
            raise self._bad_cursor() from None
        if isinstance(value, int) and not -BIGINT <= value < BIGINT:
            raise self._bad_cursor()
        return cursor

    def get_page_size(self, request: Request) -> int:
        raw = request.query_params.get(self.page_size_query_param or "", "")
        if raw == "":
            return int(self.page_size or 0)
        if not (raw.isascii() and raw.isdigit() and len(raw) <= 4) or not (
            1 <= int(raw) <= self.max_page_size
        ):
            raise refusal(
                [self.page_size_query_param or "page_size"],
                f"A whole number from 1 to {self.max_page_size}.",
                "invalid",
            )
        return int(raw)

    def _bad_cursor(self) -> Exception:
        return refusal([self.cursor_query_param], self.invalid_cursor_message, "invalid")


def _well_formed(encoded: str) -> bool:
    """Base64 (strictly: DRF's decoder drops what is not, reading `!!!!` as the first page) of
    a query string holding only the keys DRF writes."""
    try:
        text = base64.b64decode(encoded.encode("ascii"), validate=True).decode("ascii")
    except (UnicodeError, binascii.Error, ValueError):
        return False
    keys = {key for key, _ in parse.parse_qsl(text, keep_blank_values=True)}
    return bool(keys) and keys <= {"o", "r", "p"}


class NewestFirstCursorPagination(CheckedCursorPagination):
    ordering = ("-created_at", "-id")


CURSOR_PARAMETERS = (CheckedCursorPagination.cursor_query_param, "page_size")
