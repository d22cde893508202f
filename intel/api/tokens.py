"""The requesting member's API tokens (`/api/v1/tokens/`): list, issue, revoke."""

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from core.durations import ValidityFields
from core.schema import PROBLEM
from core.serializers import StrictFieldsMixin
from core.strict import StrictRequestMixin
from intel import accounts
from intel.api.base import member_of
from intel.models import ApiToken


class ApiTokenSerializer(serializers.ModelSerializer[ApiToken]):
    """One of your API tokens, without its secret."""

    class Meta:
        model = ApiToken
        fields = (
            "id",
            "name",
            "key_prefix",
            "created_at",
            "expires_at",
            "revoked_at",
            "last_used_at",
        )
        read_only_fields = fields


class ApiTokenCreateSerializer(StrictFieldsMixin, ValidityFields):
    """A token to issue: its name, and `days` or `expires_at` (neither: it never expires,
    unless the token you call with expires, which then bounds it)."""

    name = serializers.CharField(max_length=100, help_text="What the token is for.")


class ApiTokenIssuedSerializer(ApiTokenSerializer):
    """A token just issued, with its secret: shown this once."""

    token = serializers.CharField(
        read_only=True, help_text="The bearer token. Shown once: store it now."
    )

    class Meta(ApiTokenSerializer.Meta):
        fields = (*ApiTokenSerializer.Meta.fields, "token")  # type: ignore[assignment]


@extend_schema_view(
    list=extend_schema(
        summary="My API tokens",
        description="The requesting member's tokens, without their secrets.",
        responses={200: ApiTokenSerializer(many=True)},
    ),
    create=extend_schema(
        summary="Issue a token",
        description="Issue a named token, optionally expiring: `days` from now or "
        "`expires_at`, not both (neither: no expiry; a token issued with an expiring token "
        "expires no later than it). The `token` value is in this answer only; DIX keeps its "
        "hash.",
        request=ApiTokenCreateSerializer,
        responses={201: ApiTokenIssuedSerializer, 404: PROBLEM},
        examples=[
            OpenApiExample("Token for a script", value={"name": "inbox-sync"}),
            OpenApiExample("For ninety days", value={"name": "inbox-sync", "days": 90}),
        ],
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
    viewsets.GenericViewSet[ApiToken],
):
    queryset = ApiToken.objects.none()
    serializer_class = ApiTokenSerializer

    def get_queryset(self) -> QuerySet[ApiToken]:
        if getattr(self, "swagger_fake_view", False):
            return ApiToken.objects.none()
        return ApiToken.objects.filter(member=member_of(self.request))

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        form = ApiTokenCreateSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        current = request.auth if isinstance(request.auth, ApiToken) else None
        issued = accounts.token_issue(
            member=member_of(request),
            actor=member_of(request),
            not_after=current.expires_at if current else None,
            **form.validated_data,
        )
        body = ApiTokenSerializer(issued.token).data | {"token": issued.secret}
        return Response(body, status=status.HTTP_201_CREATED)

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        accounts.token_revoke(token=self.get_object(), actor=member_of(request))
        return Response(status=status.HTTP_204_NO_CONTENT)
