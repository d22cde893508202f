"""The profile editor, attachments and revision pages: the API's checks and answers, shown at
the field; an edit conflict names who changed the profile first; hidden profiles are 404."""

import io
import re
from typing import Any

from PIL import Image

from intel.models import TLP, Attachment, DeviceProfile, ProfileRevision
from intel.services import ProfileInput, profile_update

EMPTY = {f"{s}-TOTAL_FORMS": "0" for s in ("detection_signatures", "concealment_methods")} | {
    f"{s}-INITIAL_FORMS": "0"
    for s in (
        "identifiers",
        "detection_signatures",
        "concealment_methods",
        "suppliers",
        "sales_channels",
    )
}


def body(**fields: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        **EMPTY,
        "identifiers-TOTAL_FORMS": "1",
        "suppliers-TOTAL_FORMS": "1",
        "sales_channels-TOTAL_FORMS": "1",
        "name": "Key-fob phone",
        "device_class": "mini_phone",
        "tlp": TLP.AMBER,
        "identifiers-0-kind": "tac",
        "identifiers-0-value": "35824005",
        "suppliers-0-name": "Shenzhen Trading Ltd",
        "suppliers-0-role": "manufacturer",
        "sales_channels-0-supplier": "1",
        "sales_channels-0-kind": "webshop",
        "sales_channels-0-platform": "example-shop",
    }
    data.update(fields)
    return data


def test_a_profile_filed_in_the_editor_is_what_the_api_returns(network, portal, api) -> None:
    browser = portal(network.alice)
    form = browser.get("/profiles/new/")
    assert form.status_code == 200
    page = form.content.decode()
    assert 'value="mini_phone"' in page  # the vocabulary service's values
    assert "TLP:RED" in page  # alice is cleared for RED
    answer = browser.post(
        "/profiles/new/", body(recipient_organisations=["be-desk"], gsm_bands=["900"])
    )
    assert answer.status_code == 302, answer.content.decode()
    profile = DeviceProfile.objects.get(name="Key-fob phone")
    assert answer["Location"] == f"/profiles/{profile.pk}/"
    data = api(network.alice).get(f"/api/v1/profiles/{profile.pk}/").json()
    assert data["identifiers"][0]["value"] == "35824005"
    assert data["suppliers"][0]["sales_channels"][0]["platform"] == "example-shop"
    assert data["recipient_organisations"] == ["be-desk"]
    assert data["gsm_bands"] == [900]
    shown = browser.get(f"/profiles/{profile.pk}/").content.decode()
    for text in ("Key-fob phone", "35824005", "Shenzhen Trading Ltd", "example-shop"):
        assert text in shown


def test_bad_input_is_shown_at_its_field(network, portal) -> None:
    browser = portal(network.alice)
    weight = browser.post("/profiles/new/", body(weight_g="heavy"))
    assert weight.status_code == 400
    assert re.search(r'id="id_weight_g_error"><p class="error">[^<]+', weight.content.decode())
    answer = browser.post("/profiles/new/", body(name="", **{"identifiers-0-value": "123"}))
    assert answer.status_code == 400
    page = answer.content.decode()
    assert re.search(r'id="id_name_error"><p class="error">[^<]+', page)
    # The API's `identifiers.0.value` error, at the identifier row's value field.
    assert 'id="id_identifiers-0-value_error"><p class="error">A TAC is exactly 8 digits.' in page
    assert not DeviceProfile.objects.exists()


def test_a_label_above_the_clearance_is_refused(network, portal) -> None:
    cora = portal(network.cora)  # cleared for AMBER+STRICT
    assert 'value="TLP:RED"' not in cora.get("/profiles/new/").content.decode()
    answer = cora.post("/profiles/new/", body(tlp=TLP.RED))
    assert answer.status_code == 400
    assert 'id="id_tlp_error"' in answer.content.decode()
    assert not DeviceProfile.objects.exists()


def test_members_who_may_not_file_are_refused(network, portal) -> None:
    assert portal(network.bob).get("/profiles/new/").status_code == 403


def test_an_edit_conflict_names_who_changed_it_first(network, portal, make_profile) -> None:
    profile = make_profile(name="Key-fob phone", tlp=TLP.GREEN)
    browser = portal(network.alice)
    form = browser.get(f"/profiles/{profile.pk}/edit/").content.decode()
    assert 'name="version" value="1"' in form
    assert 'value="Key-fob phone"' in form
    profile_update(
        profile_id=profile.pk,
        author=network.cora,
        data=ProfileInput(fields={"notes": "Seen in Fresnes."}),
        expected_version=1,
    )
    stale = body(version="1", name="Key-fob phone v2", tlp=TLP.GREEN)
    answer = browser.post(f"/profiles/{profile.pk}/edit/", stale)
    assert answer.status_code == 409
    page = answer.content.decode()
    assert "Changed by cora at" in page
    assert f"/profiles/{profile.pk}/revisions/diff/?from=1&amp;to=2" in page
    profile.refresh_from_db()
    assert (profile.name, profile.version) == ("Key-fob phone", 2)
    # Saving again, from the form as it came back, applies the values over cora's change.
    again = browser.post(f"/profiles/{profile.pk}/edit/", stale | {"version": "2"})
    assert again.status_code == 302
    profile.refresh_from_db()
    assert (profile.name, profile.version) == ("Key-fob phone v2", 3)


def test_hidden_profiles_answer_404(network, portal, make_profile) -> None:
    profile = make_profile(name="Restricted annex", tlp=TLP.AMBER, recipients=[network.be_desk])
    charlie = portal(network.charlie)
    for path in ("edit/", "revisions/", "revisions/diff/?from=1&to=1"):
        page = charlie.get(f"/profiles/{profile.pk}/{path}")
        assert page.status_code == 404
        assert "Restricted annex" not in page.content.decode()
    upload = charlie.post(f"/profiles/{profile.pk}/attachments/", {"title": "x"})
    assert upload.status_code == 404
    assert (
        portal(network.alice).get(f"/profiles/{profile.pk}/revisions/diff/?from=1&to=9").status_code
        == 404
    )


def photo(name: str = "phone.jpg") -> io.BytesIO:
    data = io.BytesIO()
    Image.new("RGB", (8, 8), "red").save(data, format="JPEG")
    data.seek(0)
    data.name = name
    return data


def test_a_photo_is_attached_and_shown(network, portal, make_profile, api) -> None:
    profile = make_profile(name="Key-fob phone", tlp=TLP.AMBER, recipients=[network.be_desk])
    browser = portal(network.alice)
    answer = browser.post(
        f"/profiles/{profile.pk}/attachments/",
        {"file": photo(), "kind": "photo", "title": "Front view", "tlp": TLP.AMBER},
    )
    assert answer.status_code == 302
    attachment = Attachment.objects.get(profile=profile)
    assert attachment.content_type == "image/jpeg"
    page = portal(network.bob).get(f"/profiles/{profile.pk}/").content.decode()
    url = api(network.bob).get(f"/api/v1/profiles/{profile.pk}/").json()["attachments"][0]
    assert f'<img src="{url["content_url"]}" alt="Front view"' in page
    assert browser.get(url["content_url"]).status_code == 200  # the API accepts the session


def test_an_attachment_below_the_profile_label_is_refused_at_the_field(
    network, portal, make_profile
) -> None:
    profile = make_profile(name="Key-fob phone", tlp=TLP.AMBER, recipients=[network.be_desk])
    browser = portal(network.alice)
    answer = browser.post(
        f"/profiles/{profile.pk}/attachments/",
        {"file": photo(), "kind": "photo", "title": "Front", "tlp": TLP.GREEN},
    )
    assert answer.status_code == 400
    assert 'id="id_tlp_error"' in answer.content.decode()
    bad = browser.post(
        f"/profiles/{profile.pk}/attachments/",
        {"file": io.BytesIO(b"not an image"), "kind": "photo", "title": "x"},
    )
    assert bad.status_code == 400
    assert 'id="id_file_error"' in bad.content.decode()
    assert not Attachment.objects.exists()


def test_revision_pages_show_what_the_api_returns(network, portal, make_profile, api) -> None:
    profile = make_profile(name="Key-fob phone", tlp=TLP.GREEN, notes="Found in a shoe.")
    profile_update(
        profile_id=profile.pk,
        author=network.alice,
        data=ProfileInput(fields={"notes": "Found in a shoe heel.", "weight_g": 18}),
        expected_version=1,
    )
    olga = portal(network.olga)
    listed = olga.get(f"/profiles/{profile.pk}/revisions/").content.decode()
    through_api = api(network.olga).get(f"/api/v1/profiles/{profile.pk}/revisions/").json()
    numbers = [row["number"] for row in through_api["results"]]
    assert numbers == [1, 2]
    for row in through_api["results"]:
        assert f'name="to" value="{row["number"]}"' in listed
    diff = olga.get(f"/profiles/{profile.pk}/revisions/diff/?from=1&to=2")
    assert diff.status_code == 200
    page = diff.content.decode()
    assert "<del>shoe.</del>" in page
    assert "<ins>shoe heel.</ins>" in page
    assert re.search(r"<tr class=\"changed\">\s*<th scope=\"row\">Weight \(g\)", page)
    assert ProfileRevision.objects.filter(profile=profile).count() == 2


def test_the_editor_and_upload_forms_need_their_csrf_token(network, portal, make_profile) -> None:
    profile = make_profile(name="Key-fob phone", tlp=TLP.GREEN)
    browser = portal(network.alice)
    browser.handler.enforce_csrf_checks = True
    for path in ("/profiles/new/", f"/profiles/{profile.pk}/edit/"):
        assert "csrfmiddlewaretoken" in browser.get(path).content.decode()
        assert browser.post(path, body()).status_code == 403
    upload = browser.post(f"/profiles/{profile.pk}/attachments/", {"title": "x"})
    assert upload.status_code == 403
    assert DeviceProfile.objects.count() == 1


def test_add_another_row_continues_the_numbering(network, portal) -> None:
    row = portal(network.alice).get(
        "/profiles/editor/rows/identifiers/", {"identifiers-TOTAL_FORMS": "3"}
    )
    page = row.content.decode()
    assert 'name="identifiers-3-value"' in page
    assert 'name="identifiers-TOTAL_FORMS" value="4"' in page
    assert 'hx-swap-oob="true"' in page


def test_opening_a_restricted_profile_in_the_editor_is_an_audited_read(
    network, portal, make_profile
) -> None:
    from intel.models import AuditEvent

    profile = make_profile(name="Amber annex", tlp=TLP.AMBER, recipients=[network.be_desk])
    assert portal(network.alice).get(f"/profiles/{profile.pk}/edit/").status_code == 200
    event = AuditEvent.objects.filter(action="profile.read").latest("pk")
    assert (event.actor_id, event.object_id) == (network.alice.pk, str(profile.pk))


# --- TLP:RED named members and the parent ----------------------------------------------------


def api_problem(answer: Any) -> dict[str, list[str]]:
    """The API's 400 as {field: [messages]}."""
    assert answer.status_code == 400, answer.content
    found: dict[str, list[str]] = {}
    for error in answer.json()["errors"]:
        found.setdefault(error["field"], []).append(error["detail"])
    return found


def test_red_named_members_are_the_apis(network, portal, api) -> None:
    browser = portal(network.alice)
    answer = browser.post("/profiles/new/", body(tlp=TLP.RED, recipient_members="alice, audrey"))
    assert answer.status_code == 302, answer.content.decode()
    profile = DeviceProfile.objects.get(name="Key-fob phone")
    data = api(network.alice).get(f"/api/v1/profiles/{profile.pk}/").json()
    assert sorted(data["recipient_members"]) == ["alice", "audrey"]
    assert api(network.audrey).get(f"/api/v1/profiles/{profile.pk}/").status_code == 200
    assert api(network.bob).get(f"/api/v1/profiles/{profile.pk}/").status_code == 404
    form = browser.get(f"/profiles/{profile.pk}/edit/").content.decode()
    assert 'value="alice, audrey"' in form


def test_members_who_cannot_be_named_are_refused_at_the_field(network, portal, api) -> None:
    browser = portal(network.alice)
    for names in (["alice", "charlie"], ["alice", "nobody"]):
        page = browser.post("/profiles/new/", body(tlp=TLP.RED, recipient_members=" ".join(names)))
        assert page.status_code == 400
        through_api = api(network.alice).post(
            "/api/v1/profiles/",
            {"name": "Key-fob phone", "tlp": TLP.RED, "recipient_members": names},
            format="json",
        )
        (message,) = api_problem(through_api)["recipient_members"]
        # Unknown and not cleared get the same answer: neither is disclosed.
        assert message == f"Cannot be named as TLP:RED recipients: {names[1]}."
        assert (
            f'id="id_recipient_members_error"><p class="error">{message}</p>'
            in page.content.decode()
        )
    assert not DeviceProfile.objects.exists()


def test_the_parent_is_chosen_among_the_profiles_the_api_shows(
    network, portal, api, make_profile
) -> None:
    family = make_profile(name="Oportik family", tlp=TLP.GREEN)
    hidden = make_profile(name="Eurojust only", tlp=TLP.AMBER_STRICT, author=network.cora)
    browser = portal(network.alice)
    page = browser.get("/profiles/new/").content.decode()
    picker = page.split('<datalist id="parent-choices">', 1)[1].split("</datalist>", 1)[0]
    offered = {int(pk) for pk in re.findall(r'<option value="(\d+)"', picker)}
    listed = api(network.alice).get("/api/v1/profiles/").json()["results"]
    assert offered == {row["id"] for row in listed} == {family.pk}
    answer = browser.post("/profiles/new/", body(parent=str(family.pk)))
    assert answer.status_code == 302, answer.content.decode()
    child = DeviceProfile.objects.get(name="Key-fob phone")
    assert api(network.alice).get(f"/api/v1/profiles/{child.pk}/").json()["parent"] == family.pk
    form = browser.get(f"/profiles/{child.pk}/edit/").content.decode()
    assert re.search(rf'name="parent" value="{family.pk}"[^>]*id="id_parent"', form), form
    suggested = form.split('<datalist id="parent-choices">', 1)[1].split("</datalist>", 1)[0]
    assert f'<option value="{child.pk}"' not in suggested  # never its own parent
    # A profile the author may not see is answered as the API answers it, at the field.
    refused = browser.post("/profiles/new/", body(name="Other", parent=str(hidden.pk)))
    assert refused.status_code == 400
    (message,) = api_problem(
        api(network.alice).post(
            "/api/v1/profiles/", {"name": "Other", "parent": hidden.pk}, format="json"
        )
    )["parent"]
    assert message == f'Invalid pk "{hidden.pk}" - object does not exist.'
    shown = f'id="id_parent_error"><p class="error">Invalid pk &quot;{hidden.pk}&quot; - object does not exist.'
    assert shown in refused.content.decode()
    # A family cannot become a variant of its own variant.
    loop = browser.post(
        f"/profiles/{family.pk}/edit/",
        body(version="1", name="Oportik family", tlp=TLP.GREEN, parent=str(child.pk)),
    )
    assert loop.status_code == 400
    assert (
        'id="id_parent_error"><p class="error">A profile cannot be its own ancestor.'
        in loop.content.decode()
    )


def test_a_parent_the_editor_may_not_see_is_kept(network, portal, api, make_profile) -> None:
    hidden = make_profile(name="Eurojust only", tlp=TLP.AMBER_STRICT, author=network.cora)
    profile = make_profile(name="Key-fob phone", tlp=TLP.GREEN)
    profile_update(
        profile_id=profile.pk,
        author=network.cora,
        data=ProfileInput(fields={}, parent=hidden, parent_set=True),
        expected_version=None,
    )
    assert api(network.alice).get(f"/api/v1/profiles/{profile.pk}/").json()["parent"] is None
    browser = portal(network.alice)
    form = browser.get(f"/profiles/{profile.pk}/edit/").content.decode()
    assert re.search(r'name="parent"[^>]*id="id_parent"', form)
    assert not re.search(rf'name="parent" value="{hidden.pk}"', form)
    assert f'<option value="{hidden.pk}"' not in form
    version = re.search(r'name="version" value="(\d+)"', form)
    assert version is not None
    saved = browser.post(
        f"/profiles/{profile.pk}/edit/",
        body(version=version.group(1), tlp=TLP.GREEN, notes="Seen in Fresnes."),
    )
    assert saved.status_code == 302, saved.content.decode()
    assert api(network.cora).get(f"/api/v1/profiles/{profile.pk}/").json()["parent"] == hidden.pk


def test_parent_suggestions_are_bounded_and_the_desks_own_come_first(
    network, portal, make_profile, monkeypatch
) -> None:
    from portal import profile_forms

    monkeypatch.setattr(profile_forms, "PARENT_SUGGESTIONS", 2)
    own = make_profile(name="Our family", tlp=TLP.GREEN)
    for n in range(3):
        make_profile(name=f"Secretariat model {n}", tlp=TLP.GREEN, author=network.cora)
    page = portal(network.alice).get("/profiles/new/").content.decode()
    suggested = page.split('<datalist id="parent-choices">', 1)[1].split("</datalist>", 1)[0]
    offered = [int(pk) for pk in re.findall(r'<option value="(\d+)"', suggested)]
    assert len(offered) == 2
    assert offered[0] == own.pk
