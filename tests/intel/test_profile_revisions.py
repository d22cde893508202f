"""A profile's revisions record exactly what changed, and a change needs the current ETag in
If-Match (428 without one, 412 when stale: the first of two editors wins)."""

from intel.models import TLP, ProfileRevision
from tests.helpers.profiles import PROFILES, assert_problem, create_profile, detail_url, patch

# --- Revisions ---------------------------------------------------------------------------------


def test_revisions_record_exactly_what_changed(network, api):
    client = api(network.alice)
    profile, etag = create_profile(
        client, weight_g="12", identifiers=[{"kind": "tac", "value": "00999900"}]
    )
    pid = profile["id"]

    first = client.get(f"{PROFILES}{pid}/revisions/").json()["results"]
    assert [(r["number"], r["action"], r["author"]) for r in first] == [(1, "created", "alice")]

    response = patch(
        client,
        pid,
        {"weight_g": "18.5", "identifiers": [{"kind": "tac", "value": "35123456"}]},
        etag,
    )
    assert response.status_code == 200, response.content
    assert response.json()["version"] == 2
    revisions = client.get(f"{PROFILES}{pid}/revisions/").json()["results"]
    assert [(r["number"], r["action"]) for r in revisions] == [(1, "created"), (2, "updated")]
    assert revisions[1]["changes"] == {
        "weight_g": {"old": "12.00", "new": "18.50"},
        "identifiers": {
            "old": [{"kind": "tac", "value": "00999900", "note": ""}],
            "new": [{"kind": "tac", "value": "35123456", "note": ""}],
        },
    }

    # The same values again: accepted, but no new version and no revision.
    etag2 = response["ETag"]
    same = patch(
        client,
        pid,
        {"weight_g": "18.50", "identifiers": [{"kind": "tac", "value": "35123456"}]},
        etag2,
    )
    assert same.status_code == 200, same.content
    assert same.json()["version"] == 2
    assert same.json()["identifiers"] == response.json()["identifiers"]  # ids kept too
    assert same["ETag"] == etag2
    assert ProfileRevision.objects.filter(profile_id=pid).count() == 2

    detail = client.get(f"{PROFILES}{pid}/revisions/2/")
    assert detail.status_code == 200
    snapshot = detail.json()["snapshot"]
    assert snapshot["weight_g"] == "18.50"
    assert snapshot["identifiers"] == [{"kind": "tac", "value": "35123456", "note": ""}]
    assert snapshot["name"] == "L8star BM10"
    assert client.get(f"{PROFILES}{pid}/revisions/3/").status_code == 404


# --- If-Match ---------------------------------------------------------------------------------


def test_patch_without_if_match_is_428(network, api, make_profile):
    profile = make_profile(tlp=TLP.GREEN, weight_g="12")

    response = patch(api(network.alice), profile.pk, {"weight_g": "20"}, None)

    assert_problem(response, 428)
    profile.refresh_from_db()
    assert (profile.version, str(profile.weight_g)) == (1, "12.00")


def test_stale_etag_is_412_and_profile_unchanged(network, api, make_profile):
    profile = make_profile(tlp=TLP.GREEN, weight_g="12")
    client = api(network.alice)
    stale = client.get(detail_url(profile.pk))["ETag"]
    assert patch(client, profile.pk, {"weight_g": "15"}, stale).status_code == 200

    response = patch(client, profile.pk, {"weight_g": "99", "name": "Overwritten"}, stale)

    assert_problem(response, 412)
    profile.refresh_from_db()
    assert (profile.version, str(profile.weight_g)) == (2, "15.00")
    assert profile.name == "Mini phone TLP:GREEN"
    assert ProfileRevision.objects.filter(profile=profile).count() == 2


def test_two_editors_with_the_same_etag_first_wins(network, api, make_profile):
    profile = make_profile(tlp=TLP.GREEN, recipients=[network.eurojust], notes="")
    alice, cora = api(network.alice), api(network.cora)
    etag_alice = alice.get(detail_url(profile.pk))["ETag"]
    etag_cora = cora.get(detail_url(profile.pk))["ETag"]

    first = patch(alice, profile.pk, {"notes": "alice was here"}, etag_alice)
    second = patch(cora, profile.pk, {"notes": "cora was here"}, etag_cora)

    assert first.status_code == 200
    assert_problem(second, 412)
    profile.refresh_from_db()
    assert profile.notes == "alice was here"


def test_if_match_naming_another_profile_is_412(network, api, make_profile):
    one = make_profile(tlp=TLP.GREEN, name="one")
    two = make_profile(tlp=TLP.GREEN, name="two")
    client = api(network.alice)
    etag_one = client.get(detail_url(one.pk))["ETag"]

    assert_problem(patch(client, two.pk, {"notes": "x"}, etag_one), 412)
