"""The TAXII collections of DIX's one API root. Their ids are fixed for good: desks configure
them in MISP and OpenCTI (docs/taxii.md lists them)."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from exchange.stix.entry import Entry

STIX_MEDIA_TYPE = "application/stix+json;version=2.1"

# What the interop collection keeps: standard STIX 2.1 only, so that a tool that refuses or
# drops custom types (stix2 with allow_custom=False, MISP, OpenCTI) keeps every object and
# every reference. Each profile stands here as its `indicator`, which reports name and
# sightings sight. Left out: the `x-dix-device-profile` objects, their extension definition,
# and the relationships (each one points at a profile object).
INTEROP_TYPES = frozenset(
    {"report", "sighting", "indicator", "identity", "location", "marking-definition"}
)


@dataclass(frozen=True)
class Collection:
    id: str  # a UUIDv4 (§5.2.1)
    alias: str  # also accepted in URLs in place of the id
    title: str  # no dots: OpenCTI's taxii2 connector splits "root.collection" titles on "."
    description: str
    holds: Callable[[Entry], bool]

    def resource(self) -> dict[str, Any]:
        """The collection resource (§5.2.1). Read-only: nothing is ever posted to DIX."""
        return {
            "id": self.id,
            "title": self.title,
            "description": self.description,
            "alias": self.alias,
            "can_read": True,
            "can_write": False,
            "media_types": [STIX_MEDIA_TYPE],
        }


EVERYTHING = Collection(
    id="f6346264-7a73-4d59-84fd-a182fce3dc35",
    alias="dix-everything",
    title="DIX — everything",
    description="Every STIX object you may see in DIX: device profiles (the "
    "x-dix-device-profile extension SDO and its extension definition, and each profile's "
    "indicator), alert notices as reports, seizures as sightings, suppliers, the network's "
    "organisations and the TLP 2.0 marking definitions in use.",
    holds=lambda entry: True,
)

INTEROP = Collection(
    id="4e9e1af7-57b8-471e-9a23-ad0b77049f7f",
    alias="dix-interop",
    title="DIX — interop",
    description="The same objects in standard STIX 2.1 only, for tools that drop or refuse "
    "custom types: each device profile as an indicator (its TACs as a STIX pattern), alert "
    "notices as reports naming those indicators, seizures as sightings of them, suppliers, "
    "the network's organisations, places and the TLP 2.0 marking definitions in use.",
    holds=lambda entry: entry.stix_type in INTEROP_TYPES,
)

COLLECTIONS: tuple[Collection, ...] = (EVERYTHING, INTEROP)


def find(key: str) -> Collection | None:
    """A collection by id (case-insensitive, as UUIDs are) or alias."""
    lowered = key.lower()
    return next((c for c in COLLECTIONS if lowered in (c.id, c.alias)), None)
