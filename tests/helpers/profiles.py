"""Device profiles through the HTTP API, for the profile tests: URLs, a valid body, creating,
patching with If-Match and listing, and the problem a refused write answers."""

from typing import Any

from intel.models import TLP

PROFILES = "/api/v1/profiles/"
PROBLEM = "application/problem+json"


def detail_url(profile_id: int) -> str:
    return f"{PROFILES}{profile_id}/"


def fields_of(response: Any) -> list[str]:
    return [error["field"] for error in response.json()["errors"]]


def assert_problem(response: Any, status: int, field: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == PROBLEM
    body = response.json()
    assert body["status"] == status
    assert body["type"].startswith("urn:dix:problem:")
    assert body["title"]
    if field is not None:
        assert field in fields_of(response), body
    return body


def valid_profile(**overrides: Any) -> dict[str, Any]:
    return {"name": "L8star BM10", "device_class": "mini_phone", "tlp": TLP.GREEN} | overrides


def create_profile(client: Any, **fields: Any) -> tuple[dict[str, Any], str]:
    response = client.post(PROFILES, valid_profile(**fields), format="json")
    assert response.status_code == 201, response.content
    return response.json(), response["ETag"]


def patch(client: Any, profile_id: int, payload: dict[str, Any], etag: str | None) -> Any:
    headers = {"If-Match": etag} if etag is not None else {}
    return client.patch(detail_url(profile_id), payload, format="json", headers=headers)


def list_ids(client: Any, **params: Any) -> list[int]:
    response = client.get(PROFILES, params)
    assert response.status_code == 200, response.content
    return [item["id"] for item in response.json()["results"]]
