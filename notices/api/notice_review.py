"""The review of a draft under `/api/v1/notices/`: submit, return with a comment, and the
"to review" list, as actions the notice viewset inherits (publishing stays `publish/`)."""

from collections.abc import Sequence
from typing import Any

from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from core.pagination import CURSOR_PARAMETERS
from core.schema import PROBLEM
from intel.api.base import member_of
from intel.models import Member
from notices import policies, services
from notices.api.notice_records import NoticeRecordActions
from notices.api.serializers import NoticeReturnSerializer
from notices.models import Notice, NoticeStatus
from notices.rendering import with_visible_profiles
from notices.shapes import NoticeSerializer


class NoticeReviewActions(NoticeRecordActions):
    """Submit, return and list what waits for review; the viewset supplies `_answer`
    (one notice rendered for the member) and `_render`."""

    def _answer(self, notice_id: int, code: int = 200) -> Response:
        raise NotImplementedError

    def _render(self, notices: Sequence[Notice], member: Member) -> list[dict[str, Any]]:
        raise NotImplementedError

    @extend_schema(
        summary="Submit a draft for review",
        description="The drafter (anyone who may edit the draft) submits it: it can no longer "
        "be edited until a reviewer returns it. The reviewers are the issuer's coordinators "
        "and the secretariat's coordinators who may read it; their organisations' "
        "subscriptions to `notice.submitted` are told, and the notice shows in their "
        "`to-review/` list. 409 unless the notice is a draft.",
        request=None,
        responses={200: NoticeSerializer, 403: PROBLEM, 409: PROBLEM},
    )
    @action(detail=True, methods=["post"], accepts_body=False)
    def submit(self, request: Request, pk: str) -> Response:
        notice = self._visible()
        services.notice_submit(notice_id=notice.pk, author=member_of(request))
        return self._answer(notice.pk)

    @extend_schema(
        summary="Return a submitted notice to its drafter",
        description="A reviewer sends the notice back with a comment: it is a draft again, "
        "and the comment shows to its drafters under `review`. They edit it and submit it "
        "again. 409 unless the notice is submitted.",
        request=NoticeReturnSerializer,
        responses={200: NoticeSerializer, 403: PROBLEM, 409: PROBLEM},
        examples=[
            OpenApiExample(
                "Returned",
                value={"comment": "Name the prisons' facility type in the summary."},
                request_only=True,
            )
        ],
    )
    @action(detail=True, methods=["post"], url_path="return", url_name="return")
    def return_to_drafter(self, request: Request, pk: str) -> Response:
        notice = self._visible()
        form = NoticeReturnSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        services.notice_return(
            notice_id=notice.pk, author=member_of(request), comment=form.validated_data["comment"]
        )
        return self._answer(notice.pk)

    @extend_schema(
        summary="Notices to review",
        description="The submitted notices you may review (publish or return): for a "
        "desk's coordinator, its organisation's; for the secretariat's coordinators, every "
        "one they may read. Latest change first, paged like the inbox. Empty for anyone "
        "else.",
        responses={200: NoticeSerializer(many=True)},
    )
    @action(
        detail=False,
        methods=["get"],
        url_path="to-review",
        url_name="to-review",
        filterset_class=None,
        query_parameters=CURSOR_PARAMETERS,
    )
    def to_review(self, request: Request) -> Response:
        member = member_of(request)
        queryset = self.get_queryset().filter(
            policies.reviewable_by(member), status=NoticeStatus.SUBMITTED
        )
        page = self.paginate_queryset(with_visible_profiles(queryset, member))
        notices: list[Notice] = list(page or [])
        return self.get_paginated_response(self._render(notices, member))
