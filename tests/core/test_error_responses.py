"""Each operation of the OpenAPI document lists, as a typed problem, every error status its
shape lets it answer: read from the document, then checked against what the API answers.

Every operation is found in the schema, so a new one is covered without editing this file.
"""

from collections.abc import Callable
from typing import Any

import pytest
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from core import schema as schema_module
from intel.models import Member
from tests.conftest import Network

PROBLEM = "application/problem+json"
PROBLEM_CONTENT = {PROBLEM: {"schema": {"$ref": "#/components/schemas/Problem"}}}
SCHEMA = SchemaGenerator().get_schema(request=None, public=True)
Api = Callable[[Member | None], APIClient]
# Far beyond any row of a test database, yet a valid id: "not found", not "not an id".
MISSING_ID = "987654321"


def operations() -> list[Any]:
    return [
        pytest.param(method, path, operation, id=f"{method.upper()} {path}")
        for path, item in SCHEMA["paths"].items()
        for method, operation in item.items()
        if method in ("get", "post", "put", "patch", "delete")
    ]


def declared(operation: dict[str, Any]) -> set[int]:
    return {int(code) for code in operation["responses"] if int(code) >= 400}


def parameters(operation: dict[str, Any], location: str) -> set[str]:
    return {p["name"] for p in operation.get("parameters", []) if p["in"] == location}


def url(path: str, value: str = MISSING_ID) -> str:
    for name in ("{id}", "{delivery_id}", "{number}", "{attachment_id}"):
        path = path.replace(name, value)
    return path


OPERATIONS = operations()


def test_the_walk_covers_the_api():
    assert len(OPERATIONS) > 50


@pytest.mark.parametrize(("method", "path", "operation"), OPERATIONS)
def test_the_statuses_of_its_shape_are_declared(method, path, operation):
    statuses = declared(operation)

    # Every operation refuses an unknown query parameter, an Accept it cannot render, and
    # too many requests or failed authentications.
    assert {400, 406, 429} <= statuses
    if parameters(operation, "path"):
        assert 404 in statuses
    if "requestBody" in operation:
        assert {400, 413, 415} <= statuses
    if "If-Match" in parameters(operation, "header"):
        assert {412, 428} <= statuses
    if operation.get("security") and {} not in operation["security"]:
        assert 401 in statuses
    # A method an endpoint lacks is answered for no operation of the document.
    assert 405 not in statuses


@pytest.mark.parametrize(("method", "path", "operation"), OPERATIONS)
def test_every_error_is_a_problem_with_its_headers(method, path, operation):
    responses = operation["responses"]

    for status in declared(operation):
        assert responses[str(status)]["content"] == PROBLEM_CONTENT, status
        assert responses[str(status)]["description"], status
    assert set(responses["429"]["headers"]) == {"Retry-After"}
    if 401 in declared(operation):
        assert set(responses["401"]["headers"]) == {"WWW-Authenticate"}


@pytest.mark.parametrize(("method", "path", "operation"), OPERATIONS)
def test_what_it_answers_is_declared(network: Network, api: Api, method, path, operation):
    """The errors any client can provoke without knowing the data: no credentials, an
    unsatisfiable `Accept`, an unknown query parameter, an object that does not exist."""
    statuses = declared(operation)
    anonymous, alice = api(None), api(network.alice)
    tries = [
        getattr(anonymous, method)(url(path, "1")),
        getattr(alice, method)(url(path, "1"), HTTP_ACCEPT="text/csv"),
        getattr(alice, method)(url(path, "1") + "?no_such_parameter=1"),
    ]
    if parameters(operation, "path"):
        tries.append(getattr(alice, method)(url(path)))

    for response in tries:
        if response.status_code >= 400:
            assert response.status_code in statuses, (response.status_code, response.content)
            assert response["Content-Type"] == PROBLEM


def test_views_declare_only_their_domain_statuses(monkeypatch: pytest.MonkeyPatch):
    """What `error_statuses` derives from an operation's shape is not declared again by its
    view: a view lists 403 and 409 (its role and state rules), and 404 only where no path
    parameter gives it (an unseen object named in the body or a filter)."""
    monkeypatch.setattr(schema_module, "error_statuses", lambda operation: set())
    by_views = SchemaGenerator().get_schema(request=None, public=True)

    redundant = [
        f"{method.upper()} {path} {status}"
        for path, item in by_views["paths"].items()
        for method, operation in item.items()
        if method in ("get", "post", "put", "patch", "delete")
        for status in declared(operation)
        if operation["responses"][str(status)]["description"]
        == schema_module.STATUS_DESCRIPTIONS.get(status)
        and (status not in (403, 404, 409) or (status == 404 and parameters(operation, "path")))
    ]
    assert redundant == []
