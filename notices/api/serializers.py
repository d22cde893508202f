"""Serializers of what is written to notices. They validate; services write. What a notice
reads as is `notices.shapes`."""

from collections.abc import Mapping
from typing import Any

from rest_framework import serializers
from rest_framework.exceptions import ErrorDetail

from core.serializers import CountryField, StrictFieldsMixin, refuse_unknown_fields
from intel.models import DeviceProfile, Member, Organisation
from intel.shapes.recipients import NamedRecipientsMixin
from notices.models import (
    AudienceScope,
    Notice,
    NoticeReceipt,
    NoticeType,
    NoticeVersion,
)

# The read shape of a notice is `notices.shapes` (the API's answer, webhooks, the portal).

# Keys of earlier bodies, answered "Unknown field" with the key that replaces them.
RENAMED_FIELDS = {
    "audience_scope": "audience.scope",
    "audience_organisations": "audience.organisations",
    "audience_countries": "audience.countries",
    "recipient_members": "audience.members",
    "profiles": "profile_ids",
}


class RenamedFieldsMixin:
    """Names the replacing key when a body sends one of `RENAMED_FIELDS`."""

    # Placed before `StrictFieldsMixin`: its "Unknown field." for these keys gains the new
    # name, and the body's other unknown keys are reported in the same answer.
    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, Mapping):
            renamed = {
                key: [
                    ErrorDetail(
                        f"Unknown field: use `{RENAMED_FIELDS[key]}`.", code="unknown_field"
                    )
                ]
                for key in data
                if key in RENAMED_FIELDS and key not in self.fields  # type: ignore[attr-defined]
            }
            if renamed:
                rest = {k: v for k, v in data.items() if k not in renamed}
                try:
                    refuse_unknown_fields(rest, self.fields)  # type: ignore[attr-defined]
                except serializers.ValidationError as exc:
                    renamed |= exc.detail  # type: ignore[arg-type]
                raise serializers.ValidationError(dict(sorted(renamed.items())))
        return super().to_internal_value(data)  # type: ignore[misc]


class NoticeAudienceInputSerializer(
    NamedRecipientsMixin, StrictFieldsMixin, serializers.Serializer[Any]
):
    """Whom the notice is addressed to; a key left out stays as it is (on a new notice:
    the whole network, nothing named)."""

    named_field = "members"

    scope = serializers.ChoiceField(
        choices=AudienceScope.choices,
        required=False,
        help_text="`network` (default), `organisations` or `countries`.",
    )
    organisations = serializers.SlugRelatedField(
        slug_field="slug",
        many=True,
        required=False,
        queryset=Organisation.objects.all(),
        help_text="Slugs of the organisations addressed (scope `organisations`).",
    )
    countries = serializers.ListField(
        child=CountryField(),
        required=False,
        help_text="ISO 3166-1 alpha-2 codes of the countries addressed (scope `countries`).",
    )
    members = serializers.SlugRelatedField(
        slug_field="username",
        many=True,
        required=False,
        queryset=Member.objects.filter(is_active=True),
        help_text="TLP:RED: usernames of the members named as recipients (each cleared for "
        "TLP:RED).",
    )

    def validate_members(self, members: list[Member]) -> list[Member]:
        return self.validate_recipient_members(members)


class NoticeWriteSerializer(
    RenamedFieldsMixin, StrictFieldsMixin, serializers.ModelSerializer[Notice]
):
    """A draft's content, audience and label."""

    type = serializers.ChoiceField(
        source="notice_type", choices=NoticeType.choices, help_text="The kind of notice."
    )
    profile_ids = serializers.PrimaryKeyRelatedField(
        many=True,
        required=False,
        queryset=DeviceProfile.objects.none(),
        help_text="Ids of the concerned profiles (ones you may see).",
    )
    audience = NoticeAudienceInputSerializer(
        required=False, help_text="Whom the notice is addressed to."
    )

    class Meta:
        model = Notice
        fields = (
            "type",
            "title",
            "summary",
            "body",
            "action_requested",
            "profile_ids",
            "audience",
            "tlp",
            "restricted_data_available",
            "review_due_at",
            "respond_by",
        )
        extra_kwargs = {
            "title": {"help_text": "A one-line title."},
            "summary": {"help_text": "A short summary, shown in lists and e-mails."},
            "body": {"help_text": "The full text."},
            "action_requested": {"help_text": "What the recipients are asked to do."},
            "tlp": {"help_text": "The notice's label; at most your clearance."},
            "restricted_data_available": {
                "help_text": "Advertise that restricted data can be requested."
            },
            "review_due_at": {"help_text": "When the issuer means to review the notice."},
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _profiles_visible_to_author(self)


class NoticeRevisionSerializer(RenamedFieldsMixin, StrictFieldsMixin, serializers.Serializer[Any]):
    """A new published version: the changed content and a change note."""

    change_note = serializers.CharField(
        max_length=2000, help_text="What changed, shown with the version."
    )
    title = serializers.CharField(max_length=300, required=False, help_text="A one-line title.")
    summary = serializers.CharField(required=False, allow_blank=True, help_text="A short summary.")
    body = serializers.CharField(required=False, allow_blank=True, help_text="The full text.")
    action_requested = serializers.CharField(
        required=False, allow_blank=True, help_text="What the recipients are asked to do."
    )
    review_due_at = serializers.DateTimeField(
        required=False, allow_null=True, help_text="When the issuer means to review the notice."
    )
    respond_by = serializers.DateTimeField(
        required=False,
        allow_null=True,
        help_text="After this, audience organisations that have not acknowledged are "
        "reminded once (a reminder already sent is not sent again).",
    )
    restricted_data_available = serializers.BooleanField(
        required=False, help_text="Advertise that restricted data can be requested."
    )
    profile_ids = serializers.PrimaryKeyRelatedField(
        many=True,
        required=False,
        queryset=DeviceProfile.objects.none(),
        help_text="Ids of the concerned profiles (ones you may see; those you may not see "
        "stay on the notice).",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _profiles_visible_to_author(self)


def _profiles_visible_to_author(form: serializers.Serializer[Any]) -> None:
    """A profile the author cannot see is answered like one that does not exist."""
    request = form.context.get("request")
    if request is not None and getattr(request, "user", None) is not None:
        form.fields["profile_ids"].child_relation.queryset = DeviceProfile.objects.visible_to(  # type: ignore[attr-defined]
            request.user
        )


class NoticeReturnSerializer(StrictFieldsMixin, serializers.Serializer[Any]):
    """A reviewer's return of a submitted notice to its drafter."""

    comment = serializers.CharField(
        max_length=4000, help_text="What the drafter should change; shown on the notice."
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
    profile_ids = serializers.SerializerMethodField(
        help_text="Ids of the version's profiles you may see."
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
            "profile_ids",
        )

    def get_profile_ids(self, version: NoticeVersion) -> list[int]:
        visible: set[int] = self.context.get("visible_profile_ids", set())
        return sorted(p.pk for p in version.profiles.all() if p.pk in visible)


class ReceiptSerializer(serializers.ModelSerializer[NoticeReceipt]):
    """When an organisation received, read and acknowledged a notice."""

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
