"""The network's directory of organisations (`/api/v1/organisations/`)."""

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import viewsets

from core.strict import StrictRequestMixin
from intel.filters import OrganisationFilter
from intel.models import Organisation
from intel.shapes.organisations import OrganisationSerializer


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
)
class OrganisationViewSet(StrictRequestMixin, viewsets.ReadOnlyModelViewSet[Organisation]):
    queryset = Organisation.objects.select_related("sponsor")
    serializer_class = OrganisationSerializer
    filterset_class = OrganisationFilter

    def get_queryset(self) -> QuerySet[Organisation]:
        return super().get_queryset().order_by("-created_at", "-id")
