"""A member's first password (or a reset), set through a one-time link that an operator hands
over: never a password sent in clear.

The link's token is Django's password-reset token under a salt of its own: it stops working
once the password is set (the token covers the password's hash) or after
`DIX_INVITE_DAYS` days.
"""

from django.conf import settings
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.urls import reverse
from django.utils.encoding import force_bytes, force_str
from django.utils.http import urlsafe_base64_decode, urlsafe_base64_encode

from intel import audit
from intel.models import Member


class InvitationTokens(PasswordResetTokenGenerator):
    key_salt = "dix.portal.invitation"

    def __init__(self) -> None:
        super().__init__()
        self.timeout = settings.DIX_INVITE_DAYS * 24 * 3600


tokens = InvitationTokens()


def invitation_link(member: Member, *, actor: Member | None = None) -> str:
    """The one-time link for `member`; recorded in the audit trail (not the link itself)."""
    uid = urlsafe_base64_encode(force_bytes(member.pk))
    path = reverse("portal:invitation", kwargs={"uid": uid, "token": tokens.make_token(member)})
    audit.record(
        action="member.invited",
        actor=actor,
        object_type="member",
        object_id=member.pk,
        detail={"username": member.username, "valid_days": settings.DIX_INVITE_DAYS},
    )
    return settings.DIX_PORTAL_URL.rstrip("/") + path


def member_of_invitation(uid: str, token: str) -> Member | None:
    """The member a still valid link names, or None."""
    try:
        pk = int(force_str(urlsafe_base64_decode(uid)))
    except (ValueError, TypeError, OverflowError):
        return None
    member = Member.objects.filter(pk=pk, is_active=True).first()
    if member is None or not tokens.check_token(member, token):
        return None
    return member
