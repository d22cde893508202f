"""What the access-request API accepts: the bodies of its writes and the filters of its list."""

from typing import Any

import django_filters
from django.db.models import Q, QuerySet
from rest_framework import serializers

from access.records import MAX_GRANT_DAYS
from core.serializers import StrictFieldsMixin
from core.strict import MAX_ID
from intel.models import (
    AccessRequest,
    AccessRequestStatus,
    GrantScope,
    Member,
    Organisation,
    TargetType,
)


class AccessRequestCreateSerializer(StrictFieldsMixin, serializers.Serializer[Any]):
    target_type = serializers.ChoiceField(choices=TargetType.choices)
    target_id = serializers.IntegerField(min_value=1, max_value=MAX_ID)
    via_notice = serializers.IntegerField(
        min_value=1,
        max_value=MAX_ID,
        required=False,
        allow_null=True,
        help_text="The notice through which you learnt of an object you do not see.",
    )
    purpose = serializers.CharField(max_length=5000, help_text="Why you need it.")
    legal_basis = serializers.CharField(max_length=500)
    case_reference = serializers.CharField(
        max_length=200, required=False, allow_blank=True, default=""
    )
    requested_days = serializers.IntegerField(min_value=1, max_value=MAX_GRANT_DAYS)
    on_behalf_of: serializers.SlugRelatedField[Organisation] = serializers.SlugRelatedField(
        slug_field="slug",
        queryset=Organisation.objects.all(),
        required=False,
        allow_null=True,
        help_text="Slug of a national authority your organisation sponsors, to be granted "
        "instead of your organisation.",
    )


class ApproveSerializer(StrictFieldsMixin, serializers.Serializer[Any]):
    scope = serializers.ChoiceField(
        choices=GrantScope.choices,
        default=GrantScope.OBJECT,
        help_text="`with_attachments` (profiles only) also shows the profile's attachments.",
    )
    days = serializers.IntegerField(
        min_value=1,
        max_value=MAX_GRANT_DAYS,
        required=False,
        help_text="Duration from now; default: the requested duration.",
    )
    expires_at = serializers.DateTimeField(
        required=False, help_text="An exact expiry instead of `days`."
    )
    note = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


class ReasonSerializer(StrictFieldsMixin, serializers.Serializer[Any]):
    reason = serializers.CharField(max_length=2000)


class OptionalReasonSerializer(StrictFieldsMixin, serializers.Serializer[Any]):
    reason = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


class MessageSerializer(StrictFieldsMixin, serializers.Serializer[Any]):
    message = serializers.CharField(max_length=5000)


class AccessRequestFilter(django_filters.FilterSet):  # type: ignore[misc]  # django-filter ships no types
    status = django_filters.MultipleChoiceFilter(
        choices=AccessRequestStatus.choices, help_text="Status(es); repeat for several."
    )
    target_type = django_filters.ChoiceFilter(choices=TargetType.choices)
    role = django_filters.ChoiceFilter(
        choices=[("sent", "sent"), ("received", "received")],
        method="filter_role",
        help_text="`sent`: made by or for your organisation; `received`: yours to decide.",
    )

    class Meta:
        model = AccessRequest
        fields: list[str] = []

    def filter_role(
        self, queryset: QuerySet[AccessRequest], name: str, value: str
    ) -> QuerySet[AccessRequest]:
        member: Member = self.request.user
        mine = Q(organisation_id=member.organisation_id) | Q(on_behalf_of_id=member.organisation_id)
        if value == "sent":
            return queryset.filter(mine)
        if member.is_secretariat_coordinator:
            return queryset.exclude(mine)
        return queryset.filter(owner_id=member.organisation_id).exclude(mine)
