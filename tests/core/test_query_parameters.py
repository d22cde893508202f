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


def _pages(path: str, method: str, op: dict) -> bool:
    """A paged list whose URL takes no required parameter (requestable's own test covers it)."""
    required = any(p["in"] == "query" and p.get("required") for p in op.get("parameters", []))
    return "cursor" in query_names(op) and not required


@pytest.mark.parametrize(("method", "path", "op"), operations(_pages))
def test_a_forged_cursor_is_refused_naming_cursor(network, api, method, path, op, world):
    client = caller(network, api, path)
    url = url_for(path, method, world)
    assert client.get(url).status_code == 200
    for cursor in BAD_CURSORS:
        refused(client.get(url, {"cursor": cursor}), "cursor")


@pytest.mark.parametrize(("method", "path", "op"), operations(_pages))
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
        if query_param(op, name)["schema"].get("type") == "boolean" and _pages(path, method, op)
    ],
)
def test_a_boolean_filter_takes_only_true_or_false(network, api, method, path, op, name, world):
    client = caller(network, api, path)
    url = url_for(path, method, world)
    for value in ["maybe", "yes", "2", "tru"]:
        refused(client.get(url, {name: value}), name)
    for value in ["true", "false", "TRUE"]:
        assert client.get(url, {name: value}).status_code == 200


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
    ("NoticeFilter", "q"),
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


# --- Pages -----------------------------------------------------------------------------------


def _walk(client, url, **params):
    """Every item of a list, following `next` one item a page; and the counts each page gave."""
    items, counts, page = [], set(), client.get(url, {"page_size": 1, **params})
    while True:
        assert page.status_code == 200, page.content[:300]
        body = page.json()
        items += body["results"]
        counts.add(body.get("count"))
        if body["next"] is None:
            return items, counts
        page = client.get(body["next"])


@pytest.mark.parametrize("url", ["/api/v1/notices/", "/api/v1/profiles/", "/api/v1/seizures/"])
def test_count_true_gives_the_exact_total_of_what_you_may_see(network, api, world, url):
    seen = {}
    for who in ("alice", "charlie"):
        client = api(getattr(network, who))
        assert "count" not in client.get(url).json()  # absent unless asked for
        assert "count" not in client.get(url, {"count": "false"}).json()
        items, counts = _walk(client, url, count="true")
        assert counts == {len(items)}, (who, counts)
        seen[who] = len(items)
    if url == "/api/v1/profiles/":  # the AMBER annex is not the outsider's to count
        assert seen["charlie"] < seen["alice"]


def test_count_follows_the_filters(network, api, world):
    client = api(network.alice)
    everything = client.get("/api/v1/profiles/", {"count": "true"}).json()["count"]
    amber = client.get("/api/v1/profiles/", {"count": "true", "tlp": TLP.AMBER}).json()
    assert amber["count"] == len(amber["results"]) == 1 < everything


def test_page_is_refused_pages_are_cursors(network, api):
    for url in ("/api/v1/profiles/", "/api/v1/notices/", "/api/v1/seizures/"):
        problem = refused(api(network.alice).get(url, {"page": "2"}), "page", "unknown_parameter")
        assert "follow `next`" in problem["errors"][0]["detail"]


def test_a_renamed_filter_is_refused_naming_the_new_one(network, api, world):
    cases = [
        ("alice", "/api/v1/profiles/", "country", "`manufacturer_country`"),
        ("alice", "/api/v1/notices/", "country", "`issuer_country` or `audience_country`"),
        ("audrey", "/api/v1/audit/", "tlp", "`object_tlp`"),
    ]
    for who, url, old, new in cases:
        problem = refused(
            api(getattr(network, who)).get(url, {old: "FR"}), old, "renamed_parameter"
        )
        assert new in problem["errors"][0]["detail"]


def test_sub_lists_are_pages_walked_by_cursor(network, api, world, make_profile):
    client = api(network.alice)
    profile = world["profiles"]
    for name in ("green", "blue"):
        url = f"/api/v1/profiles/{profile}/"
        etag = client.get(url)["ETag"]
        changed = client.patch(url, {"name": name}, format="json", headers={"If-Match": etag})
        assert changed.status_code == 200, changed.content
    revisions, counts = _walk(client, f"/api/v1/profiles/{profile}/revisions/", count="true")
    assert [r["number"] for r in revisions] == [1, 2, 3]
    assert counts == {3}
    notice = world["notices"]
    versions, _ = _walk(client, f"/api/v1/notices/{notice}/versions/")
    assert [v["number"] for v in versions] == [1]


def test_requestable_is_a_page_walked_by_cursor(network, api, make_profile):
    alice, cora, charlie = api(network.alice), api(network.cora), api(network.charlie)
    hidden = [make_profile(tlp=TLP.AMBER, name=f"Annex {n}").pk for n in range(3)]
    body = {
        "type": "alert",
        "title": "Three phones",
        "tlp": TLP.GREEN,
        "profile_ids": hidden,
        "restricted_data_available": True,
    }
    notice = alice.post("/api/v1/notices/", body, format="json").json()
    assert cora.post(f"/api/v1/notices/{notice['id']}/publish/").status_code == 200
    url = "/api/v1/access-requests/requestable/"
    offered, counts = _walk(charlie, url, via_notice=notice["id"], count="true")
    assert [o["target_id"] for o in offered] == sorted(hidden)
    assert counts == {3}
    last = charlie.get(url, {"via_notice": notice["id"], "page_size": 2})
    second = charlie.get(last.json()["next"]).json()
    assert [o["target_id"] for o in second["results"]] == [sorted(hidden)[2]]
    back = charlie.get(second["previous"]).json()
    assert back["results"] == last.json()["results"]
    assert back["previous"] is None
    for name, bad in [("page_size", "0"), ("page_size", "201"), ("cursor", "!!!!"), ("count", "1")]:
        refused(charlie.get(url, {"via_notice": notice["id"], name: bad}), name)
