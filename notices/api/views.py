"""REST API for notices (`/api/v1/notices/`): the inbox, one notice, and the draft-to-withdrawal
workflow.

Every notice read starts from `Notice.objects.visible_to(member)` and renders for that
member (`notices.rendering`), so a notice never carries a profile its reader may not see.
"""

import hashlib
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from django.core.cache import cache
from django.db.models import QuerySet
from django.utils import timezone
from drf_spectacular.utils import (
    OpenApiExample,
    extend_schema,
    extend_schema_view,
)
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from core.conditional import conditional_response, list_etag
from core.pagination import NewestFirstCursorPagination
from core.schema import IF_NONE_MATCH, PROBLEM
from core.strict import StrictRequestMixin
from intel import audit
from intel.api.base import JUSTIFICATION, member_of
from intel.api.visible import get_visible_or_404
from intel.models import Member
from notices import services
from notices.api.notice_records import NoticeRecordActions
from notices.api.notice_review import NoticeReviewActions
from notices.api.serializers import (
    NoticeRevisionSerializer,
    NoticeWriteSerializer,
    SupersedeSerializer,
    WithdrawSerializer,
)
from notices.filters import NOTICE_FILTERS_RENAMED, NoticeFilter, encode_since
from notices.inbox import inbox_etag
from notices.models import Notice
from notices.rendering import render_for, with_visible_profiles
from notices.shapes import NoticeSerializer

# Changes that commit up to this long after a pull may carry an earlier `changed_at` than
# the pull saw; the `since` token looks back this far so that nothing is skipped (a notice
# may then come twice: dedupe on `id` + `version`).
SINCE_LOOKBACK = timedelta(seconds=5)

# An inbox page as rendered for one member is kept under its ETag (who asks, the query, the
# shared-data counter) and its absolute URL (the cursor links name the host): a poll without
# If-None-Match that finds nothing new is answered without querying or rendering notices.
# Whatever changes the ETag — any write that can alter a member's inbox bumps the counter —
# leaves the copy behind; the timeout only bounds how long unused copies take room.
INBOX_PAGE_SECONDS = 300

NOTICE_EXAMPLE = {
    "type": "alert",
    "title": "Ultra-compact low-metal mini phones smuggled into prisons",
    "summary": "Tiny, mostly plastic phones that usually pass walk-through metal detectors.",
    "action_requested": "Check your prisons; report findings back to the issuing desk.",
    "profile_ids": [1, 2],
    "audience": {"scope": "network"},
    "tlp": "TLP:GREEN",
    "restricted_data_available": True,
}


class NewestChangeFirstPagination(NewestFirstCursorPagination):
    """The inbox: latest publication, update or withdrawal first (as documented)."""

    ordering = ("-changed_at", "-id")


# Annotations inside the viewsets cannot say `list[...]`: there `list` is the list action.
Rendered = list[dict[str, Any]]


def notice_input(validated: dict[str, Any]) -> services.NoticeInput:
    """The service's input from a validated body: `audience` is the notice's audience
    columns and relations, each left out when the body leaves it out."""
    fields = dict(validated)
    audience = fields.pop("audience", None) or {}
    if "scope" in audience:
        fields["audience_scope"] = audience["scope"]
    return services.NoticeInput(
        profiles=fields.pop("profile_ids", None),
        audience_organisations=audience.get("organisations"),
        audience_countries=audience.get("countries"),
        recipient_members=audience.get("members"),
        fields=fields,
    )


@extend_schema_view(
    list=extend_schema(
        summary="Notice inbox",
        description="The notices you may see, newest change first, each rendered for you "
        "(profiles you may not see are left out). Filters: type, status, profile, issuer, "
        "issuer_country, audience_country, acknowledged, `q` (words searched in title, "
        "summary and body), and `since` (the `DIX-Since` header of your previous pull, or an "
        "RFC 3339 time) for only what is new. `If-None-Match` with the last `ETag` answers "
        "304 when nothing changed.",
        parameters=[IF_NONE_MATCH],
        responses={200: NoticeSerializer(many=True), 304: None, 404: PROBLEM},
    ),
    retrieve=extend_schema(
        summary="One notice",
        description="The notice as you may receive it; reading it records your "
        "organisation's read receipt. Reading a TLP:AMBER, AMBER+STRICT or RED notice is "
        "recorded in the audit trail.",
        parameters=[IF_NONE_MATCH, JUSTIFICATION],
        responses={200: NoticeSerializer, 304: None},
    ),
    create=extend_schema(
        summary="Draft a notice",
        description="Analysts and coordinators draft notices for their organisation. A draft "
        "is seen only by those of its organisation and the secretariat whom the notice would "
        "reach once published (a TLP:RED draft: the drafter and the named members).",
        request=NoticeWriteSerializer,
        responses={201: NoticeSerializer, 403: PROBLEM, 404: PROBLEM},
        examples=[OpenApiExample("An alert", value=NOTICE_EXAMPLE, request_only=True)],
    ),
    partial_update=extend_schema(
        summary="Edit a draft",
        description="Change a draft (409 once published: publish an update instead; 409 "
        "while submitted for review: a reviewer returns it first). Profiles you may not see "
        "stay on the notice whatever list you send.",
        request=NoticeWriteSerializer,
        responses={200: NoticeSerializer, 403: PROBLEM, 409: PROBLEM},
        examples=[
            OpenApiExample("Retitle", value={"title": "Mini phones in prisons"}, request_only=True)
        ],
    ),
    destroy=extend_schema(
        summary="Discard a draft",
        description="Delete a notice that was never published (draft, submitted or "
        "returned): its drafters (those who may edit it) and its reviewers may. A published, "
        "superseded or withdrawn notice is never deleted (409): withdraw it instead.",
        responses={204: None, 403: PROBLEM, 409: PROBLEM},
    ),
)
class NoticeViewSet(
    StrictRequestMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    NoticeReviewActions,
    NoticeRecordActions,
):
    queryset = Notice.objects.none()
    serializer_class = NoticeSerializer
    filterset_class = NoticeFilter
    renamed_parameters = NOTICE_FILTERS_RENAMED
    pagination_class = NewestChangeFirstPagination
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_queryset(self) -> QuerySet[Notice]:
        if getattr(self, "swagger_fake_view", False):
            return Notice.objects.none()
        return Notice.objects.visible_to(member_of(self.request))

    # --- reads ---------------------------------------------------------------------------

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        member = member_of(request)
        etag = self._inbox_etag(request, member)
        if request.headers.get("If-None-Match") == etag:
            return Response(status=304, headers={"ETag": etag})
        headers = {"ETag": etag, "DIX-Since": encode_since(timezone.now() - SINCE_LOOKBACK)}
        media_type = request.accepted_media_type
        key = (
            "dix:inbox-page:"
            + hashlib.sha256(
                f"{etag}|{request.build_absolute_uri()}|{media_type}".encode()
            ).hexdigest()
        )
        body = cache.get(key)
        if body is None:
            queryset = self.filter_queryset(self.get_queryset())
            page = self.paginate_queryset(with_visible_profiles(queryset, member))
            notices = list(page or [])
            data = self.get_paginated_response(self._render(notices, member)).data
            # Receipts before the copy is kept: a kept page's receipts are recorded.
            services.receipts_mark(notices=notices, organisation=member.organisation, read=False)
            if request.accepted_renderer.format != "json":  # the browsable API: not kept
                return Response(data, headers=headers)
            body = request.accepted_renderer.render(data, media_type, self.get_renderer_context())
            cache.set(key, body, INBOX_PAGE_SECONDS)
        # The JSON as rendered when the copy was made: setting the content marks the
        # response rendered, so DRF sends these bytes as they are.
        renderer = request.accepted_renderer
        charset = f"; charset={renderer.charset}" if renderer.charset else ""
        response = Response(headers={**headers, "Content-Type": renderer.media_type + charset})
        response.content = body
        return response

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        member = member_of(request)
        notice = self._visible(with_visible_profiles(self.get_queryset(), member))
        data = self._render([notice], member)[0]
        services.receipts_mark(notices=[notice], organisation=member.organisation, read=True)
        response = conditional_response(request, data, list_etag(data))
        if request.method == "GET" and response.status_code == 200:  # not a 304 revalidation
            audit.record_read(
                actor=member,
                object_type="notice",
                object_id=notice.pk,
                object_tlp=notice.tlp,
                detail={"reference": notice.reference, "version": notice.version},
            )
        return response

    def _inbox_etag(self, request: Request, member: Member) -> str:
        """The validator `notices.inbox.InboxNotModifiedMiddleware` checks before DRF runs."""
        org = member.organisation
        return inbox_etag(
            member_id=member.pk,
            organisation_id=member.organisation_id,
            country=org.country if org else "",
            sponsor_id=org.sponsor_id if org else None,
            clearance=member.clearance,
            full_path=request.get_full_path(),
        )

    def _render(self, notices: Sequence[Notice], member: Member) -> Rendered:
        return render_for(notices, member)

    def _answer(self, notice_id: int, code: int = 200) -> Response:
        member = member_of(self.request)
        notice = get_visible_or_404(
            with_visible_profiles(self.get_queryset(), member),
            notice_id,
            member=member,
            object_type="notice",
        )
        return Response(self._render([notice], member)[0], status=code)

    # --- writes --------------------------------------------------------------------------

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        form = NoticeWriteSerializer(data=request.data, context={"request": request})
        form.is_valid(raise_exception=True)
        notice = services.notice_create_draft(
            author=member_of(request), data=notice_input(form.validated_data)
        )
        return self._answer(notice.pk, status.HTTP_201_CREATED)

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        notice = self._visible()
        form = NoticeWriteSerializer(data=request.data, partial=True, context={"request": request})
        form.is_valid(raise_exception=True)
        services.notice_edit_draft(
            notice_id=notice.pk, author=member_of(request), data=notice_input(form.validated_data)
        )
        return self._answer(notice.pk)

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self.partial_update(request, *args, **kwargs)

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        notice = self._visible()
        services.notice_discard(notice_id=notice.pk, author=member_of(request))
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        summary="Publish a draft",
        description="Publish as version 1: every entitled subscription gets a "
        "`notice.published` webhook (written in the same transaction: never lost). The "
        "secretariat's coordinators publish any notice; a desk's coordinator its own.",
        request=None,
        responses={200: NoticeSerializer, 403: PROBLEM, 409: PROBLEM},
    )
    @action(detail=True, methods=["post"], accepts_body=False)
    def publish(self, request: Request, pk: str) -> Response:
        notice = self._visible()
        services.notice_publish(notice_id=notice.pk, author=member_of(request))
        return self._answer(notice.pk)

    @extend_schema(
        summary="Publish an update",
        description="A new immutable version with the same reference and a change note; "
        "sends `notice.updated`. Earlier versions stay readable under `versions/`.",
        request=NoticeRevisionSerializer,
        responses={200: NoticeSerializer, 403: PROBLEM, 409: PROBLEM},
        examples=[
            OpenApiExample(
                "New detection advice",
                value={"change_note": "Adds X-ray advice.", "body": "…"},
                request_only=True,
            )
        ],
    )
    @action(detail=True, methods=["post"], url_path="update", url_name="revise")
    def revise(self, request: Request, pk: str) -> Response:
        notice = self._visible()
        form = NoticeRevisionSerializer(data=request.data, context={"request": request})
        form.is_valid(raise_exception=True)
        fields = dict(form.validated_data)
        change_note = fields.pop("change_note")
        profiles = fields.pop("profile_ids", None)
        services.notice_update(
            notice_id=notice.pk,
            author=member_of(request),
            data=services.NoticeInput(fields=fields, profiles=profiles),
            change_note=change_note,
        )
        return self._answer(notice.pk)

    @extend_schema(
        summary="Withdraw a notice",
        description="Withdraw with a reason; `notice.withdrawn` reaches every organisation "
        "that received the notice.",
        request=WithdrawSerializer,
        responses={200: NoticeSerializer, 403: PROBLEM, 409: PROBLEM},
        examples=[
            OpenApiExample("Withdrawn", value={"reason": "Issued in error."}, request_only=True)
        ],
    )
    @action(detail=True, methods=["post"])
    def withdraw(self, request: Request, pk: str) -> Response:
        notice = self._visible()
        form = WithdrawSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        services.notice_withdraw(
            notice_id=notice.pk, author=member_of(request), reason=form.validated_data["reason"]
        )
        return self._answer(notice.pk)

    @extend_schema(
        summary="Supersede a notice",
        description="Mark the notice superseded by another published notice; sends "
        "`notice.updated`.",
        request=SupersedeSerializer,
        responses={200: NoticeSerializer, 403: PROBLEM, 409: PROBLEM},
        examples=[OpenApiExample("Successor", value={"superseded_by": 12}, request_only=True)],
    )
    @action(detail=True, methods=["post"])
    def supersede(self, request: Request, pk: str) -> Response:
        notice = self._visible()
        form = SupersedeSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        services.notice_supersede(
            notice_id=notice.pk,
            author=member_of(request),
            by_id=form.validated_data["superseded_by"],
        )
        return self._answer(notice.pk)
