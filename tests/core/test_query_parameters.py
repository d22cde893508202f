"""Query parameters each endpoint does not take, and filter, cursor, page-size, time and format
values that are not what they name, are a 400 problem naming them, never ignored, never a 500."""

import base64

import pytest
from django.urls import get_resolver

from intel.models import TLP
from tests.helpers.strict_input import (
    caller,
    example,
    operations,
    query_names,
    query_param,
    refused,
    send,
    url_for,
    views_of,
)

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
        ("/api/v1/profiles/", "manufacturer_country", COUNTRIES),
        ("/api/v1/profiles/", "owner_country", COUNTRIES),
        ("/api/v1/notices/", "issuer_country", COUNTRIES),
        ("/api/v1/notices/", "audience_country", COUNTRIES),
        ("/api/v1/seizures/", "country", COUNTRIES),
        ("/api/v1/organisations/", "country", COUNTRIES),
        ("/api/v1/profiles/", "owner", SLUGS),
        ("/api/v1/notices/", "issuer", SLUGS),
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
        ("/api/v1/profiles/", "manufacturer_country", "aq"),
        ("/api/v1/notices/", "issuer_country", "AQ"),
        ("/api/v1/notices/", "audience_country", "AQ"),
        ("/api/v1/notices/", "issuer", "no-such-desk"),
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
    for route, view in views_of(get_resolver().url_patterns):
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
