"""Request bodies: too deep, not JSON, NUL characters, values of another JSON type, huge numbers,
read-only fields, bodies on actions that take none, path ids that are not ids, and too many
multipart fields are a 400 problem naming the field (or a 404), never a 500."""

import json
from collections.abc import Iterator
from typing import Any

import pytest

from intel.models import TLP
from tests.helpers.strict_input import (
    PROBLEM,
    SCHEMA,
    caller,
    example,
    json_body,
    not_a_crash,
    operations,
    ref_properties,
    refused,
    send,
    url_for,
)

# --- Bodies ----------------------------------------------------------------------------------

WRITES = operations(lambda p, m, op: m in ("post", "patch", "put", "delete"))


def _nested(depth: int) -> str:
    return '{"a":' * depth + "1" + "}" * depth


@pytest.mark.parametrize(("method", "path", "op"), WRITES)
def test_a_body_nested_too_deep_or_not_json_is_refused(network, api, method, path, op, world):
    client = caller(network, api, path)
    url = url_for(path, method, world)
    # An endpoint taking only multipart refuses any JSON body as such.
    expected = 415 if "requestBody" in op and json_body(op) is None else 400
    for body in [
        "[" * 1000 + "]" * 1000,
        "[" * 100_000 + "]" * 100_000,
        _nested(1000),
        _nested(40),
        '{"name": NaN}',
        '{"name": Infinity}',
        '{"name": -Infinity}',
        b'{"name": "\xff\xfe"}',
    ]:
        response = send(client, method, url, body)
        assert response.status_code == expected, (body[:20], response.content[:300])
        assert response["Content-Type"] == PROBLEM


def _strings(value: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    if isinstance(value, str):
        yield path
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _strings(item, (*path, str(index)))


def _integers(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    if isinstance(value, bool):
        return
    if isinstance(value, int):
        yield path
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _integers(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _integers(item, (*path, index))


def _replaced(value: Any, path: tuple[Any, ...], new: Any) -> Any:
    value = json.loads(json.dumps(value))
    if not path:
        return new
    target = value
    for key in path[:-1]:
        target = target[int(key) if isinstance(target, list) else key]
    last = path[-1]
    target[int(last) if isinstance(target, list) else last] = new
    return value


WITH_EXAMPLES = operations(lambda p, m, op: isinstance(example(op), (dict, list)) and example(op))


@pytest.mark.parametrize(("method", "path", "op"), WITH_EXAMPLES)
def test_a_nul_character_anywhere_in_a_body_is_refused_naming_the_field(
    network, api, method, path, op, world
):
    client = caller(network, api, path)
    url = url_for(path, method, world)
    body = example(op)
    for where in _strings(body):
        response = send(client, method, url, _replaced(body, where, "nul\x00byte"))
        refused(response, ".".join(where) or "body", "null_characters_not_allowed")
    if isinstance(body, dict):
        refused(send(client, method, url, body | {"k\x00": 1}), "k\x00")


@pytest.mark.parametrize(("method", "path", "op"), WITH_EXAMPLES)
def test_huge_numbers_and_long_strings_are_never_a_crash(network, api, method, path, op, world):
    client = caller(network, api, path)
    url = url_for(path, method, world)
    body = example(op)
    for where in _integers(body):
        for number in (2**63, -(2**63) - 1, 2**70, 10**400):
            not_a_crash(send(client, method, url, _replaced(body, where, number)))
        not_a_crash(send(client, method, url, _replaced(body, where, 1.5e308)))
    for where in _strings(body):
        not_a_crash(send(client, method, url, _replaced(body, where, "x" * 100_000)))


# JSON values of another type than the field's: DRF would convert each silently (`1.5` to 1,
# the Arabic-Indic digit three to 3, the number 12345 to the string "12345").
NOT_INTEGERS = [1.5, 2.0, "\u0663", "1.5", " 1", True, "1e3", 1.5e308]
NOT_STRINGS = [12345, 1e308, True, False]
NOT_DECIMALS = ["\u0663", "1e2", "12,5", "Infinity", True]


def _property(op: dict[str, Any], name: str) -> dict[str, Any]:
    schema = json_body(op)["schema"]  # type: ignore[index]
    if "$ref" in schema:
        schema = SCHEMA["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    found: dict[str, Any] = schema.get("properties", {}).get(name, {})
    return found


@pytest.mark.parametrize(("method", "path", "op"), WITH_EXAMPLES)
def test_a_body_value_of_another_json_type_is_refused_naming_it(
    network, api, method, path, op, world
):
    client = caller(network, api, path)
    url = url_for(path, method, world)
    body = example(op)
    for where in _integers(body):
        for value in NOT_INTEGERS:
            response = send(client, method, url, _replaced(body, where, value))
            refused(response, ".".join(map(str, where)), "invalid")
    for where in _strings(body):
        # A decimal sent as a string ("20.00", as DIX renders it) may also be a JSON number.
        decimal = _property(op, where[0]).get("format") == "decimal"
        for value in NOT_DECIMALS if decimal else NOT_STRINGS:
            response = send(client, method, url, _replaced(body, where, value))
            refused(response, ".".join(where) or "body", "invalid")


def test_a_number_too_large_for_a_float_is_not_a_name(network, api):
    client = api(network.alice)
    for body in ['{"name": 1e400}', '{"name": 1e308}']:
        refused(client.post("/api/v1/tokens/", body, content_type="application/json"), "name")
    assert not [t for t in client.get("/api/v1/tokens/").json()["results"] if t["name"] == "inf"]


def test_the_values_of_an_object_field_are_checked_too(network, api, make_profile):
    profile = make_profile(tlp=TLP.GREEN, name="Phone")
    url = f"/api/v1/profiles/{profile.pk}/"
    for body in ['{"legal_status": {"FR": 1e400}}', '{"legal_status": {"FR": 12345}}']:
        response = api(network.alice).patch(
            url, body, content_type="application/json", HTTP_IF_MATCH="*"
        )
        refused(response, "legal_status.FR", "invalid")
    assert api(network.alice).get(url).json()["legal_status"] == {}


def test_ids_and_numbers_in_a_body_are_json_integers_or_ascii_strings(network, api, make_profile):
    client = api(network.alice)
    parent = make_profile(tlp=TLP.GREEN, name="Parent")
    child = make_profile(tlp=TLP.GREEN, name="Child")
    url = f"/api/v1/profiles/{child.pk}/"
    for value in [parent.pk + 0.5, float(parent.pk), "\u0663", True]:
        refused(send(client, "patch", url, {"parent": value}), "parent", "invalid")
    for value in ["\u0663", "1e2", "Infinity", True, "12,5"]:
        refused(send(client, "patch", url, {"length_mm": value}), "length_mm", "invalid")
    assert client.get(url).json()["parent"] is None
    assert send(client, "patch", url, {"parent": str(parent.pk)}).status_code == 200
    assert send(client, "patch", url, {"length_mm": "42.5"}).status_code == 200
    assert send(client, "patch", url, {"length_mm": 43}).status_code == 200
    notice = {"type": "alert", "title": "x", "tlp": TLP.GREEN, "profile_ids": [1.5, "\u0662"]}
    problem = refused(client.post("/api/v1/notices/", notice, format="json"), "profile_ids.0")
    assert "profile_ids.1" in {e["field"] for e in problem["errors"]}


@pytest.mark.parametrize(("method", "path", "op"), operations(lambda p, m, op: json_body(op)))
def test_read_only_fields_are_refused_naming_them(network, api, method, path, op, world):
    request_fields = ref_properties(json_body(op)["schema"])  # type: ignore[index]
    answer = next(
        (r for code, r in op["responses"].items() if code.startswith("2") and "content" in r),
        None,
    )
    if answer is None:
        pytest.skip("no body answered")
    schema = answer["content"].get("application/json", {}).get("schema", {})
    read_only = sorted(ref_properties(schema) - request_fields - {"secret", "token"})
    client = caller(network, api, path)
    url = url_for(path, method, world)
    base = example(op) if isinstance(example(op), dict) else {}
    for name in read_only:
        # Read-only where the answer's serializer is the request's, else simply unknown.
        refused(send(client, method, url, base | {name: 1}), name, {"read_only", "unknown_field"})
    refused(send(client, method, url, base | {"bogus": 1}), "bogus", "unknown_field")


def test_subscriptions_refuse_the_fields_dix_sets(network, api, world):
    client = api(network.alice)
    url = f"/api/v1/subscriptions/{world['subscriptions']}/"
    for name, value in [
        ("organisation", "de-desk"),
        ("id", 424242),
        ("disabled_at", "2025-01-01T00:00:00Z"),
        ("failing_since", "2025-01-01T00:00:00Z"),
    ]:
        refused(client.patch(url, {name: value}, format="json"), name, "read_only")
        created = client.post(
            "/api/v1/subscriptions/",
            {
                "url": "https://hooks.example.org/x",
                "event_types": ["notice.published"],
                name: value,
            },
            format="json",
        )
        refused(created, name, "read_only")
    assert client.get(url).json()["organisation"] == "fr-desk"


@pytest.mark.parametrize(
    ("method", "path", "op"),
    operations(lambda p, m, op: m in ("post", "patch", "delete") and "requestBody" not in op),
)
def test_an_action_without_a_body_refuses_one(network, api, method, path, op, world):
    client = caller(network, api, path)
    url = url_for(path, method, world)
    refused(send(client, method, url, {"reason": "x"}), "reason", "unknown_field")
    for body in ["[1]", "null", "[]", "0", "false", '""']:
        problem = refused(send(client, method, url, body), "body", "unexpected_body")
        assert problem["errors"][0]["pointer"] == "#"  # the whole body, as docs/errors.md says
    # An empty object asks nothing: it is no refusal of the body.
    response = send(client, method, url, "{}")
    assert response.status_code != 400, response.content[:300]


@pytest.mark.parametrize(
    ("method", "path", "op"), operations(lambda p, m, op: "{" in p and m != "delete")
)
def test_ids_in_the_path_that_are_not_ids_are_not_found(network, api, method, path, op, world):
    client = caller(network, api, path)
    for bad in ["abc", "99999999999999999999", "-1", "1.5", "%00", "\u0661"]:
        url = path
        for name in ("{id}", "{delivery_id}", "{number}", "{attachment_id}"):
            url = url.replace(name, bad)
        response = send(client, method, url, example(op) or None)
        assert response.status_code in (400, 404), (bad, response.content[:300])
        assert response["Content-Type"] == PROBLEM


def test_too_many_multipart_fields_are_refused(network, api, world):
    fields = {f"f{i}": "x" for i in range(1500)}
    response = api(network.alice).post(
        f"/api/v1/profiles/{world['profiles']}/attachments/", fields, format="multipart"
    )
    assert response.status_code == 400
    assert response["Content-Type"] == PROBLEM
