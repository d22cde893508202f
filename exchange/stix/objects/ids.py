"""The stable STIX ids of DIX's objects and the constants that name DIX's own types.

Ids are stable across exports: a uuid5 in DIX's namespace over the object's type and a key
made of database ids (`stix_id`), never random.
"""

import hashlib
import hmac
import uuid
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

SPEC_VERSION = "2.1"

# Fixed for good: changing it changes every id DIX has ever exported. A deployment that must
# not share ids with another DIX (two networks whose database ids overlap) sets its own
# `DIX_STIX_NAMESPACE` before its first export.
DEFAULT_NAMESPACE = uuid.UUID("58665efd-404d-428b-9a77-aea5d71ace97")

PROFILE_TYPE = "x-dix-device-profile"
PROFILE_EXTENSION_ID = "extension-definition--4ef3b57e-456e-4aa2-9c0e-25833ce95a57"
PROFILE_EXTENSION_VERSION = "1.0.0"
SCHEMA_FILE = Path(__file__).parent.parent / "schemas" / f"{PROFILE_TYPE}.json"
SCHEMA_PATH = f"/api/v1/stix/schemas/{PROFILE_TYPE}.json"


def namespace() -> uuid.UUID:
    return _namespace(str(getattr(settings, "DIX_STIX_NAMESPACE", "") or ""))


@cache
def _namespace(configured: str) -> uuid.UUID:
    if not configured:
        return DEFAULT_NAMESPACE
    try:
        return uuid.UUID(configured)
    except ValueError:
        raise ImproperlyConfigured(
            f"DIX_STIX_NAMESPACE must be a UUID, not {configured!r}."
        ) from None


def stix_id(stix_type: str, key: object) -> str:
    """The one id of a DIX thing in STIX: the same in every export, for every member."""
    return f"{stix_type}--{uuid.uuid5(namespace(), f'{stix_type}:{key}')}"


def dix_identity_id() -> str:
    return stix_id("identity", "dix")


def organisation_id(org_pk: int) -> str:
    return stix_id("identity", f"organisation:{org_pk}")


def profile_id(profile_pk: int) -> str:
    return stix_id(PROFILE_TYPE, profile_pk)


def report_id(notice_pk: int, view: str) -> str:
    """A notice's report as one audience sees it: `view` says which of the notice's profiles
    the member does not see (empty: none). Two members with the same view share the id and two
    views never do, so one (id, modified) always has one content (docs/stix.md). The id is
    keyed with the deployment's secret (`DIX_ENCRYPTION_KEY`, never changed), so that it
    cannot be recomputed from guesses to learn what a view leaves out."""
    key = hashlib.sha256(f"dix-stix-view:{settings.DIX_ENCRYPTION_KEY}".encode()).digest()
    digest = hmac.new(key, f"notice:{notice_pk}:hidden:{view}".encode(), "sha256").hexdigest()
    return stix_id("report", f"notice:{notice_pk}:view:{digest}")


def indicator_id(profile_pk: int) -> str:
    return stix_id("indicator", f"profile:{profile_pk}")


def parent_relationship_id(child_pk: int, parent_pk: int, incarnation: int) -> str:
    return stix_id("relationship", f"parent:{child_pk}:{parent_pk}:{incarnation}")


def sighting_id(line_pk: int) -> str:
    return stix_id("sighting", f"seizure-line:{line_pk}")


def location_id(country: str) -> str:
    return stix_id("location", f"country:{country.upper()}")


def supplier_id(key: str) -> str:
    return stix_id("identity", f"supplier:{key}")


def supplier_relationship_id(key: str) -> str:
    return stix_id("relationship", f"supplier:{key}")


def references(obj: Mapping[str, Any]) -> set[str]:
    """Every STIX id an object points at (`*_ref`, `*_refs`, its markings)."""
    found: set[str] = set()
    for key, value in obj.items():
        if key.endswith("_ref") and isinstance(value, str):
            found.add(value)
        elif key.endswith("_refs") and isinstance(value, list):
            found.update(v for v in value if isinstance(v, str))
    return found
