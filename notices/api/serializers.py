"""Serializers for notices. They validate and describe; services write."""

from typing import Any

from rest_framework import serializers

from core.serializers import CountryField, StrictFieldsMixin
from core.shapes import describes
from intel.models import DeviceProfile, Member, Organisation
from intel.models.tlp import TLP
from intel.shapes.recipients import NamedRecipientsMixin
from notices.models import AudienceScope, Notice, NoticeReceipt, NoticeType, NoticeVersion
from notices.rendering import PROFILE_SUMMARY_FIELDS

# --- Notices (rendered per member by notices.rendering; these describe the shape) ----------


@describes(*PROFILE_SUMMARY_FIELDS, "tacs")
class NoticeProfileSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    name = serializers.CharField()
    aliases = serializers.ListField(child=serializers.CharField())
    device_class = serializers.CharField()
    manufacturer_country = serializers.CharField()
    tlp = serializers.CharField()
    version = serializers.IntegerField()
    tacs = serializers.ListField(child=serializers.CharField())


class NoticeIssuerSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    slug = serializers.CharField()
    name = serializers.CharField()
    country = serializers.CharField()


class NoticeAudienceSerializer(serializers.Serializer[Any]):
    scope = serializers.ChoiceField(choices=AudienceScope.choices)
    organisations = serializers.ListField(child=serializers.CharField())
    countries = serializers.ListField(child=serializers.CharField())


class NoticeSerializer(serializers.Serializer[Any]):
    """A notice as the requesting member may receive it."""

    id = serializers.IntegerField()
    reference = serializers.CharField()
    type = serializers.ChoiceField(choices=NoticeType.choices)
    status = serializers.CharField()
    version = serializers.IntegerField(help_text="Latest published version; 0 for a draft.")
    title = serializers.CharField()
    summary = serializers.CharField()
    body = serializers.CharField()
    action_requested = serializers.CharField()
    tlp = serializers.ChoiceField(choices=TLP.choices)
    issuer = NoticeIssuerSerializer()
    audience = NoticeAudienceSerializer()
    profiles = NoticeProfileSerializer(many=True, help_text="Only the profiles you may see.")
    restricted_data_available = serializers.BooleanField(
        help_text="Some concerned data is restricted: request access from the issuer."
    )
    review_due_at = serializers.DateTimeField(allow_null=True)
    respond_by = serializers.DateTimeField(
        allow_null=True,
        help_text="When the issuer expects acknowledgements; after it, audience "
        "organisations that have not acknowledged are reminded once.",
    )
    published_at = serializers.DateTimeField(allow_null=True)
    changed_at = serializers.DateTimeField()
    superseded_by = serializers.CharField(allow_null=True)
    withdrawal_reason = serializers.CharField()
    acknowledged_at = serializers.DateTimeField(
        allow_null=True, help_text="When your organisation acknowledged it."
    )


class NoticeWriteSerializer(
    NamedRecipientsMixin, StrictFieldsMixin, serializers.ModelSerializer[Notice]
):
    """A draft's content, audience and label."""

    type = serializers.ChoiceField(source="notice_type", choices=NoticeType.choices)
    profiles = serializers.PrimaryKeyRelatedField(
        many=True, required=False, queryset=DeviceProfile.objects.none()
    )
    audience_organisations = serializers.SlugRelatedField(
        slug_field="slug", many=True, required=False, queryset=Organisation.objects.all()
    )
    audience_countries = serializers.ListField(child=CountryField(), required=False)
    recipient_members = serializers.SlugRelatedField(
        slug_field="username",
        many=True,
        required=False,
        queryset=Member.objects.filter(is_active=True),
    )

    class Meta:
        model = Notice
        fields = (
            "type",
            "title",
            "summary",
            "body",
            "action_requested",
            "profiles",
            "audience_scope",
            "audience_organisations",
            "audience_countries",
            "recipient_members",
            "tlp",
            "restricted_data_available",
            "review_due_at",
            "respond_by",
        )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None and getattr(request, "user", None) is not None:
            # A profile the author cannot see is answered like one that does not exist.
            self.fields["profiles"].child_relation.queryset = DeviceProfile.objects.visible_to(  # type: ignore[attr-defined]
                request.user
            )


class NoticeRevisionSerializer(StrictFieldsMixin, serializers.Serializer[Any]):
    """A new published version: the changed content and a change note."""

    change_note = serializers.CharField(max_length=2000)
    title = serializers.CharField(max_length=300, required=False)
    summary = serializers.CharField(required=False, allow_blank=True)
    body = serializers.CharField(required=False, allow_blank=True)
    action_requested = serializers.CharField(required=False, allow_blank=True)
    review_due_at = serializers.DateTimeField(required=False, allow_null=True)
    respond_by = serializers.DateTimeField(
        required=False,
        allow_null=True,
        help_text="After this, audience organisations that have not acknowledged are "
        "reminded once (a reminder already sent is not sent again).",
    )
    restricted_data_available = serializers.BooleanField(required=False)
    profiles = serializers.PrimaryKeyRelatedField(
        many=True, required=False, queryset=DeviceProfile.objects.none()
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None and getattr(request, "user", None) is not None:
            self.fields["profiles"].child_relation.queryset = DeviceProfile.objects.visible_to(  # type: ignore[attr-defined]
                request.user
            )


class WithdrawSerializer(StrictFieldsMixin, serializers.Serializer[Any]):
    reason = serializers.CharField(max_length=2000)


class SupersedeSerializer(StrictFieldsMixin, serializers.Serializer[Any]):
    superseded_by = serializers.IntegerField(help_text="Id of the published successor notice.")


class NoticeVersionSerializer(serializers.ModelSerializer[NoticeVersion]):
    published_by = serializers.SlugRelatedField(slug_field="username", read_only=True)  # type: ignore[var-annotated]
    profiles = serializers.SerializerMethodField()

    class Meta:
        model = NoticeVersion
        fields = (
            "number",
            "title",
            "summary",
            "body",
            "action_requested",
            "tlp",
            "change_note",
            "published_by",
            "published_at",
            "profiles",
        )

    def get_profiles(self, version: NoticeVersion) -> list[int]:
        visible: set[int] = self.context.get("visible_profile_ids", set())
        return sorted(p.pk for p in version.profiles.all() if p.pk in visible)


class ReceiptSerializer(serializers.ModelSerializer[NoticeReceipt]):
    organisation = serializers.SlugRelatedField(slug_field="slug", read_only=True)  # type: ignore[var-annotated]
    acknowledged_by = serializers.SlugRelatedField(slug_field="username", read_only=True)  # type: ignore[var-annotated]

    class Meta:
        model = NoticeReceipt
        fields = (
            "organisation",
            "received_at",
            "read_at",
            "acknowledged_at",
            "acknowledged_by",
            "outcome",
            "comment",
        )
