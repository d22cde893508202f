"""ETags for what a member receives, `If-None-Match` → 304, and `If-Match` for writes.

An ETag is computed from the rendered body, so it changes with anything that member would
see change, and two members never share one by accident. A profile's ETag also names its
version (`"<id>.<version>.<digest>"`), which is what `If-Match` checks under a row lock.
"""

import hashlib
import re
from typing import Any

from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from core.errors import PreconditionFailed, PreconditionRequired

_VERSION_TAG = re.compile(r'^(?:W/)?"(\d+)\.(\d+)\.[0-9a-f]+"$')


def body_digest(data: Any) -> str:
    return hashlib.sha256(JSONRenderer().render(data)).hexdigest()[:20]


def _matches(header: str, etag: str) -> bool:
    bare = etag.removeprefix("W/")
    for candidate in header.split(","):
        candidate = candidate.strip()
        if candidate == "*" or candidate.removeprefix("W/") == bare:
            return True
    return False


def conditional_response(request: Request, data: Any, etag: str) -> Response:
    """200 with `ETag`, or 304 when the client's `If-None-Match` already names it."""
    header = request.headers.get("If-None-Match")
    fresh = bool(header) and _matches(header or "", etag)
    response = Response(status=304) if fresh else Response(data)
    response["ETag"] = etag
    return response


def versioned_etag(object_id: int, version: int, data: Any) -> str:
    return f'"{object_id}.{version}.{body_digest(data)}"'


def list_etag(data: Any) -> str:
    return f'"{body_digest(data)}"'


def expected_version(request: Request, object_id: int) -> int | None:
    """The version named by `If-Match`, which a change to a profile must carry; `*` (RFC 9110:
    any current version) returns None, a deliberate "overwrite whatever is there"."""
    header = request.headers.get("If-Match")
    if not header:
        raise PreconditionRequired(
            "Send the ETag you last read in If-Match, so that no one's change is lost."
        )
    if header.strip() == "*":
        return None
    match = _VERSION_TAG.match(header.strip())
    if match is None or int(match.group(1)) != object_id:
        raise PreconditionFailed("If-Match does not name a version of this profile.")
    return int(match.group(2))
