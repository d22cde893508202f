"""Input at the edges: nothing a client sends may produce a 500."""

import json

import pytest

from intel.models import DeviceProfile


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"sim_slots": 99_999_999}, "sim_slots"),
        ({"battery_mah": -1}, "battery_mah"),
        ({"price_amount": "1e400", "price_currency": "EUR"}, "price_amount"),
        ({"price_amount": "20.00"}, "price_currency"),
        ({"price_amount": "20.00", "price_currency": "EURO"}, "price_currency"),
        ({"gsm_bands": [901]}, "gsm_bands.0"),
        ({"legal_status": {"XX": "legal"}}, "legal_status"),
        ({"identifiers": "00999900"}, "identifiers"),
        ({"identifiers": [None]}, "identifiers.0"),
        ({"identifiers": [{"kind": "tac"}]}, "identifiers.0.value"),
        ({"name": "nul\x00byte"}, "name"),
        ({"parent": 2**70}, "parent"),
        ({"parent": 424242}, "parent"),
        ({"recipient_members": ["nobody"]}, "recipient_members"),
        ({"tlp": "TLP:WHITE"}, "tlp"),
    ],
)
def test_bad_values_are_refused_with_the_field_named(network, api, payload, field):
    body = {"name": "Edge phone", "device_class": "mini_phone", **payload}
    response = api(network.alice).post("/api/v1/profiles/", body, format="json")
    assert response.status_code == 400, response.content
    assert response["Content-Type"] == "application/problem+json"
    assert field in [error["field"] for error in response.json()["errors"]]
    assert DeviceProfile.objects.count() == 0


@pytest.mark.parametrize("body", ["[1, 2]", "null", '"text"', "{", "\ufeff{}"])
def test_bodies_that_are_not_an_object_get_400(network, api, body):
    response = api(network.alice).post("/api/v1/profiles/", body, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "body"


def test_an_oversized_json_body_gets_413(network, api):
    body = json.dumps({"name": "x" * (3 * 1024 * 1024), "device_class": "mini_phone"})
    response = api(network.alice).post("/api/v1/profiles/", body, content_type="application/json")
    assert response.status_code == 413
    assert response.json()["type"] == "urn:dix:problem:request-too-large"


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/profiles/99999999999999999999999/",
        "/api/v1/profiles/1/revisions/99999999999999999999999/",
        "/api/v1/profiles/1/attachments/99999999999999999999999/",
        "/api/v1/organisations/99999999999999999999999/",
        "/api/v1/profiles/abc/",
    ],
)
def test_ids_out_of_range_are_not_found(network, api, make_profile, path):
    make_profile()
    response = api(network.alice).get(path)
    assert response.status_code == 404
    assert response.json()["type"] == "urn:dix:problem:not-found"


def test_a_parent_the_reader_may_not_see_is_not_named(network, api, make_profile):
    parent = make_profile(tlp="TLP:AMBER", name="Restricted family")
    child = make_profile(tlp="TLP:GREEN", name="Public variant", parent=parent)
    assert child.parent_id == parent.pk
    assert api(network.charlie).get(f"/api/v1/profiles/{child.pk}/").json()["parent"] is None
    assert api(network.alice).get(f"/api/v1/profiles/{child.pk}/").json()["parent"] == parent.pk


def test_revisions_do_not_name_a_hidden_parent_either(network, api, make_profile):
    parent = make_profile(tlp="TLP:AMBER", name="Restricted family")
    child = make_profile(tlp="TLP:GREEN", name="Public variant", parent=parent)
    outsider = api(network.charlie)
    first = outsider.get(f"/api/v1/profiles/{child.pk}/revisions/").json()["results"][0]
    assert "parent" not in first["changes"]
    assert (
        outsider.get(f"/api/v1/profiles/{child.pk}/revisions/1/").json()["snapshot"]["parent"]
        is None
    )
    owner_view = api(network.alice).get(f"/api/v1/profiles/{child.pk}/revisions/1/").json()
    assert owner_view["snapshot"]["parent"] == parent.pk
    assert owner_view["changes"]["parent"]["new"] == parent.pk


def test_a_change_that_would_hide_the_profile_from_its_author_is_refused(network, api):
    cora = api(network.cora)
    created = api(network.alice).post(
        "/api/v1/profiles/",
        {"name": "Green phone", "device_class": "mini_phone", "tlp": "TLP:GREEN"},
        format="json",
    )
    etag = cora.get(f"/api/v1/profiles/{created.json()['id']}/")["ETag"]
    refused = cora.patch(
        f"/api/v1/profiles/{created.json()['id']}/",
        {"tlp": "TLP:AMBER"},
        format="json",
        HTTP_IF_MATCH=etag,
    )
    assert refused.status_code == 400
    assert refused.json()["errors"][0]["field"] == "tlp"
    after = cora.get(f"/api/v1/profiles/{created.json()['id']}/")
    assert after.json()["tlp"] == "TLP:GREEN"
    assert after.json()["version"] == 1
    widened = cora.patch(
        f"/api/v1/profiles/{created.json()['id']}/",
        {"tlp": "TLP:AMBER", "recipient_organisations": ["eurojust"]},
        format="json",
        HTTP_IF_MATCH=etag,
    )
    # Naming recipients shares further, which is the owner's call alone.
    assert widened.status_code == 400
    assert widened.json()["errors"][0]["field"] == "recipient_organisations"
    owner = api(network.alice)
    owner_etag = owner.get(f"/api/v1/profiles/{created.json()['id']}/")["ETag"]
    named = owner.patch(
        f"/api/v1/profiles/{created.json()['id']}/",
        {"recipient_organisations": ["eurojust"]},
        format="json",
        HTTP_IF_MATCH=owner_etag,
    )
    assert named.status_code == 200
    allowed = cora.patch(
        f"/api/v1/profiles/{created.json()['id']}/",
        {"tlp": "TLP:AMBER"},
        format="json",
        HTTP_IF_MATCH=named["ETag"],
    )
    assert allowed.status_code == 200
    assert allowed.json()["tlp"] == "TLP:AMBER"


def test_the_admin_shows_the_secretariat_only_what_it_may_see(network, make_profile, client):
    from django.contrib.auth.models import Permission

    cora = network.cora
    cora.is_staff = True
    cora.save()
    cora.user_permissions.set(Permission.objects.filter(content_type__app_label="intel"))
    visible = make_profile(tlp="TLP:GREEN", name="Seen in admin")
    hidden = make_profile(tlp="TLP:AMBER", name="Not for the secretariat")
    client.force_login(cora)
    page = client.get("/admin/intel/deviceprofile/")
    assert page.status_code == 200
    assert visible.name in page.content.decode()
    assert hidden.name not in page.content.decode()
    assert client.get(f"/admin/intel/deviceprofile/{hidden.pk}/change/").status_code == 302
    assert client.get("/admin/intel/deviceprofile/").status_code == 200


def test_an_outsiders_staff_flag_does_not_open_the_admin(network, client):
    charlie = network.charlie
    charlie.is_staff = True
    charlie.save()
    client.force_login(charlie)
    assert client.get("/admin/").status_code == 302


def test_red_recipients_must_be_cleared_for_red(network, api):
    response = api(network.alice).post(
        "/api/v1/profiles/",
        {
            "name": "Red phone",
            "device_class": "mini_phone",
            "tlp": "TLP:RED",
            "recipient_members": ["bob"],
        },
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "recipient_members"
    assert "bob" in response.json()["errors"][0]["detail"]


def test_created_profile_has_location_and_if_match_star_overwrites(network, api):
    client = api(network.alice)
    created = client.post(
        "/api/v1/profiles/", {"name": "Star", "device_class": "mini_phone"}, format="json"
    )
    assert created["Location"] == f"/api/v1/profiles/{created.json()['id']}/"
    changed = client.patch(
        created["Location"], {"weight_g": "12.00"}, format="json", HTTP_IF_MATCH="*"
    )
    assert changed.status_code == 200
    assert changed.json()["weight_g"] == "12.00"
