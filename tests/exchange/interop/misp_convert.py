"""Run inside the misp-stix environment (tests/exchange/interop/misp.lock): convert a STIX 2.1 bundle
(a file named on the command line) into one MISP event, as MISP's STIX import does, and print
what the event kept as JSON: tags, objects, sightings and the converter's errors."""

import json
import sys

from misp_stix_converter import ExternalSTIX2toMISPParser
from misp_stix_converter.tools.stix2_loading_helpers import load_stix2_file


def main(path: str) -> None:
    parser = ExternalSTIX2toMISPParser()
    parser.load_stix_bundle(load_stix2_file(path))
    parser.parse_stix_bundle(single_event=True)
    event = parser.misp_event
    # MISP puts a STIX sighting on each attribute of the object it sights: one per source.
    sightings = {
        sighting.source
        for misp_object in event.objects
        for attribute in misp_object.attributes
        for sighting in attribute.sightings
    } | {sighting.source for a in event.attributes for sighting in a.sightings}
    errors = [e for messages in getattr(parser, "errors", {}).values() for e in messages]
    print(
        json.dumps(
            {
                "tags": sorted(tag.name for tag in event.tags),
                "objects": sorted({o.uuid for o in event.objects}),
                "sightings": sorted(sightings),
                "errors": errors,
            }
        )
    )


if __name__ == "__main__":
    main(sys.argv[1])
