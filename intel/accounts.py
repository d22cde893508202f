"""Every write to the network: organisations, members and their API tokens, each with its
audit event, and the entitlement fields the trail records."""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from core.errors import FieldInvalid, Forbidden
from intel import audit, policies, write_checks
from intel.models import TLP, ApiToken, Authenticator, Member, Organisation
from intel.models.network import hash_token

# The fields that decide who sees what (DESIGN.md §4): changed only by a platform superuser
# (the admin shows them read-only to other staff) or an operator's command, and every change
# of one is in the audit trail with its old and new value. An organisation's access policy
# (who decides access requests for what it owns, `access.policies`) is also set by its own
# coordinators (`organisation_set_access_policy`), never by the secretariat it may delegate to.
ACCESS_POLICY = ("analysts_decide_access", "delegates_access_to_secretariat")
ORGANISATION_ENTITLEMENTS = ("kind", "sponsor", "country", *ACCESS_POLICY)
MEMBER_ENTITLEMENTS = ("organisation", "role", "clearance", "is_active", "is_staff", "is_superuser")


def entitlements_of(obj: Organisation | Member) -> dict[str, Any]:
    """An organisation's or a member's entitlement fields as the trail records them
    (organisations by slug)."""
    names = ORGANISATION_ENTITLEMENTS if isinstance(obj, Organisation) else MEMBER_ENTITLEMENTS
    values: dict[str, Any] = {}
    for name in names:
        value = getattr(obj, name)
        values[name] = value.slug if isinstance(value, Organisation) else value
    return values


def entitlement_changes(before: Mapping[str, Any], obj: Organisation | Member) -> dict[str, Any]:
    """`{field: {"old", "new"}}` for each entitlement field that differs from `before`."""
    after = entitlements_of(obj)
    return {
        name: {"old": before.get(name), "new": value}
        for name, value in after.items()
        if before.get(name) != value
    }


def organisation_create(
    *,
    slug: str,
    name: str,
    kind: str,
    country: str = "",
    sponsor: Organisation | None = None,
    access_policy: Mapping[str, bool] | None = None,
    actor: Member | None = None,
) -> Organisation:
    """Create an organisation after the model's own checks (country, sponsor rules).
    `access_policy`: `ACCESS_POLICY` fields to set (default: all false). `actor`: who did
    it; None for the command line."""
    policy = {name: bool((access_policy or {}).get(name, False)) for name in ACCESS_POLICY}
    org = Organisation(slug=slug, name=name, kind=kind, country=country, sponsor=sponsor, **policy)
    write_checks.full_clean(org)
    with transaction.atomic():
        org.save()
        audit.record(
            action="organisation.created",
            actor=actor,
            object_type="organisation",
            object_id=org.pk,
            detail={"slug": org.slug, **entitlements_of(org)},
        )
    return org


def member_create(
    *,
    organisation: Organisation | None,
    username: str,
    role: str,
    clearance: str,
    email: str = "",
    password: str | None = None,
    is_staff: bool = False,
    actor: Member | None = None,
) -> Member:
    """Create a member; without a password the member signs in with API tokens only.
    `actor`: who did it; None for the command line."""
    member = Member(
        organisation=organisation,
        username=username,
        email=email,
        role=role,
        clearance=clearance,
        is_staff=is_staff,
    )
    if password:
        try:
            validate_password(password, member)
        except ValidationError as exc:
            raise FieldInvalid("password", " ".join(exc.messages)) from exc
        member.set_password(password)
    else:
        member.set_unusable_password()
    write_checks.full_clean(member, exclude=["password"])
    with transaction.atomic():
        member.save()
        audit.record(
            action="member.created",
            actor=actor,
            object_type="member",
            object_id=member.pk,
            detail={"username": member.username, **entitlements_of(member)},
        )
    return member


@dataclass(frozen=True)
class IssuedToken:
    token: ApiToken
    secret: str  # the only time the clear value exists outside the client


def token_issue(
    *,
    member: Member,
    name: str,
    expires_at: datetime | None = None,
    known_secret: str | None = None,
    not_after: datetime | None = None,
    actor: Member | None = None,
) -> IssuedToken:
    """Issue a bearer token; only its hash is stored. `known_secret` is for the demo loader's
    published demo tokens only; the API never takes it. `not_after`: a token issued with an
    expiring token expires no later than it (a short-lived token cannot mint a permanent
    one). `actor`: who issued it (the member, through the API); None for the command line."""
    if expires_at is not None and expires_at <= timezone.now():
        raise FieldInvalid("expires_at", "The expiry must be in the future.")
    if not_after is not None and (expires_at is None or expires_at > not_after):
        expires_at = not_after
    secret = known_secret or ApiToken.generate()
    with transaction.atomic():
        token = ApiToken.objects.create(
            member=member,
            name=name,
            key_prefix=secret[:10],
            key_hash=hash_token(secret),
            expires_at=expires_at,
        )
        audit.record(
            action="token.issued",
            actor=actor,
            object_type="token",
            object_id=token.pk,
            detail=_token_detail(token),
        )
    return IssuedToken(token=token, secret=secret)


def token_revoke(*, token: ApiToken, actor: Member | None = None) -> ApiToken:
    """Revoke a token for good; revoking twice is harmless (and recorded once)."""
    if token.revoked_at is None:
        with transaction.atomic():
            token.revoked_at = timezone.now()
            token.save(update_fields=["revoked_at"])
            audit.record(
                action="token.revoked",
                actor=actor,
                object_type="token",
                object_id=token.pk,
                detail=_token_detail(token),
            )
    return token


def second_factor_reset(*, member: Member, actor: Member | None = None) -> None:
    """Remove the member's authenticator app (when its key can no longer be read, or the
    phone and the recovery codes are both lost): at the next sign-in, after the password,
    the member enrols a new one. The recovery codes stay as they are."""
    with transaction.atomic():
        Authenticator.objects.filter(user=member).delete()
        audit.record(
            action="member.second_factor_reset",
            actor=actor,
            object_type="member",
            object_id=member.pk,
            detail={"username": member.username},
        )


def _token_detail(token: ApiToken) -> dict[str, Any]:
    return {
        "member": token.member.username,
        "member_id": token.member_id,
        "name": token.name,
        "key_prefix": token.key_prefix,
        "expires_at": token.expires_at,
    }


def organisation_set_access_policy(
    *, organisation_id: int, actor: Member, changes: Mapping[str, bool], http_request: Any = None
) -> Organisation:
    """Set who decides access requests for what the organisation owns (`ACCESS_POLICY`
    fields): its own coordinators' call, audited with old and new values."""
    with transaction.atomic():
        org = Organisation.objects.select_for_update().get(pk=organisation_id)
        if not policies.may_set_access_policy(actor, org):
            raise Forbidden(f"Only {org.slug}'s coordinators set who decides its access requests.")
        before = entitlements_of(org)
        for name, value in changes.items():
            if name not in ACCESS_POLICY:
                raise FieldInvalid(name, "Not an access policy setting.")
            setattr(org, name, value)
        org.save(update_fields=[*changes])
        changed = entitlement_changes(before, org)
        if changed:
            audit.record(
                action="organisation.access_policy_changed",
                actor=actor,
                object_type="organisation",
                object_id=org.pk,
                request=http_request,
                detail={"slug": org.slug, "entitlements": changed},
            )
    return org


def needs_second_factor(clearance: str) -> bool:
    """Every member who may receive more than TLP:GREEN signs in to the portal with a second
    factor (docs/portal.md)."""
    return TLP.rank(clearance) > TLP.rank(TLP.GREEN)
