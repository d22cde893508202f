"""REST API of webhook subscriptions: endpoints, secrets, tests and delivery logs."""

from dataclasses import asdict
from typing import Any

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    extend_schema,
    extend_schema_view,
)
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from core.errors import Forbidden
from core.pagination import CURSOR_PARAMETERS
from core.schema import PROBLEM
from core.strict import StrictRequestMixin, parse_id
from intel.api.base import member_of
from webhooks import policies, probe, services
from webhooks.api.serializers import (
    DeliverySerializer,
    RecoverResultSerializer,
    RecoverSerializer,
    RotatedSecretSerializer,
    SubscriptionCreatedSerializer,
    SubscriptionSerializer,
    TestResultSerializer,
)
from webhooks.models import Delivery, DeliveryState, Subscription

# Changes that commit up to this long after a pull may carry an earlier `changed_at` than
# the pull saw; the `since` token looks back this far so that nothing is skipped (a notice
# may then come twice: dedupe on `id` + `version`).

SUBSCRIPTION_EXAMPLE = {
    "url": "https://desk.example.be/dix/webhooks",
    "description": "Belgian desk case system",
    "event_types": ["notice.published", "notice.updated", "notice.withdrawn"],
    "device_classes": ["mini_phone"],
    "max_tlp": "TLP:AMBER",
}


@extend_schema_view(
    list=extend_schema(
        summary="Your organisation's webhook endpoints",
        description="Subscriptions of your organisation, with their state (disabled ones say why).",
        responses={200: SubscriptionSerializer(many=True)},
    ),
    retrieve=extend_schema(
        summary="One webhook endpoint",
        description="One subscription of your organisation.",
        responses={200: SubscriptionSerializer},
    ),
    create=extend_schema(
        summary="Subscribe a webhook endpoint",
        description="Register a URL for events. HTTPS only; hosts that resolve to private, "
        "loopback or otherwise non-public addresses are refused. The signing secret is in "
        "this answer only.",
        request=SubscriptionSerializer,
        responses={201: SubscriptionCreatedSerializer, 403: PROBLEM, 404: PROBLEM},
        examples=[OpenApiExample("Desk system", value=SUBSCRIPTION_EXAMPLE, request_only=True)],
    ),
    partial_update=extend_schema(
        summary="Change a webhook endpoint",
        description="Change URL, events or filters; `enabled: false` disables it and cancels "
        "what is pending, `enabled: true` re-enables it.",
        request=SubscriptionSerializer,
        responses={200: SubscriptionSerializer, 403: PROBLEM},
        examples=[OpenApiExample("Pause", value={"enabled": False}, request_only=True)],
    ),
    destroy=extend_schema(
        summary="Delete a webhook endpoint",
        description="The endpoint leaves your organisation's list and receives nothing more "
        "(pending deliveries are cancelled). Its delivery log stays readable at "
        "`deliveries/` until the retention period (`DIX_RETENTION_DELIVERIES_DAYS`) ends. "
        "Auditors may not delete. Recorded in the audit trail.",
        responses={204: None, 403: PROBLEM},
    ),
)
class SubscriptionViewSet(
    StrictRequestMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet[Subscription],
):
    queryset = Subscription.objects.none()
    serializer_class = SubscriptionSerializer
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_queryset(self) -> QuerySet[Subscription]:
        if getattr(self, "swagger_fake_view", False):
            return Subscription.objects.none()
        return Subscription.objects.visible_to(member_of(self.request)).select_related(
            "organisation"
        )

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        member = member_of(request)
        if not policies.may_manage_subscriptions(member):
            raise Forbidden("Auditors do not manage subscriptions.")
        form = SubscriptionSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        issued = services.subscription_create(member=member, fields=form.validated_data)
        body = SubscriptionSerializer(issued.subscription).data | {"secret": issued.secret}
        return Response(body, status=status.HTTP_201_CREATED)

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        sub = self.get_object()
        form = SubscriptionSerializer(sub, data=request.data, partial=True)
        form.is_valid(raise_exception=True)
        sub = services.subscription_update(
            subscription=sub, member=member_of(request), fields=form.validated_data
        )
        return Response(SubscriptionSerializer(sub).data)

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self.partial_update(request, *args, **kwargs)

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        services.subscription_delete(subscription=self.get_object(), member=member_of(request))
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        summary="Send a test event",
        description="Sends a signed `dix.test` event now and reports the receiver's answer.",
        request=None,
        responses={200: TestResultSerializer, 409: PROBLEM},
    )
    @action(detail=True, methods=["post"], accepts_body=False)
    def test(self, request: Request, pk: str) -> Response:
        result = probe.subscription_test(subscription=self.get_object(), member=member_of(request))
        return Response(asdict(result))

    @extend_schema(
        summary="Rotate the signing secret",
        description="A new secret, shown once. The old one stays valid for the overlap "
        "(`DIX_WEBHOOK_ROTATION_OVERLAP_HOURS`): meanwhile every delivery carries two "
        "signatures.",
        request=None,
        responses={200: RotatedSecretSerializer},
    )
    @action(detail=True, methods=["post"], url_path="rotate-secret", accepts_body=False)
    def rotate_secret(self, request: Request, pk: str) -> Response:
        issued = services.subscription_rotate_secret(
            subscription=self.get_object(), member=member_of(request)
        )
        return Response(
            {
                "secret": issued.secret,
                "previous_secret_expires_at": issued.subscription.previous_secret_expires_at,
            }
        )

    @extend_schema(
        summary="Delivery log",
        description="Every delivery to this endpoint, newest first, with every attempt "
        "(time, status code, duration, error, next attempt). Filter with `state`. A deleted "
        "endpoint's log stays readable here for the retention period.",
        parameters=[
            OpenApiParameter(
                "state",
                OpenApiTypes.STR,
                description="pending, sending, succeeded, failed or cancelled",
            )
        ],
        responses={200: DeliverySerializer(many=True)},
    )
    @action(detail=True, methods=["get"], query_parameters=("state", *CURSOR_PARAMETERS))
    def deliveries(self, request: Request, pk: str) -> Response:
        sub = get_object_or_404(
            Subscription.objects.with_deleted_visible_to(member_of(request)),
            pk=parse_id(self.kwargs["pk"]),
        )
        rows = Delivery.objects.filter(subscription=sub).select_related("notice")
        state = request.query_params.get("state")
        if state:
            if state not in DeliveryState.values:
                raise ValidationError({"state": [f"One of: {', '.join(DeliveryState.values)}."]})
            rows = rows.filter(state=state)
        # The stub ties pagination to the viewset's model; this action pages deliveries.
        page = self.paginate_queryset(rows.prefetch_related("attempt_log"))  # type: ignore[arg-type]
        return self.get_paginated_response(DeliverySerializer(page, many=True).data)

    @extend_schema(
        summary="Resend one delivery",
        description="Queue the delivery again now, with the same `webhook-id`.",
        request=None,
        responses={200: DeliverySerializer, 409: PROBLEM},
    )
    @action(
        detail=True,
        methods=["post"],
        url_path=r"deliveries/(?P<delivery_id>\d+)/resend",
        url_name="delivery-resend",
        accepts_body=False,
    )
    def resend(self, request: Request, pk: str, delivery_id: str) -> Response:
        sub = self.get_object()
        row = get_object_or_404(Delivery, subscription=sub, pk=parse_id(delivery_id))
        return Response(
            DeliverySerializer(
                services.delivery_resend(delivery=row, member=member_of(request))
            ).data
        )

    @extend_schema(
        summary="Recover failed deliveries",
        description="Queue again every failed or cancelled delivery of this endpoint "
        "created since a time.",
        request=RecoverSerializer,
        responses={200: RecoverResultSerializer, 409: PROBLEM},
        examples=[
            OpenApiExample("Since", value={"since": "2026-11-20T00:00:00Z"}, request_only=True)
        ],
    )
    @action(detail=True, methods=["post"])
    def recover(self, request: Request, pk: str) -> Response:
        sub = self.get_object()
        form = RecoverSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        count = services.deliveries_recover(
            subscription=sub, member=member_of(request), since=form.validated_data["since"]
        )
        return Response({"requeued": count})

    def get_object(self) -> Subscription:
        return get_object_or_404(self.get_queryset(), pk=parse_id(self.kwargs["pk"]))
