"""Device profiles (`/api/v1/profiles/`): list, read, file, change, retire, and their
revisions and identifiers.

Each view validates, calls one service, and serializes; every read starts from the model's
`visible_to(member)`, so what a member may not see is a 404 and never part of a list.
"""

from collections.abc import Sequence
from typing import Any, cast

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    extend_schema,
    extend_schema_view,
)
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from core.conditional import conditional_response, expected_version, list_etag, versioned_etag
from core.errors import NotFound
from core.pagination import (
    CURSOR_PARAMETERS,
    IdOrderPagination,
    NumberOrderPagination,
    sub_page,
)
from core.schema import IF_NONE_MATCH, PROBLEM
from core.strict import StrictRequestMixin, parse_id
from intel import audit, services
from intel.api.attachments import ProfileAttachmentActions
from intel.api.base import JUSTIFICATION, member_of
from intel.api.visible import get_visible_or_404
from intel.filters import PROFILE_FILTERS_RENAMED, DeviceProfileFilter
from intel.models import DeviceProfile, Identifier, ProfileRevision
from intel.revisions import parents_named, shows_a_change
from intel.shapes.profile_children import IdentifierReadSerializer
from intel.shapes.profiles import (
    DeviceProfileSerializer,
    DeviceProfileWriteSerializer,
    ProfileRetireSerializer,
    ProfileRevisionDetailSerializer,
    ProfileRevisionSerializer,
    profile_input,
)

IF_MATCH = OpenApiParameter(
    "If-Match",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=True,
    description="The profile's ETag as you last read it. A stale one answers 412.",
)


PROFILE_EXAMPLE = {
    "name": "L8star ultra-compact mini phone",
    "aliases": ["thumb phone"],
    "device_class": "mini_phone",
    "manufacturer_country": "CN",
    "housing_material": "mostly_plastic",
    "metal_content": "minimal",
    "network_technologies": ["GSM"],
    "talk_time_min": 60,
    "phonebook_capacity": 250,
    "price_amount": "20.00",
    "price_currency": "EUR",
    "tlp": "TLP:AMBER",
    "recipient_organisations": ["be-desk"],
    "identifiers": [{"kind": "tac", "value": "00999900"}],
    "detection_signatures": [
        {
            "method": "walk_through_metal_detector",
            "expected_outcome": "usually_not_detected",
            "evidence": "Passed the gate in three of three trials.",
        }
    ],
}


@extend_schema_view(
    list=extend_schema(
        summary="Device profiles",
        description="Profiles the member may see, newest first, current ones unless "
        "`retired=true`. Cursor-paginated; `ETag`/`If-None-Match` answer 304 when the page "
        "is unchanged.",
        parameters=[IF_NONE_MATCH],
        responses={200: DeviceProfileSerializer(many=True), 304: None, 404: PROBLEM},
    ),
    retrieve=extend_schema(
        summary="One device profile",
        description="The profile as this member may receive it, with its children and the "
        "attachments the member may see. 404 if it does not exist or is not visible. Reading "
        "a TLP:AMBER, AMBER+STRICT or RED profile is recorded in the audit trail.",
        parameters=[IF_NONE_MATCH, JUSTIFICATION],
        responses={200: DeviceProfileSerializer, 304: None},
    ),
    create=extend_schema(
        summary="File a device profile",
        description="Analysts (and the secretariat's coordinators) file a profile owned by "
        "their organisation. Writes revision 1. The `ETag` of the answer is what a later "
        "PATCH sends in `If-Match`.",
        request=DeviceProfileWriteSerializer,
        responses={201: DeviceProfileSerializer, 403: PROBLEM, 404: PROBLEM},
        examples=[OpenApiExample("A mini phone", value=PROFILE_EXAMPLE, request_only=True)],
    ),
    partial_update=extend_schema(
        summary="Change a device profile",
        description="Change some fields; a child list sent replaces the whole list. Requires "
        "`If-Match` with the current ETag: 412 if someone changed it since, 428 if missing. "
        "Only the owner's analysts and the secretariat's coordinators; only the owner lowers "
        "the TLP.",
        parameters=[IF_MATCH],
        request=DeviceProfileWriteSerializer,
        responses={200: DeviceProfileSerializer, 403: PROBLEM, 409: PROBLEM},
        examples=[
            OpenApiExample("Add the measured weight", value={"weight_g": "18.5"}, request_only=True)
        ],
    ),
)
class DeviceProfileViewSet(
    StrictRequestMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    ProfileAttachmentActions,
):
    queryset = DeviceProfile.objects.none()  # the real one is per member: get_queryset()
    serializer_class = DeviceProfileSerializer
    filterset_class = DeviceProfileFilter
    renamed_parameters = PROFILE_FILTERS_RENAMED
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self) -> QuerySet[DeviceProfile]:
        if getattr(self, "swagger_fake_view", False):  # schema generation has no member
            return DeviceProfile.objects.none()
        return DeviceProfile.objects.for_reading(member_of(self.request))

    def get_serializer_context(self) -> dict[str, Any]:
        # Every profile rendered here, the browsable API's forms included, is rendered for
        # the requesting member (`DeviceProfileSerializer`'s version).
        return super().get_serializer_context() | {"reader": member_of(self.request)}

    def _render(self, profile_id: int) -> tuple[dict[str, Any], str]:
        profile = get_visible_or_404(
            self.get_queryset(), profile_id, member=member_of(self.request), object_type="profile"
        )
        data = cast(dict[str, Any], self.get_serializer(profile).data)
        return data, versioned_etag(profile.pk, data["version"], data)

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        queryset = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(queryset)
        rows = queryset if page is None else page
        data = self.get_paginated_response(self.get_serializer(rows, many=True).data).data
        return conditional_response(request, data, list_etag(data))

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        profile_id = self._pk()
        data, etag = self._render(profile_id)
        response = conditional_response(request, data, etag)
        if request.method == "GET" and response.status_code == 200:  # not a 304 revalidation
            audit.record_read(
                actor=member_of(request),
                object_type="profile",
                object_id=profile_id,
                object_tlp=data["tlp"],
                detail={"version": data.get("version")},
            )
        return response

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        form = DeviceProfileWriteSerializer(data=request.data, context={"request": request})
        form.is_valid(raise_exception=True)
        profile = services.profile_create(
            author=member_of(request), data=profile_input(form.validated_data)
        )
        data, etag = self._render(profile.pk)
        location = reverse("profile-detail", kwargs={"pk": profile.pk})
        return Response(
            data, status=status.HTTP_201_CREATED, headers={"ETag": etag, "Location": location}
        )

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        pk = self._pk()
        self._require_visible(pk)
        version = expected_version(request, pk)
        form = DeviceProfileWriteSerializer(
            data=request.data, partial=True, context={"request": request}
        )
        form.is_valid(raise_exception=True)
        services.profile_update(
            profile_id=pk,
            author=member_of(request),
            data=profile_input(form.validated_data),
            expected_version=version,
        )
        data, etag = self._render(pk)
        return Response(data, headers={"ETag": etag})

    @extend_schema(
        summary="Retire a device profile",
        description="Mark the profile retired, with a reason. It is kept and stays readable "
        "(`retired=true` in the list filter); it is not deleted.",
        request=ProfileRetireSerializer,
        responses={200: DeviceProfileSerializer, 403: PROBLEM, 409: PROBLEM},
        examples=[
            OpenApiExample(
                "Merged", value={"reason": "Duplicate of profile 12."}, request_only=True
            )
        ],
    )
    @action(detail=True, methods=["post"])
    def retire(self, request: Request, pk: str) -> Response:
        profile_id = self._pk()
        self._require_visible(profile_id)
        form = ProfileRetireSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        header = request.headers.get("If-Match")
        services.profile_retire(
            profile_id=profile_id,
            author=member_of(request),
            reason=form.validated_data["reason"],
            expected_version=expected_version(request, profile_id) if header else None,
        )
        data, etag = self._render(profile_id)
        return Response(data, headers={"ETag": etag})

    @extend_schema(
        summary="A profile's revisions",
        description="Every create and change, oldest first: number, action, author, time and "
        "the field-level diff. Cursor-paginated like every list; a page may hold fewer than "
        "`page_size` revisions when some change only what you may not see.",
        responses={200: ProfileRevisionSerializer(many=True)},
    )
    @action(
        detail=True,
        methods=["get"],
        pagination_class=NumberOrderPagination,
        filterset_class=None,
        query_parameters=CURSOR_PARAMETERS,
    )
    def revisions(self, request: Request, pk: str) -> Response:
        revisions = sub_page(self, self._visible_revisions().select_related("author"))
        context = {"visible_parents": self._visible_parents(revisions)}
        revisions = [
            r for r in revisions if shows_a_change(r.action, r.changes, context["visible_parents"])
        ]
        data = ProfileRevisionSerializer(revisions, many=True, context=context).data
        return self.get_paginated_response(data)

    @extend_schema(
        summary="One revision of a profile",
        description="One revision by number, with the diff and the full snapshot. Reading a "
        "revision labelled TLP:AMBER or above is recorded in the audit trail.",
        parameters=[JUSTIFICATION],
        responses={200: ProfileRevisionDetailSerializer},
    )
    @action(
        detail=True,
        methods=["get"],
        url_path=r"revisions/(?P<number>\d+)",
        pagination_class=None,
        filterset_class=None,
    )
    def revision(self, request: Request, pk: str, number: str) -> Response:
        revision = get_object_or_404(self._visible_revisions(), number=parse_id(number))
        context = {"visible_parents": self._visible_parents([revision])}
        # A change the reader may not see (a hidden parent) is no revision for them.
        if not shows_a_change(revision.action, revision.changes, context["visible_parents"]):
            raise NotFound("Not found.")
        data = ProfileRevisionDetailSerializer(revision, context=context).data
        if request.method == "GET":
            audit.record_read(
                actor=member_of(request),
                action="profile.revision_read",
                object_type="profile",
                object_id=revision.profile_id,
                object_tlp=revision.tlp,
                detail={"revision": revision.number},
            )
        return Response(data)

    @extend_schema(
        summary="A profile's identifiers",
        description="TACs, TAC ranges, Bluetooth names and label markings of the profile, in "
        "the order they were added, cursor-paginated. TACs in the GSMA test range (`00…`) are "
        "flagged `is_test_value`.",
        responses={200: IdentifierReadSerializer(many=True)},
    )
    @action(
        detail=True,
        methods=["get"],
        pagination_class=IdOrderPagination,
        filterset_class=None,
        query_parameters=CURSOR_PARAMETERS,
    )
    def identifiers(self, request: Request, pk: str) -> Response:
        profile_id = self._pk()
        self._require_visible(profile_id)
        rows = Identifier.objects.visible_to(member_of(request)).filter(profile_id=profile_id)
        page = sub_page(self, rows)
        return self.get_paginated_response(IdentifierReadSerializer(page, many=True).data)

    # --- helpers ----------------------------------------------------------------------------

    def _visible_revisions(self) -> QuerySet[ProfileRevision]:
        profile_id = self._pk()
        self._require_visible(profile_id)
        return ProfileRevision.objects.visible_to(member_of(self.request)).filter(
            profile_id=profile_id
        )

    def _visible_parents(self, revisions: Sequence[ProfileRevision]) -> set[int]:
        """Parent ids named in these revisions that the member may see."""
        named = {r.snapshot.get("parent") for r in revisions} - {None}
        named |= parents_named(r.changes for r in revisions)
        visible = DeviceProfile.objects.visible_to(member_of(self.request)).filter(pk__in=named)
        return set(visible.values_list("id", flat=True))
