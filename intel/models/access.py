"""Access requests and the grants they lead to.

A member asks for an object it may not yet see (a profile, a notice or an attachment); the
owner organisation decides, or the secretariat when the owner delegates (`access.policies`). An approved request becomes a `Grant`: the
requesting organisation (or the sponsored authority it asked for) is treated as a named
recipient of that object until the grant expires or is revoked. Grants enter every read path
through the visibility functions (`granted_ids`), so a grant shows the object everywhere a
recipient would see it, and nowhere once it ends.

These models live in `intel`, below `notices` and `access`, because the visibility rules of
`intel` (profiles, attachments) and `notices` read grants; the workflow that writes them
(`access.services`, `access.decisions`, `access.api`) sits above both (docs/architecture.md).
"""

from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import models
from django.db.models import Q, QuerySet
from django.db.models.functions import Now
from django.utils import timezone

from core.vocabularies import vocabulary
from intel.models.network import Organisation

if TYPE_CHECKING:
    from intel.visibility import Reader, Viewer


class TargetType(models.TextChoices):
    PROFILE = "profile", "Device profile"
    NOTICE = "notice", "Notice"
    ATTACHMENT = "attachment", "Attachment"


vocabulary(
    "target_type",
    TargetType,
    title="Access request target",
    description="What kind of restricted object an access request asks for.",
    fields=("access-requests: target_type", "access-requests/requestable: target_type"),
    values={
        TargetType.PROFILE: "A device profile, with its identifiers, signatures and history.",
        TargetType.NOTICE: "An alert notice.",
        TargetType.ATTACHMENT: "One file attached to a profile (a protocol, a specification).",
    },
)


class GrantScope(models.TextChoices):
    OBJECT = "object", "The object (a profile with its identifiers, signatures and history)"
    WITH_ATTACHMENTS = "with_attachments", "A profile and its attachments"


vocabulary(
    "grant_scope",
    GrantScope,
    title="Grant scope",
    description="How much an approved access request opens.",
    fields=("access-requests: grant.scope", "access-requests/{id}/approve: scope"),
    values={
        GrantScope.OBJECT: "The object asked for; for a profile, without its attachments "
        "above the profile's own label.",
        GrantScope.WITH_ATTACHMENTS: "A profile and its attachments.",
    },
)


class AccessRequestStatus(models.TextChoices):
    PENDING = "pending", "Pending a decision"
    INFO_REQUESTED = "info_requested", "More information requested"
    APPROVED = "approved", "Approved"
    DENIED = "denied", "Denied"
    WITHDRAWN = "withdrawn", "Withdrawn by the requester"


vocabulary(
    "access_request_status",
    AccessRequestStatus,
    title="Access request status",
    description="Where an access request stands.",
    fields=("access-requests: status",),
    values={
        AccessRequestStatus.PENDING: "Waiting for the owner's decision.",
        AccessRequestStatus.INFO_REQUESTED: "The decider asked a question; the requester "
        "answers with a message.",
        AccessRequestStatus.APPROVED: "Granted: the grant says until when.",
        AccessRequestStatus.DENIED: "Refused, with a reason.",
        AccessRequestStatus.WITHDRAWN: "The requester withdrew it.",
    },
)


OPEN_STATES = (AccessRequestStatus.PENDING, AccessRequestStatus.INFO_REQUESTED)


class AccessRequestQuerySet(models.QuerySet["AccessRequest"]):
    def visible_to(self, reader: "Reader") -> "AccessRequestQuerySet":
        """A request is seen by the requesting organisation, the organisation it was made on
        behalf of, the deciding (owner) organisation, and the secretariat's coordinators."""
        org = reader.organisation
        if org is None:
            return self.none()
        q = Q(organisation_id=org.pk) | Q(on_behalf_of_id=org.pk) | Q(owner_id=org.pk)
        if reader.is_secretariat_coordinator:
            q |= Q(pk__isnull=False)
        return self.filter(q)


class AccessRequest(models.Model):
    """A member's request to see one object, and its decision."""

    requester = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="access_requests"
    )
    on_behalf_of = models.ForeignKey(
        Organisation,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="access_requests_for",
        help_text="A national authority sponsored by the requesting desk.",
    )
    owner = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        related_name="access_requests_received",
        help_text="The organisation that decides: the owner or issuer of the object.",
    )
    target_type = models.CharField(
        max_length=20,
        choices=TargetType.choices,
        help_text="What kind of object is asked for: a value of `target_type` (docs/vocabularies.md).",
    )
    target_id = models.PositiveBigIntegerField(
        help_text="The id of the profile, notice or attachment asked for."
    )
    via_notice_id = models.PositiveBigIntegerField(
        null=True, blank=True, help_text="The notice through which the requester learnt of it."
    )
    purpose = models.TextField(help_text="Why access is needed, as the decider will read it.")
    legal_basis = models.CharField(
        max_length=500,
        help_text="The legal basis of the request, e.g. the article of law or the instrument of cooperation.",
    )
    case_reference = models.CharField(
        max_length=200, blank=True, help_text="Your case or file reference, if any."
    )
    requested_days = models.PositiveIntegerField(
        null=True, blank=True, help_text="Requested duration of access in days, as asked."
    )
    requested_expires_at = models.DateTimeField(
        null=True, blank=True, help_text="Requested end of access, as asked (instead of days)."
    )
    status = models.CharField(
        max_length=20,
        choices=AccessRequestStatus.choices,
        default=AccessRequestStatus.PENDING,
        help_text="Where the request stands: a value of `access_request_status` (docs/vocabularies.md).",
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    decided_at = models.DateTimeField(
        null=True, blank=True, help_text="When it was approved or denied; null while open."
    )
    decision_reason = models.TextField(
        blank=True, help_text="The decider's reason or note, as the requester reads it."
    )
    created_at = models.DateTimeField(default=timezone.now, help_text="When the request was made.")
    updated_at = models.DateTimeField(
        default=timezone.now,
        db_index=True,
        help_text="When the request last changed (a message, a decision).",
    )

    objects = AccessRequestQuerySet.as_manager()

    class Meta:
        ordering = ("-updated_at", "-id")
        indexes = [models.Index(fields=["target_type", "target_id"])]

    def __str__(self) -> str:
        return f"{self.organisation_id} → {self.target_type} {self.target_id} ({self.status})"

    @property
    def beneficiary_id(self) -> int:
        """The organisation the grant would name."""
        return self.on_behalf_of_id or self.organisation_id


class AccessRequestMessage(models.Model):
    """One exchange on a request: the decider asks for more, the requester answers, a party
    comments, the secretariat routes it to the owner."""

    class Kind(models.TextChoices):
        INFO_REQUESTED = "info_requested", "More information requested"
        ANSWER = "answer", "Answer from the requester"
        COMMENT = "comment", "Comment"
        ROUTED = "routed", "Routed by the secretariat to the owner"

    request = models.ForeignKey(AccessRequest, on_delete=models.CASCADE, related_name="messages")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    kind = models.CharField(
        max_length=20,
        choices=Kind.choices,
        help_text="`info_requested`: the decider asks; `answer`: the requester answers.",
    )
    text = models.TextField(help_text="The message.")
    created_at = models.DateTimeField(default=timezone.now, help_text="When it was written.")

    class Meta:
        ordering = ("request", "created_at", "id")

    def __str__(self) -> str:
        return f"{self.request_id}: {self.kind}"


class GrantQuerySet(models.QuerySet["Grant"]):
    def active(self, now: datetime | None = None) -> "GrantQuerySet":
        """Not revoked and not expired: expiry is enforced here, at read time, as well as by
        the scheduler's sweep (which marks expired grants and tells the webhook machinery).
        Without `now`, the database's clock at the time the query runs: a visibility query
        then holds no time of its own, so its compiled form can be reused
        (`intel.visibility_bulk.visible_ids_per_viewer`)."""
        return self.filter(revoked_at__isnull=True, expires_at__gt=now or Now())


class Grant(models.Model):
    """Access given by a decision: the beneficiary organisation is treated as a named
    recipient of the object until `expires_at` or revocation. For a TLP:RED object the grant
    names the requesting member (RED is only ever for named people)."""

    request = models.OneToOneField(
        AccessRequest, null=True, blank=True, on_delete=models.SET_NULL, related_name="grant"
    )
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="grants")
    member = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="grants",
        help_text="The named member, for a TLP:RED object.",
    )
    target_type = models.CharField(max_length=20, choices=TargetType.choices)
    target_id = models.PositiveBigIntegerField()
    scope = models.CharField(
        max_length=20,
        choices=GrantScope.choices,
        default=GrantScope.OBJECT,
        help_text="How much the grant opens: a value of `grant_scope` (docs/vocabularies.md).",
    )
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, help_text="When access was granted.")
    expires_at = models.DateTimeField(help_text="When access ends.")
    revoked_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When the grant was revoked before its expiry; null if not.",
    )
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    revoke_reason = models.TextField(blank=True, help_text="Why it was revoked; empty if not.")
    ended_notified_at = models.DateTimeField(
        null=True, blank=True, help_text="When the scheduler recorded the grant's end."
    )

    objects = GrantQuerySet.as_manager()

    class Meta:
        ordering = ("-created_at", "-id")
        indexes = [
            models.Index(fields=["target_type", "organisation", "expires_at"]),
            models.Index(fields=["target_type", "member", "expires_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.target_type} {self.target_id} → {self.organisation_id}"


def granted_ids(
    viewer: "Viewer", target_type: str, *, scopes: tuple[str, ...] | None = None
) -> tuple[QuerySet[Any], QuerySet[Any]]:
    """Subqueries of the target ids granted to `viewer`: (to its organisation, to the member
    by name). A grant names exactly one organisation: a desk asks on behalf of a sponsored
    authority when that authority is to see the object. A grant naming a member (TLP:RED)
    is theirs alone, also once the object's label is lowered: it never counts for the
    member's colleagues."""
    base = Grant.objects.active().filter(target_type=target_type)
    if scopes is not None:
        base = base.filter(scope__in=scopes)
    org_id = viewer.organisation_id
    by_org = (
        base.filter(organisation_id=org_id, member__isnull=True)
        if org_id is not None
        else base.none()
    )
    member_id = viewer.member_id
    by_name = base.filter(member_id=member_id) if member_id is not None else base.none()
    return by_org.values("target_id"), by_name.values("target_id")
