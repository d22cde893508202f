"""REST API for the network of desks and device profiles (`/api/v1/`).

Each view validates, calls one service, and serializes; every read starts from the model's
`visible_to(member)`, so what a member may not see is a 404 and never part of a list.
"""

from collections.abc import Sequence
from typing import Any, cast

from django.db.models import Case, F, Prefetch, QuerySet, When
from django.http import FileResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.conditional import conditional_response, expected_version, list_etag, versioned_etag
from core.errors import NotFound
from core.schema import IF_NONE_MATCH, PROBLEM
from core.strict import StrictRequestMixin, parse_id
from intel import accounts, audit, services
from intel.api import serializers as s
from intel.api.base import JUSTIFICATION, member_of
from intel.filters import DeviceProfileFilter, OrganisationFilter
from intel.models import (
    ApiToken,
    Attachment,
    DeviceProfile,
    Identifier,
    Organisation,
    ProfileRevision,
)
from intel.revisions import parents_named, shows_a_change

IF_MATCH = OpenApiParameter(
    "If-Match",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=True,
    description="The profile's ETag as you last read it. A stale one answers 412.",
)


class MeView(StrictRequestMixin, APIView):
    @extend_schema(
        summary="Who am I",
        description="The member behind the token or session: organisation, role, clearance.",
        responses={200: s.MeSerializer},
    )
    def get(self, request: Request) -> Response:
        return Response(s.MeSerializer(member_of(request)).data)


@extend_schema_view(
    list=extend_schema(
        summary="The network's organisations",
        description="Every organisation of the network (the directory is visible to all "
        "members): the secretariat, national desks, liaison prosecutors' posts and the "
        "national authorities they sponsor.",
        responses={200: s.OrganisationSerializer(many=True)},
    ),
    retrieve=extend_schema(
        summary="One organisation",
        description="One organisation by id.",
        responses={200: s.OrganisationSerializer},
    ),
)
class OrganisationViewSet(StrictRequestMixin, viewsets.ReadOnlyModelViewSet):
    queryset = Organisation.objects.select_related("sponsor")
    serializer_class = s.OrganisationSerializer
    filterset_class = OrganisationFilter

    def get_queryset(self) -> QuerySet[Organisation]:
        return super().get_queryset().order_by("-created_at", "-id")


@extend_schema_view(
    list=extend_schema(
        summary="My API tokens",
        description="The requesting member's tokens, without their secrets.",
        responses={200: s.ApiTokenSerializer(many=True)},
    ),
    create=extend_schema(
        summary="Issue a token",
        description="Issue a named token, optionally expiring. The `token` value is in this "
        "answer only; DIX keeps its hash.",
        request=s.ApiTokenCreateSerializer,
        responses={201: s.ApiTokenIssuedSerializer, 404: PROBLEM},
        examples=[OpenApiExample("Token for a script", value={"name": "inbox-sync"})],
    ),
    destroy=extend_schema(
        summary="Revoke a token",
        description="Revoke one of your tokens. It stops working at once; the record stays.",
        responses={204: None},
    ),
)
class ApiTokenViewSet(
    StrictRequestMixin,
    mixins.ListModelMixin,
    mixins.CreateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    queryset = ApiToken.objects.none()
    serializer_class = s.ApiTokenSerializer

    def get_queryset(self) -> QuerySet[ApiToken]:
        if getattr(self, "swagger_fake_view", False):
            return ApiToken.objects.none()
        return ApiToken.objects.filter(member=member_of(self.request))

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        form = s.ApiTokenCreateSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        current = request.auth if isinstance(request.auth, ApiToken) else None
        issued = accounts.token_issue(
            member=member_of(request),
            actor=member_of(request),
            not_after=current.expires_at if current else None,
            **form.validated_data,
        )
        body = s.ApiTokenSerializer(issued.token).data | {"token": issued.secret}
        return Response(body, status=status.HTTP_201_CREATED)

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        accounts.token_revoke(token=self.get_object(), actor=member_of(request))
        return Response(status=status.HTTP_204_NO_CONTENT)


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
        responses={200: s.DeviceProfileSerializer(many=True), 304: None, 404: PROBLEM},
    ),
    retrieve=extend_schema(
        summary="One device profile",
        description="The profile as this member may receive it, with its children and the "
        "attachments the member may see. 404 if it does not exist or is not visible. Reading "
        "a TLP:AMBER, AMBER+STRICT or RED profile is recorded in the audit trail.",
        parameters=[IF_NONE_MATCH, JUSTIFICATION],
        responses={200: s.DeviceProfileSerializer, 304: None},
    ),
    create=extend_schema(
        summary="File a device profile",
        description="Analysts (and the secretariat's coordinators) file a profile owned by "
        "their organisation. Writes revision 1. The `ETag` of the answer is what a later "
        "PATCH sends in `If-Match`.",
        request=s.DeviceProfileWriteSerializer,
        responses={201: s.DeviceProfileSerializer, 403: PROBLEM, 404: PROBLEM},
        examples=[OpenApiExample("A mini phone", value=PROFILE_EXAMPLE, request_only=True)],
    ),
    partial_update=extend_schema(
        summary="Change a device profile",
        description="Change some fields; a child list sent replaces the whole list. Requires "
        "`If-Match` with the current ETag: 412 if someone changed it since, 428 if missing. "
        "Only the owner's analysts and the secretariat's coordinators; only the owner lowers "
        "the TLP.",
        parameters=[IF_MATCH],
        request=s.DeviceProfileWriteSerializer,
        responses={200: s.DeviceProfileSerializer, 403: PROBLEM, 409: PROBLEM},
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
    viewsets.GenericViewSet,
):
    queryset = DeviceProfile.objects.none()  # the real one is per member: get_queryset()
    serializer_class = s.DeviceProfileSerializer
    filterset_class = DeviceProfileFilter
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self) -> QuerySet[DeviceProfile]:
        if getattr(self, "swagger_fake_view", False):  # schema generation has no member
            return DeviceProfile.objects.none()
        member = member_of(self.request)
        visible = DeviceProfile.objects.visible_to(member)
        return (
            visible.select_related("owner")
            # A parent the member may not see is not named either: its id would disclose it.
            .annotate(
                visible_parent_id=Case(
                    When(parent_id__in=visible.values("id"), then=F("parent_id")),
                    default=None,
                )
            )
            .prefetch_related(
                "recipient_organisations",
                "recipient_members",
                "identifiers",
                "detection_signatures",
                "concealment_methods",
                "suppliers__sales_channels",
                Prefetch(
                    "attachments",
                    queryset=Attachment.objects.visible_to(member).select_related("uploaded_by"),
                    to_attr="visible_attachments",
                ),
            )
        )

    def get_serializer_context(self) -> dict[str, Any]:
        # Every profile rendered here, the browsable API's forms included, is rendered for
        # the requesting member (`DeviceProfileSerializer`'s version).
        return super().get_serializer_context() | {"reader": member_of(self.request)}

    def _render(self, profile_id: int) -> tuple[dict[str, Any], str]:
        profile = get_object_or_404(self.get_queryset(), pk=profile_id)
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
        form = s.DeviceProfileWriteSerializer(data=request.data, context={"request": request})
        form.is_valid(raise_exception=True)
        profile = services.profile_create(
            author=member_of(request), data=s.profile_input(form.validated_data)
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
        form = s.DeviceProfileWriteSerializer(
            data=request.data, partial=True, context={"request": request}
        )
        form.is_valid(raise_exception=True)
        services.profile_update(
            profile_id=pk,
            author=member_of(request),
            data=s.profile_input(form.validated_data),
            expected_version=version,
        )
        data, etag = self._render(pk)
        return Response(data, headers={"ETag": etag})

    @extend_schema(
        summary="Retire a device profile",
        description="Mark the profile retired, with a reason. It is kept and stays readable "
        "(`retired=true` in the list filter); it is not deleted.",
        request=s.ProfileRetireSerializer,
        responses={200: s.DeviceProfileSerializer, 403: PROBLEM, 409: PROBLEM},
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
        form = s.ProfileRetireSerializer(data=request.data)
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
        "the field-level diff.",
        responses={200: s.ProfileRevisionSerializer(many=True)},
    )
    @action(detail=True, methods=["get"], pagination_class=None, filterset_class=None)
    def revisions(self, request: Request, pk: str) -> Response:
        revisions = list(self._visible_revisions().select_related("author"))
        context = {"visible_parents": self._visible_parents(revisions)}
        revisions = [
            r for r in revisions if shows_a_change(r.action, r.changes, context["visible_parents"])
        ]
        return Response(s.ProfileRevisionSerializer(revisions, many=True, context=context).data)

    @extend_schema(
        summary="One revision of a profile",
        description="One revision by number, with the diff and the full snapshot. Reading a "
        "revision labelled TLP:AMBER or above is recorded in the audit trail.",
        parameters=[JUSTIFICATION],
        responses={200: s.ProfileRevisionDetailSerializer},
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
        data = s.ProfileRevisionDetailSerializer(revision, context=context).data
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
        description="TACs, TAC ranges, Bluetooth names and label markings of the profile. "
        "TACs in the GSMA test range (`00…`) are flagged `is_test_value`.",
        responses={200: s.IdentifierReadSerializer(many=True)},
    )
    @action(detail=True, methods=["get"], pagination_class=None, filterset_class=None)
    def identifiers(self, request: Request, pk: str) -> Response:
        profile_id = self._pk()
        self._require_visible(profile_id)
        rows = Identifier.objects.visible_to(member_of(request)).filter(profile_id=profile_id)
        return Response(s.IdentifierReadSerializer(rows, many=True).data)

    @extend_schema(
        methods=["GET"],
        summary="A profile's attachments",
        description="The attachments of the profile this member may see (an attachment may "
        "be marked stricter than its profile).",
        responses={200: s.AttachmentSerializer(many=True)},
    )
    @extend_schema(
        methods=["POST"],
        summary="Attach a photo or document",
        description="Upload (multipart) a JPEG, PNG or WebP photo or a PDF, up to the size "
        "limit (`DIX_ATTACHMENT_MAX_BYTES`). The type is sniffed from the content and images "
        "are stored without their metadata (EXIF, GPS…). The label defaults to the profile's "
        "and may not be lower.",
        request={"multipart/form-data": s.AttachmentUploadSerializer},
        responses={201: s.AttachmentSerializer, 403: PROBLEM},
    )
    @action(
        detail=True,
        methods=["get", "post"],
        pagination_class=None,
        filterset_class=None,
        parser_classes=[MultiPartParser],
    )
    def attachments(self, request: Request, pk: str) -> Response:
        profile_id = self._pk()
        self._require_visible(profile_id)
        member = member_of(request)
        if request.method == "POST":
            form = s.AttachmentUploadSerializer(data=request.data)
            form.is_valid(raise_exception=True)
            data = form.validated_data
            attachment = services.attachment_add(
                profile_id=profile_id,
                author=member,
                kind=data["kind"],
                title=data["title"],
                tlp=data.get("tlp"),
                upload=data["file"],
            )
            return Response(s.AttachmentSerializer(attachment).data, status=201)
        rows = Attachment.objects.visible_to(member).filter(profile_id=profile_id)
        return Response(s.AttachmentSerializer(rows.select_related("uploaded_by"), many=True).data)

    @extend_schema(
        summary="One attachment's metadata",
        description="Title, kind, label, sniffed content type, size and SHA-256. Reading a "
        "TLP:AMBER or higher attachment's metadata is recorded in the audit trail.",
        parameters=[JUSTIFICATION],
        responses={200: s.AttachmentSerializer},
    )
    @action(
        detail=True,
        methods=["get"],
        url_path=r"attachments/(?P<attachment_id>\d+)",
        pagination_class=None,
        filterset_class=None,
    )
    def attachment(self, request: Request, pk: str, attachment_id: str) -> Response:
        attachment = self._visible_attachment(attachment_id)
        if request.method == "GET":
            audit.record_read(
                actor=member_of(request),
                object_type="attachment",
                object_id=attachment.pk,
                object_tlp=attachment.tlp,
                detail={"profile": attachment.profile_id},
            )
        return Response(s.AttachmentSerializer(attachment).data)

    @extend_schema(
        summary="Download an attachment",
        description="The stored (metadata-stripped) file, served as a download. Downloading "
        "a TLP:AMBER or higher attachment is recorded in the audit trail.",
        parameters=[JUSTIFICATION],
        responses={(200, "application/octet-stream"): OpenApiResponse(OpenApiTypes.BINARY)},
    )
    @action(
        detail=True,
        methods=["get"],
        url_path=r"attachments/(?P<attachment_id>\d+)/content",
        url_name="attachment-content",
        pagination_class=None,
        filterset_class=None,
    )
    def attachment_content(self, request: Request, pk: str, attachment_id: str) -> FileResponse:
        attachment = self._visible_attachment(attachment_id)
        extension = {"application/pdf": "pdf", "image/jpeg": "jpg", "image/png": "png"}.get(
            attachment.content_type, "webp"
        )
        response = FileResponse(
            attachment.file.open("rb"),
            as_attachment=True,
            filename=f"dix-attachment-{attachment.pk}.{extension}",
            content_type=attachment.content_type,
        )
        response["Cache-Control"] = "private, no-store"
        if request.method == "GET":
            audit.record_read(
                actor=member_of(request),
                action="attachment.downloaded",
                object_type="attachment",
                object_id=attachment.pk,
                object_tlp=attachment.tlp,
                detail={"profile": attachment.profile_id, "sha256": attachment.sha256},
            )
        return response

    # --- helpers ----------------------------------------------------------------------------

    def _pk(self) -> int:
        return parse_id(self.kwargs["pk"])

    def _require_visible(self, profile_id: int) -> None:
        if (
            not DeviceProfile.objects.visible_to(member_of(self.request))
            .filter(pk=profile_id)
            .exists()
        ):
            raise NotFound("Not found.")

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

    def _visible_attachment(self, attachment_id: str) -> Attachment:
        profile_id = self._pk()
        return get_object_or_404(
            Attachment.objects.visible_to(member_of(self.request)).select_related("uploaded_by"),
            profile_id=profile_id,
            pk=parse_id(attachment_id),
        )
