"""The STIX 2.1 objects DIX emits, built from plain data (no queries here; docs/stix.md).

One module per kind of object (`ids` and `values` hold what they share); this package
exports the names the mapping, the views and the TAXII server use.
"""

from exchange.stix.objects.identities import (
    dix_identity,
    organisation_identity,
    profile_extension_definition,
    schema_location,
)
from exchange.stix.objects.ids import (
    DEFAULT_NAMESPACE,
    PROFILE_EXTENSION_ID,
    PROFILE_EXTENSION_VERSION,
    PROFILE_TYPE,
    SCHEMA_FILE,
    SCHEMA_PATH,
    SPEC_VERSION,
    dix_identity_id,
    indicator_id,
    location_id,
    namespace,
    organisation_id,
    parent_relationship_id,
    profile_id,
    references,
    report_id,
    sighting_id,
    stix_id,
    supplier_id,
    supplier_relationship_id,
)
from exchange.stix.objects.markings import (
    MARKING_LABELS,
    TLP2_EXTENSION_ID,
    TLP_MARKING_CREATED,
    TLP_MARKING_IDS,
    marking_refs,
    tlp_marking,
)
from exchange.stix.objects.profiles import (
    device_profile,
    profile_description,
    profile_indicator,
    profile_pattern,
    profile_properties,
    profile_summary,
    tac_ranges,
)
from exchange.stix.objects.relationships import (
    SUPPLIER_SECTORS,
    parent_relationship,
    supplier_identity,
    supplier_relationship,
)
from exchange.stix.objects.reports import notice_report
from exchange.stix.objects.sightings import country_location, seizure_sighting
from exchange.stix.objects.values import EPOCH, MILLISECOND, strictly_after, timestamp, to_millis

__all__ = [
    "DEFAULT_NAMESPACE",
    "EPOCH",
    "MARKING_LABELS",
    "MILLISECOND",
    "PROFILE_EXTENSION_ID",
    "PROFILE_EXTENSION_VERSION",
    "PROFILE_TYPE",
    "SCHEMA_FILE",
    "SCHEMA_PATH",
    "SPEC_VERSION",
    "SUPPLIER_SECTORS",
    "TLP2_EXTENSION_ID",
    "TLP_MARKING_CREATED",
    "TLP_MARKING_IDS",
    "country_location",
    "device_profile",
    "dix_identity",
    "dix_identity_id",
    "indicator_id",
    "location_id",
    "marking_refs",
    "namespace",
    "notice_report",
    "organisation_id",
    "organisation_identity",
    "parent_relationship",
    "parent_relationship_id",
    "profile_description",
    "profile_extension_definition",
    "profile_id",
    "profile_indicator",
    "profile_pattern",
    "profile_properties",
    "profile_summary",
    "references",
    "report_id",
    "schema_location",
    "seizure_sighting",
    "sighting_id",
    "stix_id",
    "strictly_after",
    "supplier_id",
    "supplier_identity",
    "supplier_relationship",
    "supplier_relationship_id",
    "tac_ranges",
    "timestamp",
    "tlp_marking",
    "to_millis",
]
