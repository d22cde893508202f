"""What an access request looks like to its parties: the serializers of its output and the
queryset they read, one definition for the API, its schema and the webhook payloads; and
what a notice lets a member request."""

from typing import Any

from django.db.models import Case, OuterRef, Prefetch, QuerySet, Subquery, When
from django.urls import reverse
from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from intel.models import (
    AccessRequest,
    AccessRequestMessage,
    Attachment,
    Grant,
    Member,
    Organisation,
    TargetType,
)
from intel.visibility import Reader


def readable_access_requests(member: Reader) -> QuerySet[AccessRequest]:
    """The access requests `member` may read, loaded for `AccessRequestSerializer`."""
    attachment_profile = Attachment.objects.filter(pk=OuterRef("target_id")).values("profile_id")[
        :1
    ]
    return (
        AccessRequest.objects.visible_to(member)
        .select_related(
            "requester",
            "organisation",
            "on_behalf_of",
            "owner",
            "decided_by",
            "grant__organisation",
            "grant__member",
            "grant__granted_by",
            "grant__revoked_by",
        )
        .prefetch_related(
            Prefetch("messages", queryset=AccessRequestMessage.objects.select_related("author"))
        )
        .annotate(
            attachment_profile_id=Case(
                When(target_type=TargetType.ATTACHMENT, then=Subquery(attachment_profile)),
                default=None,
            )
        )
    )


class AccessRequestMessageSerializer(serializers.ModelSerializer[AccessRequestMessage]):
    """One message on a request: the decider's question or the requester's answer."""

    author: serializers.SlugRelatedField[Member] = serializers.SlugRelatedField(
        slug_field="username", read_only=True
    )

    class Meta:
        model = AccessRequestMessage
        fields = ("kind", "author", "text", "created_at")
        read_only_fields = fields


class GrantSerializer(serializers.ModelSerializer[Grant]):
    """The access an approval gave, and whether it still holds."""

    organisation: serializers.SlugRelatedField[Organisation] = serializers.SlugRelatedField(
        slug_field="slug", read_only=True, help_text="The organisation that sees the object."
    )
    member: serializers.SlugRelatedField[Member] = serializers.SlugRelatedField(
        slug_field="username",
        read_only=True,
        allow_null=True,
        help_text="For a TLP:RED object: the one person who sees it.",
    )
    granted_by: serializers.SlugRelatedField[Member] = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True
    )
    revoked_by: serializers.SlugRelatedField[Member] = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True
    )
    state = serializers.SerializerMethodField(help_text="`active`, `expired` or `revoked`.")

    class Meta:
        model = Grant
        fields = (
            "id",
            "organisation",
            "member",
            "scope",
            "state",
            "created_at",
            "expires_at",
            "granted_by",
            "revoked_at",
            "revoked_by",
            "revoke_reason",
        )
        read_only_fields = fields

    def get_state(self, grant: Grant) -> str:
        if grant.revoked_at is not None:
            return "revoked"
        return "active" if grant.expires_at > timezone.now() else "expired"


class AccessRequestSerializer(serializers.ModelSerializer[AccessRequest]):
    """A request as both sides read it: the question, the exchange, the decision, the grant."""

    requester: serializers.SlugRelatedField[Member] = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True
    )
    organisation: serializers.SlugRelatedField[Organisation] = serializers.SlugRelatedField(
        slug_field="slug", read_only=True, help_text="The requesting organisation."
    )
    on_behalf_of: serializers.SlugRelatedField[Organisation] = serializers.SlugRelatedField(
        slug_field="slug",
        read_only=True,
        allow_null=True,
        help_text="The sponsored authority to be granted.",
    )
    owner: serializers.SlugRelatedField[Organisation] = serializers.SlugRelatedField(
        slug_field="slug", read_only=True, help_text="The deciding organisation."
    )
    decided_by: serializers.SlugRelatedField[Member] = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True
    )
    via_notice = serializers.IntegerField(
        source="via_notice_id",
        read_only=True,
        allow_null=True,
        help_text="The notice through which the requester learnt of the object, if any.",
    )
    target_url = serializers.SerializerMethodField(
        help_text="Where the object is read once granted."
    )
    days = serializers.IntegerField(
        source="requested_days",
        read_only=True,
        allow_null=True,
        help_text="The duration asked for in days (null when an `expires_at` was asked).",
    )
    expires_at = serializers.DateTimeField(
        source="requested_expires_at",
        read_only=True,
        allow_null=True,
        help_text="The end of access asked for, when asked as a time; the grant's own end "
        "is `grant.expires_at`.",
    )
    messages = AccessRequestMessageSerializer(
        many=True,
        read_only=True,
        help_text="Questions, answers, comments and routing notes, oldest first.",
    )
    grant = serializers.SerializerMethodField(
        help_text="The access the approval gave, and whether it still holds; null until approved."
    )

    class Meta:
        model = AccessRequest
        fields = (
            "id",
            "status",
            "target_type",
            "target_id",
            "target_url",
            "via_notice",
            "requester",
            "organisation",
            "on_behalf_of",
            "owner",
            "purpose",
            "legal_basis",
            "case_reference",
            "days",
            "expires_at",
            "messages",
            "decided_by",
            "decided_at",
            "decision_reason",
            "grant",
            "created_at",
            "updated_at",
        )
        read_only_fields = fields

    def get_target_url(self, access_request: AccessRequest) -> str | None:
        if access_request.target_type == TargetType.PROFILE:
            return reverse("profile-detail", kwargs={"pk": access_request.target_id})
        if access_request.target_type == TargetType.NOTICE:
            return reverse("notice-detail", kwargs={"pk": access_request.target_id})
        profile_id = getattr(access_request, "attachment_profile_id", None)
        if profile_id is None:  # the attachment is gone
            return None
        return reverse(
            "profile-attachment",
            kwargs={"pk": profile_id, "attachment_id": access_request.target_id},
        )

    @extend_schema_field(GrantSerializer(allow_null=True))
    def get_grant(self, access_request: AccessRequest) -> dict[str, Any] | None:
        try:
            grant = access_request.grant
        except Grant.DoesNotExist:
            return None
        return dict(GrantSerializer(grant).data)


class RequestableSerializer(serializers.Serializer[Any]):
    """One object a notice lets you request, named only as its owner describes it."""

    target_type = serializers.ChoiceField(
        choices=TargetType.choices,
        help_text="What kind of object it is: a value of `target_type` (docs/vocabularies.md).",
    )
    target_id = serializers.IntegerField(
        help_text="The object's id: send it as `target_id` of an access request."
    )
    profile = serializers.IntegerField(
        source="profile_id", allow_null=True, help_text="An attachment's profile."
    )
    summary = serializers.CharField(
        help_text="What it is, as far as you may know before a grant: the owner's teaser "
        "(`request_summary`), or else its kind and label, e.g. `Device profile, TLP:AMBER`. "
        "Never its name or title."
    )
    owner = serializers.CharField(source="owner.slug", help_text="The deciding organisation.")
    open_request = serializers.IntegerField(
        source="open_request_id",
        allow_null=True,
        help_text="Your organisation's open request for it, if any.",
    )
