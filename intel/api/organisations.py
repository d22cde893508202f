"""The network's directory of organisations (`/api/v1/organisations/`), and the access policy
each one's coordinators set on it."""

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_view
from rest_framework import mixins, viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from core.schema import PROBLEM
from core.strict import StrictRequestMixin
from intel import accounts
from intel.api.base import member_of
from intel.filters import OrganisationFilter
from intel.models import Organisation
from intel.shapes.organisations import AccessPolicySerializer, OrganisationSerializer


@extend_schema_view(
    list=extend_schema(
        summary="The network's organisations",
        description="Every organisation of the network (the directory is visible to all "
        "members): the secretariat, national desks, liaison prosecutors' posts and the "
        "national authorities they sponsor.",
        responses={200: OrganisationSerializer(many=True)},
    ),
    retrieve=extend_schema(
        summary="One organisation",
        description="One organisation by id.",
        responses={200: OrganisationSerializer},
    ),
    partial_update=extend_schema(
        summary="Set who decides access to what it owns",
        description="For the organisation's own coordinators (403 for anyone else): "
        "`analysts_decide_access` lets its analysts decide access requests as its "
        "coordinators do; `delegates_access_to_secretariat` lets the secretariat's "
        "coordinators decide them when they read the object themselves (never TLP:RED). Both "
        "default to false. Each change is audited (`organisation.access_policy_changed`).",
        request=AccessPolicySerializer,
        responses={200: OrganisationSerializer, 403: PROBLEM},
        examples=[
            OpenApiExample(
                "Let analysts decide",
                value={"analysts_decide_access": True},
                request_only=True,
            )
        ],
    ),
)
class OrganisationViewSet(
    StrictRequestMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet[Organisation],
):
    queryset = Organisation.objects.select_related("sponsor")
    serializer_class = OrganisationSerializer
    filterset_class = OrganisationFilter
    http_method_names = ["get", "patch", "head", "options"]

    def get_queryset(self) -> QuerySet[Organisation]:
        return super().get_queryset().order_by("-created_at", "-id")

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        organisation = self.get_object()
        form = AccessPolicySerializer(data=request.data)
        form.is_valid(raise_exception=True)
        accounts.organisation_set_access_policy(
            organisation_id=organisation.pk,
            actor=member_of(request),
            changes=form.validated_data,
            http_request=request,
        )
        return Response(OrganisationSerializer(self.get_queryset().get(pk=organisation.pk)).data)
