"""What a client sends that an endpoint does not take, or that would reach the database or a
parser unchecked, is a 400 problem naming it, never ignored and never a 500.

Every endpoint is found in the OpenAPI schema, so a new one is covered without editing this
file: its query parameters, its request body and examples, its read-only response fields.
"""

import base64
import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.test import override_settings
from django.urls import URLPattern, URLResolver, get_resolver
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from core.strict import StrictRequestMixin
from intel import accounts
from intel.models import TLP, AuditEvent, DeviceProfile, Member
from tests.conftest import Network
from webhooks.models import Delivery

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


# --- A world in which every path id names something the caller sees -------------------------


@pytest.fixture
def world(network: Network, api: Api, make_profile: Callable[..., DeviceProfile]) -> Any:
    alice, cora, charlie = api(network.alice), api(network.cora), api(network.charlie)
    green = make_profile(tlp=TLP.GREEN, name="Green phone")
    annex = make_profile(tlp=TLP.AMBER, recipients=[network.be_desk], name="Annex")
    with override_settings(DIX_WEBHOOK_ALLOW_LOOPBACK=True):
        sub = alice.post(
            "/api/v1/subscriptions/",
            {"url": "http://127.0.0.1:9/hook", "event_types": ["notice.published"]},
            format="json",
        ).json()
    body = {
        "type": "alert",
        "title": "Mini phones",
        "tlp": TLP.GREEN,
        "profiles": [annex.pk],
        "restricted_data_available": True,
    }
    notice = alice.post("/api/v1/notices/", body, format="json").json()
    assert cora.post(f"/api/v1/notices/{notice['id']}/publish/").status_code == 200
    draft = alice.post("/api/v1/notices/", body, format="json").json()
    request = charlie.post(
        "/api/v1/access-requests/",
        {
            "target_type": "profile",
            "target_id": annex.pk,
            "via_notice": notice["id"],
            "purpose": "Check our prisons.",
            "legal_basis": "Art. 21",
            "requested_days": 30,
        },
        format="json",
    ).json()
    report = alice.post(
        "/api/v1/seizures/",
        {
            "seized_on": "2025-05-20",
            "facility_type": "prison",
            "lines": [{"profile": green.pk, "quantity": 3}],
        },
        format="json",
    ).json()
    delivery = Delivery.objects.filter(subscription_id=sub["id"]).first()
    token = accounts.token_issue(member=network.alice, name="spare").token
    return {
        "profiles": green.pk,
        "notices": notice["id"],
        "drafts": draft["id"],
        "subscriptions": sub["id"],
        "access-requests": request["id"],
        "seizures": report["id"],
        "tokens": token.pk,
        "audit": AuditEvent.objects.order_by("id").first().pk,  # type: ignore[union-attr]
        "organisations": network.fr_desk.pk,
        "delivery": delivery.pk if delivery else 1,
    }


def url_for(path: str, method: str, ids: dict[str, Any] | None = None) -> str:
    ids = ids or {}
    section = path.split("/")[3]
    if section == "notices" and (method == "patch" or path.endswith("/publish/")):
        section = "drafts"  # a draft can be edited and published
    return (
        path.replace("{id}", str(ids.get(section, 1)))
        .replace("{profile_id}", str(ids.get("profiles", 1)))
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


# --- Query parameters ------------------------------------------------------------------------


@pytest.mark.parametrize(("method", "path", "op"), operations())
def test_an_unknown_query_parameter_is_refused_naming_it(network, api, method, path, op):
    url = url_for(path, method) + "?devce_class=mini_phone"
    response = send(caller(network, api, path), method, url, example(op) or None)
    refused(response, "devce_class", "unknown_parameter")


@pytest.mark.parametrize(("method", "path", "op"), operations(lambda p, m, op: query_names(op)))
def test_documented_query_parameters_are_taken_and_checked(network, api, method, path, op):
    client = caller(network, api, path)
    for name in query_names(op):
        if name == "format":
            continue
        # A NUL reaches no query: refused as a value, not as an unknown parameter.
        refused(client.get(url_for(path, method), {name: "a\x00b"}), name, None)
        problem = client.get(url_for(path, method), {name: "a\x00b"}).json()
        assert problem["errors"][0]["code"] != "unknown_parameter"
        if query_param(op, name)["schema"].get("type") != "array":
            twice = client.get(f"{url_for(path, method)}?{name}=1&{name}=2")
            refused(twice, name)


def _cursor(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


BAD_CURSORS = [
    _cursor("p=garbage"),
    _cursor("p=\x00"),
    _cursor("p=99999999999999999999999"),
    _cursor("p=2025-05-20 10:00:00"),  # no offset: not one DIX gave
    _cursor("p=99999-01-01T00:00:00%2B00:00"),
    _cursor("o=-1"),
    _cursor("r=x"),
    "!!not base64!!",
    "\u00e9",
    "!!!!",  # decodes to nothing when the decoder skips what is not base64
    "AAAA",
    _cursor("x=1"),
    _cursor(""),
]


@pytest.mark.parametrize(
    ("method", "path", "op"), operations(lambda p, m, op: "cursor" in query_names(op))
)
def test_a_forged_cursor_is_refused_naming_cursor(network, api, method, path, op, world):
    client = caller(network, api, path)
    url = url_for(path, method, world)
    assert client.get(url).status_code == 200
    for cursor in BAD_CURSORS:
        refused(client.get(url, {"cursor": cursor}), "cursor")


@pytest.mark.parametrize(
    ("method", "path", "op"), operations(lambda p, m, op: "page_size" in query_names(op))
)
def test_a_page_size_out_of_range_is_refused(network, api, method, path, op, world):
    client = caller(network, api, path)
    url = url_for(path, method, world)
    for size in ["abc", "0", "-1", "201", "9" * 30, "9" * 5000, "1.5", "\u0661"]:
        refused(client.get(url, {"page_size": size}), "page_size")
    assert client.get(url, {"page_size": "200"}).status_code == 200


@pytest.mark.parametrize(
    ("method", "path", "op", "name"),
    [
        pytest.param(method, path, op, name, id=f"{path}?{name}")
        for method, path, op in (p.values for p in operations())
        for name in query_names(op)
        if query_param(op, name)["schema"].get("type") == "boolean"
    ],
)
def test_a_boolean_filter_takes_only_true_or_false(network, api, method, path, op, name):
    client = caller(network, api, path)
    for value in ["maybe", "yes", "2", "tru"]:
        refused(client.get(url_for(path, method), {name: value}), name)
    for value in ["true", "false", "TRUE"]:
        assert client.get(url_for(path, method), {name: value}).status_code == 200


@pytest.mark.parametrize(
    ("url", "name", "who"),
    [
        ("/api/v1/audit/", "after", "audrey"),
        ("/api/v1/audit/", "before", "audrey"),
        ("/api/v1/notices/", "since", "alice"),
        ("/api/v1/seizures/", "seized_from", "alice"),
        ("/api/v1/seizures/", "seized_until", "alice"),
    ],
)
def test_a_malformed_time_is_refused(network, api, url, name, who):
    client = api(getattr(network, who))
    for value in ["garbage", "2025-13-45", "99999-01-01", "2025-05-20T25:00:00Z", "\x00"]:
        refused(client.get(url, {name: value}), name)


IDS = ["abc", "-1", "0", "1.5", "99999999999999999999", "\u0663", " 1"]
COUNTRIES = ["ZZ", "ZZZZ", "\U0001f600\U0001f600", "f", "F1"]
SLUGS = ["fr desk", "fr/desk", "\u00e9!"]


@pytest.mark.parametrize(
    ("url", "name", "bad"),
    [
        ("/api/v1/profiles/", "parent", IDS),
        ("/api/v1/notices/", "profile", IDS),
        ("/api/v1/seizures/", "notice", IDS),
        ("/api/v1/seizures/", "profile", IDS),
        ("/api/v1/profiles/", "country", COUNTRIES),
        ("/api/v1/profiles/", "owner_country", COUNTRIES),
        ("/api/v1/notices/", "country", COUNTRIES),
        ("/api/v1/seizures/", "country", COUNTRIES),
        ("/api/v1/organisations/", "country", COUNTRIES),
        ("/api/v1/profiles/", "owner", SLUGS),
        ("/api/v1/seizures/", "organisation", SLUGS),
    ],
)
def test_a_filter_value_that_is_not_one_is_refused_naming_it(network, api, url, name, bad):
    client = api(network.alice)
    for value in bad:
        refused(client.get(url, {name: value}), name)


@pytest.mark.parametrize(
    ("url", "name", "value"),
    [
        ("/api/v1/profiles/", "parent", "9999999"),
        ("/api/v1/notices/", "profile", "9999999"),
        ("/api/v1/seizures/", "notice", str(2**63 - 1)),
        ("/api/v1/seizures/", "profile", "9999999"),
        ("/api/v1/profiles/", "country", "aq"),
        ("/api/v1/notices/", "country", "AQ"),
        ("/api/v1/organisations/", "country", "AQ"),
        ("/api/v1/profiles/", "owner", "no-such-desk"),
    ],
)
def test_a_well_formed_filter_value_matching_nothing_is_an_empty_list(
    network, api, url, name, value
):
    response = api(network.alice).get(url, {name: value})
    assert response.status_code == 200, response.content[:300]
    assert response.json()["results"] == []


def test_an_id_filter_does_not_reveal_a_hidden_object(network, api, make_profile):
    hidden = make_profile(tlp=TLP.RED, name="Red phone")
    make_profile(tlp=TLP.GREEN, name="Variant", parent=hidden)
    outsider = api(network.charlie)
    for url, name in [("/api/v1/profiles/", "parent"), ("/api/v1/notices/", "profile")]:
        response = outsider.get(url, {name: hidden.pk})
        assert response.status_code == 200
        assert response.json()["results"] == []


# Filters that take any text by design: free-text search, names, ids of any kind of object.
FREE_TEXT_FILTERS = {
    ("DeviceProfileFilter", "q"),
    ("DeviceProfileFilter", "tac_prefix"),  # checked by its method
    ("NoticeFilter", "since"),  # checked by its method
    ("AuditEventFilter", "actor"),
    ("AuditEventFilter", "organisation"),
    ("AuditEventFilter", "action"),
    ("AuditEventFilter", "object_type"),
    ("AuditEventFilter", "object_id"),
    ("AuditEventFilter", "after"),  # checked by its method
    ("AuditEventFilter", "before"),  # checked by its method
}


def test_every_filter_checks_its_value():
    """A new filter is strict (an id, a country, a slug, a choice, a date, a boolean) or is
    listed above as free text on purpose: a `CharFilter` left as it is answers a malformed
    value with an empty list."""
    import django_filters

    from core import strict

    strict_kinds = (
        strict.IdFilter,
        strict.CountryFilter,
        strict.SlugFilter,
        strict.BooleanFilter,
        django_filters.ChoiceFilter,
        django_filters.MultipleChoiceFilter,
        django_filters.DateFilter,
    )
    unchecked = []
    for route, view in _views(get_resolver().url_patterns):
        filterset = getattr(view, "filterset_class", None)
        if not route.startswith("api/v1/") or filterset is None:
            continue
        for name, item in filterset.base_filters.items():
            if (filterset.__name__, name) in FREE_TEXT_FILTERS:
                continue
            if not isinstance(item, strict_kinds):
                unchecked.append((filterset.__name__, name))
    assert unchecked == []


@pytest.mark.parametrize(("method", "path", "op"), operations())
def test_a_format_dix_does_not_render_is_refused_naming_it(network, api, method, path, op):
    url = url_for(path, method) + "?format=xml"
    response = send(caller(network, api, path), method, url, example(op) or None)
    refused(response, "format", "invalid_choice")


def test_format_json_is_taken(network, api):
    response = api(network.alice).get("/api/v1/profiles/", {"format": "json"})
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"


def test_the_audit_trail_has_no_since_filter(network, api):
    refused(api(network.audrey).get("/api/v1/audit/", {"since": "garbage"}), "since")


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
    notice = {"type": "alert", "title": "x", "tlp": TLP.GREEN, "profiles": [1.5, "\u0662"]}
    problem = refused(client.post("/api/v1/notices/", notice, format="json"), "profiles.0")
    assert "profiles.1" in {e["field"] for e in problem["errors"]}


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
        for name in ("{id}", "{profile_id}", "{delivery_id}", "{number}", "{attachment_id}"):
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


# --- Every view, and TAXII -------------------------------------------------------------------


def _views(patterns: list[Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    for item in patterns:
        if isinstance(item, URLResolver):
            yield from _views(item.url_patterns, prefix + str(item.pattern))
        elif isinstance(item, URLPattern):
            view = getattr(item.callback, "cls", None)
            if view is not None:
                yield prefix + str(item.pattern), view


def test_every_api_view_is_strict():
    api_views = [(route, view) for route, view in _views(get_resolver().url_patterns)]
    checked = [(r, v) for r, v in api_views if r.startswith("api/v1/")]
    assert len(checked) > 20
    assert [r for r, v in checked if not issubclass(v, StrictRequestMixin)] == []


TAXII = "application/taxii+json;version=2.1"


@pytest.mark.parametrize(
    "url",
    [
        "/taxii2/",
        "/taxii2/api/",
        "/taxii2/api/collections/",
        "/taxii2/api/collections/dix-everything/objects/",
        "/taxii2/api/collections/dix-everything/manifest/",
    ],
)
def test_taxii_refuses_unknown_parameters_in_its_own_error_format(network, api, url):
    response = api(network.alice).get(url, {"limt": "5"}, HTTP_ACCEPT=TAXII)
    assert response.status_code == 400, response.content
    assert response.json()["error_code"] == "invalid-parameter"
    assert response.json()["details"] == {"parameter": "limt"}
