"""Every route answers with and without its trailing slash, with the method kept: never a
301 that a client follows as a GET."""

from intel.models import DeviceProfile
from tests.helpers.profiles import assert_problem, valid_profile


def test_post_without_the_slash_creates(network, api):
    response = api(network.alice).post(
        "/api/v1/profiles", valid_profile(name="No slash"), format="json"
    )

    assert response.status_code == 201, response.content
    assert DeviceProfile.objects.filter(name="No slash").count() == 1
    assert response["Location"].endswith(f"/api/v1/profiles/{response.json()['id']}/")


def test_reads_and_changes_without_the_slash(network, api, make_profile):
    client = api(network.alice)
    profile = make_profile(name="Slashless")

    me = client.get("/api/v1/me")
    detail = client.get(f"/api/v1/profiles/{profile.pk}")
    listed = client.get("/api/v1/profiles?page_size=1")
    patched = client.patch(
        f"/api/v1/profiles/{profile.pk}",
        {"notes": "Changed."},
        format="json",
        headers={"If-Match": detail["ETag"]},
    )

    assert me.status_code == 200
    assert me.json()["username"] == network.alice.username
    assert detail.status_code == 200
    assert detail.json()["name"] == "Slashless"
    assert listed.status_code == 200
    assert listed.json()["next"] is None or "/api/v1/profiles/?" in listed.json()["next"]
    assert patched.status_code == 200, patched.content
    assert patched.json()["notes"] == "Changed."


def test_a_path_that_is_no_route_either_way_stays_a_404(network, api):
    response = api(network.alice).get("/api/v1/nothing-here")

    assert_problem(response, 404)
