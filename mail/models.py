"""Members' e-mail preferences and the e-mail outbox (one row per member and event)."""

from django.conf import settings
from django.db import models
from django.utils import timezone

from core.events import EventType
from core.vocabularies import used_by, vocabulary
from intel.models import AccessRequest, DeviceProfile, Organisation
from notices.models import Notice
from seizures.models import SeizureReport


class Delivery(models.TextChoices):
    """How a member hears of one kind of event by e-mail."""

    IMMEDIATE = "immediate", "One e-mail per event, sent within a minute"
    DIGEST = "digest", "One e-mail a day listing the day's events"
    NONE = "none", "No e-mail"


vocabulary(
    "email_delivery",
    Delivery,
    title="E-mail delivery",
    description="How a member hears of one kind of event by e-mail.",
    fields=("me/email-preferences: delivery",),
    values={
        Delivery.IMMEDIATE: "An e-mail for each event, sent by the workers within a minute.",
        Delivery.DIGEST: "One e-mail a day listing the day's events.",
        Delivery.NONE: "No e-mail for this kind of event.",
    },
)
used_by("event_type", "me/email-preferences: event_type")

# The events a member may hear of by e-mail (`dix.test` only checks a webhook endpoint).
MAILED_EVENTS = [c for c in EventType.choices if c[0] != EventType.TEST]

# What a member who chose nothing receives: what a desk officer must act on comes at once;
# the frequent or informative rest only to those who ask for it.
DEFAULT_DELIVERY: dict[str, str] = {
    EventType.NOTICE_PUBLISHED: Delivery.IMMEDIATE,
    EventType.NOTICE_UPDATED: Delivery.IMMEDIATE,
    EventType.NOTICE_WITHDRAWN: Delivery.IMMEDIATE,
    EventType.NOTICE_SUBMITTED: Delivery.IMMEDIATE,
    EventType.NOTICE_REMINDER: Delivery.IMMEDIATE,
    EventType.ACCESS_REQUEST_CREATED: Delivery.IMMEDIATE,
    EventType.ACCESS_REQUEST_DECIDED: Delivery.IMMEDIATE,
    EventType.PROFILE_UPDATED: Delivery.NONE,
    EventType.SEIZURE_REPORTED: Delivery.NONE,
    EventType.SEIZURE_AMENDED: Delivery.NONE,
    EventType.SEIZURE_WITHDRAWN: Delivery.NONE,
}


class EmailPreference(models.Model):
    """A member's choice for one kind of event; without a row the default applies
    (`DEFAULT_DELIVERY`)."""

    member = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="email_preferences"
    )
    event_type = models.CharField(max_length=40, choices=MAILED_EVENTS)
    delivery = models.CharField(max_length=20, choices=Delivery.choices)

    class Meta:
        ordering = ("member", "event_type")
        constraints = [
            models.UniqueConstraint(fields=["member", "event_type"], name="unique_email_preference")
        ]

    def __str__(self) -> str:
        return f"{self.member_id} {self.event_type}: {self.delivery}"


class EmailStatus(models.TextChoices):
    PENDING = "pending", "Waiting to be sent"
    SENT = "sent", "Sent"
    FAILED = "failed", "Every attempt failed"
    DROPPED = "dropped", "Not sent: the member may no longer see the object or has no address"


class EmailMessage(models.Model):
    """One e-mail to write to one member about one event: written in the transaction of the
    change it tells of, sent later by a worker (`mail.sending`), which renders it then from
    the objects referred to, as the member may see them at that time."""

    member = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="emails"
    )
    event_type = models.CharField(max_length=40, choices=MAILED_EVENTS)
    delivery = models.CharField(
        max_length=20, choices=[(Delivery.IMMEDIATE, "immediate"), (Delivery.DIGEST, "digest")]
    )
    notice = models.ForeignKey(
        Notice, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    notice_version = models.PositiveIntegerField(
        default=0, help_text="The notice's version the event is about (0: a draft)."
    )
    organisation = models.ForeignKey(
        Organisation,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        help_text="The organisation a reminder is about.",
    )
    access_request = models.ForeignKey(
        AccessRequest, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    profile = models.ForeignKey(
        DeviceProfile, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    seizure_report = models.ForeignKey(
        SeizureReport, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    status = models.CharField(
        max_length=20, choices=EmailStatus.choices, default=EmailStatus.PENDING
    )
    created_at = models.DateTimeField(default=timezone.now)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    leased_until = models.DateTimeField(null=True, blank=True)
    lease = models.CharField(max_length=32, blank=True, help_text="The holding worker's token.")
    attempts = models.PositiveIntegerField(default=0)
    sent_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)

    class Meta:
        ordering = ("created_at", "id")
        indexes = [
            models.Index(fields=["status", "delivery", "next_attempt_at"], name="mail_due"),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} → {self.member_id} ({self.status})"
