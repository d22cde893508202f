"""Run inside the pycti environment (tests/exchange/interop/opencti.lock): split a STIX 2.1 bundle (a
file named on the command line) as OpenCTI's connectors do before importing it (no OpenCTI
server needed), and print what the split kept as JSON: the objects and the items it dropped."""

import json
import sys

from pycti.utils.opencti_stix2_splitter import OpenCTIStix2Splitter


def main(path: str) -> None:
    with open(path, encoding="utf-8") as handle:
        bundle = json.load(handle)
    _, dropped, bundles = OpenCTIStix2Splitter().split_bundle_with_expectations(
        bundle, use_json=False, cleanup_inconsistent_bundle=True
    )
    kept = [obj for part in bundles for obj in part["objects"]]
    for obj in kept:
        obj.pop("nb_deps", None)
    print(json.dumps({"objects": kept, "dropped": [item["id"] for item in dropped]}))


if __name__ == "__main__":
    main(sys.argv[1])
