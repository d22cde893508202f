"""Whom a write may name as a TLP:RED recipient, refused alike whether unknown or not cleared."""

from typing import Any

from rest_framework import serializers

from intel.models import Member
from intel.models.tlp import TLP


class NamedRecipientsMixin:
    """`recipient_members`: only members cleared for TLP:RED can be named individually. The
    refusal is the same for an unknown username and for one not cleared, so it discloses
    neither."""

    # The body key that names the members (a notice's audience calls it `members`).
    named_field = "recipient_members"

    def validate_recipient_members(self, members: list[Member]) -> list[Member]:
        ineligible = sorted(m.username for m in members if m.clearance != TLP.RED)
        if ineligible:
            raise serializers.ValidationError(_not_nameable(ineligible))
        return members

    def to_internal_value(self, data: Any) -> Any:
        # Unknown usernames get the same answer as members who cannot be named.
        key = self.named_field
        if isinstance(data, dict) and isinstance(data.get(key), list):
            names = [n for n in data[key] if isinstance(n, str)]
            known = set(
                Member.objects.filter(username__in=names, is_active=True).values_list(
                    "username", flat=True
                )
            )
            unknown = sorted(set(names) - known)
            if unknown:
                raise serializers.ValidationError({key: [_not_nameable(unknown)]})
        return super().to_internal_value(data)  # type: ignore[misc]


def _not_nameable(usernames: list[str]) -> str:
    return f"Cannot be named as TLP:RED recipients: {', '.join(usernames)}."
