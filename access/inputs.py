"""What the access-request API accepts: the bodies of its writes and the filters of its list."""

from datetime import timedelta
from typing import Any

import django_filters
from django.db.models import Q, QuerySet
from rest_framework import serializers

from access import policies
from access.records import DEFAULT_REQUEST_DAYS, MAX_GRANT_DAYS
from core import durations
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
    """A request for access to a profile, an attachment or a notice you do not see."""

    target_type = serializers.ChoiceField(
        choices=TargetType.choices,
        help_text="What kind of object you ask for: a value of `target_type` (docs/vocabularies.md).",
    )
    target_id = serializers.IntegerField(
        min_value=1,
        max_value=MAX_ID,
        help_text="The id of the profile, notice or attachment you ask for.",
    )
    via_notice = serializers.IntegerField(
        min_value=1,
        max_value=MAX_ID,
        required=False,
        allow_null=True,
        help_text="The notice through which you learnt of an object you do not see.",
    )
    purpose = serializers.CharField(max_length=5000, help_text="Why you need it.")
    legal_basis = serializers.CharField(
        max_length=500,
        help_text="The legal basis of your request, e.g. the article of law or the instrument of cooperation.",
    )
    case_reference = serializers.CharField(
        max_length=200,
        required=False,
        allow_blank=True,
        default="",
        help_text="Your case or file reference, if any.",
    )
    days = serializers.IntegerField(
        min_value=1,
        max_value=MAX_GRANT_DAYS,
        required=False,
        help_text=f"How many days of access you ask for, from the approval (1 to "
        f"{MAX_GRANT_DAYS}); default {DEFAULT_REQUEST_DAYS}. Not with `expires_at`.",
    )
    expires_at = serializers.DateTimeField(
        required=False,
        help_text=f"Until when you ask for access (RFC 3339, in the future, within "
        f"{MAX_GRANT_DAYS} days) instead of `days`.",
    )
    on_behalf_of: serializers.SlugRelatedField[Organisation] = serializers.SlugRelatedField(
        slug_field="slug",
        queryset=Organisation.objects.all(),
        required=False,
        allow_null=True,
        help_text="Slug of a national authority your organisation sponsors, to be granted "
        "instead of your organisation.",
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        _check_validity(attrs)
        return attrs


class ApproveSerializer(StrictFieldsMixin, serializers.Serializer[Any]):
    """An approval: the scope of the grant and until when it holds."""

    scope = serializers.ChoiceField(
        choices=GrantScope.choices,
        default=GrantScope.OBJECT,
        help_text="`with_attachments` (profiles only) also shows the profile's attachments.",
    )
    days = serializers.IntegerField(
        min_value=1,
        max_value=MAX_GRANT_DAYS,
        required=False,
        help_text=f"Duration from now (1 to {MAX_GRANT_DAYS}); default: as the request asked. "
        "Not with `expires_at`.",
    )
    expires_at = serializers.DateTimeField(
        required=False,
        help_text=f"An exact expiry instead of `days` (RFC 3339, in the future, within "
        f"{MAX_GRANT_DAYS} days).",
    )
    note = serializers.CharField(
        max_length=2000,
        required=False,
        allow_blank=True,
        default="",
        help_text="A note for the requester, kept with the decision.",
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        _check_validity(attrs)
        return attrs


def _check_validity(attrs: dict[str, Any]) -> None:
    """The one validity rule (`core.durations`), on the body before anything else: a bad
    duration is a 400 whatever the request's state."""
    durations.validity(
        days=attrs.get("days"),
        expires_at=attrs.get("expires_at"),
        default=timedelta(days=DEFAULT_REQUEST_DAYS),
        maximum=timedelta(days=MAX_GRANT_DAYS),
    )


class ReasonSerializer(StrictFieldsMixin, serializers.Serializer[Any]):
    """A decision or an action that needs a reason."""

    reason = serializers.CharField(
        max_length=2000, help_text="The reason, as the other side will read it (required)."
    )


class OptionalReasonSerializer(StrictFieldsMixin, serializers.Serializer[Any]):
    """An action that may give a reason."""

    reason = serializers.CharField(
        max_length=2000,
        required=False,
        allow_blank=True,
        default="",
        help_text="The reason, if you give one.",
    )


class MessageSerializer(StrictFieldsMixin, serializers.Serializer[Any]):
    """A message on an open request: the decider's question or the requester's answer."""

    message = serializers.CharField(
        max_length=5000, help_text="Your question or answer, as the other side will read it."
    )


class RouteSerializer(StrictFieldsMixin, serializers.Serializer[Any]):
    """The secretariat routes a request to the owner organisation, with a note for it."""

    note = serializers.CharField(
        max_length=2000,
        required=False,
        allow_blank=True,
        default="",
        help_text="What the owner should know; default: a line naming the owner.",
    )


class AccessRequestFilter(django_filters.FilterSet):  # type: ignore[misc]  # django-filter ships no types
    status = django_filters.MultipleChoiceFilter(
        choices=AccessRequestStatus.choices, help_text="Status(es); repeat for several."
    )
    target_type = django_filters.ChoiceFilter(choices=TargetType.choices)
    role = django_filters.ChoiceFilter(
        choices=[("sent", "sent"), ("received", "received")],
        method="filter_role",
        help_text="`sent`: made by or for your organisation; `received`: awaiting your "
        "decision, the requests you may decide (docs/access-requests.md, who decides).",
    )

    class Meta:
        model = AccessRequest
        fields: list[str] = []

    def filter_role(
        self, queryset: QuerySet[AccessRequest], name: str, value: str
    ) -> QuerySet[AccessRequest]:
        member: Member = self.request.user
        if value == "sent":
            org = member.organisation_id
            return queryset.filter(Q(organisation_id=org) | Q(on_behalf_of_id=org))
        return queryset.filter(policies.awaiting_decision(member))
