"""`Authorization: Bearer <token>` against hashed, revocable, expiring member tokens."""

from datetime import timedelta

from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions
from rest_framework.request import Request

from intel import auth_limits
from intel.models import ApiToken, Member
from intel.models.network import hash_token

# Writing last_used_at on every request would turn each read into a write.
LAST_USED_RESOLUTION = timedelta(minutes=5)


HOW_TO = "send `Authorization: Bearer <token>`"
MALFORMED_BEARER = (
    f"Malformed Authorization header: {HOW_TO}, the word Bearer, one space and the token "
    "(`dix_…`), nothing else."
)


def wrong_scheme_message(scheme: bytes) -> str:
    """Why a header of another scheme is refused, and what to send instead."""
    name = scheme.decode("ascii", errors="replace")[:20]
    return f"The Authorization scheme {name!r} is not accepted here: {HOW_TO}."


class BearerTokenAuthentication(authentication.BaseAuthentication):
    """Looks the token up by its SHA-256; expired, revoked or inactive tokens are refused
    with the same message, so a client learns nothing about a token it does not hold."""

    keyword = "Bearer"

    def authenticate(self, request: Request) -> tuple[Member, ApiToken] | None:
        header = authentication.get_authorization_header(request).split()
        if not header:
            return None
        if header[0].lower() != self.keyword.lower().encode():
            # Another scheme (`Token …` from another API's habits, `Basic …`) would otherwise
            # fall through to "credentials were not provided", which hides the fix.
            raise exceptions.AuthenticationFailed(wrong_scheme_message(header[0]))
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(MALFORMED_BEARER)
        try:
            raw = header[1].decode()
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed("Invalid token.") from None
        return authenticate_token_limited(request, raw)

    def authenticate_header(self, request: Request) -> str:
        return f'{self.keyword} realm="dix"'


def authenticate_token_limited(request: Request, raw: str) -> tuple[Member, ApiToken]:
    """`authenticate_token` behind the failed-authentication limiter (`intel.auth_limits`):
    429 from a locked address, right token or not; a wrong token counts against the address."""
    auth_limits.check(request)
    try:
        return authenticate_token(raw)
    except exceptions.AuthenticationFailed:
        auth_limits.failure_record(request, credential="token", token=raw)
        raise


def authenticate_token(raw: str) -> tuple[Member, ApiToken]:
    """The member and token for a clear token value, or AuthenticationFailed."""
    token = (
        ApiToken.objects.usable()
        .select_related("member__organisation__sponsor")
        .filter(key_hash=hash_token(raw))
        .first()
    )
    if token is None:
        raise exceptions.AuthenticationFailed("Invalid, expired or revoked token.")
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.member, token


# drf-spectacular's extension registry hook (`__init_subclass__`) is unannotated.
class BearerTokenScheme(OpenApiAuthenticationExtension):  # type: ignore[no-untyped-call]
    target_class = BearerTokenAuthentication
    name = "bearerAuth"

    def get_security_definition(self, auto_schema: object) -> dict[str, str]:
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "A member's API token (`dix_…`), issued once by "
            "`POST /api/v1/tokens/` or `manage.py issue_token`.",
        }
