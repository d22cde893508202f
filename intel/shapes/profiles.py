"""Serializers of device profiles and their revisions. They validate and render; they never
write (services do)."""

from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.db.models import Manager
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.serializers import StrictFieldsMixin
from core.strict import AnyField
from core.validators import validate_country
from intel.models import DeviceProfile, Member, Organisation, ProfileRevision
from intel.models.profiles import GSM_BANDS, NetworkTechnology
from intel.revisions import SeenVersion, SeenVersions, visible_changes
from intel.services import CHILDREN, ProfileInput
from intel.shapes.organisations import OrganisationRefSerializer
from intel.shapes.profile_children import (
    AttachmentSerializer,
    ConcealmentMethodSerializer,
    DetectionSignatureSerializer,
    IdentifierReadSerializer,
    IdentifierSerializer,
    SupplierSerializer,
)
from intel.shapes.recipients import NamedRecipientsMixin
from intel.snapshots import PROFILE_FIELDS

# A profile's fields are listed once, in `intel.snapshots.PROFILE_FIELDS` (what a write sets and
# a revision's snapshot keeps) and `CHILDREN`; the serializers derive their lists from them. The
# body names the owner just before the label, so the label is placed apart.
CONTENT_FIELDS = tuple(name for name in PROFILE_FIELDS if name != "tlp")
RECIPIENTS = ("recipient_organisations", "recipient_members")


def _seen_versions(field: AnyField) -> SeenVersions:
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
    seen: SeenVersions = context["seen_versions"]
    return seen


class _SeenVersionField(serializers.IntegerField):
    def get_attribute(self, instance: DeviceProfile) -> int:
        return _seen_versions(self).of(instance).number


class _SeenAtField(serializers.DateTimeField):
    def get_attribute(self, instance: DeviceProfile) -> Any:
        seen: SeenVersion = _seen_versions(self).of(instance)
        return seen.at


class _DeviceProfileListSerializer(serializers.ListSerializer[Any]):
    def to_representation(self, data: Any) -> Any:
        rows = list(data.all() if isinstance(data, Manager) else data)
        _seen_versions(self).load(rows)
        return super().to_representation(rows)


class DeviceProfileSerializer(serializers.ModelSerializer[DeviceProfile]):
    """A profile as the requesting member may receive it."""

    owner = OrganisationRefSerializer(
        read_only=True, help_text="The organisation that filed the profile."
    )
    recipient_organisations: serializers.SlugRelatedField[Organisation] = (
        serializers.SlugRelatedField(
            slug_field="slug",
            many=True,
            read_only=True,
            help_text="Slugs of the organisations named as recipients.",
        )
    )
    recipient_members: serializers.SlugRelatedField[Member] = serializers.SlugRelatedField(
        slug_field="username",
        many=True,
        read_only=True,
        help_text="Usernames of the members named individually (TLP:RED).",
    )
    identifiers = IdentifierReadSerializer(
        many=True,
        read_only=True,
        help_text="TACs, TAC ranges, Bluetooth names and markings that identify the model.",
    )
    detection_signatures = DetectionSignatureSerializer(
        many=True, read_only=True, help_text="How each detection method fares against the device."
    )
    concealment_methods = ConcealmentMethodSerializer(
        many=True, read_only=True, help_text="How the device is smuggled in or hidden."
    )
    suppliers = SupplierSerializer(
        many=True, read_only=True, help_text="Who makes or sells the device, and where."
    )
    attachments = serializers.SerializerMethodField(
        help_text="The files attached that you may see (each has its own label)."
    )
    retired = serializers.SerializerMethodField(
        help_text="Whether the profile is retired (kept readable, no longer current)."
    )
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
            *CONTENT_FIELDS,
            "owner",
            "tlp",
            *RECIPIENTS,
            "parent",
            "version",
            "created_at",
            "updated_at",
            "retired",
            "retired_at",
            "retired_reason",
            *CHILDREN,
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
    NamedRecipientsMixin, StrictFieldsMixin, serializers.ModelSerializer[DeviceProfile]
):
    """Create or partially update a profile. Child lists, when sent, replace the whole list."""

    aliases = serializers.ListField(
        child=serializers.CharField(max_length=200),
        required=False,
        max_length=50,
        help_text="Other names and nicknames of the device (up to 50).",
    )
    network_technologies = serializers.ListField(
        child=serializers.ChoiceField(choices=NetworkTechnology.choices),
        required=False,
        help_text="Mobile network generations the radio supports: values of `network_technology` (docs/vocabularies.md).",
    )
    gsm_bands = serializers.ListField(
        child=serializers.ChoiceField(choices=[(b, f"{b} MHz") for b in GSM_BANDS]),
        required=False,
        help_text="The GSM bands the device uses, in MHz: 450, 480, 850, 900, 1800, 1900.",
    )
    legal_status = serializers.DictField(
        child=serializers.CharField(max_length=1000),
        required=False,
        help_text="ISO 3166-1 alpha-2 country code → legal status text.",
    )
    recipient_organisations: serializers.SlugRelatedField[Organisation] = (
        serializers.SlugRelatedField(
            slug_field="slug",
            many=True,
            required=False,
            queryset=Organisation.objects.all(),
            help_text="Slugs of the organisations named as recipients (TLP:AMBER and AMBER+STRICT); adding one is the owner's call.",
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
        required=False,
        allow_null=True,
        queryset=DeviceProfile.objects.none(),
        help_text="The id of the profile of the family this model belongs to (a profile you see); null for none.",
    )
    identifiers = IdentifierSerializer(
        many=True,
        required=False,
        help_text="TACs, TAC ranges, Bluetooth names and markings; when sent, replaces the whole list.",
    )
    detection_signatures = DetectionSignatureSerializer(
        many=True,
        required=False,
        help_text="How each detection method fares against the device; when sent, replaces the whole list.",
    )
    concealment_methods = ConcealmentMethodSerializer(
        many=True,
        required=False,
        help_text="How the device is smuggled in or hidden; when sent, replaces the whole list.",
    )
    suppliers = SupplierSerializer(
        many=True,
        required=False,
        help_text="Who makes or sells the device; when sent, replaces the whole list.",
    )

    class Meta:
        model = DeviceProfile
        fields = (*PROFILE_FIELDS, *RECIPIENTS, "parent", *CHILDREN)

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


class ProfileRetireSerializer(StrictFieldsMixin, serializers.Serializer[Any]):
    """Retire a profile: it stays readable, marked as no longer current."""

    reason = serializers.CharField(
        max_length=2000,
        help_text="Why the profile is retired (kept in the profile and its revision).",
    )


class ProfileRevisionSerializer(serializers.ModelSerializer[ProfileRevision]):
    """One change of a profile: who made it, when, and what changed."""

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
    """One change of a profile, with the whole profile as it stood after it."""

    snapshot = serializers.JSONField(help_text="The whole profile as it stood after this revision.")

    class Meta(ProfileRevisionSerializer.Meta):
        fields = (*ProfileRevisionSerializer.Meta.fields, "snapshot")  # type: ignore[assignment]


def profile_input(validated: dict[str, Any]) -> ProfileInput:
    """Split a validated profile payload into what `profile_create`/`profile_update` take."""
    fields = dict(validated)
    children = {name: fields.pop(name, None) for name in (*RECIPIENTS, *CHILDREN)}
    parent_set = "parent" in fields
    parent = fields.pop("parent", None)
    return ProfileInput(fields=fields, parent=parent, parent_set=parent_set, **children)
