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
    """A profile a notice is about, in short."""

    id = serializers.IntegerField(help_text="The profile's id.")
    name = serializers.CharField(help_text="The profile's name.")
    aliases = serializers.ListField(
        child=serializers.CharField(), help_text="Other names of the device."
    )
    device_class = serializers.CharField(help_text="The device class (docs/vocabularies.md).")
    manufacturer_country = serializers.CharField(
        help_text="Where the device is made (ISO 3166-1 alpha-2); empty if not known."
    )
    tlp = serializers.CharField(help_text="The profile's TLP label.")
    version = serializers.IntegerField(help_text="The profile's version you may see.")
    tacs = serializers.ListField(
        child=serializers.CharField(), help_text="The TACs and TAC ranges that identify the device."
    )


class NoticeIssuerSerializer(serializers.Serializer[Any]):
    """The organisation that issued a notice."""

    id = serializers.IntegerField(help_text="The organisation's id.")
    slug = serializers.CharField(help_text="The organisation's slug, e.g. `fr-desk`.")
    name = serializers.CharField(help_text="The organisation's name.")
    country = serializers.CharField(
        help_text="The organisation's country (ISO 3166-1 alpha-2); empty for the secretariat."
    )


class NoticeAudienceSerializer(serializers.Serializer[Any]):
    """Who a notice is addressed to (its label then narrows who receives it)."""

    scope = serializers.ChoiceField(
        choices=AudienceScope.choices,
        help_text="Who the notice is addressed to: a value of `audience_scope` (docs/vocabularies.md).",
    )
    organisations = serializers.ListField(
        child=serializers.CharField(),
        help_text="With scope `organisations`: the slugs of the organisations addressed.",
    )
    countries = serializers.ListField(
        child=serializers.CharField(),
        help_text="With scope `countries`: the countries addressed (ISO 3166-1 alpha-2).",
    )


class NoticeSerializer(serializers.Serializer[Any]):
    """A notice as the requesting member may receive it."""

    id = serializers.IntegerField()
    reference = serializers.CharField(help_text="The notice's reference, e.g. `DIX-2025-000123`.")
    type = serializers.ChoiceField(
        choices=NoticeType.choices,
        help_text="What the notice asks of its audience: a value of `notice_type` (docs/vocabularies.md).",
    )
    status = serializers.CharField(
        help_text="Where the notice is in its life: a value of `notice_status` (docs/vocabularies.md)."
    )
    version = serializers.IntegerField(help_text="Latest published version; 0 for a draft.")
    title = serializers.CharField(help_text="The notice's title, one line.")
    summary = serializers.CharField(help_text="What the notice is about, in a few lines.")
    body = serializers.CharField(help_text="The notice's full text.")
    action_requested = serializers.CharField(help_text="What the audience is asked to do.")
    tlp = serializers.ChoiceField(
        choices=TLP.choices, help_text="Who may receive the notice within its audience (TLP 2.0)."
    )
    issuer = NoticeIssuerSerializer(help_text="The organisation that issued the notice.")
    audience = NoticeAudienceSerializer(help_text="Who the notice is addressed to.")
    profiles = NoticeProfileSerializer(many=True, help_text="Only the profiles you may see.")
    restricted_data_available = serializers.BooleanField(
        help_text="Some concerned data is restricted: request access from the issuer."
    )
    review_due_at = serializers.DateTimeField(
        allow_null=True,
        help_text="When the issuer plans to review the notice; null if not planned.",
    )
    published_at = serializers.DateTimeField(
        allow_null=True, help_text="When the notice was first published; null for a draft."
    )
    changed_at = serializers.DateTimeField(
        help_text="When the notice last changed: published, updated, superseded or withdrawn."
    )
    superseded_by = serializers.CharField(
        allow_null=True, help_text="The reference of the notice that replaces it; null if none."
    )
    withdrawal_reason = serializers.CharField(
        help_text="Why the issuer withdrew it; empty unless withdrawn."
    )
    acknowledged_at = serializers.DateTimeField(
        allow_null=True, help_text="When your organisation acknowledged it."
    )


class NoticeWriteSerializer(
    NamedRecipientsMixin, StrictFieldsMixin, serializers.ModelSerializer[Notice]
):
    """A draft's content, audience and label."""

    type = serializers.ChoiceField(
        source="notice_type",
        choices=NoticeType.choices,
        help_text="What the notice asks of its audience: a value of `notice_type` (docs/vocabularies.md).",
    )
    profiles = serializers.PrimaryKeyRelatedField(
        many=True,
        required=False,
        queryset=DeviceProfile.objects.none(),
        help_text="Ids of the profiles the notice is about (profiles you see).",
    )
    audience_organisations = serializers.SlugRelatedField(
        slug_field="slug",
        many=True,
        required=False,
        queryset=Organisation.objects.all(),
        help_text="With scope `organisations`: the slugs of the organisations addressed.",
    )
    audience_countries = serializers.ListField(
        child=CountryField(),
        required=False,
        help_text="With scope `countries`: the countries addressed (ISO 3166-1 alpha-2).",
    )
    recipient_members = serializers.SlugRelatedField(
        slug_field="username",
        many=True,
        required=False,
        queryset=Member.objects.filter(is_active=True),
        help_text="For TLP:RED: the usernames of the members who receive it.",
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

    change_note = serializers.CharField(
        max_length=2000, help_text="What changed, as the audience will read it."
    )
    title = serializers.CharField(
        max_length=300, required=False, help_text="The new title; omitted: unchanged."
    )
    summary = serializers.CharField(
        required=False, allow_blank=True, help_text="The new summary; omitted: unchanged."
    )
    body = serializers.CharField(
        required=False, allow_blank=True, help_text="The new full text; omitted: unchanged."
    )
    action_requested = serializers.CharField(
        required=False, allow_blank=True, help_text="The new action requested; omitted: unchanged."
    )
    review_due_at = serializers.DateTimeField(
        required=False, allow_null=True, help_text="The new review date; omitted: unchanged."
    )
    restricted_data_available = serializers.BooleanField(
        required=False,
        help_text="Whether restricted data is available on request; omitted: unchanged.",
    )
    profiles = serializers.PrimaryKeyRelatedField(
        many=True,
        required=False,
        queryset=DeviceProfile.objects.none(),
        help_text="The ids of the profiles the notice is about; omitted: unchanged.",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None and getattr(request, "user", None) is not None:
            self.fields["profiles"].child_relation.queryset = DeviceProfile.objects.visible_to(  # type: ignore[attr-defined]
                request.user
            )


class WithdrawSerializer(StrictFieldsMixin, serializers.Serializer[Any]):
    """A withdrawal: it reaches every recipient."""

    reason = serializers.CharField(
        max_length=2000, help_text="Why the notice is withdrawn, as every recipient will read it."
    )


class SupersedeSerializer(StrictFieldsMixin, serializers.Serializer[Any]):
    """The notice that replaces this one."""

    superseded_by = serializers.IntegerField(help_text="Id of the published successor notice.")


class NoticeVersionSerializer(serializers.ModelSerializer[NoticeVersion]):
    """One published version of a notice, as it was sent."""

    published_by = serializers.SlugRelatedField(slug_field="username", read_only=True)  # type: ignore[var-annotated]
    profiles = serializers.SerializerMethodField(
        help_text="Ids of the profiles of this version that you may see."
    )

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
    """When an organisation received, read and acknowledged a notice."""

    organisation = serializers.SlugRelatedField(slug_field="slug", read_only=True)  # type: ignore[var-annotated]
    acknowledged_by = serializers.SlugRelatedField(slug_field="username", read_only=True)  # type: ignore[var-annotated]

    class Meta:
        model = NoticeReceipt
        fields = ("organisation", "received_at", "read_at", "acknowledged_at", "acknowledged_by")
