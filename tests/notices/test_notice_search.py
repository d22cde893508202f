"""Finding notices: `?q=` searches the title, summary and body of the notices the member may
see (full-text on PostgreSQL, words as substrings on SQLite: whole words match on both), and
`since=` takes an RFC 3339 time as well as the token of an earlier answer."""

from collections.abc import Callable
from datetime import UTC
from typing import Any

from django.utils import timezone

from tests.conftest import Network
from tests.helpers.notices import NOTICES, Api, assert_problem


def found(client: Any, **params: str) -> set[str]:
    response = client.get(NOTICES, params)
    assert response.status_code == 200, response.content
    return {n["title"] for n in response.json()["results"]}


def test_q_searches_title_summary_and_body_of_visible_notices(
    network: Network, api: Api, issue: Callable[..., dict[str, Any]]
) -> None:
    issue(title="Thumb phones", summary="Pass walk-through detectors.", body="Seen in Fresnes.")
    issue(title="Key-fob phones", summary="Sold online.", body="Detectors miss them in Lyon.")
    issue(title="Charger phones", summary="Hidden in chargers.", body="Nothing found.")
    issue(
        title="Belgian phones",
        summary="Detectors in Antwerp.",
        audience={"scope": "organisations", "organisations": ["be-desk"]},
        tlp="TLP:AMBER",
    )
    bob, charlie = api(network.bob), api(network.charlie)
    assert found(bob, q="phones") == {
        "Thumb phones",
        "Key-fob phones",
        "Charger phones",
        "Belgian phones",
    }
    assert found(bob, q="DETECTORS") == {"Thumb phones", "Key-fob phones", "Belgian phones"}
    # Every word must match, in any of the three fields.
    assert found(bob, q="detectors Lyon") == {"Key-fob phones"}
    assert found(bob, q="fresnes thumb") == {"Thumb phones"}
    assert found(bob, q="detectors chargers") == set()
    # Only what the member may see.
    assert found(charlie, q="detectors") == {"Thumb phones", "Key-fob phones"}
    assert found(charlie, q="Antwerp") == set()
    # Combined with the other filters; blank searches everything.
    assert found(bob, q="phones", type="warning") == set()
    assert len(found(bob, q="  ")) == 4


def test_since_takes_an_rfc_3339_time(
    network: Network, api: Api, issue: Callable[..., dict[str, Any]]
) -> None:
    issue(title="Before")
    moment = timezone.now().astimezone(UTC)
    issue(title="After")
    bob = api(network.bob)
    assert found(bob, since=moment.isoformat().replace("+00:00", "Z")) == {"After"}
    assert found(bob, since=moment.strftime("%Y-%m-%dT%H:%M:%S.%f+00:00")) == {"After"}
    assert found(bob, since="2000-01-01T00:00:00Z") == {"Before", "After"}
    assert found(bob, since="2999-01-01T00:00:00+02:00") == set()
    # The token of an earlier answer still works.
    token = bob.get(NOTICES)["DIX-Since"]
    assert bob.get(NOTICES, {"since": token}).status_code == 200
    for bad in ["2026-13-01T00:00:00Z", "2026-05-01T00:00:00", "yesterday", "2026-05-01"]:
        problem = assert_problem(bob.get(NOTICES, {"since": bad}), 400, "since")
        assert "RFC 3339" in problem["errors"][0]["detail"]
