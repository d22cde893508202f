"""Limits repeated failed authentication, per client address and per account.

After `DIX_AUTH_FAILURE_LIMIT` failures within one `DIX_AUTH_FAILURE_WINDOW`-second window,
the address (or the account) is locked for a whole window: every credential it presents, the
right one included, is answered 429 with `Retry-After`. A success erases nothing, so a client
cannot clear the failures of another by signing in itself.

Every credential path counts against the same subjects:

- bearer tokens on `/api/v1/` and `/taxii2/` (`authenticate_token_limited`), and the
  inbox's 304 shortcut (`notices.inbox`), which leaves a locked address to DRF;
- passwords, wherever Django's `authenticate()` checks one: TAXII Basic, `/admin/login/`,
  `/api-auth/login/` (`LimitedModelBackend`, so a password check added later is limited
  too). The sign-in pages' 429 is made by `LockedOutMiddleware`; DRF answers its own.

The subjects:

- the client address (`intel.audit.client_address`, which believes `X-Forwarded-For` only
  from `DIX_TRUSTED_PROXIES`); IPv6 clients are counted by their /64, the block one host or
  site usually holds, so that walking through its addresses gains nothing;
- the account a Basic credential or a sign-in form names, whether or not that member exists
  (a lock that only real accounts got would tell which exist). A bearer token names no
  account and has no id part (256 random bits, looked up by hash): the address limits it.

Counters live in the `auth_limits` cache (Redis in production, shared by every process):
one counter per subject and window, incremented atomically, so parallel guesses are counted
as such. Attempts refused while locked are not counted and not recorded: each failure that
is counted, and each lock, is one audit event, at most `LIMIT` + 1 per subject and window.
"""

import datetime as dt
import hashlib
import ipaddress
import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib.auth.backends import ModelBackend
from django.core.cache import caches
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from rest_framework import exceptions

from intel import audit
from intel.models import ApiToken, Member
from intel.models.network import hash_token

CACHE_ALIAS = "auth_limits"
_PREFIX = "dix:auth"

# The limiter's time, in seconds since the epoch. Locks and windows are computed from it and
# never from the cache's expiry, which only reclaims space: tests move it to end a lock.
clock: Callable[[], float] = time.time


class AuthenticationLocked(exceptions.Throttled):
    """A credential presented from a locked address, or naming a locked account."""

    default_detail = (
        "Too many failed authentication attempts from this address or for this account."
    )
    extra_detail_singular = "Try again in {wait} second."
    extra_detail_plural = "Try again in {wait} seconds."
    default_code = "authentication_locked"
    wait: int  # whole seconds until the lock ends: `check` always gives it


def check(request: HttpRequest | Any, *, account: str | None = None) -> None:
    """Raise `AuthenticationLocked` while the request's address or `account` is locked."""
    wait = locked_for(request, account=account)
    if wait > 0:
        raise AuthenticationLocked(wait=wait)


def locked_for(request: HttpRequest | Any, *, account: str | None = None) -> float:
    """Seconds until the request's address and `account` are both unlocked; 0 if neither is."""
    keys = [_lock_key(kind, key) for kind, key in _subjects(request, account)]
    if not keys:
        return 0.0
    until = max((float(v) for v in caches[CACHE_ALIAS].get_many(keys).values()), default=0.0)
    return max(0.0, until - clock())


def failure_record(
    request: HttpRequest | Any,
    *,
    credential: str,
    account: str | None = None,
    token: str | None = None,
) -> None:
    """Count one failed authentication against the request's address and `account`, record
    it (`authentication.failed`), and lock each subject that reaches the limit
    (`authentication.locked`). `credential` says what was presented: `password` or `token`;
    `token`, the clear value of a failed token, lets the event name a known but revoked or
    expired one."""
    limit = settings.DIX_AUTH_FAILURE_LIMIT
    window = settings.DIX_AUTH_FAILURE_WINDOW
    cache = caches[CACHE_ALIAS]
    now = clock()
    reached = []
    for kind, key in _subjects(request, account):
        counter = f"{_PREFIX}:count:{kind}:{key}:{int(now // window)}"
        cache.add(counter, 0, timeout=2 * window)
        try:
            count = cache.incr(counter)
        except ValueError:  # expired between add and incr
            cache.add(counter, 1, timeout=2 * window)
            count = 1
        # Some backends (the file cache) reset the expiry on incr.
        cache.touch(counter, timeout=2 * window)
        if count == limit:  # incr hands each value out once: one lock, one event
            cache.set(_lock_key(kind, key), now + window, timeout=window + 60)
            reached.append((kind, key))

    django_request = getattr(request, "_request", request)
    member = _member_named(account)
    target, detail = _target(member, token)
    audit.record(
        action="authentication.failed",
        actor=None,
        request=django_request,
        **target,
        detail={"path": django_request.path, "credential": credential, **detail},
    )
    for kind, key in reached:
        audit.record(
            action="authentication.locked",
            actor=None,
            request=django_request,
            **(_target(member, None)[0] if kind == "account" else {}),
            detail={
                "scope": kind,
                "subject": key if kind == "address" else getattr(member, "username", ""),
                "failures": limit,
                "window_seconds": window,
                "locked_until": dt.datetime.fromtimestamp(now + window, dt.UTC).isoformat(),
            },
        )


def unlock(*, address: str | None = None, account: str | None = None) -> list[str]:
    """End the lock and forget the failures of an address or an account (both may be given),
    and record it (`authentication.unlocked`). The subjects that were locked."""
    cache = caches[CACHE_ALIAS]
    window = settings.DIX_AUTH_FAILURE_WINDOW
    current = int(clock() // window)
    subjects = _address_subjects(address) + _account_subjects(account)
    was_locked = []
    now = clock()
    for kind, key in subjects:
        until = cache.get(_lock_key(kind, key))
        if until is not None and float(until) > now:
            was_locked.append(kind)
        cache.delete_many(
            [_lock_key(kind, key)]
            + [f"{_PREFIX}:count:{kind}:{key}:{w}" for w in (current - 1, current)]
        )
    member = _member_named(account)
    audit.record(
        action="authentication.unlocked",
        actor=None,
        **(_target(member, None)[0]),
        detail={
            "address": _address_subjects(address)[0][1] if address else "",
            "account": getattr(member, "username", "") if account else "",
            "was_locked": was_locked,
        },
    )
    return was_locked


class LimitedModelBackend(ModelBackend):
    """Django's password check behind the limiter: a locked address or account is refused
    before the password is looked at, and a wrong password is counted. A request-less call
    (a management command) is not limited: there is no client to limit."""

    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> Member | None:
        if request is None or username is None or password is None:
            return super().authenticate(request, username, password, **kwargs)
        check(request, account=username)
        user = super().authenticate(request, username, password, **kwargs)
        if user is None:
            failure_record(request, credential="password", account=username)
        return user


class LockedOutMiddleware:
    """Answers a locked attempt on a sign-in page (`/admin/login/`, `/api-auth/login/`) with
    a 429 page and `Retry-After`: Django's login views let the backend's refusal through.
    The API and TAXII views answer theirs in their own error format."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, AuthenticationLocked):
            return None
        response = render(
            request,
            "intel/authentication_locked.html",
            {"detail": exception.detail, "wait": exception.wait},
            status=429,
        )
        response["Retry-After"] = str(exception.wait)
        return response


# --- subjects --------------------------------------------------------------------------------


def _subjects(request: HttpRequest | Any, account: str | None) -> list[tuple[str, str]]:
    return _address_subjects(audit.client_address(request)) + _account_subjects(account)


def _address_subjects(address: str | None) -> list[tuple[str, str]]:
    if not address:
        return []
    ip = ipaddress.ip_address(address)
    if ip.version == 6:
        return [("address", str(ipaddress.ip_network(f"{ip}/64", strict=False)))]
    return [("address", str(ip))]


def _account_subjects(account: str | None) -> list[tuple[str, str]]:
    """A hash keeps any text a client sends as a username out of the cache keys."""
    if not account:
        return []
    return [("account", hashlib.sha256(account.casefold().encode()).hexdigest())]


def _lock_key(kind: str, key: str) -> str:
    return f"{_PREFIX}:lock:{kind}:{key}"


# --- what the audit events name --------------------------------------------------------------


def _member_named(account: str | None) -> Member | None:
    if not account:
        return None
    return Member.objects.filter(username=account).first()


def _target(member: Member | None, token: str | None) -> tuple[dict[str, Any], dict[str, Any]]:
    """The event's object and extra detail: a known token (revoked, expired, or of a
    deactivated member: a client still using it is worth following up), else the member
    named. A name that is no member's is not kept: it may be a password typed in the wrong
    field."""
    if token is not None:
        known = ApiToken.objects.select_related("member").filter(key_hash=hash_token(token))
        found = known.first()
        if found is not None:
            return {"object_type": "token", "object_id": found.pk}, {
                "member": found.member.username,
                "key_prefix": found.key_prefix,
                "token_state": _token_state(found),
            }
    if member is not None:
        return {"object_type": "member", "object_id": member.pk}, {"member": member.username}
    return {}, {}


def _token_state(token: ApiToken) -> str:
    if token.revoked_at is not None:
        return "revoked"
    if not token.member.is_active:
        return "member deactivated"
    return "expired"
