"""Alert notices through the HTTP API, for the notice tests: the extra members (`Extra`), drafting
and publishing, whether and to whom a notice is visible, and the problem a refusal answers."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from rest_framework.test import APIClient

from intel.models import TLP, Member
from tests.conftest import Network

NOTICES = "/api/v1/notices/"
SUBSCRIPTIONS = "/api/v1/subscriptions/"
PROBLEM = "application/problem+json"
EVENTS = ["notice.published", "notice.updated", "notice.withdrawn"]

Api = Callable[[Member | None], APIClient]


@dataclass
class Extra:
    felix: Member  # fr-desk coordinator, RED clearance
    bruno: Member  # be-desk officer, AMBER+STRICT clearance
    emil: Member  # be-customs officer, AMBER+STRICT clearance


def draft(client: APIClient, **fields: Any) -> dict[str, Any]:
    body = {
        "type": "alert",
        "title": "Mini phones in prisons",
        "summary": "Low-metal phones pass walk-through detectors.",
        "body": "Seen in three prisons.",
        "action_requested": "Check your prisons.",
        "tlp": TLP.GREEN,
        "audience": {"scope": "network"},
    } | fields
    response = client.post(NOTICES, body, format="json")
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["status"] == "draft"
    assert data["version"] == 0
    return data


def publish(client: APIClient, notice_id: int) -> dict[str, Any]:
    response = client.post(f"{NOTICES}{notice_id}/publish/")
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "published"
    return response.json()


def sees(client: APIClient, notice_id: int) -> bool:
    """Whether the member receives the notice: detail 200 exactly when it is listed; a
    notice it may not receive answers the not-found problem."""
    detail = client.get(f"{NOTICES}{notice_id}/")
    listed = notice_id in [
        n["id"] for n in client.get(NOTICES, {"page_size": 200}).json()["results"]
    ]
    if detail.status_code == 404:
        assert detail["Content-Type"] == PROBLEM
        assert detail.json()["type"] == "urn:dix:problem:not-found"
    else:
        assert detail.status_code == 200, detail.content
        assert detail.json()["id"] == notice_id
    assert listed == (detail.status_code == 200)
    return listed


def audience(api: Api, people: dict[str, Member], notice_id: int) -> set[str]:
    return {name for name, member in people.items() if sees(api(member), notice_id)}


def everyone(network: Network, extra: Extra) -> dict[str, Member]:
    names = ("cora", "audrey", "alice", "olga", "bob", "charlie", "dave", "erin")
    people = {name: getattr(network, name) for name in names}
    return people | {"felix": extra.felix, "bruno": extra.bruno, "emil": extra.emil}


def assert_problem(response: Any, status: int, field: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == PROBLEM
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    if field is not None:
        assert field in [e["field"] for e in body["errors"]], body
    return body
