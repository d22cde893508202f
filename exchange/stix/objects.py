"""The STIX 2.1 objects DIX emits, built from plain data (no queries here; docs/stix.md).

Ids are stable across exports: a uuid5 in DIX's namespace over the object's type and a key
made of database ids (`stix_id`), never random. Timestamps are UTC with milliseconds, the
precision STIX requires for `created`/`modified`.
"""

import hashlib
import hmac
import uuid
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from functools import cache
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from intel.models.children import (
    ConcealmentStage,
    ConcealmentVector,
    DetectionMethod,
    ExpectedOutcome,
    SupplierRole,
)
from intel.models.profiles import DeviceClass, HousingMaterial
from intel.models.tlp import TLP

SPEC_VERSION = "2.1"

# Fixed for good: changing it changes every id DIX has ever exported. A deployment that must
# not share ids with another DIX (two networks whose database ids overlap) sets its own
# `DIX_STIX_NAMESPACE` before its first export.
DEFAULT_NAMESPACE = uuid.UUID("58665efd-404d-428b-9a77-aea5d71ace97")

# When DIX's STIX feed begins: `created` of the objects DIX itself authors (its identity, the
# extension definition) and the `date_added` of every fixed object.
EPOCH = datetime(2025, 1, 1, tzinfo=UTC)

PROFILE_TYPE = "x-dix-device-profile"
PROFILE_EXTENSION_ID = "extension-definition--4ef3b57e-456e-4aa2-9c0e-25833ce95a57"
PROFILE_EXTENSION_VERSION = "1.0.0"
SCHEMA_FILE = Path(__file__).parent / "schemas" / f"{PROFILE_TYPE}.json"
SCHEMA_PATH = f"/api/v1/stix/schemas/{PROFILE_TYPE}.json"

# TLP 2.0 as published by OASIS (cti-stix-common-objects, objects/marking-definition and
# extension-definition-specifications/tlp-2.0): fixed ids, a property extension, no
# `definition_type`. STIX 2.1 and the stix2 library only know TLP 1.0.
TLP2_EXTENSION_ID = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"
TLP_MARKING_IDS: dict[str, str] = {
    TLP.CLEAR: "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
    TLP.GREEN: "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
    TLP.AMBER: "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
    TLP.AMBER_STRICT: "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
    TLP.RED: "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
}
TLP_MARKING_CREATED = "2022-10-01T00:00:00.000Z"
MARKING_LABELS = {marking: label for label, marking in TLP_MARKING_IDS.items()}

SUPPLIER_SECTORS: dict[str, list[str]] = {
    SupplierRole.MANUFACTURER: ["manufacturing"],
    SupplierRole.WHOLESALER: ["retail"],
    SupplierRole.RETAILER: ["retail"],
    SupplierRole.ONLINE_RESELLER: ["retail"],
    SupplierRole.MARKETPLACE_SELLER: ["retail"],
}


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


# --- Timestamps ----------------------------------------------------------------------------

MILLISECOND = timedelta(milliseconds=1)


def to_millis(moment: datetime) -> datetime:
    """UTC, truncated to the millisecond (what a STIX timestamp here can say)."""
    moment = moment.astimezone(UTC)
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def timestamp(moment: datetime) -> str:
    moment = to_millis(moment)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def strictly_after(moments: Iterable[datetime], floor: datetime) -> list[datetime]:
    """Millisecond times for successive versions: each one later than the one before and not
    before `floor` (`created`), so two revisions written within a millisecond still get two
    distinct `modified` values. Deterministic: the same rows give the same times."""
    result: list[datetime] = []
    previous = to_millis(floor) - MILLISECOND
    for moment in moments:
        current = max(to_millis(moment), previous + MILLISECOND)
        result.append(current)
        previous = current
    return result


# --- Fixed objects --------------------------------------------------------------------------


def tlp_marking(label: str) -> dict[str, Any]:
    """A TLP 2.0 marking definition exactly as OASIS publishes it."""
    return {
        "type": "marking-definition",
        "spec_version": SPEC_VERSION,
        "id": TLP_MARKING_IDS[label],
        "created": TLP_MARKING_CREATED,
        "name": label,
        "extensions": {
            TLP2_EXTENSION_ID: {
                "extension_type": "property-extension",
                "tlp_2_0": label.removeprefix("TLP:").lower(),
            }
        },
    }


def marking_refs(label: str) -> list[str]:
    return [TLP_MARKING_IDS[label]]


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


def country_location(country: str) -> dict[str, Any]:
    return {
        "type": "location",
        "spec_version": SPEC_VERSION,
        "id": location_id(country),
        "created_by_ref": dix_identity_id(),
        "created": timestamp(EPOCH),
        "modified": timestamp(EPOCH),
        "name": country.upper(),
        "country": country.upper(),
        "object_marking_refs": marking_refs(TLP.CLEAR),
    }


# --- Device profiles --------------------------------------------------------------------------


def _number(value: Any) -> int | float | None:
    if value is None or value == "":
        return None
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return None
    return int(number) if number == number.to_integral_value() else float(number)


def _label(choices: Any, value: str) -> str:
    try:
        return str(choices(value).label)
    except ValueError:
        return value


def _compact(obj: Mapping[str, Any]) -> dict[str, Any]:
    """STIX forbids null and empty lists: leave out what has no value (False stays)."""
    return {k: v for k, v in obj.items() if v is not None and v != "" and v != [] and v != {}}


def tac_ranges(identifiers: Sequence[Mapping[str, Any]]) -> list[dict[str, str]]:
    """TACs and TAC ranges as inclusive [start, end] intervals (a single TAC is start = end)."""
    ranges = []
    for item in identifiers:
        value = str(item.get("value", ""))
        if item.get("kind") == "tac":
            ranges.append({"start": value, "end": value})
        elif item.get("kind") == "tac_range" and "-" in value:
            start, end = value.split("-", 1)
            ranges.append({"start": start, "end": end})
    return ranges


def profile_properties(snap: Mapping[str, Any]) -> dict[str, Any]:
    """The profile's own properties from a revision snapshot (what `DeviceProfileSerializer`
    shows, less the distribution lists and attachments, which have their own rules)."""
    dimensions = _compact(
        {
            "length": _number(snap.get("length_mm")),
            "width": _number(snap.get("width_mm")),
            "depth": _number(snap.get("depth_mm")),
        }
    )
    # Money stays a decimal string: a float would turn 19.99 into 19.989999…
    price = str(snap["price_amount"]) if snap.get("price_amount") not in (None, "") else None
    identifiers = [
        _compact(
            {
                "kind": i.get("kind"),
                "value": i.get("value"),
                "is_test_value": str(i.get("value", "")).startswith("00")
                if i.get("kind") in ("tac", "tac_range")
                else None,
                "note": i.get("note"),
            }
        )
        for i in snap.get("identifiers") or []
    ]
    return _compact(
        {
            "aliases": list(snap.get("aliases") or []),
            "device_class": snap.get("device_class"),
            "manufacturer_country": snap.get("manufacturer_country"),
            "dimensions_mm": dimensions,
            "weight_g": _number(snap.get("weight_g")),
            "housing_material": snap.get("housing_material"),
            "metal_content": snap.get("metal_content"),
            "network_technologies": list(snap.get("network_technologies") or []),
            "gsm_bands": [int(b) for b in snap.get("gsm_bands") or []],
            "bluetooth": snap.get("bluetooth"),
            "sim_slots": snap.get("sim_slots"),
            "battery_mah": snap.get("battery_mah"),
            "talk_time_min": snap.get("talk_time_min"),
            "phonebook_capacity": snap.get("phonebook_capacity"),
            "voice_changer": snap.get("voice_changer"),
            "price": _compact({"amount": price, "currency": snap.get("price_currency")})
            if price is not None
            else None,
            "legal_status": dict(snap.get("legal_status") or {}),
            "notes": snap.get("notes"),
            "identifiers": identifiers,
            "tac_ranges": tac_ranges(snap.get("identifiers") or []),
            "detection_signatures": [
                _compact(dict(d)) for d in snap.get("detection_signatures") or []
            ],
            "concealment_methods": [
                _compact(dict(c)) for c in snap.get("concealment_methods") or []
            ],
            "retired": bool(snap.get("retired")),
            "retired_reason": snap.get("retired_reason"),
        }
    )


def profile_description(snap: Mapping[str, Any]) -> str:
    """One paragraph that stands alone: what a tool that drops unknown types still shows
    (through the report that names the profile)."""
    parts = [_label(DeviceClass, str(snap.get("device_class", "")))]
    dims = [_number(snap.get(f"{d}_mm")) for d in ("length", "width", "depth")]
    if all(d is not None for d in dims):
        parts.append(" x ".join(f"{d:g}" for d in dims if d is not None) + " mm")
    weight = _number(snap.get("weight_g"))
    if weight is not None:
        parts.append(f"{weight:g} g")
    if snap.get("housing_material"):
        parts.append(_label(HousingMaterial, snap["housing_material"]).lower() + " housing")
    if snap.get("metal_content"):
        parts.append(f"metal content {snap['metal_content']}")
    radio = list(snap.get("network_technologies") or [])
    if snap.get("gsm_bands"):
        radio.append("bands " + "/".join(str(b) for b in snap["gsm_bands"]) + " MHz")
    if snap.get("bluetooth"):
        radio.append("Bluetooth")
    if radio:
        parts.append(", ".join(radio))
    ranges = tac_ranges(snap.get("identifiers") or [])
    if ranges:
        parts.append(
            "TAC "
            + ", ".join(
                r["start"] if r["start"] == r["end"] else f"{r['start']}-{r['end']}" for r in ranges
            )
        )
    for sig in snap.get("detection_signatures") or []:
        parts.append(
            f"{_label(DetectionMethod, sig.get('method', '')).lower()}: "
            f"{_label(ExpectedOutcome, sig.get('expected_outcome', '')).lower()}"
        )
    for way in snap.get("concealment_methods") or []:
        parts.append(
            f"concealment ({_label(ConcealmentStage, way.get('stage', '')).lower()}): "
            f"{_label(ConcealmentVector, way.get('vector', '')).lower()}"
        )
    text = "; ".join(p for p in parts if p) + "."
    if snap.get("retired"):
        text = "RETIRED. " + text
    if snap.get("notes"):
        text += " " + str(snap["notes"]).strip()
    return text


def profile_summary(snap: Mapping[str, Any], pk: int) -> str:
    """The profile in one line of a report: its name, then its description."""
    return f"{snap.get('name') or f'Device profile {pk}'}: {profile_description(snap)}"


def device_profile(
    *,
    pk: int,
    owner_pk: int,
    created: datetime,
    modified: datetime,
    snap: Mapping[str, Any],
    revision: int,
) -> dict[str, Any]:
    """The profile as DIX's own SDO. Its family (`parent`) is a separate `derived-from`
    relationship: whether a member may see the parent differs from member to member, and one
    version of an object must read the same for everyone."""
    return {
        "type": PROFILE_TYPE,
        "spec_version": SPEC_VERSION,
        "id": profile_id(pk),
        "created_by_ref": organisation_id(owner_pk),
        "created": timestamp(created),
        "modified": timestamp(modified),
        "name": str(snap.get("name") or f"Device profile {pk}"),
        "description": profile_description(snap),
        **profile_properties(snap),
        "revision": revision,
        "indicator_ref": indicator_id(pk),
        "external_references": [{"source_name": "dix", "external_id": f"profile:{pk}"}],
        "object_marking_refs": marking_refs(str(snap.get("tlp") or TLP.RED)),
        "extensions": {PROFILE_EXTENSION_ID: {"extension_type": "new-sdo"}},
    }


def _pattern_literal(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def profile_pattern(snap: Mapping[str, Any], pk: int) -> str:
    """A STIX pattern that recognises the device: an IMEI whose TAC (first 8 digits) is one
    of the profile's TACs or in one of its ranges, or its Bluetooth name or label marking;
    the model name when it has no identifier. `x-dix-device` is the object the pattern talks
    about (STIX patterns may name custom observable types; no object of that type is sent)."""
    terms = []
    for item in tac_ranges(snap.get("identifiers") or []):
        if item["start"] == item["end"]:
            terms.append(f"x-dix-device:imei_tac = {_pattern_literal(item['start'])}")
        else:
            terms.append(
                f"(x-dix-device:imei_tac >= {_pattern_literal(item['start'])} AND "
                f"x-dix-device:imei_tac <= {_pattern_literal(item['end'])})"
            )
    for item in snap.get("identifiers") or []:
        if item.get("kind") in ("bluetooth_name", "label_marking") and item.get("value"):
            terms.append(f"x-dix-device:{item['kind']} = {_pattern_literal(str(item['value']))}")
    if not terms:
        name = str(snap.get("name") or f"Device profile {pk}")
        terms.append(f"x-dix-device:model = {_pattern_literal(name)}")
    return "[" + " OR ".join(terms) + "]"


def profile_indicator(
    *,
    pk: int,
    owner_pk: int,
    created: datetime,
    modified: datetime,
    snap: Mapping[str, Any],
) -> dict[str, Any]:
    """The profile as a standard STIX 2.1 object, one version per profile version: what
    reports name and sightings sight, so that tools that keep only standard types (MISP,
    OpenCTI) keep both and the link between them (docs/stix.md, "Why an indicator")."""
    return {
        "type": "indicator",
        "spec_version": SPEC_VERSION,
        "id": indicator_id(pk),
        "created_by_ref": organisation_id(owner_pk),
        "created": timestamp(created),
        "modified": timestamp(modified),
        "name": str(snap.get("name") or f"Device profile {pk}"),
        "description": profile_description(snap),
        "pattern": profile_pattern(snap, pk),
        "pattern_type": "stix",
        "pattern_version": SPEC_VERSION,
        "valid_from": timestamp(created),
        "labels": ["dix-device-profile", "dix-device-class-" + _slug(snap.get("device_class"))],
        "external_references": [{"source_name": "dix", "external_id": f"profile:{pk}"}],
        "object_marking_refs": marking_refs(str(snap.get("tlp") or TLP.RED)),
    }


def _slug(value: Any) -> str:
    return str(value or "other").replace("_", "-")


def parent_relationship(
    *,
    child_pk: int,
    parent_pk: int,
    incarnation: int,
    owner_pk: int,
    created: datetime,
    modified: datetime,
    label: str,
    revoked: bool = False,
) -> dict[str, Any]:
    """The profile belongs to the family `parent_pk` (`derived-from`, between two objects of
    one type). Sent only to members who see both profiles; revoked when the parent changes."""
    obj: dict[str, Any] = {
        "type": "relationship",
        "spec_version": SPEC_VERSION,
        "id": parent_relationship_id(child_pk, parent_pk, incarnation),
        "created_by_ref": organisation_id(owner_pk),
        "created": timestamp(created),
        "modified": timestamp(modified),
        "relationship_type": "derived-from",
        "source_ref": profile_id(child_pk),
        "target_ref": profile_id(parent_pk),
        "object_marking_refs": marking_refs(label),
    }
    if revoked:
        obj["revoked"] = True
    return obj


# --- Suppliers ---------------------------------------------------------------------------------


def supplier_identity(
    *,
    key: str,
    owner_pk: int,
    created: datetime,
    modified: datetime,
    supplier: Mapping[str, Any],
    label: str,
    revoked: bool = False,
) -> dict[str, Any]:
    role = str(supplier.get("role") or SupplierRole.UNKNOWN)
    where = ", ".join(str(p) for p in (supplier.get("locality"), supplier.get("country")) if p)
    description = _label(SupplierRole, role) + (f" in {where}" if where else "") + "."
    if supplier.get("status"):
        description += f" Status: {supplier['status']}."
    if supplier.get("notes"):
        description += " " + str(supplier["notes"]).strip()
    channels = [
        " ".join(
            str(p)
            for p in (
                c.get("kind"),
                c.get("platform"),
                c.get("address"),
                f"({c['status']})" if c.get("status") else "",
            )
            if p
        )
        for c in supplier.get("sales_channels") or []
    ]
    obj = _compact(
        {
            "type": "identity",
            "spec_version": SPEC_VERSION,
            "id": supplier_id(key),
            "created_by_ref": organisation_id(owner_pk),
            "created": timestamp(created),
            "modified": timestamp(modified),
            "name": str(supplier.get("name") or "Unnamed supplier"),
            "description": description,
            "identity_class": "organization",
            "sectors": SUPPLIER_SECTORS.get(role),
            "contact_information": "; ".join(channels),
            "object_marking_refs": marking_refs(label),
        }
    )
    if revoked:
        obj["revoked"] = True
    return obj


def supplier_relationship(
    *,
    key: str,
    profile_pk: int,
    owner_pk: int,
    created: datetime,
    modified: datetime,
    supplier: Mapping[str, Any],
    profile_name: str,
    label: str,
    revoked: bool = False,
) -> dict[str, Any]:
    """`related-to` (the verb every STIX consumer accepts), its description saying how."""
    role = _label(SupplierRole, str(supplier.get("role") or SupplierRole.UNKNOWN)).lower()
    obj: dict[str, Any] = {
        "type": "relationship",
        "spec_version": SPEC_VERSION,
        "id": supplier_relationship_id(key),
        "created_by_ref": organisation_id(owner_pk),
        "created": timestamp(created),
        "modified": timestamp(modified),
        "relationship_type": "related-to",
        "description": f"{supplier.get('name')} ({role}) supplies {profile_name}.",
        "source_ref": supplier_id(key),
        "target_ref": profile_id(profile_pk),
        "object_marking_refs": marking_refs(label),
    }
    if revoked:
        obj["revoked"] = True
    return obj


# --- Notices -----------------------------------------------------------------------------------


def notice_report(
    *,
    report_stix_id: str,
    issuer_pk: int,
    reference: str,
    notice_type: str,
    title: str,
    summary: str,
    body: str,
    action_requested: str,
    label: str,
    created: datetime,
    modified: datetime,
    published: datetime,
    object_refs: Sequence[str],
    profiles: Sequence[str] = (),
    revoked_reason: str | None = None,
) -> dict[str, Any]:
    """`profiles`: one line per profile it names, so that the report stands alone in a tool
    that drops the `x-dix-device-profile` objects."""
    paragraphs = [summary.strip(), body.strip()]
    if action_requested.strip():
        paragraphs.append("Action requested: " + action_requested.strip())
    if profiles:
        paragraphs.append("Device profiles:\n" + "\n".join(f"- {line}" for line in profiles))
    if revoked_reason is not None:
        paragraphs.insert(0, f"WITHDRAWN: {revoked_reason.strip()}")
    obj: dict[str, Any] = {
        "type": "report",
        "spec_version": SPEC_VERSION,
        "id": report_stix_id,
        "created_by_ref": organisation_id(issuer_pk),
        "created": timestamp(created),
        "modified": timestamp(modified),
        "name": f"{reference}: {title}",
        "description": "\n\n".join(p for p in paragraphs if p) or title,
        "report_types": ["threat-report"],
        "published": timestamp(published),
        "object_refs": list(object_refs),
        "labels": [f"dix-notice-{notice_type.replace('_', '-')}"],
        "external_references": [{"source_name": "dix", "external_id": reference}],
        "object_marking_refs": marking_refs(label),
    }
    if revoked_reason is not None:
        obj["revoked"] = True
    return obj


# --- Seizure reports ---------------------------------------------------------------------------


def seizure_sighting(
    *,
    line_pk: int,
    organisation_pk: int,
    country: str,
    seized_on: date,
    created: datetime,
    profile_pk: int,
    quantity: int,
    facility_label: str,
    detection_label: str,
    label: str,
) -> dict[str, Any]:
    first = datetime.combine(seized_on, time.min, tzinfo=UTC)
    last = first + timedelta(days=1) - MILLISECOND
    how = f", found by {detection_label.lower()}" if detection_label else ""
    return {
        "type": "sighting",
        "spec_version": SPEC_VERSION,
        "id": sighting_id(line_pk),
        "created_by_ref": organisation_id(organisation_pk),
        "created": timestamp(created),
        "modified": timestamp(created),
        # The report's own data only, under the report's label: naming the profile here
        # would carry the profile's (possibly stricter) content under the report's marking.
        "description": f"Seizure: {quantity} device(s) of this profile at a "
        f"{facility_label.lower()} in {country.upper()} on {seized_on.isoformat()}{how}.",
        "first_seen": timestamp(first),
        "last_seen": timestamp(last),
        "count": quantity,
        "sighting_of_ref": indicator_id(profile_pk),
        "where_sighted_refs": [organisation_id(organisation_pk), location_id(country)],
        "object_marking_refs": marking_refs(label),
    }


def references(obj: Mapping[str, Any]) -> set[str]:
    """Every STIX id an object points at (`*_ref`, `*_refs`, its markings)."""
    found: set[str] = set()
    for key, value in obj.items():
        if key.endswith("_ref") and isinstance(value, str):
            found.add(value)
        elif key.endswith("_refs") and isinstance(value, list):
            found.update(v for v in value if isinstance(v, str))
    return found
