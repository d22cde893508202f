"""Serializer rules every endpoint that reads a body shares: no unknown or read-only keys,
no values of the wrong JSON type."""

import re
from collections.abc import Mapping
from typing import Any

from rest_framework import serializers
from rest_framework.exceptions import ErrorDetail

from core.strict import check_body_types
from core.validators import validate_country

TAC_RE = re.compile(r"[0-9]{8}")  # ASCII digits only: \d would take any script's digits


def refuse_unknown_fields(data: Mapping[Any, Any], fields: Mapping[str, Any]) -> None:
    """A 400 naming each key that is not a field, or is a read-only one: a typo must not be
    silently dropped, nor a read-only field (`id`, `organisation`…) sent as if it could be
    changed."""
    errors = {
        str(key): [
            ErrorDetail("Read-only field.", code="read_only")
            if key in fields
            else ErrorDetail("Unknown field.", code="unknown_field")
        ]
        for key in data
        if key not in fields or fields[key].read_only
    }
    if errors:
        raise serializers.ValidationError(dict(sorted(errors.items())))


class StrictFieldsMixin:
    """Refuse keys the endpoint does not take (`refuse_unknown_fields`)."""

    # Also values of the wrong JSON type (`check_body_types`), before DRF's fields convert them
    # silently. Every serializer that reads a body has this mixin, so the rule holds for
    # declared and model-mapped fields alike. (The docstring above is every subclass's schema
    # description, hence this comment.)
    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, Mapping):
            refuse_unknown_fields(data, self.fields)  # type: ignore[attr-defined]
            check_body_types(data, self.fields)  # type: ignore[attr-defined]
        return super().to_internal_value(data)  # type: ignore[misc]


class CountryField(serializers.CharField):
    def to_internal_value(self, data: Any) -> str:
        value = super().to_internal_value(data)
        try:
            validate_country(value)
        except Exception:
            raise serializers.ValidationError(
                f"{value!r} is not an ISO 3166-1 alpha-2 country code."
            ) from None
        return value
