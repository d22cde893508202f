"""Who may file, change, relabel and retire a device profile, and what retiring does."""

import pytest

from intel import accounts
from intel.models import TLP, DeviceProfile, ProfileRevision
from tests.helpers.profiles import (
    PROFILES,
    assert_problem,
    detail_url,
    list_ids,
    patch,
    valid_profile,
)

# --- Who may write ----------------------------------------------------------------------------


def test_partner_desk_officer_cannot_change_a_visible_profile(network, api, make_profile):
    profile = make_profile(tlp=TLP.GREEN, notes="original")
    bob = api(network.bob)
    read = bob.get(detail_url(profile.pk))
    assert read.status_code == 200

    response = patch(bob, profile.pk, {"notes": "bob's edit"}, read["ETag"])

    assert_problem(response, 403)
    profile.refresh_from_db()
    assert (profile.notes, profile.version) == ("original", 1)


def test_secretariat_coordinator_may_change(network, api, make_profile):
    profile = make_profile(tlp=TLP.GREEN)
    cora = api(network.cora)

    response = patch(
        cora, profile.pk, {"notes": "checked"}, cora.get(detail_url(profile.pk))["ETag"]
    )

    assert response.status_code == 200, response.content
    assert response.json()["notes"] == "checked"
    assert ProfileRevision.objects.get(profile=profile, number=2).author == network.cora


def test_coordinator_raises_tlp_but_only_owner_lowers_it(network, api, make_profile):
    profile = make_profile(tlp=TLP.GREEN, recipients=[network.eurojust])
    cora, alice = api(network.cora), api(network.alice)

    raised = patch(cora, profile.pk, {"tlp": TLP.AMBER}, cora.get(detail_url(profile.pk))["ETag"])
    assert raised.status_code == 200, raised.content
    assert raised.json()["tlp"] == TLP.AMBER

    lowered = patch(cora, profile.pk, {"tlp": TLP.GREEN}, raised["ETag"])
    assert_problem(lowered, 400, "tlp")
    profile.refresh_from_db()
    assert (profile.tlp, profile.version) == (TLP.AMBER, 2)

    by_owner = patch(
        alice, profile.pk, {"tlp": TLP.GREEN}, alice.get(detail_url(profile.pk))["ETag"]
    )
    assert by_owner.status_code == 200, by_owner.content
    assert by_owner.json()["tlp"] == TLP.GREEN


@pytest.mark.parametrize("persona", ["olga", "bob"])
def test_desk_officers_cannot_file_profiles(network, api, persona):
    response = api(getattr(network, persona)).post(PROFILES, valid_profile(), format="json")

    assert_problem(response, 403)
    assert DeviceProfile.objects.count() == 0


@pytest.mark.parametrize(
    ("clearance", "label"),
    [(TLP.GREEN, TLP.AMBER), (TLP.AMBER, TLP.AMBER_STRICT), (TLP.AMBER_STRICT, TLP.RED)],
)
def test_analyst_cannot_file_above_own_clearance(network, api, clearance, label):
    analyst = accounts.member_create(
        organisation=network.fr_desk, username="gaston", role="analyst", clearance=clearance
    )
    client = api(analyst)

    response = client.post(PROFILES, valid_profile(tlp=label), format="json")

    assert_problem(response, 400, "tlp")
    assert DeviceProfile.objects.count() == 0
    # At their clearance, the same analyst files it.
    assert client.post(PROFILES, valid_profile(tlp=clearance), format="json").status_code == 201


def test_alice_with_red_clearance_files_red(network, api):
    response = api(network.alice).post(
        PROFILES, valid_profile(tlp=TLP.RED, recipient_members=["alice"]), format="json"
    )

    assert response.status_code == 201, response.content
    assert response.json()["tlp"] == TLP.RED


# --- Retire ----------------------------------------------------------------------------------


def test_retire_hides_from_default_list_and_freezes(network, api, make_profile):
    kept = make_profile(tlp=TLP.GREEN, name="kept")
    retired = make_profile(tlp=TLP.GREEN, name="to retire")
    client = api(network.alice)

    response = client.post(
        f"{PROFILES}{retired.pk}/retire/", {"reason": "Duplicate of kept."}, format="json"
    )

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["retired"] is True
    assert body["retired_reason"] == "Duplicate of kept."
    assert body["retired_at"] is not None
    assert body["version"] == 2
    assert list_ids(client) == [kept.pk]
    assert list_ids(client, retired="true") == [retired.pk]
    assert client.get(detail_url(retired.pk)).status_code == 200

    revisions = client.get(f"{PROFILES}{retired.pk}/revisions/").json()["results"]
    assert [(r["number"], r["action"]) for r in revisions] == [(1, "created"), (2, "retired")]
    assert revisions[1]["changes"]["retired"] == {"old": False, "new": True}

    assert_problem(patch(client, retired.pk, {"notes": "late"}, response["ETag"]), 409)
    again = client.post(f"{PROFILES}{retired.pk}/retire/", {"reason": "again"}, format="json")
    assert_problem(again, 409)


def test_retire_needs_a_reason_and_a_writer(network, api, make_profile):
    profile = make_profile(tlp=TLP.GREEN)

    assert_problem(
        api(network.alice).post(f"{PROFILES}{profile.pk}/retire/", {}, format="json"), 400, "reason"
    )
    assert_problem(
        api(network.bob).post(f"{PROFILES}{profile.pk}/retire/", {"reason": "x"}, format="json"),
        403,
    )
    profile.refresh_from_db()
    assert profile.retired_at is None
