"""Device profiles (one device model or family), their children and their revisions."""

import uuid
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q, QuerySet
from django.utils import timezone

from core.validators import validate_country, validate_currency
from intel.models.access import GrantScope, TargetType, granted_ids
from intel.models.network import Organisation
from intel.models.tlp import TLP
from intel.visibility import Reader, Viewer, tlp_audience_q

POSITIVE = [MinValueValidator(Decimal("0.01"))]


class DeviceClass(models.TextChoices):
    MINI_PHONE = "mini_phone", "Mini phone"
    FEATURE_PHONE = "feature_phone", "Feature phone"
    SMARTPHONE = "smartphone", "Smartphone"
    DISGUISED_PHONE = "disguised_phone", "Phone disguised as another object"
    SIM_CARD = "sim_card", "SIM card"
    ACCESSORY = "accessory", "Accessory (charger, earpiece…)"
    OTHER = "other", "Other"


class HousingMaterial(models.TextChoices):
    MOSTLY_PLASTIC = "mostly_plastic", "Mostly plastic"
    PLASTIC = "plastic", "Plastic"
    METAL = "metal", "Metal"
    MIXED = "mixed", "Mixed"
    OTHER = "other", "Other"


class MetalContent(models.TextChoices):
    NONE = "none", "None"
    MINIMAL = "minimal", "Minimal"
    LOW = "low", "Low"
    NORMAL = "normal", "Normal"


class NetworkTechnology(models.TextChoices):
    GSM = "GSM", "2G (GSM)"
    UMTS = "UMTS", "3G (UMTS)"
    LTE = "LTE", "4G (LTE)"
    NR = "NR", "5G (NR)"


GSM_BANDS = (450, 480, 850, 900, 1800, 1900)


class DeviceProfileQuerySet(models.QuerySet["DeviceProfile"]):
    def visible_to(self, reader: Reader) -> "DeviceProfileQuerySet":
        """The profiles `reader` may receive (DESIGN.md §4). Every read path starts here."""
        return self.filter(profile_audience_q(Viewer.of(reader), prefix=""))


def profile_audience_q(
    viewer: Viewer,
    *,
    prefix: str,
    tlp: str | None = None,
    also_named: Q | None = None,
    also_granted: Q | None = None,
    grant_scopes: tuple[str, ...] | None = None,
) -> Q:
    """The audience rule for a profile (prefix ""), or for an object that takes its audience
    from a profile (an attachment: prefix "profile__", its own label in `tlp`, and its
    uploader among the named members).

    Access grants on the profile count as a named recipient (restricted to `grant_scopes`
    when given); `also_granted`/`also_named` add rows granted directly (an attachment's own
    grants)."""
    recipients = DeviceProfile.recipient_organisations.through.objects
    named = DeviceProfile.recipient_members.through.objects

    def recipients_of(org_ids: Any) -> QuerySet[Any]:
        return recipients.filter(organisation_id__in=org_ids).values("deviceprofile_id")

    by_org, by_name = granted_ids(viewer, TargetType.PROFILE, scopes=grant_scopes)
    named_members = (
        Q(
            **{
                f"{prefix}id__in": named.filter(Q(member_id=viewer.member_id)).values(
                    "deviceprofile_id"
                )
            }
        )
        | Q(**{f"{prefix}created_by_id": viewer.member_id})
        | Q(**{f"{prefix}id__in": by_name})
    )
    if also_named is not None:
        named_members |= also_named
    # A grant naming the member shows the object at any label it may come to carry.
    granted = Q(**{f"{prefix}id__in": by_org}) | Q(**{f"{prefix}id__in": by_name})
    if also_granted is not None:
        granted |= also_granted
    return tlp_audience_q(
        viewer,
        tlp=tlp or f"{prefix}tlp",
        owner=f"{prefix}owner_id",
        target_id=f"{prefix}id",
        recipients_of=recipients_of,
        named_members=named_members,
        granted=granted,
    )


class DeviceProfile(models.Model):
    """One contraband device model or family: what it is, how it is detected, hidden and
    sold. Each change is kept as a `ProfileRevision`; a retired profile stays readable."""

    name = models.CharField(max_length=200)
    aliases = models.JSONField(default=list, blank=True, help_text="Other names, nicknames.")
    device_class = models.CharField(max_length=32, choices=DeviceClass.choices)
    manufacturer_country = models.CharField(max_length=2, blank=True, validators=[validate_country])
    length_mm = models.DecimalField(
        max_digits=7, decimal_places=2, null=True, blank=True, validators=POSITIVE
    )
    width_mm = models.DecimalField(
        max_digits=7, decimal_places=2, null=True, blank=True, validators=POSITIVE
    )
    depth_mm = models.DecimalField(
        max_digits=7, decimal_places=2, null=True, blank=True, validators=POSITIVE
    )
    weight_g = models.DecimalField(
        max_digits=8, decimal_places=2, null=True, blank=True, validators=POSITIVE
    )
    housing_material = models.CharField(max_length=32, choices=HousingMaterial.choices, blank=True)
    metal_content = models.CharField(max_length=32, choices=MetalContent.choices, blank=True)
    network_technologies = models.JSONField(default=list, blank=True)
    gsm_bands = models.JSONField(default=list, blank=True, help_text="MHz, e.g. [900, 1800].")
    bluetooth = models.BooleanField(null=True, blank=True)
    sim_slots = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MaxValueValidator(8)]
    )
    battery_mah = models.PositiveIntegerField(
        null=True, blank=True, validators=[MaxValueValidator(100_000)]
    )
    talk_time_min = models.PositiveIntegerField(
        null=True, blank=True, validators=[MaxValueValidator(100_000)]
    )
    phonebook_capacity = models.PositiveIntegerField(
        null=True, blank=True, validators=[MaxValueValidator(10_000_000)]
    )
    voice_changer = models.BooleanField(null=True, blank=True)
    price_amount = models.DecimalField(
        max_digits=12,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0"))],
    )
    price_currency = models.CharField(max_length=3, blank=True, validators=[validate_currency])
    legal_status = models.JSONField(
        default=dict, blank=True, help_text="ISO 3166-1 country → legal status text."
    )
    notes = models.TextField(blank=True)

    owner = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="profiles")
    tlp = models.CharField(max_length=20, choices=TLP.choices, default=TLP.AMBER)
    recipient_organisations = models.ManyToManyField(
        Organisation, blank=True, related_name="received_profiles"
    )
    recipient_members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="received_profiles"
    )
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="variants"
    )
    version = models.PositiveIntegerField(default=1)
    search_text = models.TextField(blank=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    retired_at = models.DateTimeField(null=True, blank=True)
    retired_reason = models.TextField(blank=True)

    objects = DeviceProfileQuerySet.as_manager()

    class Meta:
        ordering = ("-created_at", "-id")
        indexes = [
            models.Index(fields=["tlp", "owner"]),
            # TAXII pages look for profiles without revisions changed after their cursor.
            models.Index(fields=["updated_at"], name="profile_updated_idx"),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if self.price_amount is not None and not self.price_currency:
            raise ValidationError({"price_currency": "A price needs its currency."})


class ProfileChild(models.Model):
    """A row that belongs to one profile and is seen exactly when the profile is."""

    profile = models.ForeignKey(DeviceProfile, on_delete=models.CASCADE)

    class Meta:
        abstract = True


class IdentifierKind(models.TextChoices):
    TAC = "tac", "IMEI TAC (8 digits)"
    TAC_RANGE = "tac_range", "IMEI TAC range"
    BLUETOOTH_NAME = "bluetooth_name", "Bluetooth name"
    LABEL_MARKING = "label_marking", "Label marking"


class ChildQuerySet(models.QuerySet[Any]):
    def visible_to(self, reader: Reader) -> "ChildQuerySet":
        """Children follow their profile's visibility."""
        return self.filter(profile__in=DeviceProfile.objects.visible_to(reader).values("id"))


class Identifier(ProfileChild):
    """Something on or from the device that identifies its model. TACs and TAC ranges are
    kept as an inclusive [tac_start, tac_end] interval so both match an IMEI the same way."""

    kind = models.CharField(max_length=20, choices=IdentifierKind.choices)
    value = models.CharField(max_length=200)
    tac_start = models.CharField(max_length=8, blank=True, db_index=True)
    tac_end = models.CharField(max_length=8, blank=True, db_index=True)
    is_test_value = models.BooleanField(
        default=False, help_text="TAC in the GSMA test range (starts with 00)."
    )
    note = models.CharField(max_length=500, blank=True)

    objects = ChildQuerySet.as_manager()

    class Meta:
        ordering = ("id",)
        default_related_name = "identifiers"

    def __str__(self) -> str:
        return f"{self.kind} {self.value}"


class DetectionMethod(models.TextChoices):
    WALK_THROUGH_METAL_DETECTOR = "walk_through_metal_detector", "Walk-through metal detector"
    HANDHELD_METAL_DETECTOR = "handheld_metal_detector", "Hand-held metal detector"
    ENTRANCE_SECURITY_GATE = "entrance_security_gate", "Entrance security gate"
    PAT_DOWN_AND_BASIC_XRAY = "pat_down_and_basic_xray", "Pat-down and basic X-ray"
    XRAY = "xray", "X-ray"
    BODY_SCANNER = "body_scanner", "Body scanner"
    RF_EMISSION_DETECTION = "rf_emission_detection", "RF emission detection"
    NLJD = "nljd", "Non-linear junction detector"
    CANINE = "canine", "Detection dog"
    TARGETED_CELL_SEARCH = "targeted_cell_search", "Targeted cell search"
    OTHER = "other", "Other"


class ExpectedOutcome(models.TextChoices):
    DETECTED = "detected", "Detected"
    USUALLY_DETECTED = "usually_detected", "Usually detected"
    REDUCED = "reduced", "Reduced detection"
    USUALLY_NOT_DETECTED = "usually_not_detected", "Usually not detected"
    NOT_DETECTED = "not_detected", "Not detected"
    NOT_DETECTED_CLAIMED = "not_detected_claimed", "Not detected (vendor claim)"
    REPORTED_INEFFECTIVE = "reported_ineffective", "Reported ineffective"
    UNKNOWN = "unknown", "Unknown"


class DetectionSignature(ProfileChild):
    """How a detection method fares against the device, with the evidence for it."""

    method = models.CharField(max_length=40, choices=DetectionMethod.choices)
    expected_outcome = models.CharField(max_length=32, choices=ExpectedOutcome.choices)
    evidence = models.TextField(blank=True)
    reliability_note = models.CharField(max_length=500, blank=True)

    objects = ChildQuerySet.as_manager()

    class Meta:
        ordering = ("id",)
        default_related_name = "detection_signatures"

    def __str__(self) -> str:
        return f"{self.method}: {self.expected_outcome}"


class ConcealmentStage(models.TextChoices):
    INGRESS = "ingress", "Getting it in"
    IN_CELL = "in_cell", "Hiding it inside"
    OTHER = "other", "Other"


class ConcealmentVector(models.TextChoices):
    BODY_CAVITY = "body_cavity", "Body cavity"
    PROJECTED_OVER_WALL = "projected_over_wall", "Projected over the wall"
    DRONE_DROP = "drone_drop", "Drone drop"
    INSIDER = "insider", "Insider (staff)"
    VISITOR_HANDOVER = "visitor_handover", "Visitor hand-over"
    POSTAL = "postal", "Post or parcel"
    HOLLOWED_OBJECT = "hollowed_object", "Hollowed object"
    FURNITURE = "furniture", "Furniture or bedding"
    FIXTURE = "fixture", "Building fixture"
    OTHER = "other", "Other"


class ConcealmentMethod(ProfileChild):
    """A way the device is smuggled in or hidden."""

    stage = models.CharField(max_length=20, choices=ConcealmentStage.choices)
    vector = models.CharField(max_length=32, choices=ConcealmentVector.choices)
    description = models.TextField(blank=True)

    objects = ChildQuerySet.as_manager()

    class Meta:
        ordering = ("id",)
        default_related_name = "concealment_methods"

    def __str__(self) -> str:
        return f"{self.stage}/{self.vector}"


class SupplierRole(models.TextChoices):
    MANUFACTURER = "manufacturer", "Manufacturer"
    WHOLESALER = "wholesaler", "Wholesaler"
    RETAILER = "retailer", "Retailer"
    ONLINE_RESELLER = "online_reseller", "Online reseller"
    MARKETPLACE_SELLER = "marketplace_seller", "Marketplace seller"
    UNKNOWN = "unknown", "Unknown"


class Supplier(ProfileChild):
    """A company or channel owner that makes or sells the device (never a natural person's
    personal data: counts and company names only)."""

    name = models.CharField(max_length=200)
    role = models.CharField(max_length=32, choices=SupplierRole.choices)
    country = models.CharField(max_length=2, blank=True, validators=[validate_country])
    locality = models.CharField(max_length=200, blank=True)
    status = models.CharField(max_length=200, blank=True)
    notes = models.TextField(blank=True)

    objects = ChildQuerySet.as_manager()

    class Meta:
        ordering = ("id",)
        default_related_name = "suppliers"

    def __str__(self) -> str:
        return self.name


class SalesChannelKind(models.TextChoices):
    WEBSHOP = "webshop", "Web shop"
    SOCIAL_MEDIA = "social_media", "Social media"
    ONLINE_MARKETPLACE = "online_marketplace", "Online marketplace"
    PHYSICAL_SHOP = "physical_shop", "Physical shop"
    OTHER = "other", "Other"


class SalesChannel(models.Model):
    """Where a supplier sells: a web shop, a social-media account, a marketplace."""

    supplier = models.ForeignKey(Supplier, on_delete=models.CASCADE, related_name="sales_channels")
    kind = models.CharField(max_length=32, choices=SalesChannelKind.choices)
    platform = models.CharField(max_length=200, blank=True)
    address = models.CharField(max_length=500, blank=True, help_text="URL or handle, if known.")
    status = models.CharField(max_length=200, blank=True)
    notes = models.TextField(blank=True)

    class Meta:
        ordering = ("id",)

    def __str__(self) -> str:
        return f"{self.kind} {self.platform}".strip()


class AttachmentKind(models.TextChoices):
    PHOTO = "photo", "Photo"
    DETECTION_PROTOCOL = "detection_protocol", "Detection protocol"
    TECHNICAL_SPECIFICATION = "technical_specification", "Technical specification"
    OTHER = "other", "Other"


class AttachmentQuerySet(models.QuerySet["Attachment"]):
    def visible_to(self, reader: Reader) -> "AttachmentQuerySet":
        """An attachment carries its own label (never below its profile's) and takes its
        audience from the profile: it is seen when both the profile and its label allow.

        Grants: one on the attachment itself shows it (even under a profile the member does
        not see); one on the profile shows the attachments above the profile's own audience
        only when its scope includes attachments."""
        viewer = Viewer.of(reader)
        direct_org, direct_name = granted_ids(viewer, TargetType.ATTACHMENT)
        return self.filter(
            profile_audience_q(
                viewer,
                prefix="profile__",
                also_granted=Q(id__in=direct_org) | Q(id__in=direct_name),
                also_named=Q(id__in=direct_name),
            ),
            profile_audience_q(
                viewer,
                prefix="profile__",
                tlp="tlp",
                also_named=Q(uploaded_by_id=viewer.member_id) | Q(id__in=direct_name),
                also_granted=Q(id__in=direct_org) | Q(id__in=direct_name),
                grant_scopes=(GrantScope.WITH_ATTACHMENTS,),
            ),
        )


def attachment_path(instance: "Attachment", filename: str) -> str:
    # The stored name never reuses the uploader's file name.
    return f"attachments/{instance.profile_id}/{uuid.uuid4().hex}"


class Attachment(models.Model):
    """A photo or PDF about a profile. Its type is sniffed from the content, images are
    re-encoded without their metadata, and its label may be stricter than the profile's."""

    profile = models.ForeignKey(DeviceProfile, on_delete=models.CASCADE, related_name="attachments")
    kind = models.CharField(max_length=32, choices=AttachmentKind.choices)
    title = models.CharField(max_length=200)
    tlp = models.CharField(max_length=20, choices=TLP.choices)
    file = models.FileField(upload_to=attachment_path)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    objects = AttachmentQuerySet.as_manager()

    class Meta:
        ordering = ("-created_at", "-id")

    def __str__(self) -> str:
        return self.title


class RevisionQuerySet(models.QuerySet["ProfileRevision"]):
    def visible_to(self, reader: Reader) -> "RevisionQuerySet":
        """A revision is read under the label it was written with: one recorded while the
        profile was RED stays RED after the label is lowered (the profile's current audience
        decides who that reaches), so lowering a label never publishes its history."""
        viewer = Viewer.of(reader)
        return self.filter(
            profile_audience_q(viewer, prefix="profile__"),
            profile_audience_q(viewer, prefix="profile__", tlp="tlp"),
        )


class ProfileRevision(models.Model):
    """An immutable record of one create or change of a profile: who, when, and the
    field-level diff against the previous revision (children included)."""

    profile = models.ForeignKey(DeviceProfile, on_delete=models.CASCADE, related_name="revisions")
    number = models.PositiveIntegerField()
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    action = models.CharField(max_length=20)
    tlp = models.CharField(
        max_length=20, choices=TLP.choices, help_text="The profile's label when written."
    )
    changes = models.JSONField(help_text="field → {old, new}")
    snapshot = models.JSONField()

    objects = RevisionQuerySet.as_manager()

    class Meta:
        ordering = ("profile", "number")
        constraints = [
            models.UniqueConstraint(fields=["profile", "number"], name="unique_revision_number")
        ]
        # A TAXII page reads the revisions added from its cursor on, in that order, and stops
        # after a page's worth (`exchange.stix.mapping.window`).
        indexes = [models.Index(fields=["created_at"], name="revision_added_idx")]

    def __str__(self) -> str:
        return f"{self.profile_id} r{self.number}"
