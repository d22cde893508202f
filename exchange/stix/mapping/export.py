"""Collects the STIX object versions of one export: a member's whole feed or a part of it."""

from exchange.stix import objects
from exchange.stix.entry import Entry
from exchange.stix.mapping.audience import Audience, Collector, Scope, VisibleProfiles
from exchange.stix.mapping.directory import add_organisations, referenced
from exchange.stix.mapping.notices import add_notices
from exchange.stix.mapping.profiles import add_profiles
from exchange.stix.mapping.sightings import add_sightings
from intel.models import Member
from intel.models.tlp import TLP


def member_entries(member: Member) -> list[Entry]:
    """Every STIX object version `member` may see, sorted by (date_added, stix_id, version)."""
    return collect(member, Scope())


def collect(member: Member, scope: Scope, audience: Audience | None = None) -> list[Entry]:
    """`audience`: the member's, when the caller has already built it."""
    audience = audience or Audience(member)
    out = Collector()
    if scope.fixed:
        out.add(objects.dix_identity(), objects.EPOCH)
        out.add(objects.profile_extension_definition(), objects.EPOCH)

    visible = VisibleProfiles(audience, everything=scope.profile_ids is None)
    exported = add_profiles(audience, scope, visible, out)
    add_notices(audience, scope, visible, out)
    if scope.sightings and scope.line_ids != frozenset():
        # Lines asked for by id are already those about a profile the member sees.
        add_sightings(
            audience, None if scope.line_ids is not None else exported, out, scope.line_ids
        )
    add_organisations(scope, out)
    if not scope.fixed:
        return sorted(out.entries, key=lambda e: (e.date_added, e.stix_id, e.version))
    for country, added in sorted(out.location_added.items()):
        out.add(objects.country_location(country), added)
    # Only the markings something here references: a tool such as MISP turns every marking
    # definition it receives into a tag of what it imports.
    used = referenced(e.obj for e in out.entries)
    for label in TLP.values:
        if objects.TLP_MARKING_IDS[label] in used:
            out.add(objects.tlp_marking(label), objects.EPOCH)
    return sorted(out.entries, key=lambda e: (e.date_added, e.stix_id, e.version))
