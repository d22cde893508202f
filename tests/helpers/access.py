"""Access requests through the HTTP API, for the tests of several packages: a published notice
(`publish`), a request (`ask`), a problem answer (`problem`), and the standard case's
fixtures: fr-desk's restricted `annex`, the GREEN `notice` that advertises it, fr-desk's
coordinator `fred`, and `analysts_decide` (fr-desk lets its analysts, alice, decide access
requests, as the demo's French desk does)."""

from collections.abc import Callable
from typing import Any

import pytest
from rest_framework.test import APIClient

from intel import accounts
from intel.models import TLP, DeviceProfile, Member
from tests.conftest import Network

REQUESTS = "/api/v1/access-requests/"
PROFILES = "/api/v1/profiles/"
NOTICES = "/api/v1/notices/"
PROBLEM = "application/problem+json"

Api = Callable[[Member | None], APIClient]


def publish(network: Network, api: Api, **fields: Any) -> dict[str, Any]:
    """A notice by fr-desk (alice drafts, cora publishes), GREEN to the network by default."""
    body = {"type": "alert", "title": "Mini phones in prisons", "tlp": TLP.GREEN} | fields
    draft = api(network.alice).post(NOTICES, body, format="json")
    assert draft.status_code == 201, draft.content
    published = api(network.cora).post(f"{NOTICES}{draft.json()['id']}/publish/")
    assert published.status_code == 200, published.content
    data: dict[str, Any] = published.json()
    return data


def ask(client: APIClient, target_type: str, target_id: int, **fields: Any) -> Any:
    body = {
        "target_type": target_type,
        "target_id": target_id,
        "purpose": "Check our prisons for the device.",
        "legal_basis": "Art. 21 Regulation (EU) 2018/1727",
        "case_reference": "DE-2025-0042",
        "days": 30,
    } | fields
    # A field given as None is left out of the body (`days=None`: no duration named).
    return client.post(REQUESTS, {k: v for k, v in body.items() if v is not None}, format="json")


def problem(response: Any, status: int, field: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == PROBLEM
    body: dict[str, Any] = response.json()
    if field is not None:
        assert field in [e["field"] for e in body.get("errors", [])], body
    return body


@pytest.fixture
def annex(network: Network, make_profile: Callable[..., DeviceProfile]) -> DeviceProfile:
    """fr-desk's AMBER annex, named for be-desk: charlie (de-desk) does not see it."""
    return make_profile(tlp=TLP.AMBER, recipients=[network.be_desk], name="Restricted annex")


@pytest.fixture
def notice(network: Network, api: Api, annex: DeviceProfile) -> dict[str, Any]:
    return publish(network, api, profile_ids=[annex.pk], restricted_data_available=True)


@pytest.fixture
def fred(network: Network) -> Member:
    """fr-desk's coordinator: decides access to what fr-desk owns."""
    return accounts.member_create(
        organisation=network.fr_desk, username="fred", role="coordinator", clearance=TLP.RED
    )


@pytest.fixture
def analysts_decide(network: Network) -> None:
    """fr-desk lets its analysts decide access requests (set up as its coordinators would)."""
    type(network.fr_desk).objects.filter(pk=network.fr_desk.pk).update(analysts_decide_access=True)
    network.fr_desk.refresh_from_db()
