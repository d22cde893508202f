"""The inbox's validator, and the fast answer to "anything new?".

Desks poll `GET /api/v1/notices/` with `If-None-Match`. The ETag is a digest of what decides
the page — who asks (member, organisation, its country and sponsor, clearance), the query,
and the shared-data counter of `intel.changes` — so checking it needs one indexed query for
the token and one cache read, not a query of notices. `InboxNotModifiedMiddleware` answers
the 304 before DRF runs; anything else (no header, another ETag, a bad token) goes on to the
view, which computes the same ETag.
"""

import hashlib
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, HttpResponseNotModified

from intel import changes
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
) -> str:
    key = "|".join(
        str(part)
        for part in (
            member_id,
            organisation_id,
            country,
            sponsor_id,
            clearance,
            full_path,
            changes.data_version(),
        )
    )
    return '"' + hashlib.sha256(key.encode()).hexdigest()[:24] + '"'


class InboxNotModifiedMiddleware:
    """Answers an unchanged inbox poll with 304 without entering DRF. Only for bearer
    tokens; the token is checked exactly as `BearerTokenAuthentication` checks it (usable:
    not revoked, not expired, member active). Such a 304 is not counted by the rate limit:
    it costs less than the limit protects against."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method == "GET" and request.path == INBOX_PATH:
            sent = request.headers.get("If-None-Match")
            auth = request.headers.get("Authorization", "")
            if sent and auth[:7].lower() == "bearer " and len(auth) < 200:
                row = (
                    ApiToken.objects.usable()
                    .filter(key_hash=hash_token(auth[7:].strip()))
                    .values_list(
                        "member_id",
                        "member__organisation_id",
                        "member__organisation__country",
                        "member__organisation__sponsor_id",
                        "member__clearance",
                    )
                    .first()
                )
                if row is not None:
                    etag = inbox_etag(
                        member_id=row[0],
                        organisation_id=row[1],
                        country=row[2] or "",
                        sponsor_id=row[3],
                        clearance=row[4],
                        full_path=request.get_full_path(),
                    )
                    if sent.strip() == etag:
                        response = HttpResponseNotModified()
                        response["ETag"] = etag
                        response["Vary"] = "Authorization"
                        return response
        return self.get_response(request)
