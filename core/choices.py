"""Invalid-choice errors that list the allowed values and suggest the value meant, for every
choice field of the API: body fields (DRF's `ChoiceField`, `MultipleChoiceField`) and
filters (django-filter's choice filters).

`"very low" is not a valid choice` leaves a client guessing; the allowed values are in the
field already. DRF and django-filter build the message from a template that knows only the
input, so `install` wraps the one method of each field class that refuses a value, once, at
start-up: every choice field, declared or mapped from a model, in any app, is covered.
"""

import difflib
from collections.abc import Callable, Iterable
from typing import Any

import django_filters.fields
from django import forms
from rest_framework import serializers

INVALID_CHOICE = "invalid_choice"
# Beyond this many values the message names the first ones and where to find the rest.
MAX_LISTED = 30


def _normalised(text: str) -> str:
    return "".join(ch for ch in text.casefold() if ch.isalnum())


def suggestion(value: object, allowed: Iterable[str], labels: Iterable[str] = ()) -> str | None:
    """The allowed value `value` most likely means, or None: the same letters and digits in
    another case or spacing (`"Very Low"` → `very_low`), a label given for its value, the
    last part of a prefixed value (`AMBER` → `TLP:AMBER`), or one close spelling."""
    text = str(value)
    wanted = _normalised(text)
    values = list(allowed)
    if not wanted:
        return None
    by_label = dict(zip(labels, values, strict=False))
    for candidate in values:
        if _normalised(candidate) == wanted:
            return candidate
    for label, candidate in by_label.items():
        if _normalised(label) == wanted:
            return candidate
    suffixed = [c for c in values if _normalised(c.rsplit(":", 1)[-1]) == wanted]
    if len(suffixed) == 1:
        return suffixed[0]
    close = difflib.get_close_matches(text, values, n=2, cutoff=0.8)
    return close[0] if len(close) == 1 else None


def invalid_choice_message(value: object, choices: Iterable[tuple[Any, Any]]) -> str:
    """`"<value>" is not a valid choice; allowed: "a", "b". Did you mean "a"?`"""
    pairs = [(str(key), str(label)) for key, label in choices if key not in ("", None)]
    values = [key for key, _ in pairs]
    listed = ", ".join(f'"{key}"' for key in values[:MAX_LISTED])
    if len(values) > MAX_LISTED:
        listed += f" and {len(values) - MAX_LISTED} more (GET /api/v1/vocabularies/)"
    message = f'"{value}" is not a valid choice; allowed: {listed}.'
    meant = suggestion(value, values, [label for _, label in pairs])
    if meant is not None:
        message += f' Did you mean "{meant}"?'
    return message


def _flat(choices: Any) -> list[tuple[Any, Any]]:
    """(value, label) pairs, option groups opened."""
    pairs: list[tuple[Any, Any]] = []
    for key, label in choices:
        if isinstance(label, (list, tuple)):
            pairs.extend(_flat(label))
        else:
            pairs.append((key, label))
    return pairs


def _serializer_field(method: Callable[..., Any]) -> Callable[..., Any]:
    def to_internal_value(self: serializers.ChoiceField, data: Any) -> Any:
        try:
            return method(self, data)
        except serializers.ValidationError as error:
            if error.get_codes() != [INVALID_CHOICE]:
                raise
            message = invalid_choice_message(data, self.choices.items())
            raise serializers.ValidationError(message, code=INVALID_CHOICE) from None

    to_internal_value.__wrapped__ = method  # type: ignore[attr-defined]
    return to_internal_value


def _form_field(method: Callable[..., Any]) -> Callable[..., Any]:
    def validate(self: forms.ChoiceField, value: Any) -> None:
        try:
            method(self, value)
        except forms.ValidationError as error:
            if getattr(error, "code", None) != INVALID_CHOICE:
                raise
            refused = (error.params or {}).get("value", value)
            message = invalid_choice_message(refused, _flat(self.choices))
            raise forms.ValidationError(message, code=INVALID_CHOICE) from None

    validate.__wrapped__ = method  # type: ignore[attr-defined]
    return validate


def install() -> None:
    """Wrap the refusing method of each choice field class (idempotent)."""
    if not hasattr(serializers.ChoiceField.to_internal_value, "__wrapped__"):
        serializers.ChoiceField.to_internal_value = _serializer_field(  # type: ignore[method-assign]
            serializers.ChoiceField.to_internal_value
        )
    for field_class in (
        django_filters.fields.ChoiceField,
        django_filters.fields.MultipleChoiceField,
    ):
        if not hasattr(field_class.validate, "__wrapped__"):
            field_class.validate = _form_field(field_class.validate)
