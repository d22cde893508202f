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
    organisation = OrganisationSerializer(read_only=True)
    may_file_profiles = serializers.SerializerMethodField()

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
