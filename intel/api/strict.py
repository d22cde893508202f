"""What every `/api/v1/` endpoint refuses rather than ignores or chokes on (docs/errors.md).

- A query parameter the endpoint does not take (a typo would otherwise widen the answer), a
  single-valued one given twice, or one holding a NUL character.
- A body sent to an action that takes none.
- A body nested deeper than `MAX_DEPTH`, or holding a NUL character in a key or a string:
  whatever parsers an endpoint uses, each is wrapped to check what it returns, because
  PostgreSQL refuses NUL in text and deep nesting exhausts Python's recursion limit.

Every refusal is a 400 problem naming the parameter or field.
"""

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, ClassVar

import django_filters
from django import forms
from django.http import QueryDict
from django.utils.datastructures import MultiValueDict
from rest_framework import exceptions, routers
from rest_framework.exceptions import ErrorDetail
from rest_framework.parsers import BaseParser, DataAndFiles
from rest_framework.request import Request
from rest_framework.settings import api_settings

# Far above any body DIX takes (a profile is 4 levels deep), far below the recursion limit.
MAX_DEPTH = 32
NUL = "\x00"
NUL_MESSAGE = "Null characters are not allowed."


def refusal(path: Sequence[str], message: str, code: str) -> exceptions.ValidationError:
    """A 400 naming the field at `path` (dotted in the problem's `errors`)."""
    detail: Any = [ErrorDetail(message, code=code)]
    for name in reversed(path or ["body"]):
        detail = {name: detail}
    return exceptions.ValidationError(detail)


def check_parsed(data: Any) -> None:
    """Refuse nesting beyond `MAX_DEPTH` and NUL characters anywhere in a parsed body."""
    pending: list[tuple[Any, tuple[str, ...], int]] = [(data, (), 0)]
    while pending:
        value, path, depth = pending.pop()
        if isinstance(value, str):
            if NUL in value:
                raise refusal(path, NUL_MESSAGE, "null_characters_not_allowed")
            continue
        if isinstance(value, MultiValueDict):  # a form or multipart body
            items: Iterable[tuple[Any, Any]] = value.lists()
        elif isinstance(value, Mapping):
            items = value.items()
        elif isinstance(value, list):
            items = enumerate(value)
        else:
            continue
        if depth >= MAX_DEPTH:
            raise exceptions.ParseError(f"The body is nested more than {MAX_DEPTH} levels deep.")
        for key, item in items:
            if NUL in str(key):
                raise refusal((*path, str(key)), NUL_MESSAGE, "null_characters_not_allowed")
            pending.append((item, (*path, str(key)), depth + 1))


class _CheckedParser(BaseParser):
    def parse(self, stream: Any, media_type: Any = None, parser_context: Any = None) -> Any:
        try:
            parsed = super().parse(stream, media_type, parser_context)
        except RecursionError:  # the parser itself recursed too deep (JSON nested ~1,000 levels)
            raise exceptions.ParseError(
                f"The body is nested more than {MAX_DEPTH} levels deep."
            ) from None
        check_parsed(parsed.data if isinstance(parsed, DataAndFiles) else parsed)
        return parsed


_checked: dict[type[BaseParser], type[BaseParser]] = {}


def checked_parser(parser_class: type[BaseParser]) -> type[BaseParser]:
    """`parser_class` with `check_parsed` applied to what it returns. A subclass, not a wrapper:
    DRF treats instances of `JSONParser` specially (it applies Django's body size limit)."""
    if parser_class not in _checked:
        _checked[parser_class] = type(
            parser_class.__name__, (_CheckedParser, parser_class), {"__module__": __name__}
        )
    return _checked[parser_class]


# --- Query parameters ------------------------------------------------------------------------


def filter_parameters(view: Any) -> tuple[set[str], set[str]]:
    """The filter parameters of a view's list: (all of them, those that may repeat)."""
    filterset = getattr(view, "filterset_class", None)
    if filterset is not None:
        filters = filterset.base_filters
        repeatable = {
            name
            for name, item in filters.items()
            if isinstance(item, django_filters.MultipleChoiceFilter)
        }
        return set(filters), repeatable
    return set(getattr(view, "filterset_fields", None) or ()), set()


def pagination_parameters(view: Any) -> set[str]:
    paginator = getattr(view, "paginator", None)
    if paginator is None:
        return set()
    return {p["name"] for p in paginator.get_schema_operation_parameters(view)}


def accepted_query_parameters(view: Any) -> tuple[set[str], set[str]]:
    """(the query parameters this view's action takes, those that may repeat). A list action
    takes its filters and pagination; any other action what it declares in
    `query_parameters`; every action DRF's `format`."""
    accepted = {api_settings.URL_FORMAT_OVERRIDE or "format"}
    repeatable: set[str] = set()
    declared = getattr(view, "query_parameters", None)
    if declared is not None:
        accepted |= set(declared)
    elif getattr(view, "action", None) == "list":
        filters, repeatable = filter_parameters(view)
        accepted |= filters | pagination_parameters(view)
    return accepted, repeatable


def check_query(params: QueryDict, accepted: set[str], repeatable: set[str]) -> None:
    errors: dict[str, list[ErrorDetail]] = {}
    for name, values in params.lists():
        if name not in accepted:
            errors[name] = [ErrorDetail("Unknown query parameter.", code="unknown_parameter")]
        elif len(values) > 1 and name not in repeatable:
            errors[name] = [ErrorDetail("Give this parameter once.", code="repeated_parameter")]
        elif any(NUL in value for value in values):
            errors[name] = [ErrorDetail(NUL_MESSAGE, code="null_characters_not_allowed")]
    if errors:
        raise exceptions.ValidationError(errors)


def refuse_body(request: Request) -> None:
    """For actions that take no body: any field sent is unknown, as on any other endpoint."""
    data = request.data
    if not data:
        return
    if isinstance(data, Mapping):
        raise exceptions.ValidationError(
            {str(key): [ErrorDetail("Unknown field.", code="unknown_field")] for key in data}
        )
    raise refusal((), "This action takes no body.", "unexpected_body")


class StrictRequestMixin:
    """For every API view: the refusals this module describes.

    `query_parameters` (a class attribute, or an `@action` argument) lists what an action
    takes beyond DRF's `format`; a list action takes its filters and pagination without it.
    `accepts_body=False` (an `@action` argument) marks an action that takes no body; no
    DELETE takes one.
    """

    query_parameters: ClassVar[Sequence[str] | None] = None
    accepts_body: ClassVar[bool] = True

    def get_parsers(self) -> list[BaseParser]:
        return [checked_parser(parser)() for parser in self.parser_classes]  # type: ignore[attr-defined]

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)  # type: ignore[misc]  # authenticated first
        check_query(request.query_params, *accepted_query_parameters(self))
        if request.method == "DELETE" or (
            not self.accepts_body and request.method not in ("GET", "HEAD", "OPTIONS")
        ):
            refuse_body(request)


# --- Filter values ---------------------------------------------------------------------------


class _BooleanField(forms.Field):
    def to_python(self, value: Any) -> bool | None:
        if value in (None, ""):
            return None
        text = str(value).lower()
        if text not in ("true", "false"):
            raise forms.ValidationError("Give true or false.", code="invalid")
        return text == "true"


class BooleanFilter(django_filters.BooleanFilter):
    """`true` or `false` (any case); django-filter's own reads anything else as absent."""

    field_class = _BooleanField


class StrictRootView(StrictRequestMixin, routers.APIRootView):
    """The router's index of endpoints (`/api/v1/`)."""


class StrictRouter(routers.DefaultRouter):
    APIRootView = StrictRootView
