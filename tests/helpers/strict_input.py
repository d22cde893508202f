"""The OpenAPI document read as a list of operations, and sending to each, for the tests that what
a client sends that an endpoint does not take is a 400 problem naming it."""

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.urls import URLPattern, URLResolver
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from intel.models import Member
from tests.conftest import Network

PROBLEM = "application/problem+json"
SCHEMA = SchemaGenerator().get_schema(request=None, public=True)
Api = Callable[[Member | None], APIClient]


def operations(
    keep: Callable[[str, str, dict[str, Any]], bool] = lambda path, method, op: True,
) -> list[Any]:
    found = []
    for path, methods in SCHEMA["paths"].items():
        for method, op in methods.items():
            if method in ("get", "post", "patch", "put", "delete") and keep(path, method, op):
                found.append(pytest.param(method, path, op, id=f"{method.upper()} {path}"))
    return found


def query_names(op: dict[str, Any]) -> list[str]:
    return [p["name"] for p in op.get("parameters", []) if p["in"] == "query"]


def query_param(op: dict[str, Any], name: str) -> dict[str, Any]:
    return next(p for p in op["parameters"] if p["in"] == "query" and p["name"] == name)


def json_body(op: dict[str, Any]) -> dict[str, Any] | None:
    content: dict[str, Any] = op.get("requestBody", {}).get("content", {})
    return content.get("application/json")


def example(op: dict[str, Any]) -> Any:
    body = json_body(op) or {}
    for item in body.get("examples", {}).values():
        return item["value"]
    return {}


def ref_properties(schema: dict[str, Any]) -> set[str]:
    if "$ref" in schema:
        schema = SCHEMA["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    if schema.get("type") == "array":
        return set()
    return set(schema.get("properties", {}))


def url_for(path: str, method: str, ids: dict[str, Any] | None = None) -> str:
    ids = ids or {}
    section = path.split("/")[3]
    if section == "notices" and (method == "patch" or path.endswith("/publish/")):
        section = "drafts"  # a draft can be edited and published
    return (
        path.replace("{id}", str(ids.get(section, 1)))
        .replace("{delivery_id}", str(ids.get("delivery", 1)))
        .replace("{number}", "1")
        .replace("{attachment_id}", "1")
    )


def caller(network: Network, api: Api, path: str) -> APIClient:
    if path.startswith("/api/v1/audit/"):
        return api(network.audrey)
    if path.endswith(("/answer/", "/withdraw/")) and "access-requests" in path:
        return api(network.charlie)
    return api(network.alice)


def send(client: APIClient, method: str, url: str, body: Any = None, **extra: Any) -> Any:
    extra.setdefault("HTTP_IF_MATCH", "*")  # profile changes require one
    if body is None:
        return getattr(client, method)(url, **extra)
    if isinstance(body, (bytes, str)):
        return getattr(client, method)(url, body, content_type="application/json", **extra)
    return getattr(client, method)(url, body, format="json", **extra)


def refused(response: Any, field: str, code: str | set[str] | None = None) -> dict[str, Any]:
    assert response.status_code == 400, (response.status_code, response.content[:500])
    assert response["Content-Type"] == PROBLEM
    problem: dict[str, Any] = response.json()
    named = {e["field"]: e["code"] for e in problem.get("errors", [])}
    assert field in named, problem
    if code is not None:
        assert named[field] in ({code} if isinstance(code, str) else code), problem
    return problem


def not_a_crash(response: Any) -> None:
    assert response.status_code < 500, response.content[:500]
    if response.status_code >= 400:
        assert response["Content-Type"] == PROBLEM


def views_of(patterns: list[Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    for item in patterns:
        if isinstance(item, URLResolver):
            yield from views_of(item.url_patterns, prefix + str(item.pattern))
        elif isinstance(item, URLPattern):
            view = getattr(item.callback, "cls", None)
            if view is not None:
                yield prefix + str(item.pattern), view
