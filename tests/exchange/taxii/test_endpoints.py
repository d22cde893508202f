"""The TAXII endpoints over HTTP, in process, on a fake feed: what `/taxii2/` does with the
entries `exchange.stix.feed.entries(member)` gives it (envelopes, headers, filters, paging,
errors, credentials, audit). `test_client.py` runs the real feed through taxii2-client."""

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from exchange.stix import feed
from exchange.stix.entry import Entry
from exchange.stix.mapping import Span
from exchange.stix.objects import TLP_MARKING_IDS
from exchange.taxii import paging
from intel.models import AuditEvent, Member
from tests.exchange.taxii.conftest import (
    EVERYTHING,
    INTEROP,
    ROOT,
    TAXII,
    TaxiiClient,
    assert_taxii_error,
    basic,
)

T0 = datetime(2025, 5, 1, 8, 0, tzinfo=UTC)
OBJECTS = f"{ROOT}collections/{EVERYTHING}/objects/"
MANIFEST = f"{ROOT}collections/{EVERYTHING}/manifest/"
INTEROP_OBJECTS = f"{ROOT}collections/{INTEROP}/objects/"


def entry(n: int, stix_id: str, *, minutes: int = 0, tlp: str = "TLP:GREEN") -> Entry:
    stix_type = stix_id.split("--")[0]
    version = (T0 + timedelta(minutes=minutes)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    return Entry(
        stix_id=stix_id,
        stix_type=stix_type,
        version=version,
        date_added=T0 + timedelta(seconds=n, microseconds=n),
        obj={
            "type": stix_type,
            "id": stix_id,
            "spec_version": "2.1",
            "created": version,
            "modified": version,
            "object_marking_refs": [TLP_MARKING_IDS[tlp]],
        },
    )


PROFILE_1 = entry(1, "x-dix-device-profile--1", tlp="TLP:AMBER")
REPORT_1 = entry(2, "report--1")
PROFILE_1B = entry(3, "x-dix-device-profile--1", minutes=5, tlp="TLP:AMBER")
IDENTITY = entry(4, "identity--1", tlp="TLP:CLEAR")
SECRET = entry(5, "report--secret", tlp="TLP:AMBER")  # alice's only


@pytest.fixture(autouse=True)
def fake_feed(monkeypatch: pytest.MonkeyPatch) -> None:
    """Alice sees everything; everyone else all but the last-added AMBER report."""

    def entries(member: Member) -> list[Entry]:
        shared = [PROFILE_1, REPORT_1, PROFILE_1B, IDENTITY]
        return [*shared, SECRET] if member.username == "alice" else shared

    def window(member: Member, since: datetime | None, size: int) -> tuple[list[Entry], Span]:
        """Windows of one added version (with every version of its object), to page across
        windows as well."""
        later = [e for e in entries(member) if since is None or e.date_added >= since]
        cut = later[1].date_added if len(later) > 1 else None
        ids = {e.stix_id for e in later[:1]}
        return [e for e in entries(member) if e.stix_id in ids], Span(since, cut)

    monkeypatch.setattr(feed, "entries", entries)
    monkeypatch.setattr(feed, "window", window)


Taxii = Callable[..., TaxiiClient]


# --- Discovery, API root, collections --------------------------------------------------------


def test_discovery_names_the_api_root(network: Any, taxii: Taxii) -> None:
    response = taxii(network.bob).get("/taxii2/")
    assert response.status_code == 200
    assert response["Content-Type"] == TAXII
    body = response.json()
    assert body["title"]
    assert body["api_roots"] == ["http://testserver/taxii2/api/"]
    assert body["default"] == "http://testserver/taxii2/api/"


def test_api_root_speaks_taxii_2_1(network: Any, taxii: Taxii) -> None:
    body = taxii(network.bob).get(ROOT).json()
    assert body["versions"] == [TAXII]
    assert body["max_content_length"] > 0


def test_two_read_only_collections_with_fixed_ids(network: Any, taxii: Taxii) -> None:
    response = taxii(network.bob).get(f"{ROOT}collections/")
    assert response["Content-Type"] == TAXII
    collections = response.json()["collections"]
    assert [c["id"] for c in collections] == [EVERYTHING, INTEROP]
    for c in collections:
        assert c["can_read"] is True
        assert c["can_write"] is False
        assert c["media_types"] == ["application/stix+json;version=2.1"]
        assert "." not in c["title"]


def test_a_collection_by_id_or_alias(network: Any, taxii: Taxii) -> None:
    client = taxii(network.bob)
    by_id = client.get(f"{ROOT}collections/{INTEROP}/").json()
    assert by_id["id"] == INTEROP
    assert client.get(f"{ROOT}collections/dix-interop/").json() == by_id
    body = assert_taxii_error(client.get(f"{ROOT}collections/nope/"), 404)
    assert body["error_code"] == "not-found"


# --- Objects, manifest, object, versions ------------------------------------------------------


def test_objects_envelope_and_date_added_headers(network: Any, taxii: Taxii) -> None:
    response = taxii(network.bob).get(OBJECTS)
    assert response.status_code == 200
    assert response["Content-Type"] == TAXII
    body = response.json()
    # match[version] defaults to last: the profile's first version is left out.
    assert [o["id"] for o in body["objects"]] == [
        "report--1",
        "x-dix-device-profile--1",
        "identity--1",
    ]
    assert body["more"] is False
    assert "next" not in body
    assert response["X-TAXII-Date-Added-First"] == "2025-05-01T08:00:02.000002Z"
    assert response["X-TAXII-Date-Added-Last"] == "2025-05-01T08:00:04.000004Z"


def test_headers_and_counts_only_cover_what_the_member_gets(network: Any, taxii: Taxii) -> None:
    alice = taxii(network.alice).get(OBJECTS, **{"match[version]": "all"})
    bob = taxii(network.bob).get(OBJECTS, **{"match[version]": "all"})
    assert alice["X-TAXII-Date-Added-Last"] == "2025-05-01T08:00:05.000005Z"
    assert bob["X-TAXII-Date-Added-Last"] == "2025-05-01T08:00:04.000004Z"
    assert len(bob.json()["objects"]) == 4
    page = taxii(network.bob).get(OBJECTS, limit="4", **{"match[version]": "all"}).json()
    assert page["more"] is False
    assert_taxii_error(taxii(network.bob).get(f"{OBJECTS}report--secret/"), 404)


def test_interop_holds_standard_types_only(network: Any, taxii: Taxii) -> None:
    body = taxii(network.bob).get(INTEROP_OBJECTS, **{"match[version]": "all"}).json()
    assert [o["id"] for o in body["objects"]] == ["report--1", "identity--1"]
    assert_taxii_error(
        taxii(network.bob).get(f"{ROOT}collections/{INTEROP}/objects/x-dix-device-profile--1/"),
        404,
    )


def test_paging_with_limit_and_next(network: Any, taxii: Taxii) -> None:
    client = taxii(network.bob)
    first = client.get(OBJECTS, limit="2", **{"match[version]": "all"})
    body = first.json()
    assert [o["id"] for o in body["objects"]] == ["x-dix-device-profile--1", "report--1"]
    assert body["more"] is True
    assert body["next"]
    assert first["X-TAXII-Date-Added-Last"] == "2025-05-01T08:00:02.000002Z"
    second = client.get(OBJECTS, limit="2", next=body["next"], **{"match[version]": "all"})
    assert [o["id"] for o in second.json()["objects"]] == ["x-dix-device-profile--1", "identity--1"]
    assert second.json()["more"] is False


def test_limit_above_the_cap_is_capped(
    network: Any, taxii: Taxii, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(paging, "MAX_PAGE_SIZE", 2)
    body = taxii(network.bob).get(OBJECTS, limit="50", **{"match[version]": "all"}).json()
    assert len(body["objects"]) == 2
    assert body["more"] is True


def test_an_empty_answer_is_an_envelope_without_headers(network: Any, taxii: Taxii) -> None:
    response = taxii(network.bob).get(OBJECTS, **{"match[type]": "indicator"})
    assert response.status_code == 200
    assert response.json() == {"more": False}
    assert "X-TAXII-Date-Added-First" not in response


def test_manifest_records(network: Any, taxii: Taxii) -> None:
    response = taxii(network.bob).get(MANIFEST, **{"match[id]": "x-dix-device-profile--1"})
    assert response["Content-Type"] == TAXII
    assert response.json()["objects"] == [
        {
            "id": "x-dix-device-profile--1",
            "date_added": "2025-05-01T08:00:03.000003Z",
            "version": "2025-05-01T08:05:00.000Z",
            "media_type": "application/stix+json;version=2.1",
        }
    ]
    assert response["X-TAXII-Date-Added-First"] == "2025-05-01T08:00:03.000003Z"


def test_object_by_id_and_its_versions(network: Any, taxii: Taxii) -> None:
    client = taxii(network.bob)
    url = f"{OBJECTS}x-dix-device-profile--1/"
    latest = client.get(url).json()["objects"]
    assert [o["modified"] for o in latest] == ["2025-05-01T08:05:00.000Z"]
    every = client.get(url, **{"match[version]": "all"}).json()["objects"]
    assert len(every) == 2
    first = client.get(url, **{"match[version]": "first"}).json()["objects"]
    assert [o["modified"] for o in first] == ["2025-05-01T08:00:00.000Z"]
    versions = client.get(url + "versions/")
    assert versions["Content-Type"] == TAXII
    assert versions.json() == {
        "more": False,
        "versions": ["2025-05-01T08:00:00.000Z", "2025-05-01T08:05:00.000Z"],
    }
    assert versions["X-TAXII-Date-Added-First"] == "2025-05-01T08:00:01.000001Z"
    assert versions["X-TAXII-Date-Added-Last"] == "2025-05-01T08:00:03.000003Z"
    assert_taxii_error(client.get(f"{OBJECTS}report--nope/versions/"), 404)


def test_bad_filters_are_400_with_a_taxii_error(network: Any, taxii: Taxii) -> None:
    client = taxii(network.bob)
    for params in ({"limit": "0"}, {"added_after": "soon"}, {"next": "zzz"}):
        body = assert_taxii_error(client.get(OBJECTS, **params), 400)
        assert body["details"]["parameter"] in params


# --- Credentials --------------------------------------------------------------------------------


def test_no_credentials_is_a_401_with_a_basic_challenge(network: Any, taxii: Taxii) -> None:
    for path in ("/taxii2/", ROOT, OBJECTS, f"{ROOT}no/such/thing/"):
        response = taxii(None).get(path)
        assert_taxii_error(response, 401)
        assert response["WWW-Authenticate"].startswith('Basic realm="DIX TAXII"')
        assert "Bearer" in response["WWW-Authenticate"]


@pytest.mark.parametrize("scheme", ["basic", "bearer", "token"])
def test_a_token_works_in_every_scheme(network: Any, taxii: Taxii, scheme: str) -> None:
    assert taxii(network.bob, scheme=scheme).get(OBJECTS).status_code == 200


def test_basic_with_a_members_password(network: Any) -> None:
    network.bob.set_password("correct horse battery staple")
    network.bob.save(update_fields=["password"])
    assert TaxiiClient(basic("bob", "correct horse battery staple")).get(ROOT).status_code == 200
    assert_taxii_error(TaxiiClient(basic("bob", "wrong")).get(ROOT), 401)


def test_bad_credentials_are_a_401(network: Any, taxii: Taxii) -> None:
    secret = taxii(network.bob, scheme="bearer").authorization.split()[1]  # type: ignore[union-attr]
    for authorization in (
        basic("charlie", secret),  # bob's token under another name
        basic("bob", "dix_not-a-token"),
        "Bearer dix_not-a-token",
        "Basic !!!",
        "Basic " + "Ym9i",  # "bob", no colon
    ):
        response = TaxiiClient(authorization).get(ROOT)
        assert_taxii_error(response, 401)
        assert "WWW-Authenticate" in response


def test_an_inactive_member_is_refused(network: Any, taxii: Taxii) -> None:
    client = taxii(network.bob, scheme="basic")
    network.bob.is_active = False
    network.bob.save(update_fields=["is_active"])
    assert_taxii_error(client.get(ROOT), 401)


# --- Media types ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "accept",
    [
        "application/taxii+json",
        "application/taxii+json;version=2.1",
        "application/taxii+json; version=2.1",
        "application/json;q=0.9, application/taxii+json",
        "*/*",
        None,
    ],
)
def test_acceptable_accept_headers_are_served(network: Any, taxii: Taxii, accept: str) -> None:
    response = taxii(network.bob).get(OBJECTS, accept=accept)
    assert response.status_code == 200
    assert response["Content-Type"] == TAXII


@pytest.mark.parametrize(
    "accept",
    [
        "application/json",
        "application/xml",
        "application/taxii+json;version=2.0",
        "application/stix+json;version=2.1",
        "application/taxii+json;q=0",
    ],
)
def test_other_accept_headers_are_a_406(network: Any, taxii: Taxii, accept: str) -> None:
    body = assert_taxii_error(taxii(network.bob).get(OBJECTS, accept=accept), 406)
    assert body["error_code"] == "not-acceptable"


# --- A read-only server -------------------------------------------------------------------------


def test_writes_are_refused(network: Any, taxii: Taxii) -> None:
    client = taxii(network.bob)
    assert_taxii_error(client.request("post", OBJECTS), 403)
    assert_taxii_error(client.request("delete", f"{OBJECTS}report--1/"), 403)
    assert_taxii_error(client.request("put", OBJECTS), 405)
    assert_taxii_error(client.request("options", OBJECTS), 405)
    assert_taxii_error(client.request("post", f"{ROOT}collections/nope/objects/"), 404)


def test_status_resources_never_exist(network: Any, taxii: Taxii) -> None:
    body = assert_taxii_error(
        taxii(network.bob).get(f"{ROOT}status/2d086da7-4bdc-4f91-900e-d77486753710/"), 404
    )
    assert body["error_code"] == "not-found"


def test_unknown_paths_are_taxii_404s(network: Any, taxii: Taxii) -> None:
    client = taxii(network.bob)
    assert_taxii_error(client.get("/taxii2/api2/"), 404)
    body = assert_taxii_error(client.get(f"{ROOT}collections/{EVERYTHING}/nothing"), 404)
    assert "end with '/'" in body["description"]


def test_a_path_without_its_slash_is_served_as_with_it(network: Any, taxii: Taxii) -> None:
    client = taxii(network.bob)

    slashed = client.get(f"{ROOT}collections/{EVERYTHING}/objects/")
    unslashed = client.get(f"{ROOT}collections/{EVERYTHING}/objects")

    assert unslashed.status_code == slashed.status_code == 200
    assert unslashed.json() == slashed.json()


# --- Audit ---------------------------------------------------------------------------------------


def test_exports_are_audited_once_per_answer_with_objects(network: Any, taxii: Taxii) -> None:
    client = taxii(network.bob)
    client.get(OBJECTS, limit="2")
    client.get(f"{OBJECTS}x-dix-device-profile--1/")
    client.get(f"{OBJECTS}x-dix-device-profile--1/versions/")
    client.get(MANIFEST)  # ids and versions only: not an export
    client.get(OBJECTS, **{"match[type]": "indicator"})  # nothing returned
    events = list(AuditEvent.objects.filter(action="taxii.export").order_by("id"))
    assert [(e.detail["endpoint"], e.detail["count"]) for e in events] == [
        ("objects", 2),
        ("object", 1),
        ("versions", 2),
    ]
    first = events[0]
    assert first.actor_username == "bob"
    assert first.object_id == EVERYTHING
    assert first.detail["collection"] == "dix-everything"
    assert first.object_tlp == "TLP:AMBER"  # the most restricted label exported
