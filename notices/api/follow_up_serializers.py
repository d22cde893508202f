"""Serializers of a notice's follow-up: its audience preview, the receipts of its whole
audience and an acknowledgement's body. They validate and describe; services write."""

from typing import Any

from rest_framework import serializers

from core.serializers import StrictFieldsMixin
from notices.audience import Reason
from notices.models import AcknowledgementOutcome

COMMENT_MAX_LENGTH = 2000


class AcknowledgeSerializer(StrictFieldsMixin, serializers.Serializer[Any]):
    """What was done about the notice: both optional (an empty body acknowledges only)."""

    outcome = serializers.ChoiceField(
        choices=AcknowledgementOutcome.choices,
        required=False,
        help_text="What your organisation did: checked_none_found, seized, in_progress or "
        "not_applicable. A later acknowledgement replaces it.",
    )
    comment = serializers.CharField(
        max_length=COMMENT_MAX_LENGTH,
        required=False,
        allow_blank=True,
        help_text="Free text for the issuer, without personal data (phone numbers, e-mail "
        "addresses, IMSIs and full IMEIs are refused). A later acknowledgement replaces it.",
    )


class AudienceOrganisationSerializer(serializers.Serializer[Any]):
    """An organisation the notice would reach now, and why."""

    id = serializers.IntegerField(help_text="The organisation's id.")
    slug = serializers.CharField(help_text="The organisation's slug.")
    name = serializers.CharField(help_text="The organisation's name.")
    country = serializers.CharField(help_text="ISO 3166-1 alpha-2; empty for the secretariat.")
    reasons = serializers.ListField(
        child=serializers.ChoiceField(choices=Reason.choices),
        help_text="Why it is reached: issuer, scope (the network or its country), named, "
        "sponsored (TLP:AMBER through its sponsoring desk), granted (an access grant).",
    )
    members = serializers.ListField(
        child=serializers.CharField(),
        help_text="TLP:RED: the usernames of its named members (the notice reaches them, not "
        "the organisation). Empty otherwise.",
    )


class AudienceTotalsSerializer(serializers.Serializer[Any]):
    """How many organisations and countries the whole audience counts."""

    organisations = serializers.IntegerField(help_text="Organisations reached.")
    countries = serializers.IntegerField(help_text="Distinct countries of those organisations.")


class AudiencePageSerializer(serializers.Serializer[Any]):
    """A page of the notice's audience, with totals over every page."""

    totals = AudienceTotalsSerializer(help_text="Over the whole audience, not this page.")
    next = serializers.URLField(allow_null=True, help_text="The next page, or null.")
    previous = serializers.URLField(allow_null=True, help_text="The previous page, or null.")
    results = AudienceOrganisationSerializer(many=True, help_text="Organisations, by id.")
    count = serializers.IntegerField(
        required=False,
        help_text="How many organisations all the pages hold together; only with `count=true`.",
    )


class AudienceReceiptSerializer(serializers.Serializer[Any]):
    """What one audience organisation did with the notice: received, read, acknowledged (with outcome and comment), reminded."""

    organisation = serializers.CharField(help_text="The organisation's slug.")
    organisation_id = serializers.IntegerField(help_text="The organisation's id.")
    organisation_name = serializers.CharField(help_text="The organisation's name.")
    country = serializers.CharField(help_text="ISO 3166-1 alpha-2; empty for the secretariat.")
    reasons = serializers.ListField(
        child=serializers.ChoiceField(choices=Reason.choices),
        help_text="Why it is in the audience (as in `audience/`); empty for an organisation "
        "outside it that left a receipt (the secretariat reading the notice).",
    )
    received_at = serializers.DateTimeField(
        allow_null=True, help_text="First pulled or opened; null: not yet."
    )
    read_at = serializers.DateTimeField(allow_null=True, help_text="First opened; null: not yet.")
    acknowledged_at = serializers.DateTimeField(
        allow_null=True, help_text="First acknowledged; null: not yet."
    )
    acknowledged_by = serializers.CharField(
        allow_null=True, help_text="Username of the member who first acknowledged."
    )
    outcome = serializers.ChoiceField(
        choices=AcknowledgementOutcome.choices,
        allow_null=True,
        help_text="What was done, as last acknowledged; null if not said.",
    )
    comment = serializers.CharField(help_text="The acknowledgement's comment (may be empty).")
    reminded_at = serializers.DateTimeField(
        allow_null=True, help_text="When it was reminded after `respond_by`; null: never."
    )


class ReceiptTotalsSerializer(serializers.Serializer[Any]):
    """How many audience organisations received, read, acknowledged and were reminded."""

    audience = serializers.IntegerField(help_text="Organisations in the audience.")
    received = serializers.IntegerField(help_text="Of those, how many received it.")
    read = serializers.IntegerField(help_text="Of those, how many opened it.")
    acknowledged = serializers.IntegerField(help_text="Of those, how many acknowledged it.")
    reminded = serializers.IntegerField(help_text="Of those, how many were reminded.")


class ReceiptPageSerializer(serializers.Serializer[Any]):
    """A page of the notice's receipts, with totals over the whole audience."""

    totals = ReceiptTotalsSerializer(help_text="Over the whole audience, not this page.")
    next = serializers.URLField(allow_null=True, help_text="The next page, or null.")
    previous = serializers.URLField(allow_null=True, help_text="The previous page, or null.")
    results = AudienceReceiptSerializer(many=True, help_text="Organisations, by id.")
    count = serializers.IntegerField(
        required=False,
        help_text="How many organisations all the pages hold together; only with `count=true`.",
    )
