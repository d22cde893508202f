"""API plumbing that needs DIX's members: who is asking, and the audit trail's header."""

from typing import cast

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework.request import Request

from intel import audit
from intel.models import Member

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
