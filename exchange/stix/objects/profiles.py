"""A device profile as STIX: DIX's own SDO and the standard indicator that stands for it."""

from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from exchange.stix.objects.ids import (
    PROFILE_EXTENSION_ID,
    PROFILE_TYPE,
    SPEC_VERSION,
    indicator_id,
    organisation_id,
    profile_id,
)
from exchange.stix.objects.markings import marking_refs
from exchange.stix.objects.values import choice_label, compact, timestamp
from intel.models.children import (
    ConcealmentStage,
    ConcealmentVector,
    DetectionMethod,
    ExpectedOutcome,
)
from intel.models.profiles import DeviceClass, HousingMaterial
from intel.models.tlp import TLP


def _number(value: Any) -> int | float | None:
    if value is None or value == "":
        return None
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return None
    return int(number) if number == number.to_integral_value() else float(number)


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
    dimensions = compact(
        {
            "length": _number(snap.get("length_mm")),
            "width": _number(snap.get("width_mm")),
            "depth": _number(snap.get("depth_mm")),
        }
    )
    # Money stays a decimal string: a float would turn 19.99 into 19.989999…
    price = str(snap["price_amount"]) if snap.get("price_amount") not in (None, "") else None
    identifiers = [
        compact(
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
    return compact(
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
            "price": compact({"amount": price, "currency": snap.get("price_currency")})
            if price is not None
            else None,
            "legal_status": dict(snap.get("legal_status") or {}),
            "notes": snap.get("notes"),
            "identifiers": identifiers,
            "tac_ranges": tac_ranges(snap.get("identifiers") or []),
            "detection_signatures": [
                compact(dict(d)) for d in snap.get("detection_signatures") or []
            ],
            "concealment_methods": [
                compact(dict(c)) for c in snap.get("concealment_methods") or []
            ],
            "retired": bool(snap.get("retired")),
            "retired_reason": snap.get("retired_reason"),
        }
    )


def profile_description(snap: Mapping[str, Any]) -> str:
    """One paragraph that stands alone: what a tool that drops unknown types still shows
    (through the report that names the profile)."""
    parts = [choice_label(DeviceClass, str(snap.get("device_class", "")))]
    dims = [_number(snap.get(f"{d}_mm")) for d in ("length", "width", "depth")]
    if all(d is not None for d in dims):
        parts.append(" x ".join(f"{d:g}" for d in dims if d is not None) + " mm")
    weight = _number(snap.get("weight_g"))
    if weight is not None:
        parts.append(f"{weight:g} g")
    if snap.get("housing_material"):
        parts.append(choice_label(HousingMaterial, snap["housing_material"]).lower() + " housing")
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
            f"{choice_label(DetectionMethod, sig.get('method', '')).lower()}: "
            f"{choice_label(ExpectedOutcome, sig.get('expected_outcome', '')).lower()}"
        )
    for way in snap.get("concealment_methods") or []:
        parts.append(
            f"concealment ({choice_label(ConcealmentStage, way.get('stage', '')).lower()}): "
            f"{choice_label(ConcealmentVector, way.get('vector', '')).lower()}"
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
