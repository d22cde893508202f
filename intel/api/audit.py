"""`GET /api/v1/audit/`: the audit trail, for auditors only (docs/audit.md).

An auditor (role `auditor`, in any organisation) reads the whole network's trail: who read,
created, changed, published, withdrew, exported or decided what, when, from where, and why.
Events name objects by type, id and label and never carry their content, so the trail can
be read whatever the auditor's clearance. Everyone else gets 404, as for any URL that does
not exist for them. An auditor's own searches are recorded too (`audit.searched`).
"""

from datetime import UTC, datetime, time
from typing import Any

import django_filters
from django.db.models import Q, QuerySet
from django.shortcuts import get_object_or_404
from django.utils.dateparse import parse_date, parse_datetime
from drf_spectacular.utils import (
    OpenApiExample,
    extend_schema,
    extend_schema_view,
)
from rest_framework import serializers, viewsets
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response

from core.errors import NotFound
from core.pagination import CheckedCursorPagination
from core.schema import PROBLEM
from core.strict import MAX_ID, StrictRequestMixin, parse_id
from intel import audit
from intel.api.base import member_of
from intel.api.permissions import IsNetworkMember
from intel.models import TLP, AuditEvent, Role


class IsAuditor(BasePermission):
    """Auditors only; for anyone else the trail does not exist (404, never 403)."""

    def has_permission(self, request: Request, view: Any) -> bool:
        if getattr(request.user, "role", None) != Role.AUDITOR:
            raise NotFound("Not found.")
        return True


class AuditEventSerializer(serializers.ModelSerializer[AuditEvent]):
    """One event of the audit trail: who did what to which object, when, from where and why,
    chained to the event before it by its hash."""

    client_address = serializers.IPAddressField(
        read_only=True, allow_null=True, help_text="The peer address the server saw."
    )
    detail = serializers.JSONField(
        read_only=True,
        help_text="What else the action needs to be understood: versions, changed field "
        "names, counts, the interface used (`via`). Never the object's content.",
    )

    class Meta:
        model = AuditEvent
        fields = (
            "id",
            "created_at",
            "action",
            "actor_id",
            "actor_username",
            "organisation_id",
            "organisation_slug",
            "object_type",
            "object_id",
            "object_tlp",
            "justification",
            "client_address",
            "detail",
            "previous_hash",
            "hash",
        )
        read_only_fields = fields
        extra_kwargs = {
            "actor_id": {
                "help_text": "The member who acted; null for the platform itself "
                "(a command-line operator, the scheduler, the delivery engine)."
            },
            "actor_username": {"help_text": "The member's username at the time."},
            "organisation_slug": {"help_text": "The actor's organisation at the time."},
            "action": {
                "help_text": "`<object>.<verb>`, e.g. `profile.read`, "
                "`notice.published`, `token.revoked` (docs/audit.md lists them all)."
            },
            "object_id": {"help_text": "The object's id (as text)."},
            "object_tlp": {"help_text": "The object's TLP label at the time, if it has one."},
            "justification": {
                "help_text": "The `X-DIX-Justification` header sent with the request, if any."
            },
            "previous_hash": {"help_text": "The hash of the event before this one."},
            "hash": {"help_text": "SHA-256 of this event's content and previous_hash."},
        }


def _moment(value: str, field: str) -> datetime:
    """An ISO 8601 date-time (UTC if no offset) or a date (its midnight, UTC)."""
    try:
        moment = parse_datetime(value)
        if moment is None:
            day = parse_date(value)
            if day is None:
                raise ValueError
            moment = datetime.combine(day, time.min)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return moment.astimezone(UTC)
    except (ValueError, OverflowError):
        raise ValidationError(
            {field: ["An ISO 8601 date-time, e.g. 2026-11-20T08:00:00Z, or a date."]}
        ) from None


class AuditEventFilter(django_filters.FilterSet):  # type: ignore[misc]  # django-filter ships no types
    actor = django_filters.CharFilter(
        method="filter_actor", help_text="The acting member: id or username."
    )
    organisation = django_filters.CharFilter(
        method="filter_organisation", help_text="The actor's organisation: id or slug."
    )
    action = django_filters.CharFilter(
        method="filter_action",
        help_text="Action(s), comma-separated; `notice.*` matches every notice action.",
    )
    object_type = django_filters.CharFilter(
        help_text="`profile`, `attachment`, `notice`, `subscription`, `token`, `member`, …"
    )
    object_id = django_filters.CharFilter(help_text="The object's id (with `object_type`).")
    tlp = django_filters.MultipleChoiceFilter(
        field_name="object_tlp", choices=TLP.choices, help_text="The object's label(s)."
    )
    after = django_filters.CharFilter(
        method="filter_after", help_text="Events at or after this time (ISO 8601)."
    )
    before = django_filters.CharFilter(
        method="filter_before", help_text="Events before this time (ISO 8601)."
    )

    class Meta:
        model = AuditEvent
        fields: list[str] = []

    def filter_actor(
        self, queryset: QuerySet[AuditEvent], name: str, value: str
    ) -> QuerySet[AuditEvent]:
        return queryset.filter(_id_or_name(value, "actor_id", "actor_username"))

    def filter_organisation(
        self, queryset: QuerySet[AuditEvent], name: str, value: str
    ) -> QuerySet[AuditEvent]:
        return queryset.filter(_id_or_name(value, "organisation_id", "organisation_slug"))

    def filter_action(
        self, queryset: QuerySet[AuditEvent], name: str, value: str
    ) -> QuerySet[AuditEvent]:
        condition = Q(pk__in=[])
        for item in (part.strip() for part in value.split(",")):
            if item.endswith(".*"):
                condition |= Q(action__startswith=item[:-1])
            elif item:
                condition |= Q(action=item)
        return queryset.filter(condition)

    def filter_after(
        self, queryset: QuerySet[AuditEvent], name: str, value: str
    ) -> QuerySet[AuditEvent]:
        return queryset.filter(created_at__gte=_moment(value, "after"))

    def filter_before(
        self, queryset: QuerySet[AuditEvent], name: str, value: str
    ) -> QuerySet[AuditEvent]:
        return queryset.filter(created_at__lt=_moment(value, "before"))


def _id_or_name(value: str, id_field: str, name_field: str) -> Q:
    condition = Q(**{name_field: value})
    if value.isascii() and value.isdigit() and int(value) <= MAX_ID:
        condition |= Q(**{id_field: int(value)})
    return condition


class ChainOrderPagination(CheckedCursorPagination):
    """Newest first in chain order: ids are unique and follow the chain."""

    ordering = "-id"


EVENT_EXAMPLE = {
    "id": 4182,
    "created_at": "2026-11-20T09:14:03.512000Z",
    "action": "profile.read",
    "actor_id": 17,
    "actor_username": "be-officer",
    "organisation_id": 3,
    "organisation_slug": "be-desk",
    "object_type": "profile",
    "object_id": "2",
    "object_tlp": "TLP:AMBER",
    "justification": "Case BE-2026-0412: search of Lantin prison",
    "client_address": "192.0.2.10",
    "detail": {"version": 3},
    "previous_hash": "5d0c…",
    "hash": "9a41…",
}


@extend_schema_view(
    list=extend_schema(
        summary="The audit trail",
        description="For auditors only (anyone else: 404). Every event of the network, "
        "newest first, cursor-paginated: detail reads of TLP:AMBER, AMBER+STRICT and RED "
        "objects, every write, publication, withdrawal, access decision, export, IMEI check, "
        "token issued or revoked and subscription change, with actor, organisation, object, "
        "label, justification, time and client address. Events are hash-chained "
        "(`previous_hash` → `hash`); `manage.py audit_verify` checks the chain. Filters: "
        "actor, organisation, action, object_type + object_id, tlp, after/before. Your "
        "searches are recorded (`audit.searched`).",
        responses={200: AuditEventSerializer(many=True), 404: PROBLEM},
        examples=[
            OpenApiExample(
                "An AMBER profile read with a justification",
                value=EVENT_EXAMPLE,
                response_only=True,
            )
        ],
    ),
    retrieve=extend_schema(
        summary="One audit event",
        description="One event by id, for auditors only (anyone else: 404).",
        responses={200: AuditEventSerializer},
        examples=[OpenApiExample("An event", value=EVENT_EXAMPLE, response_only=True)],
    ),
)
class AuditEventViewSet(StrictRequestMixin, viewsets.ReadOnlyModelViewSet[AuditEvent]):
    queryset = AuditEvent.objects.all()
    serializer_class = AuditEventSerializer
    filterset_class = AuditEventFilter
    pagination_class = ChainOrderPagination
    permission_classes = [IsNetworkMember, IsAuditor]

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        response = super().list(request, *args, **kwargs)
        searched = {key: request.query_params.get(key) for key in sorted(request.query_params)}
        audit.record(action="audit.searched", actor=member_of(request), detail=searched)
        return response

    def get_object(self) -> AuditEvent:
        return get_object_or_404(AuditEvent.objects.all(), pk=parse_id(self.kwargs["pk"]))
