"""A seizure line as a STIX sighting, and the country where it was sighted."""

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from exchange.stix.objects.ids import (
    SPEC_VERSION,
    dix_identity_id,
    indicator_id,
    location_id,
    organisation_id,
    sighting_id,
)
from exchange.stix.objects.markings import marking_refs
from exchange.stix.objects.values import EPOCH, MILLISECOND, timestamp
from intel.models.tlp import TLP


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
