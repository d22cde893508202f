"""How long something lasts: the one rule for every body that sets a validity.

A body gives either `days` (a whole number of days from now, at least 1, at most the
endpoint's maximum) or `expires_at` (an RFC 3339 time in the future, within the same
maximum), never both; giving neither takes the endpoint's default. Reads answer the
resulting `expires_at`.
"""

from datetime import datetime, timedelta

from django.utils import timezone
from rest_framework.exceptions import ValidationError


def validity(
    days: int | None,
    expires_at: datetime | None,
    *,
    default_days: int,
    max_days: int,
    now: datetime | None = None,
) -> datetime:
    """The expiry a body asks for, or a 400 naming the field at fault."""
    now = now or timezone.now()
    if days is not None and expires_at is not None:
        message = "Give either days or expires_at, not both."
        raise ValidationError({"days": [message], "expires_at": [message]})
    if expires_at is not None:
        if timezone.is_naive(expires_at):
            raise ValidationError({"expires_at": ["Give a time zone (e.g. 2026-03-01T00:00:00Z)."]})
        if expires_at <= now:
            raise ValidationError({"expires_at": ["The expiry must be in the future."]})
        if expires_at > now + timedelta(days=max_days):
            raise ValidationError({"expires_at": [f"At most {max_days} days from now."]})
        return expires_at
    if days is None:
        days = default_days
    if isinstance(days, bool) or not 1 <= days <= max_days:
        raise ValidationError({"days": [f"Between 1 and {max_days} days."]})
    return now + timedelta(days=days)
