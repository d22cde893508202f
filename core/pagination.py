"""Cursor pagination: stable under inserts, no offsets, a total count only on request."""

import base64
import binascii
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeVar
from urllib import parse

from django.core.exceptions import ValidationError as ModelValidationError
from django.db.models import Field, Model, QuerySet
from rest_framework.exceptions import NotFound
from rest_framework.pagination import Cursor, CursorPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param

from core.strict import NUL, refusal

if TYPE_CHECKING:  # DRF's generics import this module through the settings
    from rest_framework.generics import GenericAPIView

BIGINT = 2**63
COUNT_PARAMETER = "count"
Item = TypeVar("Item")
Row = TypeVar("Row", bound=Model)


def wants_count(request: Request) -> bool:
    """`?count=true` asks for the exact total; `false` or nothing does not."""
    raw = request.query_params.get(COUNT_PARAMETER)
    if raw is None or raw.lower() == "false":
        return False
    if raw.lower() == "true":
        return True
    raise refusal([COUNT_PARAMETER], "Give true or false.", "invalid")


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
    count: int | None = None

    def paginate_queryset(
        self, queryset: QuerySet[Any], request: Request, view: Any = None
    ) -> list[Any] | None:
        first = self.get_ordering(request, queryset, view)[0].lstrip("-")
        self._position_field = queryset.model._meta.get_field(first)
        # Checked before the page is read: a bad `count` is a 400 whatever the cursor.
        counting = wants_count(request)
        page = super().paginate_queryset(queryset, request, view)
        # The same queryset the page was cut from: what the member may see, filtered.
        self.count = queryset.count() if counting else None
        return page

    def get_paginated_response(self, data: Any) -> Response:
        response = super().get_paginated_response(data)
        if self.count is not None:
            response.data["count"] = self.count
        return response

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        return [
            *super().get_schema_operation_parameters(view),
            {
                "name": COUNT_PARAMETER,
                "required": False,
                "in": "query",
                "description": "`true`: add the exact `count` of items over all pages to "
                "the answer (one more query; absent by default).",
                "schema": {"type": "boolean"},
            },
        ]

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        paginated: dict[str, Any] = super().get_paginated_response_schema(schema)
        paginated["description"] = PAGE_DESCRIPTION
        properties = paginated.get("properties", {})
        for name, text in PAGE_FIELDS.items():
            # drf-spectacular also calls this with a placeholder object for `results`, which
            # it finds again by identity: only schemas proper are described (copied).
            if isinstance(properties.get(name), dict):
                properties[name] = {**properties[name], "description": text}
        properties["count"] = {
            "type": "integer",
            "description": "How many items all the pages hold together; only with "
            "`?count=true`, which costs the server one more query.",
            "example": 123,
        }
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


class NumberOrderPagination(CheckedCursorPagination):
    """Revisions and versions: oldest first, by their number within their object."""

    ordering = "number"


class IdOrderPagination(CheckedCursorPagination):
    """A profile's children: in the order they were added."""

    ordering = "id"


class SequencePagination(CheckedCursorPagination):
    """Cursor pages over a list computed in memory, where no query can seek: the cursor holds
    the page's offset in the list, which the view builds in a stable order. DRF's offset
    cut-off bounds how far a cursor reaches."""

    _start = 0
    _size = 0
    _total = 0

    def paginate_sequence(self, items: Sequence[Item], request: Request) -> list[Item]:
        self.request = request
        self._size = self.get_page_size(request)
        self.base_url = request.build_absolute_uri()
        counting = wants_count(request)
        cursor = self.decode_cursor(request)
        self._start = cursor.offset if cursor is not None else 0
        self._total = len(items)
        self.count = self._total if counting else None
        return list(items[self._start : self._start + self._size])

    def get_next_link(self) -> str | None:
        end = self._start + self._size
        if end >= self._total:
            return None
        return self.encode_cursor(Cursor(offset=end, reverse=False, position=None))

    def get_previous_link(self) -> str | None:
        if self._start == 0:
            return None
        start = max(self._start - self._size, 0)
        if start == 0:  # the first page is the list's address without a cursor
            return str(remove_query_param(str(self.base_url), self.cursor_query_param))
        return self.encode_cursor(Cursor(offset=start, reverse=False, position=None))


def sub_page(view: "GenericAPIView[Any]", rows: QuerySet[Row]) -> list[Row]:
    """One page of a list under an object (its revisions, versions…), cut by the action's
    paginator; `view.get_paginated_response` wraps it."""
    paginator = view.paginator
    if paginator is None:  # a view without pagination: the whole list
        return list(rows)
    return list(paginator.paginate_queryset(rows, view.request, view=view) or [])


CURSOR_PARAMETERS = (CheckedCursorPagination.cursor_query_param, "page_size", COUNT_PARAMETER)
"""What a paged action that is not a `list` declares in its `query_parameters`."""
