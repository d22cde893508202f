"""Alert notices, their immutable published versions and read receipts; webhook
subscriptions, deliveries (the outbox) and delivery attempts."""

import secrets
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from intel.models import TLP, DeviceProfile, Organisation
from intel.models.access import AccessRequest, TargetType, granted_ids
from intel.models.tlp import tlp_labels_up_to, tlp_rank
from intel.validators import validate_country

if TYPE_CHECKING:
    from intel.models import Member


class NoticeType(models.TextChoices):
    ALERT = "alert", "Alert"
    UPDATE = "update", "Update"
    REQUEST_FOR_INFORMATION = "request_for_information", "Request for information"
    WARNING = "warning", "Warning"


class NoticeStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    PUBLISHED = "published", "Published"
    SUPERSEDED = "superseded", "Superseded"
    WITHDRAWN = "withdrawn", "Withdrawn"


class AudienceScope(models.TextChoices):
    NETWORK = "network", "The whole network"
    ORGANISATIONS = "organisations", "Listed organisations"
    COUNTRIES = "countries", "Listed countries"


class NoticeQuerySet(models.QuerySet["Notice"]):
    def visible_to(self, member: "Member") -> "NoticeQuerySet":
        """The notices `member` may receive (DESIGN.md §4 applied to a notice's audience).

        Published (and later) notices: the issuer and the audience, narrowed by TLP — AMBER
        reaches the authorities an audience member sponsors, AMBER+STRICT does not, RED only
        the named members and the drafter — and capped by clearance. Drafts: the same people,
        but only those of the issuing organisation and the secretariat: a draft is never seen
        more widely than the notice it would become.
        """
        return self.filter(notice_audience_q(member))


def notice_audience_q(member: "Member") -> Q:
    org = member.organisation
    published = Q(status__in=PUBLIC_STATES)
    named = Notice.recipient_members.through.objects.filter(member_id=member.pk)
    granted_by_org, granted_by_name = granted_ids(member, TargetType.NOTICE)
    # Whom the notice reaches by its label and audience, whatever its status (for a draft:
    # whom it would reach once published).
    reach = Q(pk__in=[])
    q = Q(pk__in=[])
    if member.pk is not None:  # an unsaved stand-in (a webhook's organisation) is named nowhere
        reach |= Q(tlp=TLP.RED, id__in=named.values("notice_id"))
        reach |= Q(tlp=TLP.RED, created_by_id=member.pk)
        q |= published & Q(id__in=granted_by_name)
    if org is not None:
        own = [org]
        with_sponsor = own if org.sponsor is None else [org, org.sponsor]
        reach |= Q(tlp__in=[TLP.CLEAR, TLP.GREEN]) & _in_audience(own)
        # An authority receives AMBER through the desk that sponsors it; never STRICT.
        reach |= Q(tlp=TLP.AMBER) & _in_audience(with_sponsor)
        reach |= Q(tlp=TLP.AMBER_STRICT) & _in_audience(own)
        if member.pk is not None and member.is_secretariat_coordinator:
            # They publish, update and withdraw any desk's notice and see its receipts, so
            # they see every one (RED still only where named).
            reach |= ~Q(tlp=TLP.RED)
        # An access grant shows the notice as to its audience (RED only by a named grant).
        q |= published & ~Q(tlp=TLP.RED) & Q(id__in=granted_by_org)
        # A draft is its organisation's (and the secretariat's) business until published.
        drafters = Q() if org.is_secretariat else Q(issuer_id=org.pk)
        q |= Q(status=NoticeStatus.DRAFT) & drafters & reach
    q |= published & reach
    return q & Q(tlp__in=tlp_labels_up_to(member.clearance))


def _in_audience(orgs: list[Organisation]) -> Q:
    """Notices whose issuer or audience includes one of these organisations (their countries
    are taken from the rows at hand: the member's organisation and its sponsor are loaded with
    the member, so checking visibility costs no query of organisations)."""
    org_ids = [o.pk for o in orgs]
    countries = [o.country for o in orgs if o.country]
    return (
        Q(issuer_id__in=org_ids)
        | Q(audience_scope=AudienceScope.NETWORK)
        | Q(
            audience_scope=AudienceScope.ORGANISATIONS,
            id__in=Notice.audience_organisations.through.objects.filter(
                organisation_id__in=org_ids
            ).values("notice_id"),
        )
        | Q(
            audience_scope=AudienceScope.COUNTRIES,
            id__in=NoticeCountry.objects.filter(country__in=countries).values("notice_id"),
        )
    )


PUBLIC_STATES = (NoticeStatus.PUBLISHED, NoticeStatus.SUPERSEDED, NoticeStatus.WITHDRAWN)


class Notice(models.Model):
    """An alert about device profiles, modelled on Eurojust and INTERPOL Purple notices.

    The row holds the draft and the notice's state; what was published lives in immutable
    `NoticeVersion` rows (version 1 at publication, one more per update)."""

    reference = models.CharField(max_length=32, unique=True, help_text="e.g. DIX-2025-000123")
    notice_type = models.CharField(max_length=32, choices=NoticeType.choices)
    title = models.CharField(max_length=300)
    summary = models.TextField(blank=True)
    body = models.TextField(blank=True)
    action_requested = models.TextField(blank=True)
    profiles = models.ManyToManyField(DeviceProfile, blank=True, related_name="notices")
    issuer = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="notices")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    audience_scope = models.CharField(
        max_length=20, choices=AudienceScope.choices, default=AudienceScope.NETWORK
    )
    audience_organisations = models.ManyToManyField(
        Organisation, blank=True, related_name="addressed_notices"
    )
    recipient_members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="received_notices"
    )
    tlp = models.CharField(max_length=20, choices=TLP.choices, default=TLP.GREEN)
    restricted_data_available = models.BooleanField(
        default=False, help_text="Advertise that restricted data can be requested."
    )
    review_due_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(
        max_length=20, choices=NoticeStatus.choices, default=NoticeStatus.DRAFT
    )
    version = models.PositiveIntegerField(default=0, help_text="Latest published version.")
    superseded_by = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="supersedes"
    )
    withdrawal_reason = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    published_at = models.DateTimeField(null=True, blank=True)
    changed_at = models.DateTimeField(
        default=timezone.now, db_index=True, help_text="Last publication, update or withdrawal."
    )

    objects = NoticeQuerySet.as_manager()

    class Meta:
        ordering = ("-changed_at", "-id")

    def __str__(self) -> str:
        return f"{self.reference} {self.title}"

    @property
    def audience_countries(self) -> list[str]:
        return [c.country for c in self.countries.all()]


class NoticeCountry(models.Model):
    """One country of a notice addressed to countries."""

    notice = models.ForeignKey(Notice, on_delete=models.CASCADE, related_name="countries")
    country = models.CharField(max_length=2, validators=[validate_country])

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["notice", "country"], name="unique_notice_country")
        ]

    def __str__(self) -> str:
        return self.country


class NoticeVersion(models.Model):
    """What was published, as published: never changed after it is written."""

    notice = models.ForeignKey(Notice, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    title = models.CharField(max_length=300)
    summary = models.TextField(blank=True)
    body = models.TextField(blank=True)
    action_requested = models.TextField(blank=True)
    profiles = models.ManyToManyField(DeviceProfile, blank=True, related_name="+")
    tlp = models.CharField(max_length=20, choices=TLP.choices)
    change_note = models.TextField(blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    published_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ("notice", "number")
        constraints = [
            models.UniqueConstraint(fields=["notice", "number"], name="unique_notice_version")
        ]

    def __str__(self) -> str:
        return f"{self.notice_id} v{self.number}"


class NoticeReceipt(models.Model):
    """What one organisation did with a notice: received (pulled or delivered), read
    (opened the detail), acknowledged."""

    notice = models.ForeignKey(Notice, on_delete=models.CASCADE, related_name="receipts")
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+")
    received_at = models.DateTimeField(null=True, blank=True)
    read_at = models.DateTimeField(null=True, blank=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["notice", "organisation"], name="unique_receipt_per_org"
            )
        ]

    def __str__(self) -> str:
        return f"{self.notice_id} → {self.organisation_id}"


class EventType(models.TextChoices):
    NOTICE_PUBLISHED = "notice.published", "notice.published"
    NOTICE_UPDATED = "notice.updated", "notice.updated"
    NOTICE_WITHDRAWN = "notice.withdrawn", "notice.withdrawn"
    PROFILE_UPDATED = "profile.updated", "profile.updated"
    ACCESS_REQUEST_CREATED = "access_request.created", "access_request.created"
    ACCESS_REQUEST_DECIDED = "access_request.decided", "access_request.decided"
    SEIZURE_REPORTED = "seizure.reported", "seizure.reported"
    TEST = "dix.test", "dix.test"


def new_signing_secret() -> str:
    """Standard Webhooks secret: `whsec_` + base64 of 24 random bytes."""
    import base64

    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


class SubscriptionQuerySet(models.QuerySet["Subscription"]):
    def visible_to(self, member: "Member") -> "SubscriptionQuerySet":
        """An organisation's subscriptions are its own business, and each one only for
        members cleared for what it receives (its `label_cap`): otherwise a member could
        read its delivery log, or repoint it and rotate its secret to receive above their
        clearance."""
        if member.organisation_id is None:
            return self.none()
        cleared = tlp_labels_up_to(member.clearance)
        return self.filter(organisation_id=member.organisation_id).filter(
            Q(max_tlp__in=cleared) | Q(created_by__clearance__in=cleared)
        )


class Subscription(models.Model):
    """An organisation's webhook endpoint: where to POST, which events, which filters.

    Signing secrets are stored encrypted (`notices.crypto`), shown once at creation and at
    rotation; during a rotation overlap deliveries carry a signature with each secret."""

    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="subscriptions"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    description = models.CharField(max_length=200, blank=True)
    url = models.URLField(max_length=2000)
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
    enabled = models.BooleanField(default=True)
    disabled_reason = models.CharField(max_length=500, blank=True)
    disabled_at = models.DateTimeField(null=True, blank=True)
    failing_since = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = SubscriptionQuerySet.as_manager()

    class Meta:
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
    if creator_clearance is not None and tlp_rank(creator_clearance) < tlp_rank(max_tlp):
        return creator_clearance
    return max_tlp


class DeliveryState(models.TextChoices):
    PENDING = "pending", "Pending"
    SENDING = "sending", "Sending"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed (retries exhausted)"
    CANCELLED = "cancelled", "Cancelled (no longer entitled or endpoint disabled)"
    SUPERSEDED = "superseded", "Superseded (a newer event of the notice went to the endpoint)"


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
    event_type = models.CharField(max_length=40, choices=EventType.choices)
    notice = models.ForeignKey(
        Notice, null=True, blank=True, on_delete=models.CASCADE, related_name="deliveries"
    )
    notice_version = models.PositiveIntegerField(null=True, blank=True)
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
        "SeizureReport",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,
    )
    # Unique by a constraint (Meta), not `unique=True`: on PostgreSQL that would add a second
    # (`LIKE`) index, which no query uses.
    webhook_id = models.CharField(max_length=40, default=new_webhook_id)
    state = models.CharField(
        max_length=20, choices=DeliveryState.choices, default=DeliveryState.PENDING
    )
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True, default=timezone.now)
    leased_until = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    completed_at = models.DateTimeField(null=True, blank=True)

    objects = DeliveryQuerySet.as_manager()

    class Meta:
        ordering = ("-created_at", "-id")
        # Every fan-out writes each row three times (outbox, lease, outcome), and an update
        # of `state` writes an entry in every index: the table keeps only the indexes its
        # queries use, partial where most rows have nothing to index (bench/fanout).
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
    number = models.PositiveIntegerField()
    trigger = models.CharField(max_length=20, default="scheduled")
    started_at = models.DateTimeField()
    duration_ms = models.PositiveIntegerField()
    status_code = models.PositiveIntegerField(null=True, blank=True)
    error = models.CharField(max_length=500, blank=True)
    response_body = models.TextField(blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("delivery", "number")

    def __str__(self) -> str:
        return f"{self.delivery_id} #{self.number}"


# --- Seizure and hit reports -----------------------------------------------------------------


class FacilityType(models.TextChoices):
    PRISON = "prison", "Prison"
    STORAGE = "storage", "Storage building"
    BORDER = "border", "Border crossing"
    POSTAL = "postal", "Postal or parcel service"
    OTHER = "other", "Other"


class SeizureDetection(models.TextChoices):
    """How the devices were found: a profile's detection methods plus a plain search."""

    SEARCH = "search", "Search"
    TARGETED_CELL_SEARCH = "targeted_cell_search", "Targeted cell search"
    WALK_THROUGH_METAL_DETECTOR = "walk_through_metal_detector", "Walk-through metal detector"
    HANDHELD_METAL_DETECTOR = "handheld_metal_detector", "Hand-held metal detector"
    XRAY = "xray", "X-ray"
    BODY_SCANNER = "body_scanner", "Body scanner"
    RF_EMISSION_DETECTION = "rf_emission_detection", "RF emission detection"
    NLJD = "nljd", "Non-linear junction detector"
    CANINE = "canine", "Detection dog"
    INTELLIGENCE = "intelligence", "Intelligence lead"
    OTHER = "other", "Other"


class SeizureReportQuerySet(models.QuerySet["SeizureReport"]):
    def visible_to(self, member: "Member") -> "SeizureReportQuerySet":
        """DESIGN.md §4 with the reporting organisation as owner and, as named recipients,
        the organisations it reported to (the linked notice's issuer is always one)."""
        from intel.models.visibility import tlp_audience_q

        through = SeizureReport.recipient_organisations.through.objects

        def recipients_of(org_ids: Any) -> Any:
            return through.filter(organisation_id__in=org_ids).values("seizurereport_id")

        return self.filter(
            tlp_audience_q(
                member,
                tlp="tlp",
                owner="organisation_id",
                target_id="id",
                recipients_of=recipients_of,
                named_members=Q(reported_by_id=member.pk),
            )
        )


class SeizureReport(models.Model):
    """What a search found — or that it found nothing (`negative_result`). Reports hold device
    data, not people: free text is checked for phone numbers, e-mail addresses and IMSIs."""

    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="seizure_reports"
    )
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    country = models.CharField(max_length=2, validators=[validate_country])
    seized_on = models.DateField()
    facility_type = models.CharField(max_length=20, choices=FacilityType.choices)
    facilities_searched = models.PositiveIntegerField(null=True, blank=True)
    notice = models.ForeignKey(
        Notice, null=True, blank=True, on_delete=models.PROTECT, related_name="seizure_reports"
    )
    operation = models.CharField(max_length=200, blank=True)
    detection_method = models.CharField(max_length=40, choices=SeizureDetection.choices, blank=True)
    concealment_method = models.CharField(max_length=200, blank=True)
    tacs_observed = models.JSONField(default=list, blank=True)
    cash_amount = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    cash_currency = models.CharField(max_length=3, blank=True)
    negative_result = models.BooleanField(
        default=False, help_text="Searched, nothing found: a valid and useful report."
    )
    notes = models.TextField(blank=True)
    tlp = models.CharField(max_length=20, choices=TLP.choices, default=TLP.GREEN)
    recipient_organisations = models.ManyToManyField(
        Organisation, blank=True, related_name="received_seizure_reports"
    )
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    objects = SeizureReportQuerySet.as_manager()

    class Meta:
        ordering = ("-seized_on", "-id")

    def __str__(self) -> str:
        return f"{self.country} {self.seized_on} ({self.facility_type})"


class SeizureLine(models.Model):
    """How many of one profile — or of an unprofiled item type — were seized."""

    report = models.ForeignKey(SeizureReport, on_delete=models.CASCADE, related_name="lines")
    profile = models.ForeignKey(
        DeviceProfile, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    item_type = models.CharField(
        max_length=60, blank=True, help_text="For items without a profile, e.g. other_mobile_phone."
    )
    quantity = models.PositiveIntegerField()

    class Meta:
        ordering = ("report", "id")

    def __str__(self) -> str:
        return f"{self.report_id}: {self.quantity} × {self.profile_id or self.item_type}"
