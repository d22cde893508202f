"""The organisation as the directory shows it, and as other resources name it."""

from rest_framework import serializers

from intel.models import Organisation


class OrganisationSerializer(serializers.ModelSerializer[Organisation]):
    """An organisation of the network, as the directory shows it."""

    sponsor: serializers.SlugRelatedField[Organisation] = serializers.SlugRelatedField(
        slug_field="slug", read_only=True, allow_null=True
    )

    class Meta:
        model = Organisation
        fields = ("id", "slug", "name", "kind", "country", "sponsor")


class OrganisationRefSerializer(serializers.ModelSerializer[Organisation]):
    """An organisation, as another object names it."""

    class Meta:
        model = Organisation
        fields = ("id", "slug", "name", "kind", "country")
