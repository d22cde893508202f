"""The TLP 2.0 marking definitions DIX puts on every object it exports."""

from typing import Any

from exchange.stix.objects.ids import SPEC_VERSION
from intel.models.tlp import TLP

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
