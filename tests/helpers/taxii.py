"""Pulls through `/taxii2/`, for the TAXII and the interop tests."""

from typing import Any

from tests.exchange.taxii.conftest import ROOT, TaxiiClient


def pull(client: TaxiiClient, collection: str, **params: str) -> list[dict[str, Any]]:
    """Every object of a collection, page by page (`next`), as a client receives it."""
    received: list[dict[str, Any]] = []
    cursor: dict[str, str] = {}
    params.setdefault("limit", "7")
    for _ in range(1000):
        response = client.get(f"{ROOT}collections/{collection}/objects/", **params, **cursor)
        assert response.status_code == 200, response.content
        body = response.json()
        received += body.get("objects", [])
        if not body["more"]:
            return received
        cursor = {"next": body["next"]}
    raise AssertionError("the pull did not end")
