"""Clients for `/taxii2/`: in-process (`taxii`) with TAXII's Accept header and a chosen
credential scheme. The end-to-end tests (`test_client.py`) use the OASIS taxii2-client against
pytest-django's `live_server` instead."""

import base64
from collections.abc import Callable
from typing import Any

import pytest
from rest_framework.test import APIClient

from intel import accounts
from intel.models import Member

TAXII = "application/taxii+json;version=2.1"
ROOT = "/taxii2/api/"
EVERYTHING = "f6346264-7a73-4d59-84fd-a182fce3dc35"
INTEROP = "4e9e1af7-57b8-471e-9a23-ad0b77049f7f"


def basic(username: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{username}:{secret}".encode()).decode()


class TaxiiClient:
    """GETs with `Accept: application/taxii+json;version=2.1` unless told otherwise."""

    def __init__(self, authorization: str | None) -> None:
        self.client = APIClient()
        self.authorization = authorization

    def request(self, method: str, path: str, *, accept: str | None = TAXII, **params: Any) -> Any:
        headers: dict[str, str] = {}
        if accept is not None:
            headers["HTTP_ACCEPT"] = accept
        if self.authorization is not None:
            headers["HTTP_AUTHORIZATION"] = self.authorization
        call = getattr(self.client, method)
        if method == "get":
            return call(path, params, **headers)
        return call(path, **headers)

    def get(self, path: str, *, accept: str | None = TAXII, **params: Any) -> Any:
        return self.request("get", path, accept=accept, **params)


@pytest.fixture
def taxii(db: None) -> Callable[..., TaxiiClient]:
    """`taxii(member)`: Bearer with a fresh token; `taxii(member, scheme="basic")`: Basic with
    username and token; `taxii(None)`: no credentials."""

    def client_for(member: Member | None, *, scheme: str = "bearer") -> TaxiiClient:
        if member is None:
            return TaxiiClient(None)
        secret = accounts.token_issue(member=member, name="taxii").secret
        if scheme == "basic":
            return TaxiiClient(basic(member.username, secret))
        return TaxiiClient(f"{scheme.capitalize()} {secret}")

    return client_for


def assert_taxii_error(response: Any, status: int) -> dict[str, Any]:
    """A TAXII error message (§3.6.1) in TAXII's media type; its body."""
    assert response.status_code == status, response.content
    assert response["Content-Type"] == TAXII
    body: dict[str, Any] = response.json()
    assert body["http_status"] == str(status)
    assert body["title"]
    assert body["description"]
    return body
