"""What a profile is made of: identifiers, detection signatures, concealment methods,
suppliers and their sales channels; each is seen exactly when its profile is."""

from typing import Any

from django.db import models

from core.validators import validate_country
from intel.models.profiles import DeviceProfile
from intel.visibility import Reader


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
