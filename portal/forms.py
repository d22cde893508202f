"""Form helpers shared by the portal's pages: controlled lists as choices (the vocabulary
service), and the API's refusals (a service's `ApplicationError`, a serializer's or a list
filter's `ValidationError`) shown at the field they name."""

from typing import Any

from django import forms
from django.db.models import QuerySet
from django_filters import FilterSet
from rest_framework.exceptions import ValidationError

from core.errors import ApplicationError
from core.vocabularies import vocabularies


def choices_of(name: str, *, blank: str | None = None) -> list[tuple[str, str]]:
    """The values of the controlled list `name` as (value, label) choices, as
    `GET /api/v1/vocabularies/` gives them; `blank` first when the field may be empty."""
    found = next(v for v in vocabularies() if v.name == name)
    pairs = [(value.value, value.label) for value in found.values]
    return [("", blank), *pairs] if blank is not None else pairs


def filtered(found: FilterSet) -> QuerySet[Any] | None:
    """A list filter's rows, or None with its refusals shown by the filter's form. Some of the
    API's filters check their value as they filter (`since`, `tac_prefix`), not in
    `is_valid`: their refusal is the API's 400, never a 500."""
    if not found.is_valid():
        return None
    try:
        rows: QuerySet[Any] = found.qs
    except ValidationError as exc:
        for name, messages in field_errors(exc).items():
            field = name if name in found.form.fields else None
            found.form.add_error(field, " ".join(messages))
        return None
    return rows


def field_errors(exc: ApplicationError | ValidationError) -> dict[str, list[str]]:
    """A refusal as {dotted field path: messages}, `lines.0.item_type` style; "" for errors
    of no field."""
    if isinstance(exc, ApplicationError):
        return dict(exc.errors) if exc.errors else {"": [str(exc.detail)]}
    flat: dict[str, list[str]] = {}
    _flatten(exc.detail, "", flat)
    return flat


def _flatten(detail: Any, path: str, into: dict[str, list[str]]) -> None:
    if isinstance(detail, dict):
        for key, value in detail.items():
            name = "" if key in ("non_field_errors", "__all__") else str(key)
            _flatten(value, f"{path}.{name}".strip(".") if name else path, into)
    elif isinstance(detail, list) and any(isinstance(item, dict | list) for item in detail):
        for index, item in enumerate(detail):
            _flatten(item, f"{path}.{index}".strip("."), into)
    elif isinstance(detail, list):
        into.setdefault(path, []).extend(str(item) for item in detail)
    else:
        into.setdefault(path, []).append(str(detail))


def show_errors(
    form: forms.Form, errors: dict[str, list[str]], *, nested: tuple[str, ...] = ()
) -> dict[str, list[str]]:
    """Add the errors of `form`'s fields to it, and the others to its top, except those
    under a `nested` name (`lines`, `lines.0.quantity`): returned, for the caller to place
    in its formset."""
    rest: dict[str, list[str]] = {}
    for path, messages in errors.items():
        if path in form.fields:
            form.add_error(path, " ".join(messages))
        elif path.split(".")[0] in nested:
            rest[path] = messages
        else:
            form.add_error(None, " ".join(messages))
    return rest
