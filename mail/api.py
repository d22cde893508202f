"""The member's own e-mail preferences (`/api/v1/me/email-preferences/`)."""

from typing import Any

from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.serializers import StrictFieldsMixin
from core.strict import StrictRequestMixin
from intel.api.base import member_of
from intel.models import Member
from mail.models import DEFAULT_DELIVERY, MAILED_EVENTS, Delivery
from mail.preferences import email_preferences_set, preferences_of


class PreferenceSerializer(StrictFieldsMixin, serializers.Serializer[dict[str, str]]):
    """How you hear of one kind of event by e-mail."""

    event_type = serializers.ChoiceField(
        choices=MAILED_EVENTS, help_text="The kind of event (as in webhook subscriptions)."
    )
    delivery = serializers.ChoiceField(
        choices=Delivery.choices,
        help_text="`immediate`: one e-mail per event, sent by the workers within a minute; "
        "`digest`: one e-mail a day listing the day's events; `none`: no e-mail.",
    )


class PreferenceShownSerializer(PreferenceSerializer):
    """How you hear of one kind of event by e-mail, and what you would without a choice."""

    default = serializers.ChoiceField(
        choices=Delivery.choices,
        read_only=True,
        help_text="The delivery of this kind for a member who has not chosen.",
    )


class EmailPreferencesSerializer(StrictFieldsMixin, serializers.Serializer[dict[str, Any]]):
    """Your e-mail preferences. E-mail goes to your account's address; without one, none is sent."""

    email = serializers.CharField(
        read_only=True,
        help_text="Where e-mails go: your account's address, set by an administrator. Empty: "
        "no e-mail is sent to you, whatever you choose.",
    )
    preferences = PreferenceShownSerializer(
        many=True,
        help_text="Every kind of event, with your delivery for it. In a PUT: the kinds you "
        "choose for; every kind not listed goes back to its default.",
    )

    def validate_preferences(self, value: list[dict[str, str]]) -> list[dict[str, str]]:
        seen: set[str] = set()
        for item in value:
            if item["event_type"] in seen:
                raise serializers.ValidationError(f"{item['event_type']} is listed twice.")
            seen.add(item["event_type"])
        return value


def shown(member: Member, deliveries: dict[str, str]) -> dict[str, Any]:
    return {
        "email": member.email,
        "preferences": [
            {"event_type": event, "delivery": delivery, "default": DEFAULT_DELIVERY[event]}
            for event, delivery in deliveries.items()
        ],
    }


EXAMPLE = {
    "preferences": [
        {"event_type": "notice.published", "delivery": "immediate"},
        {"event_type": "notice.updated", "delivery": "digest"},
        {"event_type": "seizure.reported", "delivery": "digest"},
        {"event_type": "profile.updated", "delivery": "none"},
    ]
}


class EmailPreferencesView(StrictRequestMixin, APIView):
    @extend_schema(
        summary="Your e-mail preferences",
        description="For every kind of event: whether you get an e-mail at once, a daily "
        "digest, or nothing (docs/email.md). Only your own.",
        responses={200: EmailPreferencesSerializer},
    )
    def get(self, request: Request) -> Response:
        member = member_of(request)
        return Response(EmailPreferencesSerializer(shown(member, preferences_of(member))).data)

    @extend_schema(
        summary="Choose your e-mail preferences",
        description="Set the delivery of the kinds listed; every kind not listed goes back "
        "to its default. An e-mail carries at most what you may see of the object, and for "
        "TLP:AMBER+STRICT and TLP:RED never more than title, type, label and a link.",
        request=EmailPreferencesSerializer,
        responses={200: EmailPreferencesSerializer},
        examples=[OpenApiExample("Digest for updates", value=EXAMPLE, request_only=True)],
    )
    def put(self, request: Request) -> Response:
        member = member_of(request)
        form = EmailPreferencesSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        chosen = {p["event_type"]: p["delivery"] for p in form.validated_data["preferences"]}
        deliveries = email_preferences_set(member=member, deliveries=chosen)
        return Response(EmailPreferencesSerializer(shown(member, deliveries)).data)
