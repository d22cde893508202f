"""A member's authenticator app (TOTP, RFC 6238) as a django-otp device whose key is
encrypted at rest.

django-otp's own `TOTPDevice` keeps its key in clear (a hex column) and a proxy model cannot
add a column, so DIX defines its device the way django-otp documents for plugins: a
`Device` with `ThrottlingMixin` (failed codes wait longer and longer) and `TimestampMixin`,
computing codes with `django_otp.oath.TOTP`. Everything django-otp does with a device
(`django_otp.login`, the middleware's `is_verified`) works with it unchanged.
"""

import logging
import time
from base64 import b32encode
from binascii import unhexlify
from typing import Any
from urllib.parse import quote, urlencode

from django.conf import settings
from django.db import models
from django_otp.models import Device, ThrottlingMixin, TimestampMixin
from django_otp.oath import TOTP
from django_otp.util import random_hex

from core import secrets_at_rest

log = logging.getLogger(__name__)

KEY_BYTES = 20  # what authenticator apps expect of an HMAC-SHA1 key


def new_key_encrypted() -> str:
    """A fresh random key, encrypted: the default of `Authenticator.key_encrypted`."""
    return secrets_at_rest.encrypt(random_hex(KEY_BYTES))


class Authenticator(TimestampMixin, ThrottlingMixin, Device):
    """A member's authenticator app: the shared key (encrypted with `DIX_ENCRYPTION_KEY`) and
    the state of its codes. Unconfirmed while the member is enrolling it; a member has at most
    one confirmed authenticator (the portal's `second_factor.confirm`)."""

    key_encrypted = models.TextField(
        default=new_key_encrypted,
        help_text="The shared key (hex), encrypted with Fernet under DIX_ENCRYPTION_KEY "
        "(core.secrets_at_rest); never stored in clear.",
    )
    step = models.PositiveSmallIntegerField(default=30, help_text="The time step in seconds.")
    t0 = models.BigIntegerField(
        default=0, help_text="The Unix time at which to begin counting steps."
    )
    digits = models.PositiveSmallIntegerField(
        choices=[(6, 6), (8, 8)],
        default=6,
        help_text="The number of digits to expect in a code.",
    )
    tolerance = models.PositiveSmallIntegerField(
        default=1, help_text="The number of time steps in the past or future to allow."
    )
    drift = models.SmallIntegerField(
        default=0,
        help_text="The number of time steps the member's app is known to deviate from our clock.",
    )
    last_t = models.BigIntegerField(
        default=-1,
        help_text="The time step of the latest accepted code: a code is accepted once, and "
        "only a later one after it.",
    )

    class Meta(Device.Meta):
        verbose_name = "authenticator"

    @property
    def bin_key(self) -> bytes:
        """The key, decrypted; `secrets_at_rest.InvalidToken` if `DIX_ENCRYPTION_KEY` changed."""
        return unhexlify(secrets_at_rest.decrypt(self.key_encrypted))

    def set_key(self, key: bytes) -> None:
        """Use `key` (raw bytes) from now on; saved with the device."""
        self.key_encrypted = secrets_at_rest.encrypt(key.hex())

    def verify_token(self, token: Any) -> bool:
        """Whether `token` is the app's code now (within `tolerance` steps) and later than the
        last one accepted. A wrong code counts as a failure: the next try waits longer."""
        allowed, _ = self.verify_is_allowed()
        if not allowed:
            return False
        try:
            key = self.bin_key
        except secrets_at_rest.InvalidToken:
            # Not the member's fault and not a guess: refuse without counting a failure.
            log.error(
                "authenticator key unreadable (DIX_ENCRYPTION_KEY changed?)",
                extra={"member": self.user_id, "authenticator": self.pk},
            )
            return False
        totp = TOTP(key, self.step, self.t0, self.digits, self.drift)
        totp.time = time.time()
        try:
            verified = totp.verify(int(token), self.tolerance, self.last_t + 1)
        except (TypeError, ValueError):
            verified = False
        if not verified:
            self.throttle_increment(commit=True)
            return False
        self.last_t = totp.t()
        if getattr(settings, "OTP_TOTP_SYNC", True):
            self.drift = totp.drift
        self.throttle_reset(commit=False)
        self.set_last_used_timestamp(commit=False)
        self.save()
        return True

    def get_throttle_factor(self) -> int:
        return int(getattr(settings, "OTP_TOTP_THROTTLE_FACTOR", 1))

    @property
    def config_url(self) -> str:
        """The `otpauth://` URL an authenticator app reads from the enrolment QR code
        (Google's Key Uri Format), with `OTP_TOTP_ISSUER` as the issuer."""
        label = str(self.user.get_username())
        params = {
            "secret": b32encode(self.bin_key).decode().rstrip("="),
            "algorithm": "SHA1",
            "digits": self.digits,
            "period": self.step,
        }
        issuer = str(getattr(settings, "OTP_TOTP_ISSUER", "") or "").replace(":", "")
        if issuer:
            label = f"{issuer}:{label}"
            params["issuer"] = issuer
        return f"otpauth://totp/{quote(label)}?{urlencode(params, quote_via=quote)}"
