"""Webhook subscriptions, deliveries (the outbox) and delivery attempts.

The tables keep the names they were created with in the `notices` app (`db_table`)."""

import base64
import secrets
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from core.events import EventType
from core.vocabularies import used_by, vocabulary
from intel.models import TLP, DeviceProfile, Organisation
from intel.models.access import AccessRequest
from notices.models import Notice
from seizures.models import SeizureReport

if TYPE_CHECKING:
    from intel.models import Member


def new_signing_secret() -> str:
    """Standard Webhooks secret: `whsec_` + base64 of 24 random bytes."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


class SubscriptionQuerySet(models.QuerySet["Subscription"]):
    def visible_to(self, member: "Member") -> "SubscriptionQuerySet":
        """An organisation's subscriptions are its own business, and each one only for
        members cleared for what it receives (its `label_cap`): otherwise a member could
        read its delivery log, or repoint it and rotate its secret to receive above their
        clearance."""
        return self.with_deleted_visible_to(member).filter(deleted_at__isnull=True)

    def with_deleted_visible_to(self, member: "Member") -> "SubscriptionQuerySet":
        """`visible_to`, deleted subscriptions included: their delivery logs stay readable
        until the retention job purges them."""
        if member.organisation_id is None:
            return self.none()
        cleared = TLP.at_most(member.clearance)
        return self.filter(organisation_id=member.organisation_id).filter(
            Q(max_tlp__in=cleared) | Q(created_by__clearance__in=cleared)
        )


class Subscription(models.Model):
    """An organisation's webhook endpoint: where to POST, which events, which filters.

    Signing secrets are stored encrypted (`core.secrets_at_rest`), shown once at creation and at
    rotation; during a rotation overlap deliveries carry a signature with each secret."""

    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="subscriptions"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    description = models.CharField(
        max_length=200,
        blank=True,
        help_text="A note to recognise the endpoint by, e.g. `prison administration gateway`.",
    )
    url = models.URLField(
        max_length=2000, help_text="Where deliveries are POSTed: an HTTPS URL of a public address."
    )
    event_types = models.JSONField(default=list)
    notice_types = models.JSONField(default=list, blank=True)
    device_classes = models.JSONField(default=list, blank=True)
    countries = models.JSONField(default=list, blank=True)
    tac_prefixes = models.JSONField(default=list, blank=True)
    max_tlp = models.CharField(
        max_length=20,
        choices=TLP.choices,
        default=TLP.AMBER_STRICT,
        help_text="The most restricted label this endpoint may receive (never RED).",
    )
    secret_encrypted = models.TextField()
    previous_secret_encrypted = models.TextField(blank=True)
    previous_secret_expires_at = models.DateTimeField(null=True, blank=True)
    enabled = models.BooleanField(
        default=True,
        help_text="Whether deliveries are sent; false after repeated failures or a 410, until you enable it again.",
    )
    disabled_reason = models.CharField(
        max_length=500, blank=True, help_text="Why the endpoint was disabled; empty while enabled."
    )
    disabled_at = models.DateTimeField(
        null=True, blank=True, help_text="When the endpoint was disabled; null while enabled."
    )
    failing_since = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When the endpoint started failing without a success since; null while healthy.",
    )
    created_at = models.DateTimeField(
        default=timezone.now, help_text="When the subscription was made."
    )
    deleted_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="Deleted by its organisation: receives nothing; its log is kept for the "
        "retention period.",
    )

    objects = SubscriptionQuerySet.as_manager()

    class Meta:
        db_table = "notices_subscription"
        ordering = ("-created_at", "-id")

    def __str__(self) -> str:
        return f"{self.organisation_id}: {self.url}"

    @property
    def label_cap(self) -> str:
        creator = self.created_by
        return label_cap(self.max_tlp, None if creator is None else creator.clearance)


def label_cap(max_tlp: str, creator_clearance: str | None) -> str:
    """An endpoint's `max_tlp`, lowered to the clearance of the member who subscribed: it
    never receives more than the person who set it up may read, and lowering their
    clearance stops what is pending above it."""
    if creator_clearance is not None and TLP.above(max_tlp, creator_clearance):
        return creator_clearance
    return max_tlp


class DeliveryState(models.TextChoices):
    PENDING = "pending", "Pending"
    SENDING = "sending", "Sending"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed (retries exhausted)"
    CANCELLED = "cancelled", "Cancelled (no longer entitled or endpoint disabled)"
    SUPERSEDED = "superseded", "Superseded (a newer event of the notice went to the endpoint)"


vocabulary(
    "delivery_state",
    DeliveryState,
    title="Delivery state",
    description="Where one webhook delivery (one event to one subscription) stands.",
    fields=("subscriptions/{id}/deliveries: state",),
    values={
        DeliveryState.PENDING: "Waiting for its first or next attempt (`next_attempt_at`).",
        DeliveryState.SENDING: "A worker is sending it now.",
        DeliveryState.SUCCEEDED: "The endpoint answered 2xx.",
        DeliveryState.FAILED: "Every retry failed; it can be resent or recovered.",
        DeliveryState.CANCELLED: "Stopped: the subscription's organisation is no longer "
        "entitled to the notice, or the endpoint was disabled.",
        DeliveryState.SUPERSEDED: "A newer event of the same notice went to the endpoint instead.",
    },
)
used_by("event_type", "subscriptions: event_types[]")
used_by("notice_type", "subscriptions: notice_types[]")
used_by("device_class", "subscriptions: device_classes[]")
used_by("tlp", "subscriptions: max_tlp")


def new_webhook_id() -> str:
    return "msg_" + secrets.token_hex(12)


class DeliveryQuerySet(models.QuerySet["Delivery"]):
    def due(self, now: Any = None) -> "DeliveryQuerySet":
        """Pending and due, or leased by a worker that never finished (its lease ran out)."""
        now = now or timezone.now()
        return self.filter(
            Q(state=DeliveryState.PENDING, next_attempt_at__lte=now)
            | Q(state=DeliveryState.SENDING, leased_until__lt=now)
        )


class Delivery(models.Model):
    """One event for one subscription: the outbox row, written in the same transaction as
    the change it announces. Retry state lives here (`next_attempt_at`), not in Celery."""

    subscription = models.ForeignKey(
        Subscription, on_delete=models.CASCADE, related_name="deliveries"
    )
    event_type = models.CharField(
        max_length=40,
        choices=EventType.choices,
        help_text="What the delivery tells: a value of `event_type` (docs/vocabularies.md).",
    )
    notice = models.ForeignKey(
        Notice, null=True, blank=True, on_delete=models.CASCADE, related_name="deliveries"
    )
    notice_version = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="The notice's version it carries, for notice events; null otherwise.",
    )
    # The notice's status the event announces (a supersession is a `notice.updated` at the
    # same version as the update before it); the payload is rendered as of this.
    notice_status = models.CharField(max_length=20, blank=True, default="")
    # These three are set on a few events only: indexed where set (Meta.indexes), not with
    # an index entry for every NULL of every notice's fan-out.
    profile = models.ForeignKey(
        DeviceProfile,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,
        help_text="The id of the profile it is about, for `profile.updated`; null otherwise.",
    )
    access_request = models.ForeignKey(
        AccessRequest,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,
    )
    seizure_report = models.ForeignKey(
        SeizureReport,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,
    )
    # Unique by a constraint (Meta), not `unique=True`: on PostgreSQL that would add a second
    # (`LIKE`) index, which no query uses.
    webhook_id = models.CharField(
        max_length=40,
        default=new_webhook_id,
        help_text="The `webhook-id` header of every attempt: the same across retries, for deduplication.",
    )
    state = models.CharField(
        max_length=20,
        choices=DeliveryState.choices,
        default=DeliveryState.PENDING,
        help_text="Where the delivery stands: a value of `delivery_state` (docs/vocabularies.md).",
    )
    attempts = models.PositiveIntegerField(default=0, help_text="How many attempts were made.")
    next_attempt_at = models.DateTimeField(
        null=True,
        blank=True,
        default=timezone.now,
        help_text="When the next attempt is due; null when none is.",
    )
    leased_until = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="The HTTP status of the last attempt; null if it got no answer.",
    )
    last_error = models.CharField(
        max_length=500,
        blank=True,
        help_text="Why the last attempt failed (a timeout, a refused connection…); empty if it did not.",
    )
    created_at = models.DateTimeField(
        default=timezone.now, help_text="When the delivery was queued."
    )
    completed_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When it succeeded, failed for good or was cancelled; null while pending.",
    )

    objects = DeliveryQuerySet.as_manager()

    class Meta:
        db_table = "notices_delivery"
        ordering = ("-created_at", "-id")
        # Every fan-out writes each row three times (outbox, lease, outcome), and an update
        # of `state` writes an entry in every index: the table keeps only the indexes its
        # queries use, partial where most rows have nothing to index.
        indexes = [
            # The engine's queue (`due`): finished deliveries, nearly all rows, leave it.
            models.Index(
                fields=["state", "next_attempt_at"],
                condition=Q(state__in=[DeliveryState.PENDING, DeliveryState.SENDING]),
                name="delivery_queue",
            ),
            models.Index(
                fields=["profile"], condition=Q(profile__isnull=False), name="delivery_profile"
            ),
            models.Index(
                fields=["access_request"],
                condition=Q(access_request__isnull=False),
                name="delivery_access_request",
            ),
            models.Index(
                fields=["seizure_report"],
                condition=Q(seizure_report__isnull=False),
                name="delivery_seizure_report",
            ),
        ]
        constraints = [models.UniqueConstraint(fields=["webhook_id"], name="unique_webhook_id")]

    def __str__(self) -> str:
        return self.webhook_id


class DeliveryAttempt(models.Model):
    """One HTTP POST of a delivery, whatever came of it."""

    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="attempt_log")
    number = models.PositiveIntegerField(help_text="The attempt's number: 1 for the first.")
    trigger = models.CharField(
        max_length=20,
        default="scheduled",
        help_text="What started the attempt: `scheduled` (the delivery schedule) or `manual` (a test event sent on request).",
    )
    started_at = models.DateTimeField(help_text="When the attempt started.")
    duration_ms = models.PositiveIntegerField(
        help_text="How long the attempt took, in milliseconds."
    )
    status_code = models.PositiveIntegerField(
        null=True, blank=True, help_text="The endpoint's HTTP status; null if it got no answer."
    )
    error = models.CharField(
        max_length=500, blank=True, help_text="Why the attempt failed; empty if it did not."
    )
    response_body = models.TextField(
        blank=True, help_text="The start of the endpoint's answer, for debugging."
    )
    next_attempt_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When the next attempt was scheduled after this one; null if none.",
    )

    class Meta:
        db_table = "notices_deliveryattempt"
        ordering = ("delivery", "number")

    def __str__(self) -> str:
        return f"{self.delivery_id} #{self.number}"
