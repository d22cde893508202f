"""Who is asking: HTTP Basic (TAXII 2.1 §1.6.9 SHOULD), or a bearer token.

- `Authorization: Basic` with the member's username and, as password, one of the member's API
  tokens (what MISP, OpenCTI and taxii2-client are configured with) or the member's own
  password when the member has one;
- `Authorization: Bearer <token>`, or `Token <token>` (taxii2-client's `TokenAuth`, OpenCTI's
  connector), exactly as the REST API.

Every failure gets the same answer, so a client learns nothing about which part was wrong.
Repeated failures lock the client address and the account named (`intel.auth_limits`): 429.
A locked account refuses its password, not its tokens: only the address's lock refuses those.
"""

import base64
import binascii

from django.contrib.auth import authenticate
from rest_framework import authentication, exceptions
from rest_framework.request import Request

from core.errors import AuthenticationLocked
from intel import auth_limits
from intel.api.auth import authenticate_token, authenticate_token_limited
from intel.models import ApiToken, Member
from intel.models.network import TOKEN_PREFIX

REALM = "DIX TAXII"
FAILED = "Invalid credentials, or an expired or revoked token."


class TaxiiAuthentication(authentication.BaseAuthentication):
    def authenticate(self, request: Request) -> tuple[Member, ApiToken | None] | None:
        header = authentication.get_authorization_header(request).split()
        if not header:
            return None
        scheme = header[0].lower()
        if scheme not in (b"basic", b"bearer", b"token"):
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed("Malformed Authorization header.")
        try:
            value = header[1].decode("ascii")
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed(FAILED) from None
        if scheme == b"basic":
            return self._basic(request, value)
        return authenticate_token_limited(request, value)

    def _basic(self, request: Request, value: str) -> tuple[Member, ApiToken | None]:
        try:
            decoded = base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            raise exceptions.AuthenticationFailed("Malformed Basic credentials.") from None
        try:
            text = decoded.decode("utf-8")
        except UnicodeDecodeError:
            text = decoded.decode("latin-1")
        username, colon, secret = text.partition(":")
        if not colon or not username or not secret:
            raise exceptions.AuthenticationFailed("Malformed Basic credentials.")
        if secret.startswith(TOKEN_PREFIX):
            # A token is not a password: the account's lock, which guards the password check,
            # does not refuse it, or anyone who knows a member's name could stop their
            # pulls. The address limits tokens, as it does on every other scheme.
            auth_limits.check(request)
            unusable: str | None = None  # names a revoked or expired token in the trail
            try:
                member, token = authenticate_token(secret)
            except exceptions.AuthenticationFailed:
                unusable = secret  # or a password that happens to start like a token
            else:
                # The name as the account's lock spells it (`auth_limits._account_subjects`).
                if member.username.casefold() == username.casefold():
                    return member, token
                # Another member's token is no password of this one's either: the password
                # check below refuses it and counts the failure like any other.
            try:
                return self._password(request, username, secret)
            except AuthenticationLocked:
                # The token was looked up before the account's lock refused the password
                # check: count it against the address all the same, or a locked name would
                # be a way to try tokens without limit.
                auth_limits.failure_record(request, credential="token", token=unusable)
                raise
        return self._password(request, username, secret)

    def _password(self, request: Request, username: str, secret: str) -> tuple[Member, None]:
        # Django's backends: the password hash check, inactive members refused, failures
        # limited per address and account.
        user = authenticate(request._request, username=username, password=secret)
        if not isinstance(user, Member):
            raise exceptions.AuthenticationFailed(FAILED)
        return user, None

    def authenticate_header(self, request: Request) -> str:
        # Both challenges in one header field (RFC 9110 §11.6.1): Basic first, as TAXII asks.
        return f'Basic realm="{REALM}", charset="UTF-8", Bearer realm="{REALM}"'
