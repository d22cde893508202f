"""What every `/api/v1/` endpoint refuses rather than ignores or chokes on (docs/errors.md).

- A query parameter the endpoint does not take (a typo would otherwise widen the answer), a
  single-valued one given twice, or one holding a NUL character.
- A body sent to an action that takes none.
- A body nested deeper than `MAX_DEPTH`, or holding a NUL character in a key or a string:
  whatever parsers an endpoint uses, each is wrapped to check what it returns, because
  PostgreSQL refuses NUL in text and deep nesting exhausts Python's recursion limit.
- A body value of the wrong JSON type (`check_field_value`): DRF's fields convert silently
  (`1.5` to the id 1, `"\u0663"` to 3, the number `1e308` to the name "1e+308").
- A filter value that is not one (`IdFilter`, `CountryFilter`, `SlugFilter`, `BooleanFilter`),
  and a `format` DIX does not render.

Every refusal is a 400 problem naming the parameter or field.
"""

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, NewType

import django_filters
from django import forms
from django.core.validators import validate_slug
from django.http import QueryDict
from django.utils.datastructures import MultiValueDict
from rest_framework import exceptions, relations, routers, serializers
from rest_framework.exceptions import ErrorDetail
from rest_framework.parsers import BaseParser, DataAndFiles
from rest_framework.renderers import BaseRenderer
from rest_framework.request import Request
from rest_framework.settings import api_settings
from rest_framework.views import APIView

from core.errors import NotFound
from core.validators import validate_country

# Far above any body DIX takes (a profile is 4 levels deep), far below the recursion limit.
MAX_DEPTH = 32
NUL = "\x00"
NUL_MESSAGE = "Null characters are not allowed."
MAX_ID = 2**63 - 1  # PostgreSQL's bigint: a larger id reaches the database as an error
INTEGER_TEXT = re.compile(r"-?[0-9]+")  # ASCII only: int() reads any script's digits
DECIMAL_TEXT = re.compile(r"-?[0-9]+(\.[0-9]+)?")


def refusal(path: Sequence[str], message: str, code: str) -> exceptions.ValidationError:
    """A 400 naming the field at `path` (dotted in the problem's `errors`); an empty path names
    the whole body (`field` `body`, `pointer` `#`)."""
    detail: Any = [ErrorDetail(message, code=code)]
    for name in reversed(path):
        detail = {name: detail}
    return exceptions.ValidationError(detail)


def check_parsed(data: Any) -> None:
    """Refuse nesting beyond `MAX_DEPTH`, NUL characters and non-finite numbers anywhere in a
    parsed body."""
    pending: list[tuple[Any, tuple[str, ...], int]] = [(data, (), 0)]
    while pending:
        value, path, depth = pending.pop()
        if isinstance(value, str):
            if NUL in value:
                raise refusal(path, NUL_MESSAGE, "null_characters_not_allowed")
            continue
        if isinstance(value, float) and not math.isfinite(value):  # 1e400 parses as infinity
            raise refusal(path, "Not a finite number.", "invalid")
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


# Parameters no endpoint takes, with what to do instead.
REFUSED_EVERYWHERE = {"page": "Pages are cursors: follow `next`."}


def unknown_parameter(name: str, renamed: Mapping[str, str]) -> ErrorDetail:
    """The refusal of a parameter the endpoint does not take, saying what replaced it if the
    endpoint names it in `renamed` (old name -> the new one(s), in backticks)."""
    if name in renamed:
        return ErrorDetail(f"Renamed: use {renamed[name]}.", code="renamed_parameter")
    if name in REFUSED_EVERYWHERE:
        return ErrorDetail(REFUSED_EVERYWHERE[name], code="unknown_parameter")
    return ErrorDetail("Unknown query parameter.", code="unknown_parameter")


def check_query(
    params: QueryDict,
    accepted: set[str],
    repeatable: set[str],
    renamed: Mapping[str, str] | None = None,
) -> None:
    errors: dict[str, list[ErrorDetail]] = {}
    for name, values in params.lists():
        if name not in accepted:
            errors[name] = [unknown_parameter(name, renamed or {})]
        elif len(values) > 1 and name not in repeatable:
            errors[name] = [ErrorDetail("Give this parameter once.", code="repeated_parameter")]
        elif any(NUL in value for value in values):
            errors[name] = [ErrorDetail(NUL_MESSAGE, code="null_characters_not_allowed")]
    if errors:
        raise exceptions.ValidationError(errors)


def refuse_body(request: Request) -> None:
    """For actions that take no body: any field sent is unknown, as on any other endpoint. An
    empty body or an empty object passes (clients send `{}` by habit, and it asks nothing);
    any other value, falsy or not (`null`, `[]`, `0`, `false`, `""`), is refused."""
    data = request.data
    if isinstance(data, Mapping):
        if data:
            raise exceptions.ValidationError(
                {str(key): [ErrorDetail("Unknown field.", code="unknown_field")] for key in data}
            )
        return
    raise refusal((), "This action takes no body.", "unexpected_body")


def refuse_format(request: Request, offered: list[str]) -> exceptions.ValidationError:
    name = api_settings.URL_FORMAT_OVERRIDE or "format"
    listed = ", ".join(f"`{item}`" for item in offered)
    return refusal([name], f"Not a format this endpoint renders: {listed}.", "invalid_choice")


# The mixin is only ever mixed into DRF views: type checkers see it as one, so its overrides and
# `super()` calls are checked against `APIView`'s; at run time it stays a plain mixin.
if TYPE_CHECKING:
    _ViewBase = APIView
else:
    _ViewBase = object


class StrictRequestMixin(_ViewBase):
    """For every API view: the refusals this module describes.

    `query_parameters` (a class attribute, or an `@action` argument) lists what an action
    takes beyond DRF's `format`; a list action takes its filters and pagination without it.
    `accepts_body=False` (an `@action` argument) marks an action that takes no body; no
    DELETE takes one. `renamed_parameters` maps a filter's former name to its name, so that
    the refusal of the old one says what to send instead (the new name in backticks).
    """

    query_parameters: ClassVar[Sequence[str] | None] = None
    renamed_parameters: ClassVar[Mapping[str, str]] = {}
    accepts_body: ClassVar[bool] = True

    def get_parsers(self) -> list[BaseParser]:
        return [checked_parser(parser)() for parser in self.parser_classes]

    def perform_content_negotiation(
        self, request: Request, force: bool = False
    ) -> tuple[BaseRenderer, str]:
        # DRF answers an unknown `?format=` 404, as if the object were missing, and a view's own
        # negotiation may ignore it: both are refused here, before either runs.
        chosen = request.query_params.get(api_settings.URL_FORMAT_OVERRIDE or "format")
        offered = {renderer.format for renderer in self.get_renderers()}
        if chosen is not None and chosen not in offered and not force:
            raise refuse_format(request, sorted(offered))
        return super().perform_content_negotiation(request, force)

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)  # authenticated first
        # A path's ids are ASCII digits: URL patterns' `\d` and int() also take the digits of
        # other scripts ("\u0661" would be 1), which would reach an object by another name.
        for name, value in kwargs.items():
            if name in ("pk", "number") or name.endswith("_id"):
                parse_id(value)
        check_query(request.query_params, *accepted_query_parameters(self), self.renamed_parameters)
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


class BooleanFilter(django_filters.BooleanFilter):  # type: ignore[misc]  # django-filter ships no types
    """`true` or `false` (any case); django-filter's own reads anything else as absent."""

    field_class = _BooleanField


# What an `IdFilter` gives its method. Not `int` itself: drf-spectacular reads a method's `int`
# hint as the parameter's type, and the schema describes these as strings.
FilterId = NewType("FilterId", int)


class _IdField(forms.Field):
    def to_python(self, value: Any) -> FilterId | None:
        if value in (None, ""):
            return None
        text = str(value)
        if not (text.isascii() and text.isdigit() and len(text) <= 19) or not (
            1 <= int(text) <= MAX_ID
        ):
            raise forms.ValidationError("Not an id: a whole number from 1.", code="invalid")
        return FilterId(int(text))


class IdFilter(django_filters.CharFilter):  # type: ignore[misc]  # django-filter ships no types
    """An object's id (ASCII digits, within bigint): anything else is a 400, while a
    well-formed id of a missing or hidden object matches nothing."""

    field_class = _IdField


class _CountryField(forms.CharField):
    def to_python(self, value: Any) -> str | None:
        text = super().to_python(value)
        if not text:
            return None
        text = text.upper() if text.isascii() else text
        try:
            validate_country(text)
        except forms.ValidationError:
            raise forms.ValidationError(
                "Not an ISO 3166-1 alpha-2 country code.", code="invalid_country"
            ) from None
        return text


class CountryFilter(django_filters.CharFilter):  # type: ignore[misc]  # django-filter ships no types
    """An ISO 3166-1 alpha-2 code, any case, given upper-case to the lookup."""

    field_class = _CountryField


class _SlugField(forms.CharField):
    default_validators = [validate_slug]


class SlugFilter(django_filters.CharFilter):  # type: ignore[misc]  # django-filter ships no types
    """An organisation's slug: letters, digits, `-` and `_`."""

    field_class = _SlugField


# --- Body values -----------------------------------------------------------------------------

_Problem = str | dict[str, Any] | None

# Any serializer field: these checks read only what every field has.
AnyField = serializers.Field[Any, Any, Any, Any]


def _integral(value: Any) -> bool:
    return (isinstance(value, int) and not isinstance(value, bool)) or (
        isinstance(value, str) and INTEGER_TEXT.fullmatch(value) is not None
    )


def _numeric(value: Any) -> bool:
    if isinstance(value, float):
        return math.isfinite(value)
    return _integral(value) or (
        isinstance(value, str) and DECIMAL_TEXT.fullmatch(value) is not None
    )


def _each(field: AnyField, value: Any) -> _Problem:
    """The problems of each item of a list, or of each value of an object, by index or key."""
    if isinstance(value, list):
        items: Iterable[tuple[Any, Any]] = enumerate(value)
    elif isinstance(value, Mapping):
        items = value.items()
    else:
        return None  # the field itself says it wants a list or an object
    errors = {str(key): [p] for key, item in items if (p := check_field_value(field, item))}
    return errors or None


def check_field_value(field: AnyField, value: Any) -> _Problem:
    """Why `value`, as parsed from a body, is not of the type `field` declares (None if it is).

    Ids and integers: a JSON integer, or a string of ASCII digits (what a form sends). Other
    numbers: a finite JSON number or an ASCII decimal string. Strings, dates, slugs and string
    choices: a JSON string only. Booleans: `true`/`false`, or those words as strings.
    """
    if value is None or field.read_only:
        return None  # `null` and read-only fields have their own refusals
    if isinstance(field, relations.ManyRelatedField):
        return _each(field.child_relation, value)
    if isinstance(field, (serializers.ListField, serializers.DictField)):
        return _each(field.child, value)
    if isinstance(field, serializers.MultipleChoiceField):
        return _each(serializers.ChoiceField(choices=field.choices), value)
    if isinstance(field, relations.PrimaryKeyRelatedField):
        return None if _integral(value) else "Not an id: give the object's id as a JSON integer."
    if isinstance(field, relations.SlugRelatedField):
        return None if isinstance(value, str) else "Not a valid string."
    if isinstance(field, serializers.BooleanField):
        if isinstance(value, bool) or value in ("true", "false"):
            return None
        return "Give true or false."
    if isinstance(field, serializers.IntegerField):
        return None if _integral(value) else "A whole number (a JSON integer) is required."
    if isinstance(field, (serializers.FloatField, serializers.DecimalField)):
        if _numeric(value):
            return None
        return 'A finite number (a JSON number, or a decimal string like "12.5") is required.'
    if isinstance(field, serializers.ChoiceField):
        keys = list(field.choices)
        if keys and all(isinstance(key, str) for key in keys) and not isinstance(value, str):
            return "Not a valid string."
        return None
    if isinstance(
        field,
        (
            serializers.CharField,
            serializers.DateField,
            serializers.DateTimeField,
            serializers.TimeField,
            serializers.DurationField,
        ),
    ):
        return None if isinstance(value, str) else "Not a valid string."
    return None


def check_body_types(data: Mapping[Any, Any], fields: Mapping[str, AnyField]) -> None:
    """A 400 naming each field (and list item) whose value is not of the field's type."""
    errors: dict[str, Any] = {}
    for key, value in data.items():
        field = fields.get(key)
        problem = check_field_value(field, value) if field is not None else None
        if isinstance(problem, str):
            errors[str(key)] = [ErrorDetail(problem, code="invalid")]
        elif problem:
            errors[str(key)] = {
                index: [ErrorDetail(message, code="invalid") for message in messages]
                for index, messages in problem.items()
            }
    if errors:
        raise exceptions.ValidationError(errors)


class StrictRootView(StrictRequestMixin, routers.APIRootView):
    """The router's index of endpoints (`/api/v1/`)."""


class StrictRouter(routers.DefaultRouter):
    APIRootView = StrictRootView


def parse_id(raw: object) -> int:
    """A path id, or 404: ids beyond the database's range are simply not found."""
    text = str(raw)
    if not (text.isascii() and text.isdigit()) or int(text) > MAX_ID:
        raise NotFound("Not found.")
    return int(text)
