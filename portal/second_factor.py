"""The portal's second factor: who needs one, enrolment of an authenticator app (TOTP, its key
encrypted at rest: `intel.models.Authenticator`) and the recovery codes that replace it once
each."""

import hashlib
import hmac
import secrets
from base64 import b32encode

import segno
from django.conf import settings
from django.db import transaction
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken

from core import secrets_at_rest
from intel import accounts
from intel.models import Authenticator, Member

RECOVERY_CODES = 10
AUTHENTICATOR = "authenticator"
RECOVERY = "recovery codes"


def needs_second_factor(member: Member) -> bool:
    """The rule of `intel.accounts.needs_second_factor`, for a member."""
    return accounts.needs_second_factor(member.clearance)


def confirmed_authenticator(member: Member) -> Authenticator | None:
    return Authenticator.objects.filter(user=member, confirmed=True).first()


def pending_authenticator(member: Member) -> Authenticator:
    """The member's unconfirmed authenticator, made on first call: the QR code stays the
    same while the member is scanning it, across reloads."""
    device: Authenticator | None
    device = Authenticator.objects.filter(user=member, confirmed=False).first()
    if device is not None and not _readable(device):
        # Made before DIX_ENCRYPTION_KEY changed: nobody can scan it any more.
        device.delete()
        device = None
    if device is None:
        device = Authenticator.objects.create(user=member, name=AUTHENTICATOR, confirmed=False)
    return device


def _readable(device: Authenticator) -> bool:
    try:
        return bool(device.bin_key)
    except secrets_at_rest.InvalidToken:
        return False


def secret_of(device: Authenticator) -> str:
    """The key as an authenticator app asks for it when typed by hand (base32)."""
    return b32encode(device.bin_key).decode().rstrip("=")


def qr_svg(device: Authenticator) -> str:
    """The enrolment QR code as inline SVG (no image request, nothing sent elsewhere)."""
    return segno.make(device.config_url, error="m").svg_inline(
        scale=5, dark="#111", light="#fff", title="otpauth"
    )


@transaction.atomic
def confirm(device: Authenticator, token: str) -> list[str] | None:
    """Confirm `device` with a first code from the app; the new recovery codes, or None if
    the code is wrong. Any earlier authenticator of the member is replaced."""
    if not device.verify_token(token):
        return None
    Authenticator.objects.filter(user=device.user, confirmed=True).exclude(pk=device.pk).delete()
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    return new_recovery_codes(device.user)


@transaction.atomic
def new_recovery_codes(member: Member) -> list[str]:
    """Ten fresh codes (each works once); earlier codes stop working. Shown once: the
    database keeps only a keyed digest of each."""
    device, _ = StaticDevice.objects.get_or_create(user=member, name=RECOVERY)
    device.token_set.all().delete()
    codes = [_recovery_code() for _ in range(RECOVERY_CODES)]
    StaticToken.objects.bulk_create(
        StaticToken(device=device, token=_digest(code)) for code in codes
    )
    return codes


def _recovery_code() -> str:
    """80 random bits as four groups of base32 letters, easy to copy from paper."""
    letters = b32encode(secrets.token_bytes(10)).decode().lower()
    return "-".join(letters[i : i + 4] for i in range(0, 16, 4))


def _digest(code: str) -> str:
    """What is stored of a recovery code (django-otp's token column holds 16 characters)."""
    normal = code.strip().lower().replace("-", "").replace(" ", "")
    key = settings.SECRET_KEY.encode()
    return hmac.new(key, normal.encode(), hashlib.sha256).hexdigest()[:16]


@transaction.atomic
def verify(member: Member, code: str) -> Authenticator | StaticDevice | None:
    """The device that accepts `code` (an authenticator code, or a recovery code, which is
    then used up), or None. The authenticator's row is locked while its code is checked, so
    that two requests cannot both use one code."""
    code = code.strip().replace(" ", "")
    authenticators = Authenticator.objects.select_for_update()
    totp: Authenticator | None = authenticators.filter(user=member, confirmed=True).first()
    if totp is not None and code.isdigit() and totp.verify_token(code):
        return totp
    recovery: StaticDevice
    for recovery in StaticDevice.objects.filter(user=member, confirmed=True):
        if recovery.verify_token(_digest(code)):
            return recovery
    return None
