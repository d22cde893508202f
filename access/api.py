"""REST API for access requests and their grants (`/api/v1/access-requests/`).

One endpoint serves both sides: the requesting organisation (and the authority it asked for)
and the deciding one (the object's owner; the secretariat's coordinators route, ask, comment
and decide what the owner delegated, `access.policies`). A request
another organisation made about someone else's object is a 404, like any unseen object.
The rules live in `access.policies`, `access.services`, `access.decisions`,
`access.routing` and `access.targets`;
docs/access-requests.md walks through them with curl.
"""

from collections.abc import Callable
from typing import Any

from django.db.models import QuerySet
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    extend_schema,
    extend_schema_view,
)
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from access import decisions, routing, targets
from access import services as access
from access.inputs import (
    AccessRequestCreateSerializer,
    AccessRequestFilter,
    ApproveSerializer,
    MessageSerializer,
    OptionalReasonSerializer,
    ReasonSerializer,
    RouteSerializer,
)
from access.shapes import AccessRequestSerializer, RequestableSerializer, readable_access_requests
from core.conditional import conditional_response, list_etag
from core.pagination import CURSOR_PARAMETERS, SequencePagination
from core.schema import IF_NONE_MATCH, PROBLEM
from core.strict import StrictRequestMixin, parse_id
from intel.api.base import member_of
from intel.api.visible import get_visible_or_404, refuse_read
from intel.models import (
    AccessRequest,
)

Form = serializers.Serializer[Any]

# --- Views -----------------------------------------------------------------------------------

CREATE_EXAMPLE = {
    "target_type": "profile",
    "target_id": 3,
    "via_notice": 1,
    "purpose": "Check our prisons for the device; brief search teams on its detection.",
    "legal_basis": "Art. 21 Eurojust Regulation (EU) 2018/1727",
    "case_reference": "DE-2025-0042",
    "days": 90,
}


@extend_schema_view(
    list=extend_schema(
        summary="Access requests",
        description="The requests your organisation made (or that were made for it) and those "
        "about what it owns; the secretariat's coordinators see every request. Newest first. "
        "Filters: `status`, `role` (`sent`, or `received`: awaiting your decision, exactly the "
        "requests you may decide), `target_type`.",
        parameters=[IF_NONE_MATCH],
        responses={200: AccessRequestSerializer(many=True), 304: None, 404: PROBLEM},
    ),
    retrieve=extend_schema(
        summary="One access request",
        description="The request, the exchange of messages, the decision and the grant (with "
        "its state: active, expired or revoked). 404 unless your organisation made it, is its "
        "beneficiary or decides it.",
        parameters=[IF_NONE_MATCH],
        responses={200: AccessRequestSerializer, 304: None},
    ),
    create=extend_schema(
        summary="Request access",
        description="Ask for a profile, an attachment or a notice you do not see, with purpose, "
        "legal basis and duration (`days`, or `expires_at`, not both; default 90 days). An "
        "object you do not see is requestable only through a notice you see (`via_notice`): "
        "a profile listed in it, or an attachment of one, when it advertises restricted data; "
        "or the notice that superseded it (see `requestable/`). "
        "Anything else answers 404, as for an object that does not exist. 409 when you already "
        "see it or have an open request for it; `on_behalf_of` must be an authority your "
        "organisation sponsors. The owner organisation is told (`access_request.created`).",
        request=AccessRequestCreateSerializer,
        responses={201: AccessRequestSerializer, 403: PROBLEM, 409: PROBLEM, 404: PROBLEM},
        examples=[OpenApiExample("A restricted annex", value=CREATE_EXAMPLE, request_only=True)],
    ),
)
class AccessRequestViewSet(
    StrictRequestMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet[AccessRequest],
):
    queryset = AccessRequest.objects.none()  # the real one is per member: get_queryset()
    serializer_class = AccessRequestSerializer
    filterset_class = AccessRequestFilter
    http_method_names = ["get", "post", "head", "options"]

    def get_queryset(self) -> QuerySet[AccessRequest]:
        if getattr(self, "swagger_fake_view", False):  # schema generation has no member
            return AccessRequest.objects.none()
        return readable_access_requests(member_of(self.request))

    # --- reads -----------------------------------------------------------------------------

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        data = self.get_paginated_response(self.get_serializer(page, many=True).data).data
        return conditional_response(request, data, list_etag(data))

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = self._render(self._pk())
        return conditional_response(request, data, list_etag(data))

    @extend_schema(
        summary="What a notice lets you request",
        description="The objects of a notice you see that you may request: the profiles it "
        "lists and their attachments that you do not see, when the notice advertises "
        "restricted data, and its successor when it was superseded by a notice you do not "
        "see. Only what your clearance covers. Each is named by its owner's teaser "
        "(`summary`), or else by its kind and label, never by its name or title. Profiles "
        "first, then attachments, then the successor, cursor-paginated. 404 if you do not see "
        "the notice.",
        parameters=[
            OpenApiParameter(
                "via_notice",
                OpenApiTypes.INT,
                required=True,
                description="Id of a notice you see.",
            )
        ],
        responses={200: RequestableSerializer(many=True), 404: PROBLEM},
    )
    @action(
        detail=False,
        methods=["get"],
        pagination_class=SequencePagination,
        filterset_class=None,
        query_parameters=("via_notice", *CURSOR_PARAMETERS),
    )
    def requestable(self, request: Request) -> Response:
        raw = request.query_params.get("via_notice", "")
        if not (raw.isascii() and raw.isdigit()):
            raise ValidationError({"via_notice": ["Give the id of a notice you see."]})
        rows = targets.requestable_via_notice(member=member_of(request), notice_id=parse_id(raw))
        paginator = SequencePagination()
        page = paginator.paginate_sequence(rows, request)
        return paginator.get_paginated_response(RequestableSerializer(page, many=True).data)

    # --- writes ----------------------------------------------------------------------------

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        form = AccessRequestCreateSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        created = access.access_request_create(
            requester=member_of(request),
            target_type=data["target_type"],
            target_id=data["target_id"],
            via_notice_id=data.get("via_notice"),
            purpose=data["purpose"],
            legal_basis=data["legal_basis"],
            case_reference=data["case_reference"],
            days=data.get("days"),
            expires_at=data.get("expires_at"),
            on_behalf_of=data.get("on_behalf_of"),
            http_request=request,
        )
        location = reverse("access-request-detail", kwargs={"pk": created.pk})
        return Response(
            self._render(created.pk), status=status.HTTP_201_CREATED, headers={"Location": location}
        )

    @extend_schema(
        summary="Approve",
        description="Grant access until an expiry: `days` from now or `expires_at`, not both "
        "(default: as the request asked; at most 365 days), with a scope (`object`, or "
        "`with_attachments` for a profile). Decided by the owner organisation's coordinators "
        "(and its analysts if it lets them), or by the secretariat's coordinators when the "
        "owner delegated its requests and they read the object themselves (never TLP:RED). "
        "404 for a would-be decider who does not read the object; 403 for the requesting "
        "side, for members the owner has not entrusted with its decisions, and for an approver "
        "not cleared for an attachment the scope would show. The requester is told "
        "(`access_request.decided`).",
        request=ApproveSerializer,
        responses={200: AccessRequestSerializer, 403: PROBLEM, 409: PROBLEM},
        examples=[
            OpenApiExample(
                "Ninety days with attachments",
                value={"days": 90, "scope": "with_attachments", "note": "Case confirmed."},
                request_only=True,
            )
        ],
    )
    @action(detail=True, methods=["post"])
    def approve(self, request: Request, pk: str) -> Response:
        return self._step(request, ApproveSerializer, decisions.access_request_approve)

    @extend_schema(
        summary="Deny",
        description="Refuse, with the reason the requester will read (required). For those who "
        "decide (see Approve; the owner's deciders also deny what they do not read "
        "themselves). The requester is told (`access_request.decided`).",
        request=ReasonSerializer,
        responses={200: AccessRequestSerializer, 403: PROBLEM, 409: PROBLEM},
        examples=[
            OpenApiExample("No case", value={"reason": "No open case matches."}, request_only=True)
        ],
    )
    @action(detail=True, methods=["post"])
    def deny(self, request: Request, pk: str) -> Response:
        return self._step(request, ReasonSerializer, decisions.access_request_deny)

    @extend_schema(
        summary="Ask the requester for more",
        description="The request waits (`info_requested`) until the requesting organisation "
        "answers. For the owner's deciders and the secretariat's coordinators.",
        request=MessageSerializer,
        responses={200: AccessRequestSerializer, 403: PROBLEM, 409: PROBLEM},
        examples=[
            OpenApiExample(
                "Which prisons",
                value={"message": "Which facilities will the data be shared with?"},
                request_only=True,
            )
        ],
    )
    @action(detail=True, methods=["post"], url_path="request-info", url_name="request-info")
    def request_info(self, request: Request, pk: str) -> Response:
        return self._step(request, MessageSerializer, decisions.access_request_request_info)

    @extend_schema(
        summary="Route to the owner",
        description="The secretariat's coordinators hand an open request to the organisation "
        "that decides it: a `routed` note on the request, and the owner's endpoints are told "
        "again (`access_request.created`). 403 for anyone else; 409 once decided.",
        request=RouteSerializer,
        responses={200: AccessRequestSerializer, 403: PROBLEM, 409: PROBLEM},
        examples=[
            OpenApiExample(
                "To the French desk",
                value={"note": "fr-desk owns the annex: please decide."},
                request_only=True,
            )
        ],
    )
    @action(detail=True, methods=["post"])
    def route(self, request: Request, pk: str) -> Response:
        return self._step(request, RouteSerializer, routing.access_request_route)

    @extend_schema(
        summary="Comment",
        description="A remark on the request, in any state, that changes nothing else: for "
        "the requesting organisation, the owner's deciders and the secretariat's "
        "coordinators; 403 for the others who read the request.",
        request=MessageSerializer,
        responses={200: AccessRequestSerializer, 403: PROBLEM},
        examples=[
            OpenApiExample(
                "Context",
                value={"message": "The Bavarian case is the one in notice 1."},
                request_only=True,
            )
        ],
    )
    @action(detail=True, methods=["post"])
    def comment(self, request: Request, pk: str) -> Response:
        return self._step(request, MessageSerializer, routing.access_request_comment)

    @extend_schema(
        summary="Answer the decider",
        description="The requesting organisation answers a request for information; the "
        "request is pending again. 409 when no question is waiting.",
        request=MessageSerializer,
        responses={200: AccessRequestSerializer, 403: PROBLEM, 409: PROBLEM},
        examples=[
            OpenApiExample(
                "Answer",
                value={"message": "The prison administration's search teams only."},
                request_only=True,
            )
        ],
    )
    @action(detail=True, methods=["post"])
    def answer(self, request: Request, pk: str) -> Response:
        return self._step(request, MessageSerializer, access.access_request_answer)

    @extend_schema(
        summary="Withdraw",
        description="The requesting organisation takes back an open request (optional reason).",
        request=OptionalReasonSerializer,
        responses={200: AccessRequestSerializer, 403: PROBLEM, 409: PROBLEM},
        examples=[
            OpenApiExample(
                "Case closed", value={"reason": "The case was closed."}, request_only=True
            )
        ],
    )
    @action(detail=True, methods=["post"])
    def withdraw(self, request: Request, pk: str) -> Response:
        return self._step(request, OptionalReasonSerializer, access.access_request_withdraw)

    @extend_schema(
        summary="Revoke the grant",
        description="End the request's grant now, with a reason (required): the object is "
        "hidden from the beneficiary at once and its pending webhook deliveries are cancelled. "
        "For those who decide (as for a denial). 409 if there is no active grant.",
        request=ReasonSerializer,
        responses={200: AccessRequestSerializer, 403: PROBLEM, 409: PROBLEM},
        examples=[
            OpenApiExample(
                "Leak", value={"reason": "Shared beyond the stated purpose."}, request_only=True
            )
        ],
    )
    @action(detail=True, methods=["post"])
    def revoke(self, request: Request, pk: str) -> Response:
        return self._step(request, ReasonSerializer, decisions.grant_revoke)

    # --- helpers ---------------------------------------------------------------------------

    def _step(self, request: Request, form_class: type[Form], step: Callable[..., Any]) -> Response:
        """One step on a request the member sees: the body checked by `form_class` (one
        definition per shape: a reason, a message, a note, an approval), each of its fields
        passed to `step` by name, and the request as it now stands."""
        access_request_id = self._visible_pk()
        form = form_class(data=request.data)
        form.is_valid(raise_exception=True)
        step(
            access_request_id=access_request_id,
            member=member_of(request),
            http_request=request,
            **{str(name): form.validated_data.get(name) for name in form.fields},
        )
        return Response(self._render(access_request_id))

    def _pk(self) -> int:
        return parse_id(self.kwargs["pk"])

    def _visible_pk(self) -> int:
        """The path's access request id if the member sees it: a foreign access request is
        404 before the HTTP request's body is even read."""
        pk = self._pk()
        member = member_of(self.request)
        if not AccessRequest.objects.visible_to(member).filter(pk=pk).exists():
            refuse_read(AccessRequest, pk, member=member, object_type="access_request")
        return pk

    def _render(self, access_request_id: int) -> dict[str, Any]:
        access_request = get_visible_or_404(
            self.get_queryset(),
            access_request_id,
            member=member_of(self.request),
            object_type="access_request",
        )
        return dict(AccessRequestSerializer(access_request).data)
