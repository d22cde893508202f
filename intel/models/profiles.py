"""Device profiles (one device model or family), their children and their revisions."""

import uuid
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Case, F, Prefetch, Q, QuerySet, When
from django.utils import timezone

from core.validators import validate_country, validate_currency
from core.vocabularies import vocabulary
from intel.models.access import GrantScope, TargetType, granted_ids
from intel.models.network import Organisation
from intel.models.tlp import TLP
from intel.visibility import Reader, Viewer, tlp_audience_q

POSITIVE = [MinValueValidator(Decimal("0.01"))]


# A teaser names what may be asked for, in a line: longer would be the content itself.
REQUEST_SUMMARY_MAX = 200


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


vocabulary(
    "device_class",
    DeviceClass,
    title="Device class",
    description="What kind of device a profile describes.",
    fields=("profiles: device_class",),
    values={
        DeviceClass.MINI_PHONE: "A phone the size of a lighter or a thumb, mostly plastic, "
        "made to pass metal detectors (the L8star kind).",
        DeviceClass.FEATURE_PHONE: "An ordinary keypad phone.",
        DeviceClass.SMARTPHONE: "A touch-screen phone with an operating system and apps.",
        DeviceClass.DISGUISED_PHONE: "A phone built into or shaped as another object: a car "
        "key, a lighter, a pen.",
        DeviceClass.SIM_CARD: "A SIM card on its own.",
        DeviceClass.ACCESSORY: "Something that serves a phone: a charger, an earpiece, a battery.",
        DeviceClass.OTHER: "None of the above; say what in the profile's notes.",
    },
)
vocabulary(
    "housing_material",
    HousingMaterial,
    title="Housing material",
    description="What the device's casing is made of, which decides how visible it is to "
    "metal detectors and X-ray.",
    fields=("profiles: housing_material",),
    values={
        HousingMaterial.MOSTLY_PLASTIC: "Plastic with a few metal parts (screws, a frame).",
        HousingMaterial.PLASTIC: "Plastic only.",
        HousingMaterial.METAL: "A metal casing.",
        HousingMaterial.MIXED: "Plastic and metal in comparable parts.",
        HousingMaterial.OTHER: "Another material (glass, ceramic, rubber); say which in the notes.",
    },
)
vocabulary(
    "metal_content",
    MetalContent,
    title="Metal content",
    description="How much metal the whole device holds: what a metal detector has to find.",
    fields=("profiles: metal_content",),
    values={
        MetalContent.NONE: "No metal a detector could find.",
        MetalContent.MINIMAL: "Only traces (a circuit board, contacts): walk-through metal "
        "detectors usually miss it.",
        MetalContent.LOW: "Less metal than an ordinary phone: found by a hand-held detector "
        "held close.",
        MetalContent.NORMAL: "As much metal as an ordinary phone.",
    },
)
vocabulary(
    "network_technology",
    NetworkTechnology,
    title="Network technology",
    description="A mobile network generation the device's radio supports.",
    fields=("profiles: network_technologies[]",),
    values={
        NetworkTechnology.GSM: "2G: GSM, with GPRS or EDGE data.",
        NetworkTechnology.UMTS: "3G: UMTS or HSPA.",
        NetworkTechnology.LTE: "4G: LTE.",
        NetworkTechnology.NR: "5G: New Radio.",
    },
)


GSM_BANDS = (450, 480, 850, 900, 1800, 1900)


class DeviceProfileQuerySet(models.QuerySet["DeviceProfile"]):
    def visible_to(self, reader: Reader) -> "DeviceProfileQuerySet":
        """The profiles `reader` may receive (DESIGN.md §4). Every read path starts here."""
        return self.filter(profile_audience_q(Viewer.of(reader), prefix=""))

    def for_reading(self, member: Reader) -> "DeviceProfileQuerySet":
        """The profiles `member` may receive, loaded for `DeviceProfileSerializer`: its
        relations, the attachments it may see (`visible_attachments`) and its parent's id
        only if it may see the parent (`visible_parent_id`). The API and the webhook
        payloads read profiles through this one queryset."""
        visible = DeviceProfile.objects.visible_to(member)
        return (
            self.visible_to(member)
            .select_related("owner")
            # A parent the member may not see is not named either: its id would disclose it.
            .annotate(
                visible_parent_id=Case(
                    When(parent_id__in=visible.values("id"), then=F("parent_id")),
                    default=None,
                )
            )
            .prefetch_related(
                "recipient_organisations",
                "recipient_members",
                "identifiers",
                "detection_signatures",
                "concealment_methods",
                "suppliers__sales_channels",
                Prefetch(
                    "attachments",
                    queryset=Attachment.objects.visible_to(member).select_related("uploaded_by"),
                    to_attr="visible_attachments",
                ),
            )
        )


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

    name = models.CharField(
        max_length=200, help_text="The model's name as sold or best known, e.g. `L8star BM10`."
    )
    aliases = models.JSONField(default=list, blank=True, help_text="Other names, nicknames.")
    device_class = models.CharField(
        max_length=32,
        choices=DeviceClass.choices,
        help_text="What kind of device: a value of `device_class` (docs/vocabularies.md).",
    )
    manufacturer_country = models.CharField(
        max_length=2,
        blank=True,
        validators=[validate_country],
        help_text="Where the device is made: ISO 3166-1 alpha-2, e.g. `CN`.",
    )
    length_mm = models.DecimalField(
        max_digits=7,
        decimal_places=2,
        null=True,
        blank=True,
        validators=POSITIVE,
        help_text="Length in millimetres.",
    )
    width_mm = models.DecimalField(
        max_digits=7,
        decimal_places=2,
        null=True,
        blank=True,
        validators=POSITIVE,
        help_text="Width in millimetres.",
    )
    depth_mm = models.DecimalField(
        max_digits=7,
        decimal_places=2,
        null=True,
        blank=True,
        validators=POSITIVE,
        help_text="Depth (thickness) in millimetres.",
    )
    weight_g = models.DecimalField(
        max_digits=8,
        decimal_places=2,
        null=True,
        blank=True,
        validators=POSITIVE,
        help_text="Weight in grams, battery included.",
    )
    housing_material = models.CharField(
        max_length=32,
        choices=HousingMaterial.choices,
        blank=True,
        help_text="What the casing is made of: a value of `housing_material` (docs/vocabularies.md).",
    )
    metal_content = models.CharField(
        max_length=32,
        choices=MetalContent.choices,
        blank=True,
        help_text="How much metal the device holds: a value of `metal_content` (docs/vocabularies.md).",
    )
    network_technologies = models.JSONField(
        default=list,
        blank=True,
        help_text="Mobile network generations the radio supports: values of `network_technology` (docs/vocabularies.md).",
    )
    gsm_bands = models.JSONField(default=list, blank=True, help_text="MHz, e.g. [900, 1800].")
    bluetooth = models.BooleanField(
        null=True, blank=True, help_text="Whether the device has Bluetooth; null when not known."
    )
    sim_slots = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        validators=[MaxValueValidator(8)],
        help_text="How many SIM cards the device takes (0 to 8).",
    )
    battery_mah = models.PositiveIntegerField(
        null=True,
        blank=True,
        validators=[MaxValueValidator(100_000)],
        help_text="Battery capacity in mAh.",
    )
    talk_time_min = models.PositiveIntegerField(
        null=True,
        blank=True,
        validators=[MaxValueValidator(100_000)],
        help_text="Talk time on a full battery, in minutes.",
    )
    phonebook_capacity = models.PositiveIntegerField(
        null=True,
        blank=True,
        validators=[MaxValueValidator(10_000_000)],
        help_text="How many contacts the phonebook holds.",
    )
    voice_changer = models.BooleanField(
        null=True,
        blank=True,
        help_text="Whether the device can disguise the caller's voice; null when not known.",
    )
    price_amount = models.DecimalField(
        max_digits=12,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0"))],
        help_text="A typical retail price, in `price_currency`.",
    )
    price_currency = models.CharField(
        max_length=3,
        blank=True,
        validators=[validate_currency],
        help_text="ISO 4217 code of `price_amount`, e.g. `EUR`; required with a price.",
    )
    legal_status = models.JSONField(
        default=dict, blank=True, help_text="ISO 3166-1 country → legal status text."
    )
    notes = models.TextField(
        blank=True,
        help_text="Anything else known about the device, in free text (never personal data).",
    )
    request_summary = models.CharField(
        max_length=REQUEST_SUMMARY_MAX,
        blank=True,
        help_text="A teaser for those who may request the profile without seeing it, e.g. "
        '"detection protocol for X-ray portals, 4 pages". Never shows more than the owner '
        "writes here; without it, only the kind and label are shown.",
    )

    owner = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        related_name="profiles",
        help_text="The organisation that filed the profile and decides who else receives it.",
    )
    tlp = models.CharField(
        max_length=20,
        choices=TLP.choices,
        default=TLP.AMBER,
        help_text="Who may receive the profile: a TLP 2.0 label (docs/vocabularies.md); default TLP:AMBER.",
    )
    recipient_organisations = models.ManyToManyField(
        Organisation,
        blank=True,
        related_name="received_profiles",
        help_text="Slugs of the organisations named as recipients (TLP:AMBER and AMBER+STRICT).",
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
    created_at = models.DateTimeField(default=timezone.now, help_text="When the profile was filed.")
    updated_at = models.DateTimeField(default=timezone.now)
    retired_at = models.DateTimeField(
        null=True, blank=True, help_text="When the profile was retired; null while it is current."
    )
    retired_reason = models.TextField(
        blank=True, help_text="Why the profile was retired; empty while it is current."
    )

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


class AttachmentKind(models.TextChoices):
    PHOTO = "photo", "Photo"
    DETECTION_PROTOCOL = "detection_protocol", "Detection protocol"
    TECHNICAL_SPECIFICATION = "technical_specification", "Technical specification"
    OTHER = "other", "Other"


vocabulary(
    "attachment_kind",
    AttachmentKind,
    title="Attachment kind",
    description="What a file attached to a profile is.",
    fields=("profiles: attachments[].kind",),
    values={
        AttachmentKind.PHOTO: "A photograph of the device, its packaging or a seizure.",
        AttachmentKind.DETECTION_PROTOCOL: "How to find the device: a search or screening "
        "procedure.",
        AttachmentKind.TECHNICAL_SPECIFICATION: "The device's technical data: a datasheet, a "
        "teardown, a laboratory report.",
        AttachmentKind.OTHER: "Any other document; its title says what.",
    },
)


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
    kind = models.CharField(
        max_length=32,
        choices=AttachmentKind.choices,
        help_text="What the file is: a value of `attachment_kind` (docs/vocabularies.md).",
    )
    title = models.CharField(
        max_length=200, help_text="A short title for the file, e.g. `Seized unit, front`."
    )
    tlp = models.CharField(
        max_length=20,
        choices=TLP.choices,
        help_text="The file's own TLP label: never below its profile's.",
    )
    request_summary = models.CharField(
        max_length=REQUEST_SUMMARY_MAX,
        blank=True,
        help_text="A teaser for those who may request the attachment without seeing it; "
        "without it, only the kind and label are shown.",
    )
    file = models.FileField(upload_to=attachment_path)
    original_name = models.CharField(
        max_length=255,
        blank=True,
        help_text="The uploader's file name, sanitised; the download name. Never a path.",
    )
    content_type = models.CharField(
        max_length=100, help_text="The file's media type, e.g. `image/jpeg`."
    )
    size = models.PositiveIntegerField(help_text="The file's size in bytes.")
    sha256 = models.CharField(
        max_length=64,
        help_text="The SHA-256 of the file's content, in hex: check a download against it.",
    )
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, help_text="When the file was attached.")

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
    number = models.PositiveIntegerField(
        help_text="The revision's number: 1 for the filing, then one more per change."
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(
        default=timezone.now, help_text="When the revision was written."
    )
    action = models.CharField(
        max_length=20, help_text="What the revision did: `created`, `updated`, `retired`…"
    )
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
