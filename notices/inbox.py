"""The inbox's validator, and the fast answer to "anything new?".

Desks poll `GET /api/v1/notices/` with `If-None-Match`. The ETag is a digest of what decides
the page — who asks (member, organisation, its country and sponsor, clearance), the query,
and the shared-data counter of `intel.changes` — so checking it needs the token's row and one
cache read, not a query of notices. `InboxNotModifiedMiddleware` answers the 304 before DRF
runs; anything else (no header, another ETag, a bad token) goes on to the view, which
computes the same ETag.

The token's row is kept per process (`TokenRows`) for as long as the shared-data counter does
not move: every write that can change whether a token is usable or what its row says (a
token, member or organisation saved or deleted) bumps the counter (`intel.signals`), so a
poll after a revocation, a deactivation or a lowered clearance looks the token up again.
Expiry needs no write, so it is checked against the kept `expires_at` on every request.
"""

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable
from datetime import datetime
from typing import NamedTuple

from django.http import HttpRequest, HttpResponse, HttpResponseNotModified
from django.utils import timezone

from intel import auth_limits, changes
from intel.models import ApiToken
from intel.models.network import hash_token

INBOX_PATH = "/api/v1/notices/"


def inbox_etag(
    *,
    member_id: int,
    organisation_id: int | None,
    country: str,
    sponsor_id: int | None,
    clearance: str,
    full_path: str,
    version: int | None = None,
) -> str:
    """`version`: the shared-data counter, when the caller has already read it."""
    key = "|".join(
        str(part)
        for part in (
            member_id,
            organisation_id,
            country,
            sponsor_id,
            clearance,
            full_path,
            changes.data_version() if version is None else version,
        )
    )
    return '"' + hashlib.sha256(key.encode()).hexdigest()[:24] + '"'


class TokenRow(NamedTuple):
    """What the inbox ETag needs to know about a usable token's member."""

    member_id: int
    organisation_id: int | None
    country: str
    sponsor_id: int | None
    clearance: str
    expires_at: datetime | None


def lookup_token_row(key_hash: str) -> TokenRow | None:
    """The row of a usable token (not revoked, not expired, member active), or None."""
    row = (
        ApiToken.objects.usable()
        .filter(key_hash=key_hash)
        .values_list(
            "member_id",
            "member__organisation_id",
            "member__organisation__country",
            "member__organisation__sponsor_id",
            "member__clearance",
            "expires_at",
        )
        .first()
    )
    if row is None:
        return None
    return TokenRow(row[0], row[1], row[2] or "", row[3], row[4], row[5])


class TokenRows:
    """Token hash → (its row, the shared-data counter when it was read), bounded, least
    recently used out first. Each process of the web server keeps its own: nothing here is
    shared, so a kept row is only ever trusted together with the counter's current value,
    read from the shared cache on every request."""

    def __init__(self, size: int = 4096) -> None:
        self.size = size
        self._rows: OrderedDict[str, tuple[TokenRow, int]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key_hash: str, version: int) -> TokenRow | None:
        """The kept row if it was read at this counter value and has not expired."""
        with self._lock:
            kept = self._rows.get(key_hash)
            if kept is None:
                return None
            if kept[1] != version:
                del self._rows[key_hash]
                return None
            self._rows.move_to_end(key_hash)
        row = kept[0]
        if row.expires_at is not None and row.expires_at <= timezone.now():
            return None
        return row

    def put(self, key_hash: str, version: int, row: TokenRow) -> None:
        with self._lock:
            self._rows[key_hash] = (row, version)
            self._rows.move_to_end(key_hash)
            while len(self._rows) > self.size:
                self._rows.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._rows.clear()


token_rows = TokenRows()


def usable_token_row(key_hash: str, version: int) -> TokenRow | None:
    """The token's row as of counter `version`, from this process's copy or the database.
    The caller reads `version` *before* this: a change that the database query misses
    commits after it, and bumps the counter after committing, so the row kept under
    `version` is never reused once that change is visible."""
    row = token_rows.get(key_hash, version)
    if row is None:
        row = lookup_token_row(key_hash)
        if row is not None:
            token_rows.put(key_hash, version, row)
    return row


class InboxNotModifiedMiddleware:
    """Answers an unchanged inbox poll with 304 without entering DRF. Only for bearer
    tokens; the token is checked exactly as `BearerTokenAuthentication` checks it (usable:
    not revoked, not expired, member active), and a client address locked by failed
    authentication is left to DRF, which refuses it (`intel.auth_limits`). Such a 304 is not
    counted by the rate limit: it costs less than the limit protects against."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method == "GET" and request.path == INBOX_PATH:
            sent = request.headers.get("If-None-Match")
            auth = request.headers.get("Authorization", "")
            if sent and auth[:7].lower() == "bearer " and len(auth) < 200:
                version = changes.data_version()  # before the row: see usable_token_row
                row = usable_token_row(hash_token(auth[7:].strip()), version)
                if row is not None and not auth_limits.locked_for(request):
                    etag = inbox_etag(
                        member_id=row.member_id,
                        organisation_id=row.organisation_id,
                        country=row.country,
                        sponsor_id=row.sponsor_id,
                        clearance=row.clearance,
                        full_path=request.get_full_path(),
                        version=version,
                    )
                    if sent.strip() == etag:
                        response = HttpResponseNotModified()
                        response["ETag"] = etag
                        response["Vary"] = "Authorization"
                        return response
        return self.get_response(request)
