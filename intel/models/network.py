"""The network of desks: organisations, their members and members' API tokens."""

import hashlib
import secrets
from datetime import datetime

from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone

from core.validators import validate_country
from core.vocabularies import vocabulary
from intel.models.tlp import TLP


class OrganisationKind(models.TextChoices):
    SECRETARIAT = "secretariat", "Secretariat"
    NATIONAL_DESK = "national_desk", "National desk"
    LIAISON_PROSECUTOR = "liaison_prosecutor", "Liaison prosecutor's post"
    NATIONAL_AUTHORITY = "national_authority", "National authority"


vocabulary(
    "organisation_kind",
    OrganisationKind,
    title="Organisation kind",
    description="What part an organisation plays in the network.",
    fields=("organisations: kind",),
    values={
        OrganisationKind.SECRETARIAT: "The network's secretariat (Eurojust-like): reviews and "
        "publishes notices, routes access requests.",
        OrganisationKind.NATIONAL_DESK: "A member state's national desk.",
        OrganisationKind.LIAISON_PROSECUTOR: "A third country's liaison prosecutor's post.",
        OrganisationKind.NATIONAL_AUTHORITY: "A national authority (a prison administration, "
        "a police unit) sponsored by a desk; it receives TLP:AMBER as that desk's client.",
    },
)


class Organisation(models.Model):
    """A participant of the network. A national authority is sponsored by the desk that
    vouches for it; it receives TLP:AMBER as one of that desk's "clients"."""

    slug = models.SlugField(
        max_length=80, unique=True, help_text="Stable short identifier, e.g. `fr-desk`."
    )
    name = models.CharField(max_length=200, help_text="The organisation's full name.")
    kind = models.CharField(
        max_length=32,
        choices=OrganisationKind.choices,
        help_text="What part the organisation plays: a value of `organisation_kind` (docs/vocabularies.md).",
    )
    country = models.CharField(
        max_length=2,
        blank=True,
        validators=[validate_country],
        help_text="ISO 3166-1 alpha-2; empty only for the secretariat.",
    )
    sponsor = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="sponsored",
        help_text="The desk that sponsors this national authority.",
    )
    # Who decides access to what the organisation owns (access.policies); its coordinators
    # always do. Set by its own coordinators, never by the secretariat it may delegate to.
    analysts_decide_access = models.BooleanField(
        default=False,
        db_default=False,
        help_text="Its analysts decide access requests for what it owns, as its coordinators do.",
    )
    delegates_access_to_secretariat = models.BooleanField(
        default=False,
        db_default=False,
        help_text="The secretariat's coordinators decide access requests for what it owns, "
        "when they may read the object themselves (never TLP:RED).",
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ("name",)

    def __str__(self) -> str:
        return self.name

    @property
    def is_secretariat(self) -> bool:
        return self.kind == OrganisationKind.SECRETARIAT

    def clean(self) -> None:
        if self.kind == OrganisationKind.NATIONAL_AUTHORITY:
            if self.sponsor is None:
                raise ValidationError({"sponsor": "A national authority needs a sponsoring desk."})
            if self.sponsor.kind not in (
                OrganisationKind.NATIONAL_DESK,
                OrganisationKind.LIAISON_PROSECUTOR,
            ):
                raise ValidationError(
                    {"sponsor": "The sponsor must be a national desk or a liaison post."}
                )
        elif self.sponsor is not None:
            raise ValidationError({"sponsor": "Only a national authority has a sponsor."})
        if self.kind != OrganisationKind.SECRETARIAT and not self.country:
            raise ValidationError({"country": "This organisation kind needs a country."})


class Role(models.TextChoices):
    ANALYST = "analyst", "Analyst"
    DESK_OFFICER = "desk_officer", "Desk officer"
    COORDINATOR = "coordinator", "Coordinator"
    AUDITOR = "auditor", "Auditor"
    ADMIN = "admin", "Administrator"


vocabulary(
    "role",
    Role,
    title="Member role",
    description="What a member may do for their organisation (docs/concepts.md).",
    fields=("me: role",),
    values={
        Role.ANALYST: "Files and changes the organisation's profiles, drafts notices, decides "
        "access requests on the organisation's data, reports seizures.",
        Role.DESK_OFFICER: "Reads what the organisation receives, acknowledges notices, "
        "requests access, reports seizures.",
        Role.COORDINATOR: "Publishes the organisation's notices and decides access requests "
        "on its data; the secretariat's coordinators also file and change profiles.",
        Role.AUDITOR: "Reads the network's audit trail; files nothing and requests no access.",
        Role.ADMIN: "Reads what the organisation receives; the role opens nothing more (the "
        "Django admin needs a staff account of the secretariat).",
    },
)


class Member(AbstractUser):
    """A person in one organisation. The clearance is the highest TLP label the member may
    receive: it caps every read, whatever the member's organisation is entitled to."""

    organisation = models.ForeignKey(
        Organisation,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="members",
        help_text="Empty only for a platform superuser, who then receives TLP:CLEAR and only "
        "what names them individually (TLP:RED).",
    )
    role = models.CharField(
        max_length=32,
        choices=Role.choices,
        default=Role.DESK_OFFICER,
        help_text="What the member may do: a value of `role` (docs/vocabularies.md).",
    )
    clearance = models.CharField(
        max_length=20,
        choices=TLP.choices,
        default=TLP.GREEN,
        help_text="The highest TLP label the member may receive: it caps every read.",
    )
    language = models.CharField(
        max_length=10,
        blank=True,
        default="",
        help_text="The portal's language the member chose (a code of the portal's languages); "
        "empty to follow the browser's preferred language.",
    )

    class Meta:
        ordering = ("username",)

    @property
    def is_secretariat_coordinator(self) -> bool:
        return (
            self.organisation is not None
            and self.organisation.is_secretariat
            and self.role == Role.COORDINATOR
        )


TOKEN_PREFIX = "dix_"  # noqa: S105 - a prefix that makes leaked tokens greppable, not a secret


def hash_token(raw: str) -> str:
    """Tokens are 256-bit random strings, so a plain SHA-256 is enough: there is nothing to
    brute-force that a slow hash would protect."""
    return hashlib.sha256(raw.encode()).hexdigest()


class ApiTokenQuerySet(models.QuerySet["ApiToken"]):
    def usable(self, now: datetime | None = None) -> "ApiTokenQuerySet":
        now = now or timezone.now()
        return self.filter(revoked_at__isnull=True, member__is_active=True).exclude(
            expires_at__lte=now
        )


class ApiToken(models.Model):
    """A member's named bearer token. Only its SHA-256 is stored; the clear value is shown
    once, when it is issued."""

    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="tokens")
    name = models.CharField(
        max_length=100, help_text="A name to recognise the token by, e.g. `inbox-sync`."
    )
    key_prefix = models.CharField(max_length=12, help_text="First characters, to recognise it.")
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now, help_text="When the token was issued.")
    expires_at = models.DateTimeField(
        null=True, blank=True, help_text="When the token stops working; null: it never expires."
    )
    revoked_at = models.DateTimeField(
        null=True, blank=True, help_text="When the token was revoked; null while it works."
    )
    last_used_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When the token was last used (to within minutes); null if never.",
    )

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        ordering = ("-created_at", "-id")

    def __str__(self) -> str:
        return f"{self.name} ({self.key_prefix}…)"

    @staticmethod
    def generate() -> str:
        return TOKEN_PREFIX + secrets.token_urlsafe(32)
