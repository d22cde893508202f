"""Alert notices, their immutable published versions and read receipts."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from core.validators import validate_country
from core.vocabularies import used_by, vocabulary
from intel.models import TLP, DeviceProfile, Organisation
from intel.models.access import TargetType, granted_ids
from intel.visibility import Reader, Viewer, ladder_q, within_clearance


class NoticeType(models.TextChoices):
    ALERT = "alert", "Alert"
    UPDATE = "update", "Update"
    REQUEST_FOR_INFORMATION = "request_for_information", "Request for information"
    WARNING = "warning", "Warning"


vocabulary(
    "notice_type",
    NoticeType,
    title="Notice type",
    description="What a notice asks of its audience.",
    fields=("notices: type",),
    values={
        NoticeType.ALERT: "A new threat: check your facilities for the devices it describes.",
        NoticeType.UPDATE: "New facts about a threat already notified.",
        NoticeType.REQUEST_FOR_INFORMATION: "A question to the audience: have you seen these "
        "devices, what do you know.",
        NoticeType.WARNING: "A general warning, without a specific action requested.",
    },
)


class NoticeStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    SUBMITTED = "submitted", "Submitted for review"
    PUBLISHED = "published", "Published"
    SUPERSEDED = "superseded", "Superseded"
    WITHDRAWN = "withdrawn", "Withdrawn"


vocabulary(
    "notice_status",
    NoticeStatus,
    title="Notice status",
    description="Where a notice is in its life: draft, then published, then superseded or "
    "withdrawn.",
    fields=("notices: status",),
    values={
        NoticeStatus.DRAFT: "Being written; seen only by its issuer and the secretariat.",
        NoticeStatus.SUBMITTED: "Waiting for a reviewer, who publishes it or returns it to "
        "the drafter with a comment.",
        NoticeStatus.PUBLISHED: "Sent to its audience; may be updated in new versions.",
        NoticeStatus.SUPERSEDED: "Replaced by another notice, named in `superseded_by`.",
        NoticeStatus.WITHDRAWN: "Withdrawn by its issuer; every recipient was told.",
    },
)


class AudienceScope(models.TextChoices):
    NETWORK = "network", "The whole network"
    ORGANISATIONS = "organisations", "Listed organisations"
    COUNTRIES = "countries", "Listed countries"


vocabulary(
    "audience_scope",
    AudienceScope,
    title="Audience scope",
    description="Which organisations a notice is addressed to (its label then narrows who "
    "receives it).",
    fields=("notices: audience.scope",),
    values={
        AudienceScope.NETWORK: "Every organisation of the network.",
        AudienceScope.ORGANISATIONS: "The organisations listed in the audience.",
        AudienceScope.COUNTRIES: "The organisations of the countries listed in the audience.",
    },
)
used_by("tlp", "notices: tlp")


class NoticeQuerySet(models.QuerySet["Notice"]):
    def visible_to(self, reader: Reader) -> "NoticeQuerySet":
        """The notices `reader` may receive (DESIGN.md §4 applied to a notice's audience).

        Published (and later) notices: the issuer and the audience, narrowed by TLP — AMBER
        reaches the authorities an audience member sponsors, AMBER+STRICT does not, RED only
        the named members and the drafter — and capped by clearance. Drafts: the same people,
        but only those of the issuing organisation and the secretariat: a draft is never seen
        more widely than the notice it would become.
        """
        return self.filter(notice_audience_q(Viewer.of(reader)))


def notice_audience_q(viewer: Viewer) -> Q:
    """`ladder_q` with a notice's issuer and audience as "addressed to the organisation",
    access grants on published notices, and the drafting rule."""
    org = viewer.organisation
    published = Q(status__in=PUBLIC_STATES)
    named = Notice.recipient_members.through.objects.filter(Q(member_id=viewer.member_id))
    granted_by_org, granted_by_name = granted_ids(viewer, TargetType.NOTICE)

    def reach(with_sponsor: bool) -> Q:
        # An authority receives AMBER through the desk that sponsors it; never STRICT.
        assert org is not None  # `ladder_q` asks only for a viewer with an organisation
        orgs = [org] if not with_sponsor or org.sponsor is None else [org, org.sponsor]
        return _in_audience(orgs)

    # Whom the notice reaches by its label and audience, whatever its status (for a draft:
    # whom it would reach once published).
    reach_q = ladder_q(
        viewer,
        tlp="tlp",
        reach=reach,
        network_wide=False,
        named=Q(id__in=named.values("notice_id")) | Q(created_by_id=viewer.member_id),
    )
    q = Q(pk__in=[])
    if viewer.member is not None:
        q |= published & Q(id__in=granted_by_name)
    if org is not None:
        if viewer.is_secretariat_coordinator:
            # They publish, update and withdraw any desk's notice and see its receipts, so
            # they see every one (RED still only where named).
            reach_q |= ~Q(tlp=TLP.RED)
        # An access grant shows the notice as to its audience (RED only by a named grant).
        q |= published & ~Q(tlp=TLP.RED) & Q(id__in=granted_by_org)
        # A draft (submitted or not) is its organisation's (and the secretariat's) business
        # until published.
        drafters = Q() if org.is_secretariat else Q(issuer_id=org.pk)
        q |= Q(status__in=UNPUBLISHED_STATES) & drafters & reach_q
    q |= published & reach_q
    return q & within_clearance(viewer, tlp="tlp")


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
UNPUBLISHED_STATES = (NoticeStatus.DRAFT, NoticeStatus.SUBMITTED)


class Notice(models.Model):
    """An alert about device profiles, modelled on Eurojust and INTERPOL Purple notices.

    The row holds the draft and the notice's state; what was published lives in immutable
    `NoticeVersion` rows (version 1 at publication, one more per update)."""

    reference = models.CharField(max_length=32, unique=True, help_text="e.g. DIX-2025-000123")
    notice_type = models.CharField(max_length=32, choices=NoticeType.choices)
    title = models.CharField(max_length=300, help_text="The notice's title, one line.")
    summary = models.TextField(blank=True, help_text="What the notice is about, in a few lines.")
    body = models.TextField(blank=True, help_text="The notice's full text.")
    action_requested = models.TextField(blank=True, help_text="What the audience is asked to do.")
    profiles = models.ManyToManyField(DeviceProfile, blank=True, related_name="notices")
    issuer = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="notices")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    audience_scope = models.CharField(
        max_length=20,
        choices=AudienceScope.choices,
        default=AudienceScope.NETWORK,
        help_text="Who the notice is addressed to: a value of `audience_scope` (docs/vocabularies.md).",
    )
    audience_organisations = models.ManyToManyField(
        Organisation, blank=True, related_name="addressed_notices"
    )
    recipient_members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="received_notices"
    )
    tlp = models.CharField(
        max_length=20,
        choices=TLP.choices,
        default=TLP.GREEN,
        help_text="Who may receive the notice within its audience: a TLP 2.0 label (docs/vocabularies.md).",
    )
    restricted_data_available = models.BooleanField(
        default=False, help_text="Advertise that restricted data can be requested."
    )
    review_due_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When the issuer plans to review the notice; null if not planned.",
    )
    respond_by = models.DateTimeField(
        null=True,
        blank=True,
        help_text="After this, audience organisations that have not acknowledged are reminded.",
    )
    reminded_for = models.DateTimeField(
        null=True,
        blank=True,
        help_text="The `respond_by` whose reminders have all been sent; the notice is due for "
        "reminders while it differs from `respond_by`.",
    )
    status = models.CharField(
        max_length=20, choices=NoticeStatus.choices, default=NoticeStatus.DRAFT
    )
    version = models.PositiveIntegerField(default=0, help_text="Latest published version.")
    superseded_by = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="supersedes"
    )
    withdrawal_reason = models.TextField(blank=True)
    submitted_at = models.DateTimeField(
        null=True, blank=True, help_text="Last submission for review."
    )
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    returned_at = models.DateTimeField(
        null=True, blank=True, help_text="Last return to the drafter by a reviewer."
    )
    returned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    review_comment = models.TextField(blank=True, help_text="The reviewer's comment on return.")
    created_at = models.DateTimeField(default=timezone.now)
    published_at = models.DateTimeField(null=True, blank=True)
    changed_at = models.DateTimeField(
        default=timezone.now, db_index=True, help_text="Last publication, update or withdrawal."
    )

    objects = NoticeQuerySet.as_manager()

    class Meta:
        ordering = ("-changed_at", "-id")
        indexes = [
            # The reminder run's question, "which published notices' `respond_by` has passed
            # and not all been reminded of?", answered from the few rows still due.
            models.Index(
                fields=["respond_by"],
                name="notice_reminders_due",
                condition=models.Q(status="published", respond_by__isnull=False)
                & ~models.Q(reminded_for=models.F("respond_by")),
            )
        ]

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
    number = models.PositiveIntegerField(
        help_text="The version's number: 1 for the first publication, then one more per update."
    )
    title = models.CharField(max_length=300, help_text="The title of this version.")
    summary = models.TextField(blank=True, help_text="The summary of this version.")
    body = models.TextField(blank=True, help_text="The full text of this version.")
    action_requested = models.TextField(
        blank=True, help_text="What the audience was asked to do in this version."
    )
    profiles = models.ManyToManyField(DeviceProfile, blank=True, related_name="+")
    tlp = models.CharField(
        max_length=20, choices=TLP.choices, help_text="The notice's TLP label at this version."
    )
    change_note = models.TextField(
        blank=True, help_text="What changed from the version before (empty for version 1)."
    )
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    published_at = models.DateTimeField(
        default=timezone.now, help_text="When this version was published."
    )

    class Meta:
        ordering = ("notice", "number")
        constraints = [
            models.UniqueConstraint(fields=["notice", "number"], name="unique_notice_version")
        ]

    def __str__(self) -> str:
        return f"{self.notice_id} v{self.number}"


class AcknowledgementOutcome(models.TextChoices):
    """What an organisation did about a notice, said when acknowledging it."""

    CHECKED_NONE_FOUND = "checked_none_found", "Checked, none found"
    SEIZED = "seized", "Devices seized"
    IN_PROGRESS = "in_progress", "Checks in progress"
    NOT_APPLICABLE = "not_applicable", "Not applicable to us"


vocabulary(
    "acknowledgement_outcome",
    AcknowledgementOutcome,
    title="Acknowledgement outcome",
    description="What an organisation did about a notice, said when acknowledging it.",
    fields=("notices: acknowledge outcome", "receipts: outcome"),
    values={
        AcknowledgementOutcome.CHECKED_NONE_FOUND: "The desk checked and found no such device.",
        AcknowledgementOutcome.SEIZED: "Devices were seized (file a seizure report too).",
        AcknowledgementOutcome.IN_PROGRESS: "Checks have started and are not finished.",
        AcknowledgementOutcome.NOT_APPLICABLE: "The notice does not concern this organisation.",
    },
)


class NoticeReceipt(models.Model):
    """What one organisation did with a notice: received (pulled or delivered), read
    (opened the detail), acknowledged, with what was done (`outcome`, `comment`)."""

    notice = models.ForeignKey(Notice, on_delete=models.CASCADE, related_name="receipts")
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+")
    received_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When your organisation's inbox first received it; null if not yet.",
    )
    read_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When a member of the organisation first read it; null if not yet.",
    )
    acknowledged_at = models.DateTimeField(
        null=True, blank=True, help_text="When the organisation acknowledged it; null if not yet."
    )
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Database defaults as well: the delivery engine inserts receipts in bulk with plain SQL.
    outcome = models.CharField(
        max_length=32,
        choices=AcknowledgementOutcome.choices,
        blank=True,
        default="",
        db_default="",
        help_text="What the organisation did, a value of `acknowledgement_outcome`; empty if "
        "it did not say.",
    )
    comment = models.TextField(
        blank=True,
        default="",
        db_default="",
        help_text="What the organisation said it did, with its acknowledgement.",
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["notice", "organisation"], name="unique_receipt_per_org"
            )
        ]

    def __str__(self) -> str:
        return f"{self.notice_id} → {self.organisation_id}"


class NoticeReminder(models.Model):
    """The one reminder an audience organisation gets when a notice's `respond_by` has passed
    without its acknowledgement (unique: a second run of the task reminds nobody twice)."""

    notice = models.ForeignKey(Notice, on_delete=models.CASCADE, related_name="reminders")
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+")
    reminded_at = models.DateTimeField(default=timezone.now)
    deliveries = models.PositiveIntegerField(
        default=0, help_text="Webhook deliveries written for the reminder."
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["notice", "organisation"], name="unique_reminder_per_org"
            )
        ]

    def __str__(self) -> str:
        return f"{self.notice_id} reminded {self.organisation_id}"
