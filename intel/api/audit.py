"""`GET /api/v1/audit/`: the audit trail, for auditors only (docs/audit.md).

An auditor (role `auditor`, in any organisation) reads the whole network's trail: who read,
created, changed, published, withdrew, exported or decided what, when, from where, and why.
Events name objects by type, id and label and never carry their content, so the trail can
be read whatever the auditor's clearance. Everyone else gets 404, as for any URL that does
not exist for them. An auditor's own searches are recorded too (`audit.searched`).

The list is also a CSV export (`Accept: text/csv`: the filtered trail, every page, streamed
with the chain hashes), and `suspicious/` lists the members with many refused reads lately.
"""

from datetime import UTC, datetime, time, timedelta
from typing import Any

import django_filters
from django.conf import settings
from django.db.models import Q, QuerySet
from django.http import StreamingHttpResponse
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import BasePermission
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from core.errors import NotFound
from core.pagination import CheckedCursorPagination
from core.schema import PROBLEM
from core.strict import MAX_ID, StrictRequestMixin, parse_id
from intel import audit
from intel.api.audit_suspicious import SuspiciousSerializer, suspicious_members
from intel.api.base import member_of
from intel.api.permissions import IsNetworkMember
from intel.audit_export import csv_rows
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
    object_tlp = django_filters.MultipleChoiceFilter(
        choices=TLP.choices, help_text="The object's label(s) (`object_tlp`); repeat for several."
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


class AuditCsvRenderer(JSONRenderer):
    """Lets `Accept: text/csv` through content negotiation for the list; the list answers it
    with a streamed CSV. Anything else answered under it (a problem) is JSON."""

    media_type = "text/csv"
    format = "csv"


CSV_EXAMPLE = (
    "id,created_at,actor_id,actor_username,organisation_id,organisation_slug,action,"
    "object_type,object_id,object_tlp,justification,client_address,detail,previous_hash,hash\r\n"
    "1,2026-11-22T08:09:50.101+00:00,,,,,organisation.created,organisation,1,,,,"
    '"{""country"":"""",""kind"":""network"",""slug"":""eurojust"",""sponsor"":null}",'
    "0000…,12e8…\r\n"
)

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
        "actor, organisation, action, object_type + object_id, object_tlp, after/before. Your "
        "searches are recorded (`audit.searched`). `Accept: text/csv` exports every "
        "matching event as CSV with the chain hashes (`audit.exported`).",
        responses={
            (200, "application/json"): AuditEventSerializer(many=True),
            (200, "text/csv"): OpenApiResponse(
                OpenApiTypes.STR,
                description="With `Accept: text/csv`: every event the filters match (all "
                "pages, oldest first, up to the newest event when the export began), "
                "streamed, one row per event with every hashed field as the hash covers it "
                "and `previous_hash` and `hash`, to verify the chain outside DIX "
                "(docs/audit.md, 'Verifying an export'). Recorded as `audit.exported`.",
                examples=[
                    OpenApiExample(
                        "The first event of a chain",
                        value=CSV_EXAMPLE,
                        media_type="text/csv",
                    )
                ],
            ),
            404: PROBLEM,
        },
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
    renamed_parameters = {"tlp": "`object_tlp`"}
    pagination_class = ChainOrderPagination
    permission_classes = [IsNetworkMember, IsAuditor]

    def get_renderers(self) -> list[BaseRenderer]:
        renderers = super().get_renderers()
        return [*renderers, AuditCsvRenderer()] if self.action == "list" else renderers

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Any:
        searched = {key: request.query_params.get(key) for key in sorted(request.query_params)}
        if isinstance(request.accepted_renderer, AuditCsvRenderer):
            return self._export(request, searched)
        response = super().list(request, *args, **kwargs)
        audit.record(action="audit.searched", actor=member_of(request), detail=searched)
        return response

    def _export(self, request: Request, searched: dict[str, Any]) -> StreamingHttpResponse:
        """Every matching event up to the chain's head as the export begins (its own
        `audit.exported` event comes after), streamed."""
        events = self.filter_queryset(self.get_queryset())
        head = audit.head()
        audit.record(action="audit.exported", actor=member_of(request), detail=searched)
        response = StreamingHttpResponse(
            csv_rows(events, up_to=head.pk if head else 0), content_type="text/csv; charset=utf-8"
        )
        response["Content-Disposition"] = 'attachment; filename="dix-audit.csv"'
        return response

    @extend_schema(
        summary="Members refused many reads lately",
        description="For auditors only (anyone else: 404). Members with at least "
        "`DIX_AUDIT_SUSPICIOUS_REFUSALS` refused reads (`read.denied`: a detail they may not "
        "see of an object that exists) within the last `DIX_AUDIT_SUSPICIOUS_MINUTES`, most "
        "refusals first. A member's tries of one object are recorded once an hour, so the "
        "count is of distinct objects probed. Follow up with "
        "`?actor=<id>&action=read.denied`.",
        responses={200: SuspiciousSerializer, 404: PROBLEM},
        examples=[
            OpenApiExample(
                "A desk officer probing profile ids",
                value={
                    "since": "2026-11-22T07:10:00Z",
                    "minutes": 60,
                    "threshold": 10,
                    "results": [
                        {
                            "actor_id": 5,
                            "actor_username": "de-officer",
                            "organisation_id": 4,
                            "organisation_slug": "de-desk",
                            "refusals": 20,
                            "first_refusal_at": "2026-11-22T07:58:01.120000Z",
                            "last_refusal_at": "2026-11-22T07:58:04.981000Z",
                        }
                    ],
                },
                response_only=True,
            )
        ],
    )
    @action(detail=False, methods=["get"], pagination_class=None, filterset_class=None)
    def suspicious(self, request: Request) -> Response:
        minutes = settings.DIX_AUDIT_SUSPICIOUS_MINUTES
        threshold = settings.DIX_AUDIT_SUSPICIOUS_REFUSALS
        since = timezone.now() - timedelta(minutes=minutes)
        body = {
            "since": since,
            "minutes": minutes,
            "threshold": threshold,
            "members": suspicious_members(since, threshold),
        }
        audit.record(
            action="audit.searched", actor=member_of(request), detail={"view": "suspicious"}
        )
        return Response(SuspiciousSerializer(body).data)

    def get_object(self) -> AuditEvent:
        return get_object_or_404(AuditEvent.objects.all(), pk=parse_id(self.kwargs["pk"]))
