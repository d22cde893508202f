"""The identities DIX exports: its own, the profile extension it defines, the organisations."""

from datetime import datetime
from typing import Any

from django.conf import settings

from exchange.stix.objects.ids import (
    PROFILE_EXTENSION_ID,
    PROFILE_EXTENSION_VERSION,
    PROFILE_TYPE,
    SCHEMA_PATH,
    SPEC_VERSION,
    dix_identity_id,
    organisation_id,
)
from exchange.stix.objects.markings import marking_refs
from exchange.stix.objects.values import EPOCH, timestamp
from intel.models.tlp import TLP


def dix_identity() -> dict[str, Any]:
    return {
        "type": "identity",
        "spec_version": SPEC_VERSION,
        "id": dix_identity_id(),
        "created": timestamp(EPOCH),
        "modified": timestamp(EPOCH),
        "name": "DIX - Device Intelligence Exchange",
        "description": "The exchange where judicial and law-enforcement desks share "
        "intelligence about contraband device models. It authors the network's directory "
        "and the x-dix-device-profile extension; desks author their own profiles, notices "
        "and seizure reports.",
        "identity_class": "system",
        "object_marking_refs": marking_refs(TLP.CLEAR),
    }


def schema_location() -> str:
    """An absolute URL when the deployment says where it is served (`DIX_PUBLIC_URL`);
    otherwise the plain-text pointer STIX also allows for `schema`."""
    base = str(getattr(settings, "DIX_PUBLIC_URL", "") or "").rstrip("/")
    if base:
        return base + SCHEMA_PATH
    return (
        f"JSON Schema (draft 2020-12) shipped with DIX as exchange/stix/schemas/{PROFILE_TYPE}.json "
        f"and served by every DIX at {SCHEMA_PATH}"
    )


def profile_extension_definition() -> dict[str, Any]:
    return {
        "type": "extension-definition",
        "spec_version": SPEC_VERSION,
        "id": PROFILE_EXTENSION_ID,
        "created_by_ref": dix_identity_id(),
        "created": timestamp(EPOCH),
        "modified": timestamp(EPOCH),
        "name": PROFILE_TYPE,
        "description": "New SDO: the technical profile of one contraband device model or "
        "family (class, dimensions, radio, identifiers with IMEI TAC ranges, how detection "
        "methods fare, how it is concealed). `name` and `description` always summarise it "
        "for tools that do not know the type.",
        "schema": schema_location(),
        "version": PROFILE_EXTENSION_VERSION,
        "extension_types": ["new-sdo"],
        "object_marking_refs": marking_refs(TLP.CLEAR),
    }


# --- Organisations and places ----------------------------------------------------------------


def organisation_identity(
    *, pk: int, slug: str, name: str, kind_label: str, country: str, created: datetime
) -> dict[str, Any]:
    """A desk, post, authority or the secretariat. The directory is visible to every member
    (DIX's TLP:CLEAR: anyone authenticated)."""
    where = f" ({country})" if country else ""
    return {
        "type": "identity",
        "spec_version": SPEC_VERSION,
        "id": organisation_id(pk),
        "created_by_ref": dix_identity_id(),
        "created": timestamp(created),
        "modified": timestamp(created),
        "name": name,
        "description": f"{kind_label}{where} in the DIX network.",
        "identity_class": "organization",
        "sectors": ["government-national"],
        "external_references": [{"source_name": "dix", "external_id": f"organisation:{slug}"}],
        "object_marking_refs": marking_refs(TLP.CLEAR),
    }
