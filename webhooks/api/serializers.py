"""Serializers of webhook subscriptions and their deliveries."""

from typing import Any

from django.conf import settings
from rest_framework import serializers

from core.events import EventType
from core.serializers import CountryField, StrictFieldsMixin
from intel.models.profiles import DeviceClass
from intel.models.tlp import TLP
from notices.models import NoticeType
from webhooks.models import Delivery, DeliveryAttempt, Subscription
from webhooks.sender import UnsafeDestination, check_url


class SubscriptionSerializer(StrictFieldsMixin, serializers.ModelSerializer[Subscription]):
    """A webhook endpoint of your organisation. Empty filter lists match everything."""

    event_types = serializers.ListField(
        child=serializers.ChoiceField(choices=EventType.choices),
        min_length=1,
        help_text="The events to receive (at least one): values of `event_type` (docs/vocabularies.md).",
    )
    notice_types = serializers.ListField(
        child=serializers.ChoiceField(choices=NoticeType.choices),
        required=False,
        help_text="Only notices of these types (`notice_type` (docs/vocabularies.md)); empty: every type.",
    )
    device_classes = serializers.ListField(
        child=serializers.ChoiceField(choices=DeviceClass.choices),
        required=False,
        help_text="Only notices about profiles of these classes (`device_class` (docs/vocabularies.md)); empty: every class.",
    )
    countries = serializers.ListField(
        child=CountryField(),
        required=False,
        help_text="Only notices addressed to or issued from these countries (ISO 3166-1 alpha-2); empty: every country.",
    )
    tac_prefixes = serializers.ListField(
        child=serializers.RegexField(r"^[0-9]{1,8}$", error_messages={"invalid": "1 to 8 digits."}),
        required=False,
        help_text="Only notices about profiles with a TAC starting with one of these (1 to 8 digits); empty: any.",
    )
    max_tlp = serializers.ChoiceField(
        choices=[c for c in TLP.choices if c[0] != TLP.RED],
        required=False,
        help_text="The most restricted label sent to this endpoint. TLP:RED is never sent.",
    )
    organisation = serializers.SlugRelatedField(slug_field="slug", read_only=True)  # type: ignore[var-annotated]

    class Meta:
        model = Subscription
        fields = (
            "id",
            "organisation",
            "description",
            "url",
            "event_types",
            "notice_types",
            "device_classes",
            "countries",
            "tac_prefixes",
            "max_tlp",
            "enabled",
            "disabled_reason",
            "disabled_at",
            "failing_since",
            "created_at",
        )
        read_only_fields = ("id", "organisation", "disabled_at", "failing_since", "created_at")

    def validate_url(self, value: str) -> str:
        try:
            check_url(value, allow_loopback=settings.DIX_WEBHOOK_ALLOW_LOOPBACK)
        except UnsafeDestination as exc:
            raise serializers.ValidationError(str(exc)) from None
        return value


class SubscriptionCreatedSerializer(SubscriptionSerializer):
    """A subscription just made, with its signing secret: shown this once."""

    secret = serializers.CharField(
        read_only=True, help_text="The signing secret (`whsec_…`). Shown once: store it now."
    )

    class Meta(SubscriptionSerializer.Meta):
        fields = (*SubscriptionSerializer.Meta.fields, "secret")  # type: ignore[assignment]


class RotatedSecretSerializer(serializers.Serializer[Any]):
    """The endpoint's new signing secret, shown once."""

    secret = serializers.CharField(help_text="The new secret. Shown once.")
    previous_secret_expires_at = serializers.DateTimeField(
        help_text="Until then deliveries carry a signature with the old secret too."
    )


class DeliveryAttemptSerializer(serializers.ModelSerializer[DeliveryAttempt]):
    """One attempt to deliver an event: when, how long, what the endpoint answered."""

    class Meta:
        model = DeliveryAttempt
        fields = (
            "number",
            "trigger",
            "started_at",
            "duration_ms",
            "status_code",
            "error",
            "response_body",
            "next_attempt_at",
        )


class DeliverySerializer(serializers.ModelSerializer[Delivery]):
    """One event sent to one endpoint, with every attempt."""

    notice = serializers.SlugRelatedField(slug_field="reference", read_only=True)  # type: ignore[var-annotated]
    attempt_log = DeliveryAttemptSerializer(
        many=True, read_only=True, help_text="Every attempt, oldest first."
    )

    class Meta:
        model = Delivery
        fields = (
            "id",
            "webhook_id",
            "event_type",
            "notice",
            "notice_version",
            "profile",
            "state",
            "attempts",
            "next_attempt_at",
            "last_status_code",
            "last_error",
            "created_at",
            "completed_at",
            "attempt_log",
        )


class TestResultSerializer(serializers.Serializer[Any]):
    """What the endpoint answered to a test event."""

    delivery = serializers.IntegerField(help_text="The id of the test delivery.")
    webhook_id = serializers.CharField(help_text="The `webhook-id` header sent.")
    status_code = serializers.IntegerField(
        allow_null=True, help_text="The endpoint's HTTP status; null if it got no answer."
    )
    duration_ms = serializers.IntegerField(help_text="How long the attempt took, in milliseconds.")
    error = serializers.CharField(help_text="Why it failed; empty if it did not.")
    response_body = serializers.CharField(help_text="The start of the endpoint's answer.")
    succeeded = serializers.BooleanField(help_text="Whether the endpoint answered 2xx.")


class RecoverSerializer(StrictFieldsMixin, serializers.Serializer[Any]):
    """Queue again the failed deliveries of a time window."""

    since = serializers.DateTimeField(help_text="Requeue failed deliveries created since then.")


class RecoverResultSerializer(serializers.Serializer[Any]):
    """How many deliveries were queued again."""

    requeued = serializers.IntegerField(help_text="How many failed deliveries were queued again.")
