"""Seizure lines as STIX sightings, for the profiles the member sees."""

from exchange.stix import objects
from exchange.stix.mapping.audience import Audience, Collector
from exchange.stix.objects.values import choice_label
from intel.models import DetectionMethod
from seizures.models import FacilityType


def add_sightings(
    audience: Audience,
    profile_ids: set[int] | None,
    out: Collector,
    line_ids: frozenset[int] | None,
) -> None:
    """One sighting per line of a visible report whose profile the member sees (in scope:
    about `profile_ids` unless None, among `line_ids` unless None)."""
    if profile_ids is not None and not profile_ids:
        return
    lines = audience.lines
    if line_ids is not None:
        lines = lines.filter(pk__in=line_ids)
    if profile_ids is not None:
        lines = lines.filter(profile_id__in=profile_ids)
    rows = lines.order_by("id").values(
        "id",
        "profile_id",
        "quantity",
        "report__organisation_id",
        "report__country",
        "report__seized_on",
        "report__facility_type",
        "report__detection_method",
        "report__tlp",
        "report__created_at",
    )
    for line in rows:
        country = line["report__country"]
        added = line["report__created_at"]
        out.add(
            objects.seizure_sighting(
                line_pk=line["id"],
                organisation_pk=line["report__organisation_id"],
                country=country,
                seized_on=line["report__seized_on"],
                created=added,
                profile_pk=line["profile_id"],
                quantity=line["quantity"],
                facility_label=choice_label(FacilityType, line["report__facility_type"]),
                detection_label=choice_label(DetectionMethod, line["report__detection_method"]),
                label=line["report__tlp"],
            ),
            added,
        )
        known = out.location_added.get(country)
        out.location_added[country] = added if known is None else min(known, added)
