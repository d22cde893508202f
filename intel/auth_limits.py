"""Limits repeated failed authentication, per client address and per account.

After `DIX_AUTH_FAILURE_LIMIT` failures within any `DIX_AUTH_FAILURE_WINDOW` seconds (a
window that slides with the clock), the address (or the account) is locked for a window:
every credential it presents, the right one included, is answered 429 with `Retry-After`.
A success erases nothing, so a client cannot clear the failures of another by signing in
itself.

Every credential path counts against the same subjects:

- bearer tokens on `/api/v1/` and `/taxii2/` (`authenticate_token_limited`), and the
  inbox's 304 shortcut (`notices.inbox`), which leaves a locked address to DRF;
- passwords, wherever Django's `authenticate()` checks one: TAXII Basic and the portal's
  sign-in page `/login/` (`LimitedModelBackend`, so a password check added later is limited
  too). The sign-in pages' 429 is made by `LockedOutMiddleware`; DRF answers its own.

The subjects:

- the client address (`intel.audit.client_address`, which believes `X-Forwarded-For` only
  from `DIX_TRUSTED_PROXIES`); IPv6 clients are counted by their /64, the block one host or
  site usually holds, so that walking through its addresses gains nothing. Clients whose
  address is not known (behind a Unix socket) are one address, `unknown`;
- the account a Basic credential or a sign-in form names, whether or not that member exists
  (a lock that only real accounts got would tell which exist). Its lock refuses password
  checks only: a member's token under Basic is accepted while the account is locked, so that
  nobody locks a member's pulls by knowing their name. A token (256 random bits, looked up by
  hash, no id part) is limited by the address.

Password guesses in flight together are held to the limit (`password_check`); token
failures are counted first and judged after, so that one over the limit is answered 429.
Counters live in the `auth_limits` cache (Redis in production, shared by every process).
Attempts refused are not recorded: each failure that is counted within the limit, and each
lock, is one audit event, at most `LIMIT` + 1 per subject and window.
"""

import datetime as dt
import hashlib
import ipaddress
import math
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from typing import Any

from django.conf import settings
from django.contrib.auth.backends import ModelBackend
from django.core.cache import caches
from django.core.cache.backends.base import BaseCache
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from core.errors import AuthenticationLocked
from intel import audit
from intel.models import ApiToken, Member
from intel.models.network import hash_token

CACHE_ALIAS = "auth_limits"
_PREFIX = "dix:auth"
# The subject of clients whose address is not known (`_subjects`).
UNKNOWN_ADDRESS = "unknown"
# How long a password check in flight holds its place at most (`password_check`).
_CHECK_SECONDS = 120

# The limiter's time, in seconds since the epoch. Locks and windows are computed from it and
# never from the cache's expiry, which only reclaims space: tests move it to end a lock.
clock: Callable[[], float] = time.time


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
    expired one.

    The failure is counted first and judged after: one that finds its subject already at the
    limit (it was checked while others, in flight with it, locked the subject) is neither
    recorded nor answered 401, but raises `AuthenticationLocked`."""
    limit = settings.DIX_AUTH_FAILURE_LIMIT
    window = settings.DIX_AUTH_FAILURE_WINDOW
    cache = caches[CACHE_ALIAS]
    now = clock()
    reached, over = [], []
    for kind, key in _subjects(request, account):
        counted = _failure_count(cache, kind, key, now)
        if counted > limit:
            over.append((kind, key))
        elif counted == limit and _lock(cache, kind, key, now):
            reached.append((kind, key))

    django_request = getattr(request, "_request", request)
    member = _member_named(account)
    if not over:
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
    if over:
        raise AuthenticationLocked(wait=_wait(request, account))


@contextmanager
def password_check(request: HttpRequest | Any, *, account: str) -> Iterator[None]:
    """Hold one of the `LIMIT` places of the request's address and `account` while a password
    is checked; refuse (`AuthenticationLocked`) when either is locked or has no place left.

    A password can be guessed, so the limit must hold however many guesses arrive together:
    counting a failure only once its check is over would let every guess in flight through a
    limit none of them has yet reached. Failures within the window and checks in flight share
    the places; a check gives its place back when it ends, a failed one after it is counted. A check in flight is counted in
    the minute it began and the next: one whose process died is forgotten after that."""
    check(request, account=account)
    limit = settings.DIX_AUTH_FAILURE_LIMIT
    cache = caches[CACHE_ALIAS]
    now = clock()
    held: list[str] = []
    try:
        for kind, key in _subjects(request, account):
            minute = int(now // 60)
            counter = f"{_PREFIX}:checking:{kind}:{key}:{minute}"
            in_flight = _incr(cache, counter, timeout=_CHECK_SECONDS)
            held.append(counter)
            in_flight += int(cache.get(f"{_PREFIX}:checking:{kind}:{key}:{minute - 1}") or 0)
            if _failures_within(cache, kind, key, now) + in_flight > limit:
                raise AuthenticationLocked(wait=_wait(request, account))
        yield
    finally:
        for counter in held:
            with suppress(ValueError):  # already forgotten
                cache.decr(counter)


def unlock(*, address: str | None = None, account: str | None = None) -> list[str]:
    """End the lock and forget the failures of an address or an account (both may be given),
    and record it (`authentication.unlocked`). The subjects that were locked."""
    cache = caches[CACHE_ALIAS]
    subjects = _address_subjects(address) + _account_subjects(account)
    was_locked = []
    now = clock()
    for kind, key in subjects:
        until = cache.get(_lock_key(kind, key))
        if until is not None and float(until) > now:
            was_locked.append(kind)
        # Numbering starts again from 1: the times kept under the old numbers are read
        # only once new failures have written over them.
        cache.delete_many([_lock_key(kind, key), _failures_key(kind, key)])
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
    """Django's password check behind the limiter (`password_check`): a locked address or
    account, or one whose places are all taken, is refused before the password is looked at,
    and a wrong password is counted. A request-less call
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
        with password_check(request, account=username):
            user = super().authenticate(request, username, password, **kwargs)
            if user is None:
                failure_record(request, credential="password", account=username)
        return user


class LockedOutMiddleware:
    """Answers a locked attempt on the sign-in page (`/login/`) with
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
    """A client whose address is not known (the peer of a Unix socket, with no trusted
    `X-Forwarded-For`) is counted as the one address `unknown`: no client escapes the
    limit, or the audit trail's bound on failures, by coming without an address."""
    address = audit.client_address(request) or UNKNOWN_ADDRESS
    return _address_subjects(address) + _account_subjects(account)


def _address_subjects(address: str | None) -> list[tuple[str, str]]:
    if not address:
        return []
    if address == UNKNOWN_ADDRESS:
        return [("address", UNKNOWN_ADDRESS)]
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


# --- counting ----------------------------------------------------------------------------------
#
# A subject's failures are numbered (an atomic `incr`) and the time of each is kept under its
# number. Whether the limit is reached is read from the times of the last LIMIT + 1: a window
# that slides with the clock, so failures either side of a round time are counted together.
# Only `add`, `incr`, `get`, `set` and `delete` are used, atomic where it matters on Redis and
# available on every Django cache (the file cache and locmem in development and tests).


def _failures_key(kind: str, key: str) -> str:
    return f"{_PREFIX}:failures:{kind}:{key}"


def _failure_count(cache: BaseCache, kind: str, key: str, now: float) -> int:
    """Count one failure of the subject; how many fall within the window, this one included
    (at most LIMIT + 1). `incr` hands each number out once, so failures counted together
    each see a different count."""
    sequence = _failures_key(kind, key)
    keep = settings.DIX_AUTH_FAILURE_WINDOW + 60
    number = _incr(cache, sequence, timeout=keep)
    cache.set(f"{sequence}:{number}", now, timeout=keep)
    return _failures_within(cache, kind, key, now, last=number)


def _failures_within(
    cache: BaseCache, kind: str, key: str, now: float, *, last: int | None = None
) -> int:
    """How many of the subject's failures, up to the one numbered `last` (the latest if not
    given), fall within the window that ends now; at most LIMIT + 1 are read."""
    sequence = _failures_key(kind, key)
    if last is None:
        last = int(cache.get(sequence) or 0)
    limit = settings.DIX_AUTH_FAILURE_LIMIT
    since = now - settings.DIX_AUTH_FAILURE_WINDOW
    numbers = range(max(1, last - limit), last + 1)
    times = cache.get_many([f"{sequence}:{n}" for n in numbers]).values()
    return sum(1 for at in times if float(at) > since)


def _lock(cache: BaseCache, kind: str, key: str, now: float) -> bool:
    """Lock the subject for a window from now. False when it is locked already (by a
    failure counted together with this one): one lock, one event."""
    window = settings.DIX_AUTH_FAILURE_WINDOW
    if cache.add(_lock_key(kind, key), now + window, timeout=window):
        return True
    until = cache.get(_lock_key(kind, key))
    if until is not None and float(until) > now:
        return False
    # A lock over by this clock that the cache, expiring by its own, still holds.
    cache.set(_lock_key(kind, key), now + window, timeout=window)
    return True


def _incr(cache: BaseCache, counter: str, *, timeout: int) -> int:
    cache.add(counter, 0, timeout=timeout)
    try:
        value = int(cache.incr(counter))
    except ValueError:  # expired between add and incr
        cache.add(counter, 1, timeout=timeout)
        value = 1
    # Some backends (the file cache) reset the expiry on incr.
    cache.touch(counter, timeout=timeout)
    return value


def _wait(request: HttpRequest | Any, account: str | None) -> int:
    """Retry-After for a refusal: the lock's end, or a second when the places are taken by
    checks still in flight, which end within moments."""
    return max(1, math.ceil(locked_for(request, account=account)))


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
