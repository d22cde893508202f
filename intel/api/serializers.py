"""Serializers for the network and device profiles. They validate and render; they never
write (services do)."""

from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.db.models import Manager
from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.serializers import TAC_RE, StrictFieldsMixin
from core.validators import validate_country
from intel.models import (
    ApiToken,
    Attachment,
    ConcealmentMethod,
    DetectionSignature,
    DeviceProfile,
    Identifier,
    IdentifierKind,
    Member,
    Organisation,
    ProfileRevision,
    SalesChannel,
    Supplier,
)
from intel.models.profiles import GSM_BANDS, AttachmentKind, NetworkTechnology
from intel.models.tlp import TLP
from intel.policies import may_file_profiles
from intel.revisions import SeenVersion, SeenVersions, visible_changes
from intel.services import CHILDREN, ProfileInput


class NamedRecipientsMixin:
    """`recipient_members`: only members cleared for TLP:RED can be named individually. The
    refusal is the same for an unknown username and for one not cleared, so it discloses
    neither."""

    def validate_recipient_members(self, members: list[Member]) -> list[Member]:
        ineligible = sorted(m.username for m in members if m.clearance != TLP.RED)
        if ineligible:
            raise serializers.ValidationError(_not_nameable(ineligible))
        return members

    def to_internal_value(self, data: Any) -> Any:
        # Unknown usernames get the same answer as members who cannot be named.
        if isinstance(data, dict) and isinstance(data.get("recipient_members"), list):
            names = [n for n in data["recipient_members"] if isinstance(n, str)]
            known = set(
                Member.objects.filter(username__in=names, is_active=True).values_list(
                    "username", flat=True
                )
            )
            unknown = sorted(set(names) - known)
            if unknown:
                raise serializers.ValidationError({"recipient_members": [_not_nameable(unknown)]})
        return super().to_internal_value(data)  # type: ignore[misc]


class OrganisationSerializer(serializers.ModelSerializer):
    sponsor: serializers.SlugRelatedField[Organisation] = serializers.SlugRelatedField(
        slug_field="slug", read_only=True
    )

    class Meta:
        model = Organisation
        fields = ("id", "slug", "name", "kind", "country", "sponsor")


class OrganisationRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Organisation
        fields = ("id", "slug", "name", "kind", "country")


class MeSerializer(serializers.ModelSerializer):
    organisation = OrganisationSerializer(read_only=True)
    may_file_profiles = serializers.SerializerMethodField()

    class Meta:
        model = Member
        fields = (
            "id",
            "username",
            "email",
            "first_name",
            "last_name",
            "role",
            "clearance",
            "organisation",
            "may_file_profiles",
        )

    def get_may_file_profiles(self, member: Member) -> bool:
        return may_file_profiles(member)


class ApiTokenSerializer(serializers.ModelSerializer):
    class Meta:
        model = ApiToken
        fields = (
            "id",
            "name",
            "key_prefix",
            "created_at",
            "expires_at",
            "revoked_at",
            "last_used_at",
        )
        read_only_fields = fields


class ApiTokenCreateSerializer(StrictFieldsMixin, serializers.Serializer):
    name = serializers.CharField(max_length=100)
    expires_at = serializers.DateTimeField(required=False, allow_null=True)


class ApiTokenIssuedSerializer(ApiTokenSerializer):
    token = serializers.CharField(
        read_only=True, help_text="The bearer token. Shown once: store it now."
    )

    class Meta(ApiTokenSerializer.Meta):
        fields = (*ApiTokenSerializer.Meta.fields, "token")  # type: ignore[assignment]


# --- Profile children ----------------------------------------------------------------------


class IdentifierSerializer(StrictFieldsMixin, serializers.ModelSerializer):
    """`tac`: `value` is 8 digits. `tac_range`: `range_start` and `range_end` (8 digits each,
    start ≤ end); `value` is derived. `bluetooth_name`, `label_marking`: free `value`."""

    range_start = serializers.CharField(source="tac_start", required=False, allow_blank=True)
    range_end = serializers.CharField(source="tac_end", required=False, allow_blank=True)
    value = serializers.CharField(required=False, max_length=200)

    class Meta:
        model = Identifier
        fields = ("kind", "value", "range_start", "range_end", "is_test_value", "note")
        read_only_fields = ("is_test_value",)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        kind = attrs["kind"]
        value = attrs.get("value", "")
        start, end = attrs.pop("tac_start", ""), attrs.pop("tac_end", "")
        if kind != IdentifierKind.TAC_RANGE and (start or end):
            raise serializers.ValidationError(
                {"range_start": "Only a tac_range has range_start and range_end."}
            )
        if kind == IdentifierKind.TAC_RANGE and "value" in attrs:
            raise serializers.ValidationError(
                {"value": "A tac_range takes range_start and range_end, not value."}
            )
        if kind == IdentifierKind.TAC:
            if not TAC_RE.fullmatch(value):
                raise serializers.ValidationError({"value": "A TAC is exactly 8 digits."})
        elif kind == IdentifierKind.TAC_RANGE:
            for name, tac in (("range_start", start), ("range_end", end)):
                if not TAC_RE.fullmatch(tac or ""):
                    raise serializers.ValidationError({name: "A TAC is exactly 8 digits."})
            if end < start:
                raise serializers.ValidationError({"range_end": "The range ends below its start."})
            value = f"{start}-{end}"
        elif not value.strip():
            raise serializers.ValidationError({"value": "This field is required."})
        return {"kind": kind, "value": value, "note": attrs.get("note", "")}


class IdentifierReadSerializer(serializers.ModelSerializer):
    range_start = serializers.CharField(source="tac_start")
    range_end = serializers.CharField(source="tac_end")

    class Meta:
        model = Identifier
        fields = ("id", "kind", "value", "range_start", "range_end", "is_test_value", "note")


class DetectionSignatureSerializer(StrictFieldsMixin, serializers.ModelSerializer):
    class Meta:
        model = DetectionSignature
        fields = ("method", "expected_outcome", "evidence", "reliability_note")


class ConcealmentMethodSerializer(StrictFieldsMixin, serializers.ModelSerializer):
    class Meta:
        model = ConcealmentMethod
        fields = ("stage", "vector", "description")


class SalesChannelSerializer(StrictFieldsMixin, serializers.ModelSerializer):
    class Meta:
        model = SalesChannel
        fields = ("kind", "platform", "address", "status", "notes")


class SupplierSerializer(StrictFieldsMixin, serializers.ModelSerializer):
    sales_channels = SalesChannelSerializer(many=True, required=False)

    class Meta:
        model = Supplier
        fields = ("name", "role", "country", "locality", "status", "notes", "sales_channels")


class AttachmentSerializer(serializers.ModelSerializer):
    uploaded_by: serializers.SlugRelatedField[Member] = serializers.SlugRelatedField(
        slug_field="username", read_only=True
    )
    content_url = serializers.SerializerMethodField()

    class Meta:
        model = Attachment
        fields = (
            "id",
            "kind",
            "title",
            "tlp",
            "content_type",
            "size",
            "sha256",
            "uploaded_by",
            "created_at",
            "content_url",
        )

    def get_content_url(self, attachment: Attachment) -> str:
        return reverse(
            "profile-attachment-content",
            kwargs={"pk": attachment.profile_id, "attachment_id": attachment.pk},
        )


class AttachmentUploadSerializer(StrictFieldsMixin, serializers.Serializer):
    file = serializers.FileField(help_text="A JPEG, PNG or WebP photo, or a PDF.")
    kind = serializers.ChoiceField(choices=AttachmentKind.choices)
    title = serializers.CharField(max_length=200)
    tlp = serializers.ChoiceField(
        choices=TLP.choices, required=False, help_text="Defaults to the profile's label."
    )


# --- Profiles ------------------------------------------------------------------------------


def _seen_versions(field: serializers.Field) -> SeenVersions:
    """The versions the reader named in the serializer's context sees, kept in the context so
    that a list loads them once.

    The reader is required, with no fallback: the stored `version` counts changes some
    readers may not see (a hidden parent), so rendering it would disclose them, and no
    lower number is right for a reader who does see them. A render path that forgets the
    reader fails on its first test with this message, not with a wrong version in production.
    """
    context = field.context
    if "seen_versions" not in context:
        if "reader" not in context:
            raise ImproperlyConfigured(
                "DeviceProfileSerializer renders the version its reader sees: pass "
                "context={'reader': <Member>} (the viewset's get_serializer_context does)."
            )
        context["seen_versions"] = SeenVersions(context["reader"])
    return context["seen_versions"]


class _SeenVersionField(serializers.IntegerField):
    def get_attribute(self, instance: DeviceProfile) -> int:
        return _seen_versions(self).of(instance).number


class _SeenAtField(serializers.DateTimeField):
    def get_attribute(self, instance: DeviceProfile) -> Any:
        seen: SeenVersion = _seen_versions(self).of(instance)
        return seen.at


class _DeviceProfileListSerializer(serializers.ListSerializer):
    def to_representation(self, data: Any) -> Any:
        rows = list(data.all() if isinstance(data, Manager) else data)
        _seen_versions(self).load(rows)
        return super().to_representation(rows)


class DeviceProfileSerializer(serializers.ModelSerializer):
    """A profile as the requesting member may receive it."""

    owner = OrganisationRefSerializer(read_only=True)
    recipient_organisations: serializers.SlugRelatedField[Organisation] = (
        serializers.SlugRelatedField(slug_field="slug", many=True, read_only=True)
    )
    recipient_members: serializers.SlugRelatedField[Member] = serializers.SlugRelatedField(
        slug_field="username", many=True, read_only=True
    )
    identifiers = IdentifierReadSerializer(many=True, read_only=True)
    detection_signatures = DetectionSignatureSerializer(many=True, read_only=True)
    concealment_methods = ConcealmentMethodSerializer(many=True, read_only=True)
    suppliers = SupplierSerializer(many=True, read_only=True)
    attachments = serializers.SerializerMethodField()
    retired = serializers.SerializerMethodField()
    parent = serializers.IntegerField(  # type: ignore[assignment]  # see DeviceProfileWriteSerializer.parent
        source="visible_parent_id",
        read_only=True,
        allow_null=True,
        help_text="The family this model belongs to, if you may see it.",
    )
    # As the reader (`context["reader"]`) sees it: a change they may not see (a hidden
    # parent) is not a new version for them.
    version = _SeenVersionField(
        read_only=True, help_text="The latest revision with a change you may see."
    )
    updated_at = _SeenAtField(read_only=True, help_text="When that revision was written.")

    class Meta:
        model = DeviceProfile
        list_serializer_class = _DeviceProfileListSerializer
        fields = (
            "id",
            "name",
            "aliases",
            "device_class",
            "manufacturer_country",
            "length_mm",
            "width_mm",
            "depth_mm",
            "weight_g",
            "housing_material",
            "metal_content",
            "network_technologies",
            "gsm_bands",
            "bluetooth",
            "sim_slots",
            "battery_mah",
            "talk_time_min",
            "phonebook_capacity",
            "voice_changer",
            "price_amount",
            "price_currency",
            "legal_status",
            "notes",
            "owner",
            "tlp",
            "recipient_organisations",
            "recipient_members",
            "parent",
            "version",
            "created_at",
            "updated_at",
            "retired",
            "retired_at",
            "retired_reason",
            "identifiers",
            "detection_signatures",
            "concealment_methods",
            "suppliers",
            "attachments",
        )
        read_only_fields = fields

    @extend_schema_field(AttachmentSerializer(many=True))
    def get_attachments(self, profile: DeviceProfile) -> list[dict[str, Any]]:
        # Filled by the view's Prefetch over Attachment.objects.visible_to(member).
        visible = getattr(profile, "visible_attachments", [])
        return AttachmentSerializer(visible, many=True).data  # type: ignore[return-value]

    def get_retired(self, profile: DeviceProfile) -> bool:
        return profile.retired_at is not None


class DeviceProfileWriteSerializer(
    NamedRecipientsMixin, StrictFieldsMixin, serializers.ModelSerializer
):
    """Create or partially update a profile. Child lists, when sent, replace the whole list."""

    aliases = serializers.ListField(
        child=serializers.CharField(max_length=200), required=False, max_length=50
    )
    network_technologies = serializers.ListField(
        child=serializers.ChoiceField(choices=NetworkTechnology.choices), required=False
    )
    gsm_bands = serializers.ListField(
        child=serializers.ChoiceField(choices=[(b, f"{b} MHz") for b in GSM_BANDS]),
        required=False,
    )
    legal_status = serializers.DictField(
        child=serializers.CharField(max_length=1000),
        required=False,
        help_text="ISO 3166-1 alpha-2 country code → legal status text.",
    )
    recipient_organisations: serializers.SlugRelatedField[Organisation] = (
        serializers.SlugRelatedField(
            slug_field="slug", many=True, required=False, queryset=Organisation.objects.all()
        )
    )
    recipient_members: serializers.SlugRelatedField[Member] = serializers.SlugRelatedField(
        slug_field="username",
        many=True,
        required=False,
        queryset=Member.objects.filter(is_active=True),
        help_text="Usernames of the individual members who receive a TLP:RED profile.",
    )
    parent = serializers.PrimaryKeyRelatedField(  # type: ignore[assignment]  # DRF Field.parent is the enclosing serializer; a field named "parent" shadows it in the stubs only
        required=False, allow_null=True, queryset=DeviceProfile.objects.none()
    )
    identifiers = IdentifierSerializer(many=True, required=False)
    detection_signatures = DetectionSignatureSerializer(many=True, required=False)
    concealment_methods = ConcealmentMethodSerializer(many=True, required=False)
    suppliers = SupplierSerializer(many=True, required=False)

    class Meta:
        model = DeviceProfile
        fields = (
            "name",
            "aliases",
            "device_class",
            "manufacturer_country",
            "length_mm",
            "width_mm",
            "depth_mm",
            "weight_g",
            "housing_material",
            "metal_content",
            "network_technologies",
            "gsm_bands",
            "bluetooth",
            "sim_slots",
            "battery_mah",
            "talk_time_min",
            "phonebook_capacity",
            "voice_changer",
            "price_amount",
            "price_currency",
            "legal_status",
            "notes",
            "tlp",
            "recipient_organisations",
            "recipient_members",
            "parent",
            "identifiers",
            "detection_signatures",
            "concealment_methods",
            "suppliers",
        )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None and request.user is not None and request.user.is_authenticated:
            # A parent the member cannot see is answered like one that does not exist.
            self.fields["parent"].queryset = DeviceProfile.objects.visible_to(request.user)  # type: ignore[attr-defined]

    def validate_legal_status(self, value: dict[str, str]) -> dict[str, str]:
        for code in value:
            try:
                validate_country(code)
            except Exception:
                raise serializers.ValidationError(
                    f"{code!r} is not an ISO 3166-1 alpha-2 country code."
                ) from None
        return value


def _not_nameable(usernames: list[str]) -> str:
    return f"Cannot be named as TLP:RED recipients: {', '.join(usernames)}."


class ProfileRetireSerializer(StrictFieldsMixin, serializers.Serializer):
    reason = serializers.CharField(max_length=2000)


class ProfileRevisionSerializer(serializers.ModelSerializer):
    author: serializers.SlugRelatedField[Member] = serializers.SlugRelatedField(
        slug_field="username", read_only=True
    )

    class Meta:
        model = ProfileRevision
        fields = ("number", "action", "author", "created_at", "changes")

    def to_representation(self, instance: ProfileRevision) -> dict[str, Any]:
        data: dict[str, Any] = super().to_representation(instance)
        # Like the profile itself, a revision names a parent only if the reader may see it.
        visible = self.context.get("visible_parents", set())
        data["changes"] = visible_changes(data["changes"], visible)
        if "snapshot" in data and data["snapshot"].get("parent") not in visible:
            data["snapshot"] = data["snapshot"] | {"parent": None}
        return data


class ProfileRevisionDetailSerializer(ProfileRevisionSerializer):
    snapshot = serializers.JSONField(help_text="The whole profile as it stood after this revision.")

    class Meta(ProfileRevisionSerializer.Meta):
        fields = (*ProfileRevisionSerializer.Meta.fields, "snapshot")  # type: ignore[assignment]


def profile_input(validated: dict[str, Any]) -> ProfileInput:
    """Split a validated profile payload into what `profile_create`/`profile_update` take."""
    fields = dict(validated)
    children = {
        name: fields.pop(name, None)
        for name in (
            "recipient_organisations",
            "recipient_members",
            *CHILDREN,
        )
    }
    parent_set = "parent" in fields
    parent = fields.pop("parent", None)
    return ProfileInput(fields=fields, parent=parent, parent_set=parent_set, **children)
