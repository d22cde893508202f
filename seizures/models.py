"""Seizure and hit reports: what a search found (or that it found nothing), line by line.

The tables keep the names they were created with in the `notices` app (`db_table`)."""

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from core.validators import validate_country
from core.vocabularies import used_by, vocabulary
from intel.models import TLP, DetectionMethod, DeviceProfile, Organisation
from intel.visibility import Reader, Viewer, tlp_audience_q
from notices.models import Notice


class FacilityType(models.TextChoices):
    PRISON = "prison", "Prison"
    STORAGE = "storage", "Storage building"
    BORDER = "border", "Border crossing"
    POSTAL = "postal", "Postal or parcel service"
    OTHER = "other", "Other"


vocabulary(
    "facility_type",
    FacilityType,
    title="Facility type",
    description="Where a seizure report's search took place.",
    fields=("seizures: facility_type",),
    values={
        FacilityType.PRISON: "A prison or another place of detention.",
        FacilityType.STORAGE: "A warehouse, a storage unit or another building where stock "
        "is kept.",
        FacilityType.BORDER: "A border crossing, a port or an airport.",
        FacilityType.POSTAL: "A postal, parcel or courier service.",
        FacilityType.OTHER: "Any other place; the notes say which.",
    },
)
used_by("detection_method", "seizures: detection_method")
used_by("tlp", "seizures: tlp")


class SeizureStatus(models.TextChoices):
    FILED = "filed", "Filed"
    WITHDRAWN = "withdrawn", "Withdrawn"


class SeizureReportQuerySet(models.QuerySet["SeizureReport"]):
    def in_force(self) -> "SeizureReportQuerySet":
        """The reports figures count: not withdrawn (each in its latest version)."""
        return self.exclude(status=SeizureStatus.WITHDRAWN)

    def visible_to(self, reader: Reader) -> "SeizureReportQuerySet":
        """DESIGN.md §4 with the reporting organisation as owner and, as named recipients,
        the organisations it reported to (the linked notice's issuer is always one)."""

        through = SeizureReport.recipient_organisations.through.objects

        def recipients_of(org_ids: Any) -> Any:
            return through.filter(organisation_id__in=org_ids).values("seizurereport_id")

        viewer = Viewer.of(reader)
        return self.filter(
            tlp_audience_q(
                viewer,
                tlp="tlp",
                owner="organisation_id",
                target_id="id",
                recipients_of=recipients_of,
                named_members=Q(reported_by_id=viewer.member_id),
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
    country = models.CharField(
        max_length=2,
        validators=[validate_country],
        help_text="Where the search took place (ISO 3166-1 alpha-2).",
    )
    seized_on = models.DateField(help_text="The day of the search.")
    facility_type = models.CharField(
        max_length=20,
        choices=FacilityType.choices,
        help_text="Where the search took place: a value of `facility_type` (docs/vocabularies.md).",
    )
    facilities_searched = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="How many facilities (prisons, cells, buildings) were searched, if known.",
    )
    notice = models.ForeignKey(
        Notice, null=True, blank=True, on_delete=models.PROTECT, related_name="seizure_reports"
    )
    operation = models.CharField(
        max_length=200, blank=True, help_text="The operation's name or reference, if any."
    )
    detection_method = models.CharField(
        max_length=40,
        choices=DetectionMethod.choices,
        blank=True,
        help_text="What found the devices: a value of `detection_method` (docs/vocabularies.md) (the profiles' list); empty if not said.",
    )
    concealment_method = models.CharField(
        max_length=200, blank=True, help_text="How the devices were hidden, in a few words."
    )
    tacs_observed = models.JSONField(
        default=list,
        blank=True,
        help_text="IMEI TACs (8 digits) of the devices found; never whole IMEIs.",
    )
    cash_amount = models.DecimalField(
        max_digits=14,
        decimal_places=2,
        null=True,
        blank=True,
        help_text="Cash seized, in `cash_currency`.",
    )
    cash_currency = models.CharField(
        max_length=3, blank=True, help_text="ISO 4217 code of `cash_amount`."
    )
    negative_result = models.BooleanField(
        default=False, help_text="Searched, nothing found: a valid and useful report."
    )
    notes = models.TextField(
        blank=True,
        help_text="Anything else about the search, in free text (never personal data: checked for phone numbers, e-mail addresses and IMSIs).",
    )
    tlp = models.CharField(
        max_length=20,
        choices=TLP.choices,
        default=TLP.GREEN,
        help_text="Who may receive the report (TLP 2.0; never TLP:RED).",
    )
    recipient_organisations = models.ManyToManyField(
        Organisation,
        blank=True,
        related_name="received_seizure_reports",
        db_table="notices_seizurereport_recipient_organisations",
    )
    created_at = models.DateTimeField(
        default=timezone.now, db_index=True, help_text="When the report was filed."
    )
    version = models.PositiveIntegerField(
        default=1, help_text="1 when filed, one more at each amendment."
    )
    status = models.CharField(
        max_length=20, choices=SeizureStatus.choices, default=SeizureStatus.FILED
    )
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    withdrawal_reason = models.TextField(blank=True)

    objects = SeizureReportQuerySet.as_manager()

    class Meta:
        db_table = "notices_seizurereport"
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
    quantity = models.PositiveIntegerField(help_text="How many were seized.")

    class Meta:
        db_table = "notices_seizureline"
        ordering = ("report", "id")

    def __str__(self) -> str:
        return f"{self.report_id}: {self.quantity} × {self.profile_id or self.item_type}"


class SeizureReportVersion(models.Model):
    """One version of a report as it was filed or amended, kept when a later one replaces it:
    the report's fields and lines as written (`snapshot`), who wrote it and why."""

    report = models.ForeignKey(SeizureReport, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveIntegerField()
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    reason = models.TextField(blank=True, help_text="Why the report was amended.")
    snapshot = models.JSONField()

    class Meta:
        ordering = ("report", "number")
        constraints = [
            models.UniqueConstraint(
                fields=["report", "number"], name="unique_seizure_report_version"
            )
        ]

    def __str__(self) -> str:
        return f"{self.report_id} v{self.number}"
