"""A profile's attachments (`/api/v1/profiles/{id}/attachments/`): list, upload, metadata and
download, as actions the profile viewset inherits."""

from django.http import FileResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import viewsets
from rest_framework.decorators import action
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from core.pagination import CURSOR_PARAMETERS, NewestFirstCursorPagination, sub_page
from core.schema import PROBLEM
from core.strict import parse_id
from intel import audit, services
from intel.api.base import JUSTIFICATION, member_of
from intel.api.visible import get_visible_or_404, refuse_read
from intel.attachments import download_name
from intel.models import Attachment, DeviceProfile
from intel.shapes.profile_children import AttachmentSerializer, AttachmentUploadSerializer


class ProfileAttachmentActions(viewsets.GenericViewSet[DeviceProfile]):
    """The attachment routes under one profile, read and written for the requesting member."""

    @extend_schema(
        methods=["GET"],
        summary="A profile's attachments",
        description="The attachments of the profile this member may see (an attachment may "
        "be marked stricter than its profile), newest first, "
        "cursor-paginated.",
        responses={200: AttachmentSerializer(many=True)},
    )
    @extend_schema(
        methods=["POST"],
        summary="Attach a photo or document",
        description="Upload (multipart) a JPEG, PNG or WebP photo or a PDF, up to the size "
        "limit (`DIX_ATTACHMENT_MAX_BYTES`). The type is sniffed from the content and images "
        "are stored without their metadata (EXIF, GPS…). The label defaults to the profile's "
        "and may not be lower.",
        request={"multipart/form-data": AttachmentUploadSerializer},
        responses={201: AttachmentSerializer, 403: PROBLEM},
    )
    @action(
        detail=True,
        methods=["get", "post"],
        pagination_class=NewestFirstCursorPagination,
        filterset_class=None,
        parser_classes=[MultiPartParser],
        query_parameters=CURSOR_PARAMETERS,
    )
    def attachments(self, request: Request, pk: str) -> Response:
        profile_id = self._pk()
        self._require_visible(profile_id)
        member = member_of(request)
        if request.method == "POST":
            form = AttachmentUploadSerializer(data=request.data)
            form.is_valid(raise_exception=True)
            data = form.validated_data
            attachment = services.attachment_add(
                profile_id=profile_id,
                author=member,
                kind=data["kind"],
                title=data["title"],
                tlp=data.get("tlp"),
                upload=data["file"],
                request_summary=data["request_summary"],
            )
            return Response(AttachmentSerializer(attachment).data, status=201)
        rows = Attachment.objects.visible_to(member).filter(profile_id=profile_id)
        page = sub_page(self, rows.select_related("uploaded_by"))
        return self.get_paginated_response(AttachmentSerializer(page, many=True).data)

    @extend_schema(
        summary="One attachment's metadata",
        description="Title, kind, label, sniffed content type, size and SHA-256. Reading a "
        "TLP:AMBER or higher attachment's metadata is recorded in the audit trail.",
        parameters=[JUSTIFICATION],
        responses={200: AttachmentSerializer},
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
        return Response(AttachmentSerializer(attachment).data)

    @extend_schema(
        summary="Download an attachment",
        description="The stored (metadata-stripped) file, served as a download under the "
        "name it was uploaded with (`file_name`; `Content-Disposition` with RFC 6266's "
        "`filename*=utf-8''…` for a non-ASCII name). Downloading "
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
        response = FileResponse(
            attachment.file.open("rb"),
            as_attachment=True,
            # Django writes a non-ASCII name as RFC 6266's `filename*=utf-8''…`.
            filename=download_name(
                attachment.original_name, attachment.content_type, attachment.pk
            ),
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

    def _pk(self) -> int:
        return parse_id(self.kwargs["pk"])

    def _require_visible(self, profile_id: int) -> None:
        member = member_of(self.request)
        if not DeviceProfile.objects.visible_to(member).filter(pk=profile_id).exists():
            refuse_read(DeviceProfile, profile_id, member=member, object_type="profile")

    def _visible_attachment(self, attachment_id: str) -> Attachment:
        profile_id = self._pk()
        member = member_of(self.request)
        return get_visible_or_404(
            Attachment.objects.visible_to(member).select_related("uploaded_by"),
            parse_id(attachment_id),
            member=member,
            object_type="attachment",
            profile_id=profile_id,
        )
