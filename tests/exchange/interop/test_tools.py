"""The interop collection as MISP and OpenCTI read it: misp-stix converts a pull into a MISP
event, pycti's splitter cuts it as OpenCTI's connectors do. Both keep every sighting (with
its count), every reference of the report, and no TLP tag the data does not carry.

Their pins clash with DIX's and with each other's (requests, setuptools, pycountry), so each
runs in its own virtual environment, which `make test` creates from `tests/exchange/interop/*.lock`
(`.venv-interop/misp`, `.venv-interop/opencti`); the test runs a small script in it on the
exported bundle. Without them (plain `pytest` before any `make test`) the test is skipped,
unless `DIX_INTEROP_VENV` names where they must be, as `make test` does."""

import json
import os
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from exchange.stix import objects as stix_objects
from intel.models import TLP
from tests.conftest import Network
from tests.exchange.stix.conftest import Feed, feed  # noqa: F401 - the fixture
from tests.exchange.taxii.conftest import INTEROP, TaxiiClient, taxii  # noqa: F401 - the fixture
from tests.helpers.taxii import pull

# Each test runs a converter in another virtualenv (seconds each).
pytestmark = pytest.mark.slow

HERE = Path(__file__).parent
DEFAULT_VENV = HERE.parent.parent / ".venv-interop"


def run_in(tool: str, script: str, bundle: Path) -> dict[str, Any]:
    configured = os.environ.get("DIX_INTEROP_VENV")
    python = Path(configured or DEFAULT_VENV) / tool / "bin" / "python"
    if not python.exists():
        if configured:
            pytest.fail(f"{python} is missing: `make test` creates it from tests/exchange/interop/")
        pytest.skip(f"no {tool} environment: `make test` creates it ({python})")
    done = subprocess.run(
        [str(python), str(HERE / script), str(bundle)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def export(client: TaxiiClient, path: Path) -> list[dict[str, Any]]:
    objs = pull(client, INTEROP)
    bundle = {"type": "bundle", "id": "bundle--5d0092c5-5f74-4287-9642-33f4c354e56d"}
    path.write_text(json.dumps(bundle | {"objects": objs}))
    return objs


@pytest.mark.parametrize(
    ("who", "counts", "tlp_tags"),
    [
        ("bob", {88, 3}, {"tlp:clear", "tlp:green", "tlp:amber"}),  # the partner desk
        ("charlie", {88}, {"tlp:clear", "tlp:green"}),  # the outsider
    ],
)
def test_misp_stix_converts_every_sighting_and_tags_only_the_labels_in_use(
    feed: Feed,  # noqa: F811
    network: Network,
    taxii: Callable[..., TaxiiClient],  # noqa: F811
    tmp_path: Path,
    who: str,
    counts: set[int],
    tlp_tags: set[str],
) -> None:
    objs = export(taxii(getattr(network, who)), tmp_path / "pull.json")

    event = run_in("misp", "misp_convert.py", tmp_path / "pull.json")

    assert event["errors"] == []
    assert {tag for tag in event["tags"] if tag.startswith("tlp:")} <= tlp_tags
    assert not {"tlp:red", "tlp:amber+strict"} & set(event["tags"])
    # One MISP object per profile's indicator, each carrying the sightings of its profile.
    indicators = {obj["id"].split("--")[1] for obj in objs if obj["type"] == "indicator"}
    assert indicators <= set(event["objects"])
    seized = {int(s.split(" ")[1]) for s in event["sightings"] if s.startswith("Seizure: ")}
    assert seized == counts


@pytest.mark.parametrize(("who", "counts"), [("bob", [3, 88]), ("charlie", [88])])
def test_pycti_splitter_keeps_every_sighting_and_the_report_references(
    feed: Feed,  # noqa: F811
    network: Network,
    taxii: Callable[..., TaxiiClient],  # noqa: F811
    tmp_path: Path,
    who: str,
    counts: list[int],
) -> None:
    objs = export(taxii(getattr(network, who)), tmp_path / "pull.json")
    report = next(obj for obj in objs if obj["type"] == "report")

    split = run_in("opencti", "opencti_split.py", tmp_path / "pull.json")

    assert split["dropped"] == []
    kept = {obj["id"]: obj for obj in split["objects"]}
    assert set(kept) == {obj["id"] for obj in objs}
    sightings = [obj for obj in kept.values() if obj["type"] == "sighting"]
    assert sorted(s["count"] for s in sightings) == counts
    assert all(kept[s["sighting_of_ref"]]["type"] == "indicator" for s in sightings)
    assert kept[report["id"]]["object_refs"] == report["object_refs"]
    green = stix_objects.indicator_id(feed.profiles[TLP.GREEN].pk)
    assert green in report["object_refs"]
