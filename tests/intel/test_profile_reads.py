"""Reading profiles back: conditional GET (304 until a change), the list's filters, and cursor
pagination walking every profile once."""

import pytest

from intel import accounts
from intel.models import TLP
from tests.helpers.profiles import PROFILES, assert_problem, detail_url, list_ids, patch

# --- Conditional GET ------------------------------------------------------------------------


def test_detail_etag_answers_304_until_the_profile_changes(network, api, make_profile):
    profile = make_profile(tlp=TLP.GREEN)
    client = api(network.alice)
    first = client.get(detail_url(profile.pk))
    etag = first["ETag"]

    cached = client.get(detail_url(profile.pk), headers={"If-None-Match": etag})
    assert cached.status_code == 304
    assert cached.content == b""
    assert cached["ETag"] == etag

    assert patch(client, profile.pk, {"notes": "new"}, etag).status_code == 200
    fresh = client.get(detail_url(profile.pk), headers={"If-None-Match": etag})
    assert fresh.status_code == 200
    assert fresh["ETag"] != etag
    assert fresh.json()["notes"] == "new"


def test_list_etag_answers_304_until_the_list_changes(network, api, make_profile):
    make_profile(tlp=TLP.GREEN, name="first")
    client = api(network.alice)
    etag = client.get(PROFILES)["ETag"]

    cached = client.get(PROFILES, headers={"If-None-Match": etag})
    assert cached.status_code == 304
    assert cached["ETag"] == etag

    make_profile(tlp=TLP.GREEN, name="second")
    fresh = client.get(PROFILES, headers={"If-None-Match": etag})
    assert fresh.status_code == 200
    assert fresh["ETag"] != etag
    assert [p["name"] for p in fresh.json()["results"]] == ["second", "first"]


# --- Filters ----------------------------------------------------------------------------------


@pytest.fixture
def catalogue(network, make_profile) -> dict[str, int]:
    bea = accounts.member_create(
        organisation=network.be_desk, username="bea", role="analyst", clearance=TLP.AMBER
    )
    profiles = {
        "range": make_profile(
            tlp=TLP.GREEN,
            name="L8star BM10",
            manufacturer_country="CN",
            aliases=["thumb phone"],
            identifiers=[{"kind": "tac_range", "range_start": "00999900", "range_end": "00999909"}],
        ),
        "tac": make_profile(
            tlp=TLP.AMBER,
            name="Zanco tiny t1",
            manufacturer_country="GB",
            identifiers=[{"kind": "tac", "value": "00999910"}],
        ),
        "pen": make_profile(
            tlp=TLP.GREEN,
            name="Pen phone",
            device_class="disguised_phone",
            manufacturer_country="CN",
            identifiers=[{"kind": "bluetooth_name", "value": "PENCAM-01"}],
        ),
        "belgian": make_profile(
            tlp=TLP.GREEN, name="Car key phone", device_class="feature_phone", author=bea
        ),
    }
    return {key: profile.pk for key, profile in profiles.items()}


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, {"range", "tac", "pen", "belgian"}),
        ({"device_class": "disguised_phone"}, {"pen"}),
        ({"device_class": ["mini_phone", "feature_phone"]}, {"range", "tac", "belgian"}),
        ({"tlp": TLP.AMBER}, {"tac"}),
        ({"tlp": TLP.GREEN}, {"range", "pen", "belgian"}),
        ({"owner": "be-desk"}, {"belgian"}),
        ({"owner": "fr-desk"}, {"range", "tac", "pen"}),
        ({"manufacturer_country": "CN"}, {"range", "pen"}),
        ({"owner_country": "BE"}, {"belgian"}),
        ({"tac_prefix": "0099990"}, {"range"}),
        ({"tac_prefix": "00999905"}, {"range"}),
        ({"tac_prefix": "00999910"}, {"tac"}),
        ({"tac_prefix": "009999"}, {"range", "tac"}),
        ({"tac_prefix": "35"}, set()),
        ({"q": "thumb"}, {"range"}),
        ({"q": "pencam"}, {"pen"}),
        ({"q": "ZANCO 00999910"}, {"tac"}),
        ({"q": "phone"}, {"range", "pen", "belgian"}),
        ({"manufacturer_country": "cn", "device_class": "mini_phone"}, {"range"}),
    ],
)
def test_list_filters(network, api, catalogue, params, expected):
    ids = list_ids(api(network.alice), **params)

    assert len(ids) == len(set(ids))
    assert set(ids) == {catalogue[key] for key in expected}


@pytest.mark.parametrize("prefix", ["12ab", "123456789", "-1"])
def test_bad_tac_prefix_is_400_naming_it(network, api, prefix):
    response = api(network.alice).get(PROFILES, {"tac_prefix": prefix})

    assert_problem(response, 400, "tac_prefix")


def test_unknown_filter_choice_is_400(network, api):
    assert_problem(api(network.alice).get(PROFILES, {"tlp": "TLP:PURPLE"}), 400, "tlp")


def test_cursor_pagination_walks_every_profile_once(network, api, catalogue):
    client = api(network.alice)
    url: str | None = f"{PROFILES}?page_size=2"
    pages: list[list[int]] = []
    while url is not None:
        response = client.get(url)
        assert response.status_code == 200, response.content
        body = response.json()
        pages.append([item["id"] for item in body["results"]])
        url = body["next"]
        assert len(pages) <= 5, "pagination does not end"

    seen = [pid for page in pages for pid in page]
    assert [len(page) for page in pages] == [2, 2]
    assert len(seen) == len(set(seen))
    assert set(seen) == set(catalogue.values())
    # Newest first.
    assert seen == sorted(seen, reverse=True)
