"""The organisation as the directory shows it, as other resources name it, and the access
policy its coordinators set."""

from typing import Any

from rest_framework import serializers

from core.serializers import StrictFieldsMixin
from intel.models import Organisation


class OrganisationSerializer(serializers.ModelSerializer[Organisation]):
    """An organisation of the network, as the directory shows it."""

    sponsor: serializers.SlugRelatedField[Organisation] = serializers.SlugRelatedField(
        slug_field="slug", read_only=True, allow_null=True
    )

    class Meta:
        model = Organisation
        fields = (
            "id",
            "slug",
            "name",
            "kind",
            "country",
            "sponsor",
            "analysts_decide_access",
            "delegates_access_to_secretariat",
        )
        read_only_fields = fields


class AccessPolicySerializer(StrictFieldsMixin, serializers.Serializer[Any]):
    """Who decides access requests for what the organisation owns (docs/access-requests.md)."""

    analysts_decide_access = serializers.BooleanField(
        required=False,
        help_text="Its analysts decide access requests for what it owns, as its coordinators do.",
    )
    delegates_access_to_secretariat = serializers.BooleanField(
        required=False,
        help_text="The secretariat's coordinators decide access requests for what it owns, "
        "when they may read the object themselves (never TLP:RED).",
    )


class OrganisationRefSerializer(serializers.ModelSerializer[Organisation]):
    """An organisation, as another object names it."""

    class Meta:
        model = Organisation
        fields = ("id", "slug", "name", "kind", "country")
