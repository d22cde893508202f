"""`GET /api/v1/audit/suspicious/`'s body: the members with many refused reads (`read.denied`)
within a recent window (docs/audit.md, "Refused reads")."""

from datetime import datetime
from typing import Any

from django.db.models import Count, Max, Min
from rest_framework import serializers

from intel.api.visible import DENIED
from intel.models import AuditEvent


class SuspiciousMemberSerializer(serializers.Serializer[dict[str, Any]]):
    """A member with many refused reads in the window, and when they happened."""

    actor_id = serializers.IntegerField(help_text="The member refused.")
    actor_username = serializers.CharField(help_text="The member's username at the time.")
    organisation_id = serializers.IntegerField(
        allow_null=True, help_text="The member's organisation at the time."
    )
    organisation_slug = serializers.CharField(help_text="Its slug at the time.")
    refusals = serializers.IntegerField(
        help_text="`read.denied` events in the window: distinct objects per hour, since a "
        "member's repeated tries of one object within an hour are recorded once."
    )
    first_refusal_at = serializers.DateTimeField(help_text="The first of them in the window.")
    last_refusal_at = serializers.DateTimeField(help_text="The last of them.")


class SuspiciousSerializer(serializers.Serializer[dict[str, Any]]):
    """The members with many refused reads (`read.denied`) lately, for auditors."""

    since = serializers.DateTimeField(help_text="Start of the window (now minus `minutes`).")
    minutes = serializers.IntegerField(
        help_text="The window's length, `DIX_AUDIT_SUSPICIOUS_MINUTES`."
    )
    threshold = serializers.IntegerField(
        help_text="Refusals within the window that list a member, `DIX_AUDIT_SUSPICIOUS_REFUSALS`."
    )
    members = SuspiciousMemberSerializer(
        many=True,
        help_text="The members at or above the threshold, most refusals first: a list "
        "bounded by design (by the number of members), so not paginated.",
    )


def suspicious_members(since: datetime, threshold: int) -> list[dict[str, Any]]:
    """Members with at least `threshold` refused reads (`read.denied`) since `since`."""
    rows = (
        AuditEvent.objects.filter(action=DENIED, created_at__gte=since, actor_id__isnull=False)
        .values("actor_id")
        .annotate(
            refusals=Count("id"),
            actor_username=Max("actor_username"),
            organisation_id=Max("organisation_id"),
            organisation_slug=Max("organisation_slug"),
            first_refusal_at=Min("created_at"),
            last_refusal_at=Max("created_at"),
        )
        .filter(refusals__gte=threshold)
        .order_by("-refusals", "actor_id")
    )
    return list(rows)
