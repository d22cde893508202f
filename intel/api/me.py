"""The requesting member's own record (`/api/v1/me/`)."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.strict import StrictRequestMixin
from intel.api.base import member_of
from intel.models import Member
from intel.policies import may_file_profiles
from intel.shapes.organisations import OrganisationSerializer


class MeSerializer(serializers.ModelSerializer[Member]):
    """The member behind the token or session."""

    organisation = OrganisationSerializer(
        read_only=True, help_text="Your organisation; null for a platform superuser."
    )
    may_file_profiles = serializers.SerializerMethodField(
        help_text="Whether you may file profiles (analysts, and the secretariat's coordinators)."
    )

    class Meta:
        model = Member
        fields = (
            "id",
            "username",
            "email",
            "first_name",
            "last_name",
            "role",
            "clearance",
            "organisation",
            "may_file_profiles",
        )
        extra_kwargs = {
            "email": {"help_text": "Your e-mail address, if the secretariat recorded one."},
            "first_name": {"help_text": "Your first name, if recorded."},
            "last_name": {"help_text": "Your last name, if recorded."},
        }

    def get_may_file_profiles(self, member: Member) -> bool:
        return may_file_profiles(member)


class MeView(StrictRequestMixin, APIView):
    @extend_schema(
        summary="Who am I",
        description="The member behind the token or session: organisation, role, clearance.",
        responses={200: MeSerializer},
    )
    def get(self, request: Request) -> Response:
        return Response(MeSerializer(member_of(request)).data)
