"""What a profile is made of: identifiers, detection signatures, concealment methods,
suppliers and their sales channels; each is seen exactly when its profile is."""

from typing import Any

from django.db import models

from core.validators import validate_country
from core.vocabularies import vocabulary
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


vocabulary(
    "identifier_kind",
    IdentifierKind,
    title="Identifier kind",
    description="What identifies a device model: on the device, in its packaging or on the "
    "network.",
    fields=("profiles: identifiers[].kind",),
    values={
        IdentifierKind.TAC: "The Type Allocation Code: the first 8 digits of the IMEI, the "
        "same for every unit of a model.",
        IdentifierKind.TAC_RANGE: "Consecutive TACs given as `range_start` and `range_end`, "
        "for a model sold under several.",
        IdentifierKind.BLUETOOTH_NAME: "The name the device announces over Bluetooth.",
        IdentifierKind.LABEL_MARKING: "Text printed on the device or its label (model "
        "number, brand).",
    },
)


class ChildQuerySet(models.QuerySet[Any]):
    def visible_to(self, reader: Reader) -> "ChildQuerySet":
        """Children follow their profile's visibility."""
        return self.filter(profile__in=DeviceProfile.objects.visible_to(reader).values("id"))


class Identifier(ProfileChild):
    """Something on or from the device that identifies its model. TACs and TAC ranges are
    kept as an inclusive [tac_start, tac_end] interval so both match an IMEI the same way."""

    kind = models.CharField(
        max_length=20,
        choices=IdentifierKind.choices,
        help_text="What the identifier is: a value of `identifier_kind` (docs/vocabularies.md).",
    )
    value = models.CharField(
        max_length=200,
        help_text="The identifier as written: a TAC (8 digits), `start-end` for a TAC range, a Bluetooth name or a marking.",
    )
    tac_start = models.CharField(max_length=8, blank=True, db_index=True)
    tac_end = models.CharField(max_length=8, blank=True, db_index=True)
    is_test_value = models.BooleanField(
        default=False, help_text="TAC in the GSMA test range (starts with 00)."
    )
    note = models.CharField(
        max_length=500, blank=True, help_text="Where the identifier comes from or how sure it is."
    )

    objects = ChildQuerySet.as_manager()

    class Meta:
        ordering = ("id",)
        default_related_name = "identifiers"

    def __str__(self) -> str:
        return f"{self.kind} {self.value}"


class DetectionMethod(models.TextChoices):
    """How a device is (or is not) found: the methods a profile's detection signatures rate
    and the method a seizure report says found the devices. One vocabulary for both, so a
    report's method can be read against the profile's signatures."""

    WALK_THROUGH_METAL_DETECTOR = "walk_through_metal_detector", "Walk-through metal detector"
    HANDHELD_METAL_DETECTOR = "handheld_metal_detector", "Hand-held metal detector"
    ENTRANCE_SECURITY_GATE = "entrance_security_gate", "Entrance security gate"
    PAT_DOWN_AND_BASIC_XRAY = "pat_down_and_basic_xray", "Pat-down and basic X-ray"
    XRAY = "xray", "X-ray"
    BODY_SCANNER = "body_scanner", "Body scanner"
    RF_EMISSION_DETECTION = "rf_emission_detection", "RF emission detection"
    NLJD = "nljd", "Non-linear junction detector"
    CANINE = "canine", "Detection dog"
    SEARCH = "search", "Search by hand"
    TARGETED_CELL_SEARCH = "targeted_cell_search", "Targeted cell search"
    OTHER = "other", "Other"


vocabulary(
    "detection_method",
    DetectionMethod,
    title="Detection method",
    description="How a device is looked for: what a detection signature rates, and what "
    "found the devices of a seizure report.",
    fields=("profiles: detection_signatures[].method",),
    values={
        DetectionMethod.WALK_THROUGH_METAL_DETECTOR: "A metal-detecting portal a person walks "
        "through.",
        DetectionMethod.HANDHELD_METAL_DETECTOR: "A metal-detecting wand passed over a person "
        "or an object.",
        DetectionMethod.ENTRANCE_SECURITY_GATE: "The screening at a facility's entrance taken "
        "as a whole (portal, belt, staff).",
        DetectionMethod.PAT_DOWN_AND_BASIC_XRAY: "A search by touch with X-ray of bags and "
        "objects.",
        DetectionMethod.XRAY: "X-ray imaging of parcels, bags or objects.",
        DetectionMethod.BODY_SCANNER: "A scanner that images what is under clothing or inside "
        "the body (millimetre-wave, backscatter or transmission).",
        DetectionMethod.RF_EMISSION_DETECTION: "A receiver that finds a device by the radio "
        "signals it sends.",
        DetectionMethod.NLJD: "A non-linear junction detector, which finds electronics whether "
        "or not they are switched on.",
        DetectionMethod.CANINE: "A dog trained to smell phones, SIM cards or batteries.",
        DetectionMethod.SEARCH: "A search by hand of cells, premises, vehicles or parcels, "
        "without a detector.",
        DetectionMethod.TARGETED_CELL_SEARCH: "A search of named cells or places prompted by "
        "intelligence or a lead.",
        DetectionMethod.OTHER: "Any other method; say which in the evidence or the notes.",
    },
)


class ExpectedOutcome(models.TextChoices):
    DETECTED = "detected", "Detected"
    USUALLY_DETECTED = "usually_detected", "Usually detected"
    REDUCED = "reduced", "Reduced detection"
    USUALLY_NOT_DETECTED = "usually_not_detected", "Usually not detected"
    NOT_DETECTED = "not_detected", "Not detected"
    NOT_DETECTED_CLAIMED = "not_detected_claimed", "Not detected (vendor claim)"
    REPORTED_INEFFECTIVE = "reported_ineffective", "Reported ineffective"
    UNKNOWN = "unknown", "Unknown"


vocabulary(
    "expected_outcome",
    ExpectedOutcome,
    title="Expected outcome",
    description="How a detection method fares against the device, as a detection signature "
    "states it.",
    fields=("profiles: detection_signatures[].expected_outcome",),
    values={
        ExpectedOutcome.DETECTED: "The method finds the device.",
        ExpectedOutcome.USUALLY_DETECTED: "The method finds the device most of the time.",
        ExpectedOutcome.REDUCED: "The method finds the device less well than an ordinary phone.",
        ExpectedOutcome.USUALLY_NOT_DETECTED: "The method misses the device most of the time.",
        ExpectedOutcome.NOT_DETECTED: "The method does not find the device (tested).",
        ExpectedOutcome.NOT_DETECTED_CLAIMED: "The seller claims the method does not find the "
        "device; not tested.",
        ExpectedOutcome.REPORTED_INEFFECTIVE: "Reported ineffective against the device in "
        "practice, without a test.",
        ExpectedOutcome.UNKNOWN: "Not known yet.",
    },
)


class DetectionSignature(ProfileChild):
    """How a detection method fares against the device, with the evidence for it."""

    method = models.CharField(
        max_length=40,
        choices=DetectionMethod.choices,
        help_text="The detection method rated: a value of `detection_method` (docs/vocabularies.md).",
    )
    expected_outcome = models.CharField(
        max_length=32,
        choices=ExpectedOutcome.choices,
        help_text="How the method fares against the device: a value of `expected_outcome` (docs/vocabularies.md).",
    )
    evidence = models.TextField(
        blank=True, help_text="What the outcome rests on: trials, reports, a vendor's claim."
    )
    reliability_note = models.CharField(
        max_length=500, blank=True, help_text="How far the evidence can be trusted, in a sentence."
    )

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


vocabulary(
    "concealment_stage",
    ConcealmentStage,
    title="Concealment stage",
    description="Which part of the smuggling a concealment method serves.",
    fields=("profiles: concealment_methods[].stage",),
    values={
        ConcealmentStage.INGRESS: "Getting the device into the facility.",
        ConcealmentStage.IN_CELL: "Keeping the device hidden once inside.",
        ConcealmentStage.OTHER: "Another stage (taking it out, passing it on).",
    },
)


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


vocabulary(
    "concealment_vector",
    ConcealmentVector,
    title="Concealment vector",
    description="The way a device is smuggled in or hidden.",
    fields=("profiles: concealment_methods[].vector",),
    values={
        ConcealmentVector.BODY_CAVITY: "Carried inside the body.",
        ConcealmentVector.PROJECTED_OVER_WALL: "Thrown or shot over the perimeter wall.",
        ConcealmentVector.DRONE_DROP: "Dropped or delivered by a drone.",
        ConcealmentVector.INSIDER: "Brought in by a member of staff or a contractor.",
        ConcealmentVector.VISITOR_HANDOVER: "Passed on by a visitor.",
        ConcealmentVector.POSTAL: "Sent in a letter or a parcel.",
        ConcealmentVector.HOLLOWED_OBJECT: "Hidden inside an object (a shoe, a book, food).",
        ConcealmentVector.FURNITURE: "Hidden in furniture, a mattress or bedding.",
        ConcealmentVector.FIXTURE: "Hidden in the building: a wall, a vent, a pipe, a socket.",
        ConcealmentVector.OTHER: "Any other way; the description says which.",
    },
)


class ConcealmentMethod(ProfileChild):
    """A way the device is smuggled in or hidden."""

    stage = models.CharField(
        max_length=20,
        choices=ConcealmentStage.choices,
        help_text="Which part of the smuggling: a value of `concealment_stage` (docs/vocabularies.md).",
    )
    vector = models.CharField(
        max_length=32,
        choices=ConcealmentVector.choices,
        help_text="How the device is smuggled or hidden: a value of `concealment_vector` (docs/vocabularies.md).",
    )
    description = models.TextField(
        blank=True, help_text="How it is done, in free text (never personal data)."
    )

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


vocabulary(
    "supplier_role",
    SupplierRole,
    title="Supplier role",
    description="What a company does in the device's supply chain.",
    fields=("profiles: suppliers[].role",),
    values={
        SupplierRole.MANUFACTURER: "Makes the device.",
        SupplierRole.WHOLESALER: "Sells in bulk to resellers.",
        SupplierRole.RETAILER: "Sells to the public, in a shop or online under its own name.",
        SupplierRole.ONLINE_RESELLER: "Resells online what others make, through its own "
        "site or accounts.",
        SupplierRole.MARKETPLACE_SELLER: "Sells through a third-party marketplace.",
        SupplierRole.UNKNOWN: "Its role is not known yet.",
    },
)


class Supplier(ProfileChild):
    """A company or channel owner that makes or sells the device (never a natural person's
    personal data: counts and company names only)."""

    name = models.CharField(
        max_length=200,
        help_text="The company's or the channel owner's name (never a natural person's).",
    )
    role = models.CharField(
        max_length=32,
        choices=SupplierRole.choices,
        help_text="What the supplier does: a value of `supplier_role` (docs/vocabularies.md).",
    )
    country = models.CharField(
        max_length=2,
        blank=True,
        validators=[validate_country],
        help_text="Where the supplier is: ISO 3166-1 alpha-2, e.g. `FR`.",
    )
    locality = models.CharField(
        max_length=200, blank=True, help_text="The town or area, e.g. `Drancy`."
    )
    status = models.CharField(
        max_length=200,
        blank=True,
        help_text="What is known of the supplier now, e.g. `website seized`.",
    )
    notes = models.TextField(
        blank=True, help_text="Anything else known, in free text (never personal data)."
    )

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


vocabulary(
    "sales_channel_kind",
    SalesChannelKind,
    title="Sales channel kind",
    description="Where a supplier sells the device.",
    fields=("profiles: suppliers[].sales_channels[].kind",),
    values={
        SalesChannelKind.WEBSHOP: "The supplier's own online shop.",
        SalesChannelKind.SOCIAL_MEDIA: "An account on a social network or a messaging app.",
        SalesChannelKind.ONLINE_MARKETPLACE: "A listing on a marketplace run by another company.",
        SalesChannelKind.PHYSICAL_SHOP: "A shop or a market stall.",
        SalesChannelKind.OTHER: "Any other channel; the platform says which.",
    },
)


class SalesChannel(models.Model):
    """Where a supplier sells: a web shop, a social-media account, a marketplace."""

    supplier = models.ForeignKey(Supplier, on_delete=models.CASCADE, related_name="sales_channels")
    kind = models.CharField(
        max_length=32,
        choices=SalesChannelKind.choices,
        help_text="The kind of channel: a value of `sales_channel_kind` (docs/vocabularies.md).",
    )
    platform = models.CharField(
        max_length=200, blank=True, help_text="The platform or site, e.g. a marketplace's name."
    )
    address = models.CharField(max_length=500, blank=True, help_text="URL or handle, if known.")
    status = models.CharField(
        max_length=200, blank=True, help_text="What is known of the channel now, e.g. `taken down`."
    )
    notes = models.TextField(blank=True, help_text="Anything else known, in free text.")

    class Meta:
        ordering = ("id",)

    def __str__(self) -> str:
        return f"{self.kind} {self.platform}".strip()
