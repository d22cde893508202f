"""API plumbing that needs DIX's members: who is asking, whom a write may name, and the audit
trail's header."""

from typing import Any, cast

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework import serializers
from rest_framework.request import Request

from intel import audit
from intel.models import Member
from intel.models.tlp import TLP

JUSTIFICATION = OpenApiParameter(
    audit.JUSTIFICATION_HEADER,
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description="Optional: why you read or change this (a case reference, a purpose), kept "
    "in the audit trail with the event. Reads of TLP:AMBER, AMBER+STRICT and RED details are "
    "recorded whether or not you send it; send it for TLP:RED. UTF-8, up to "
    f"{audit.JUSTIFICATION_MAX} characters.",
)


def member_of(request: Request) -> Member:
    return cast(Member, request.user)


class NamedRecipientsMixin:
    """`recipient_members`: only members cleared for TLP:RED can be named individually. The
    refusal is the same for an unknown username and for one not cleared, so it discloses
    neither."""

    def validate_recipient_members(self, members: list[Member]) -> list[Member]:
        ineligible = sorted(m.username for m in members if m.clearance != TLP.RED)
        if ineligible:
            raise serializers.ValidationError(_not_nameable(ineligible))
        return members

    def to_internal_value(self, data: Any) -> Any:
        # Unknown usernames get the same answer as members who cannot be named.
        if isinstance(data, dict) and isinstance(data.get("recipient_members"), list):
            names = [n for n in data["recipient_members"] if isinstance(n, str)]
            known = set(
                Member.objects.filter(username__in=names, is_active=True).values_list(
                    "username", flat=True
                )
            )
            unknown = sorted(set(names) - known)
            if unknown:
                raise serializers.ValidationError({"recipient_members": [_not_nameable(unknown)]})
        return super().to_internal_value(data)  # type: ignore[misc]


def _not_nameable(usernames: list[str]) -> str:
    return f"Cannot be named as TLP:RED recipients: {', '.join(usernames)}."
