"""One vocabulary across the API, read from the OpenAPI document a client generates from: path
parameters named one way, every list that can grow a cursor page, and `?count=true` on every
page (docs/concepts.md, "One vocabulary")."""

import re

import pytest

from tests.helpers.strict_input import SCHEMA, query_names

PARAMETER = re.compile(r"\{([^}]+)\}")
# Children addressed by their number within their object, as their read shape names them.
NUMBERED = {"revisions", "versions"}
# Lists whose shape another change of issue 14 rewrites (receipts with totals).
NOT_YET: set[str] = set()


def _singular(plural: str) -> str:
    return plural[:-3] + "y" if plural.endswith("ies") else plural.removesuffix("s")


def _outliers(path: str) -> list[str]:
    """`{id}` for the object the path's first segment names (`/profiles/{id}/…`); an object
    under it `{<child>_id}` after its plural segment, or `{number}` under revisions and
    versions."""
    segments = path.strip("/").split("/")
    wrong = []
    for index, segment in enumerate(segments):
        found = PARAMETER.fullmatch(segment)
        if found is None:
            continue
        name, parent = found.group(1), segments[index - 1]
        if index == 3:  # /api/v1/<resource>/{…}
            expected = {"id"}
        elif parent in NUMBERED:
            expected = {"number"}
        else:
            expected = {_singular(parent).replace("-", "_") + "_id"}
        if name not in expected:
            wrong.append(f"{path}: {{{name}}}, expected {' or '.join(sorted(expected))}")
    return wrong


def test_every_path_parameter_follows_the_convention():
    assert [wrong for path in SCHEMA["paths"] for wrong in _outliers(path)] == []


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/profiles/{profile_id}/seizure-stats/",
        "/api/v1/profiles/{id}/attachments/{id}/",
        "/api/v1/profiles/{id}/revisions/{revision_id}/",
    ],
)
def test_the_convention_check_finds_an_outlier(path):
    assert _outliers(path)


def _gets() -> list[tuple[str, dict]]:
    return [
        (path, methods["get"])
        for path, methods in SCHEMA["paths"].items()
        if path.startswith("/api/v1/") and "get" in methods
    ]


def _ok_schema(op: dict) -> dict:
    content = op["responses"].get("200", {}).get("content", {})
    schema = content.get("application/json", {}).get("schema", {})
    if "$ref" in schema:
        schema = SCHEMA["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def test_a_bare_array_is_only_a_list_bounded_by_design():
    """Every list answer is a cursor page unless its description says it is bounded."""
    bare = [
        path
        for path, op in _gets()
        if _ok_schema(op).get("type") == "array"
        and path not in NOT_YET
        and "bounded by design" not in op.get("description", "")
    ]
    assert bare == []


def test_every_page_offers_an_exact_count_on_request():
    pages = [
        (path, op) for path, op in _gets() if "results" in _ok_schema(op).get("properties", {})
    ]
    assert len(pages) >= 10
    for path, op in pages:
        assert {"cursor", "page_size", "count"} <= set(query_names(op)), path
        envelope = _ok_schema(op)
        # A page may add `totals` over all its pages (a notice's audience and receipts).
        assert set(envelope["properties"]) - {"totals"} == {
            "next",
            "previous",
            "results",
            "count",
        }, path
        assert "count" not in envelope.get("required", []), path
