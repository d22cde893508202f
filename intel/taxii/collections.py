"""The TAXII collections of DIX's one API root. Their ids are fixed for good: desks configure
them in MISP and OpenCTI (docs/taxii.md lists them)."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from intel.stix.feed import Entry

STIX_MEDIA_TYPE = "application/stix+json;version=2.1"

# What the interop collection keeps: the standard types a tool that drops custom ones can use
# on their own. Left out: the profiles, their extension definition (it declares a type the
# collection does not hold) and the supplier relationships (each one targets a profile, and
# OpenCTI refuses a relationship to a type it does not know). Reports and sightings stay,
# though they name profiles: tools keep them with a dangling reference, and a report's
# description describes the profiles it names.
INTEROP_TYPES = frozenset({"report", "sighting", "identity", "location", "marking-definition"})


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
    "x-dix-device-profile extension SDO and its extension definition), alert notices as "
    "reports, seizures as sightings, suppliers, the network's organisations and the TLP 2.0 "
    "marking definitions.",
    holds=lambda entry: True,
)

INTEROP = Collection(
    id="4e9e1af7-57b8-471e-9a23-ad0b77049f7f",
    alias="dix-interop",
    title="DIX — interop",
    description="The same objects restricted to standard STIX 2.1 types that stand on their "
    "own (reports, sightings, identities, locations, TLP 2.0 marking definitions), for tools "
    "that drop custom types. Reports describe the device profiles they name in their own "
    "text.",
    holds=lambda entry: entry.stix_type in INTEROP_TYPES,
)

COLLECTIONS: tuple[Collection, ...] = (EVERYTHING, INTEROP)


def find(key: str) -> Collection | None:
    """A collection by id (case-insensitive, as UUIDs are) or alias."""
    lowered = key.lower()
    return next((c for c in COLLECTIONS if lowered in (c.id, c.alias)), None)
