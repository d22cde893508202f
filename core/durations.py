"""One rule for every body that sets how long something is valid: `days` (a whole number from
1) or `expires_at` (an RFC 3339 time in the future), not both; neither means the endpoint's
default. Reads return `expires_at` only."""

from datetime import datetime, timedelta
from typing import Any, ClassVar

from django.utils import timezone
from rest_framework import exceptions, serializers
from rest_framework.exceptions import ErrorDetail

# Far beyond any validity DIX grants, far below what a date can hold.
MAX_DAYS = 36_500


def validity(
    *,
    days: int | None,
    expires_at: datetime | None,
    default: timedelta | None,
    maximum: timedelta | None = None,
    now: datetime | None = None,
) -> datetime | None:
    """The expiry a body asks for: `days` from `now`, or `expires_at`, or `now + default`
    (None: no expiry). A 400 naming both fields when both are given; naming the one given
    when the expiry is not in the future or lies beyond `now + maximum`."""
    if days is not None and expires_at is not None:
        message = "Give either `days` or `expires_at`, not both."
        raise exceptions.ValidationError(
            {
                "days": [ErrorDetail(message, code="invalid")],
                "expires_at": [ErrorDetail(message, code="invalid")],
            }
        )
    now = now or timezone.now()
    field = "days" if days is not None else "expires_at"
    if days is not None:
        if not 1 <= days <= MAX_DAYS:
            raise _refusal("days", f"A whole number of days from 1 to {MAX_DAYS}.")
        expires_at = now + timedelta(days=days)
    elif expires_at is None:
        return None if default is None else now + default
    if expires_at <= now:
        raise _refusal(field, "The expiry must be in the future.")
    if maximum is not None and expires_at > now + maximum:
        raise _refusal(field, f"At most {maximum.days} days from now.")
    return expires_at


def _refusal(field: str, message: str) -> exceptions.ValidationError:
    return exceptions.ValidationError({field: [ErrorDetail(message, code="invalid")]})


class ValidityFields(serializers.Serializer[Any]):
    """`days` or `expires_at` in a body, validated into `expires_at` (None: no expiry) by
    `validity` with the class's `validity_default` and `validity_maximum`."""

    validity_default: ClassVar[timedelta | None] = None
    validity_maximum: ClassVar[timedelta | None] = None

    days = serializers.IntegerField(
        required=False,
        allow_null=True,
        min_value=1,
        max_value=MAX_DAYS,
        help_text="Valid for this many days from now; or give `expires_at`, not both.",
    )
    expires_at = serializers.DateTimeField(
        required=False,
        allow_null=True,
        help_text="Valid until this time (RFC 3339, in the future); or give `days`, not both.",
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        attrs = super().validate(attrs)
        attrs["expires_at"] = validity(
            days=attrs.pop("days", None),
            expires_at=attrs.get("expires_at"),
            default=self.validity_default,
            maximum=self.validity_maximum,
        )
        return attrs
