"""Ways around who-sees-what that a review found, each closed and kept closed."""

import io
from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.core.exceptions import ImproperlyConfigured
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.utils import timezone
from PIL import Image

from intel import accounts
from intel.models import TLP, AuditEvent, DeviceProfile, Member, Organisation


def _etag(client, profile_id):
    return client.get(f"/api/v1/profiles/{profile_id}/")["ETag"]


def test_secretariat_staff_cannot_raise_their_own_entitlement_in_the_admin(network, client):
    cora = network.cora
    cora.is_staff = True
    cora.save()
    cora.user_permissions.set(Permission.objects.filter(content_type__app_label="intel"))
    client.force_login(cora)
    own_page = client.get(f"/admin/intel/member/{cora.pk}/change/")
    assert own_page.status_code in (302, 403) or b'name="clearance"' not in own_page.content
    other = client.get(f"/admin/intel/member/{network.bob.pk}/change/")
    assert other.status_code == 200
    assert b'name="clearance"' not in other.content
    assert b'name="organisation"' not in other.content
    assert b'name="is_superuser"' not in other.content
    assert b'name="is_active"' not in other.content
    assert b'name="role"' not in other.content
    client.post(
        f"/admin/intel/member/{network.bob.pk}/change/",
        {
            "username": "bob",
            "clearance": TLP.RED,
            "organisation": network.fr_desk.pk,
            "role": "coordinator",
        },
    )
    bob = Member.objects.get(pk=network.bob.pk)
    assert (bob.clearance, bob.organisation_id, bob.role, bob.is_active) == (
        TLP.AMBER,
        network.be_desk.pk,
        "desk_officer",
        True,
    )
    # Deleting a member (or an organisation) drops entitlements too: a superuser's job.
    assert client.get(f"/admin/intel/member/{network.bob.pk}/delete/").status_code == 403
    assert client.post(f"/admin/intel/organisation/{network.de_desk.pk}/delete/").status_code == 403


def test_the_demo_coordinator_cannot_change_who_sees_what_in_the_admin(db, client):
    """Re-sponsoring de-desk under fr-desk would give de-officer fr-desk's TLP:AMBER profile."""
    call_command("load_demo", "--quiet", stdout=io.StringIO())
    assert client.login(username="coordinator", password=DEMO_PASSWORD)
    de = Organisation.objects.get(slug="de-desk")
    fr = Organisation.objects.get(slug="fr-desk")
    url = f"/admin/intel/organisation/{de.pk}/change/"
    page = client.get(url)
    assert page.status_code == 200
    for name in (b"kind", b"sponsor", b"country"):
        assert b'name="' + name + b'"' not in page.content
    before = _profiles_seen_by(client, DEMO_TOKENS["de-officer"])
    response = client.post(
        url,
        {
            "slug": "de-desk",
            "name": "German Desk (renamed)",
            "kind": "national_authority",
            "sponsor": fr.pk,
            "country": "FR",
            "created_at_0": "2026-11-20",
            "created_at_1": "10:00:00",
        },
    )
    assert response.status_code == 302, response.content
    de.refresh_from_db()
    assert (de.name, de.kind, de.sponsor_id, de.country) == (
        "German Desk (renamed)",
        "national_desk",
        None,
        "DE",
    )
    assert _profiles_seen_by(client, DEMO_TOKENS["de-officer"]) == before
    event = AuditEvent.objects.filter(object_type="organisation").latest("id")
    assert (event.action, event.detail["fields"]) == ("organisation.changed", ["name"])
    # Nor may they create an organisation (with whatever kind and sponsor they like).
    assert client.get("/admin/intel/organisation/add/").status_code == 403
    body = {"slug": "xx-desk", "name": "X", "kind": "national_desk", "country": "FR"}
    assert client.post("/admin/intel/organisation/add/", body).status_code == 403
    assert not Organisation.objects.filter(slug="xx-desk").exists()


DEMO_PASSWORD = "operation-prison-break-demo"
DEMO_TOKENS = {"de-officer": "dix_demo_de_officer_a0c5d9e471"}


def _profiles_seen_by(client, token):
    response = client.get("/api/v1/profiles/", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 200
    return sorted(p["id"] for p in response.json()["results"])


def test_the_admin_does_not_name_a_hidden_parent(network, client, make_profile):
    parent = make_profile(tlp=TLP.AMBER, name="HIDDEN-PARENT-NAME")
    child = make_profile(tlp=TLP.GREEN, name="Visible child", parent=parent)
    cora = network.cora
    cora.is_staff = True
    cora.save()
    cora.user_permissions.set(Permission.objects.filter(content_type__app_label="intel"))
    client.force_login(cora)
    page = client.get(f"/admin/intel/deviceprofile/{child.pk}/change/")
    assert page.status_code == 200
    assert b"HIDDEN-PARENT-NAME" not in page.content


def test_only_the_owner_adds_recipients(network, api, make_profile):
    profile = make_profile(tlp=TLP.AMBER_STRICT, recipients=[network.eurojust])
    cora = api(network.cora)
    widened = cora.patch(
        f"/api/v1/profiles/{profile.pk}/",
        {"recipient_organisations": ["eurojust", "de-desk"]},
        format="json",
        HTTP_IF_MATCH=_etag(cora, profile.pk),
    )
    assert widened.status_code == 400
    assert widened.json()["errors"][0]["field"] == "recipient_organisations"
    assert list(profile.recipient_organisations.values_list("slug", flat=True)) == ["eurojust"]
    owner = api(network.alice)
    assert (
        owner.patch(
            f"/api/v1/profiles/{profile.pk}/",
            {"recipient_organisations": ["eurojust", "de-desk"]},
            format="json",
            HTTP_IF_MATCH=_etag(owner, profile.pk),
        ).status_code
        == 200
    )


def test_the_parent_filter_does_not_confirm_a_hidden_parent(network, api, make_profile):
    hidden = make_profile(tlp=TLP.AMBER, name="Hidden family")
    make_profile(tlp=TLP.GREEN, name="Green variant", parent=hidden)
    outsider = api(network.charlie)
    assert outsider.get(f"/api/v1/profiles/?parent={hidden.pk}").json()["results"] == []
    # Beyond any id: not an id at all, so a 400 naming the filter (docs/errors.md).
    assert outsider.get("/api/v1/profiles/?parent=99999999999999999999999").status_code == 400
    assert (
        len(api(network.alice).get(f"/api/v1/profiles/?parent={hidden.pk}").json()["results"]) == 1
    )


def test_non_ascii_digits_are_refused_not_crashed(network, api, make_profile):
    client = api(network.alice)
    assert client.get("/api/v1/profiles/\u00b2/").status_code == 404
    full_width = client.post(
        "/api/v1/profiles/",
        {
            "name": "Wide",
            "device_class": "mini_phone",
            "identifiers": [{"kind": "tac", "value": "\uff11" * 8}],
        },
        format="json",
    )
    assert full_width.status_code == 400
    assert client.get("/api/v1/profiles/?tac_prefix=\u0661\u0662").status_code == 400


def test_a_price_keeps_its_currency_through_partial_updates(network, api):
    client = api(network.alice)
    created = client.post(
        "/api/v1/profiles/",
        {
            "name": "Priced",
            "device_class": "mini_phone",
            "price_amount": "20.00",
            "price_currency": "EUR",
        },
        format="json",
    )
    pid = created.json()["id"]
    assert (
        client.patch(
            f"/api/v1/profiles/{pid}/",
            {"price_amount": "25.00"},
            format="json",
            HTTP_IF_MATCH=created["ETag"],
        ).status_code
        == 200
    )
    stripped = client.patch(
        f"/api/v1/profiles/{pid}/",
        {"price_currency": ""},
        format="json",
        HTTP_IF_MATCH=_etag(client, pid),
    )
    assert stripped.status_code == 400
    assert stripped.json()["errors"][0]["field"] == "price_currency"
    assert DeviceProfile.objects.get(pk=pid).price_currency == "EUR"


def test_lowering_a_label_does_not_publish_the_history_written_under_it(network, api, make_profile):
    profile = make_profile(tlp=TLP.RED, notes="RED-ONLY NOTES")
    owner = api(network.alice)
    lowered = owner.patch(
        f"/api/v1/profiles/{profile.pk}/",
        {"tlp": "TLP:GREEN", "notes": "public notes"},
        format="json",
        HTTP_IF_MATCH=_etag(owner, profile.pk),
    )
    assert lowered.status_code == 200
    outsider = api(network.charlie)
    assert outsider.get(f"/api/v1/profiles/{profile.pk}/").status_code == 200
    history = outsider.get(f"/api/v1/profiles/{profile.pk}/revisions/").json()["results"]
    assert history == []
    assert (
        b"RED-ONLY NOTES" not in outsider.get(f"/api/v1/profiles/{profile.pk}/revisions/1/").content
    )
    assert len(owner.get(f"/api/v1/profiles/{profile.pk}/revisions/").json()["results"]) == 2


def test_unknown_and_uncleared_recipients_get_the_same_answer(network, api):
    client = api(network.alice)

    def name(username):
        response = client.post(
            "/api/v1/profiles/",
            {
                "name": "Red",
                "device_class": "mini_phone",
                "tlp": "TLP:RED",
                "recipient_members": [username],
            },
            format="json",
        )
        assert response.status_code == 400
        return response.json()["errors"][0]["detail"].replace(username, "<name>")

    assert name("charlie") == name("nobody-here")
    assert "clear" not in name("charlie").lower()


def test_a_palette_png_keeps_its_colours(network, api, make_profile):
    profile = make_profile(tlp=TLP.GREEN)
    image = Image.new("P", (4, 4))
    image.putpalette([255, 0, 0] * 256)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    client = api(network.alice)
    uploaded = client.post(
        f"/api/v1/profiles/{profile.pk}/attachments/",
        {"file": SimpleUploadedFile("red.png", buffer.getvalue()), "kind": "photo", "title": "Red"},
        format="multipart",
    )
    assert uploaded.status_code == 201
    content = b"".join(client.get(uploaded.json()["content_url"]).streaming_content)
    assert Image.open(io.BytesIO(content)).convert("RGB").getpixel((0, 0)) == (255, 0, 0)


def test_a_short_lived_token_cannot_mint_a_permanent_one(network, api):
    from rest_framework.test import APIClient

    expiry = timezone.now() + timedelta(hours=1)
    short = accounts.token_issue(member=network.bob, name="short", expires_at=expiry)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {short.secret}")
    minted = client.post("/api/v1/tokens/", {"name": "forever"}, format="json")
    assert minted.status_code == 201
    assert minted.json()["expires_at"] is not None
    assert (
        abs((timezone.datetime.fromisoformat(minted.json()["expires_at"]) - expiry).total_seconds())
        < 1
    )


def test_a_change_to_a_hidden_parent_is_no_new_version_for_who_may_not_see_it(
    network, api, make_profile, settings
):
    """Setting a GREEN profile's parent to a RED one shows the outsider nothing: no revision,
    no new version, time or ETag, no new STIX version, no webhook. Whoever sees the parent
    sees all of it; a later visible change is a new version for everyone."""
    from exchange.stix.mapping import member_entries
    from webhooks import services as webhook_services
    from webhooks.models import Delivery

    settings.DIX_WEBHOOK_ALLOW_LOOPBACK = True
    red = make_profile(tlp=TLP.RED, members=[network.alice], name="Red family")
    child = make_profile(tlp=TLP.GREEN, name="Green variant")
    for member in (network.charlie, network.bob):
        webhook_services.subscription_create(
            member=member,
            fields={"url": "https://127.0.0.1:9/hook", "event_types": ["profile.updated"]},
        )
    url = f"/api/v1/profiles/{child.pk}/"
    alice, charlie = api(network.alice), api(network.charlie)
    before = charlie.get(url)
    stix_before = charlie.get(f"{url}stix/").json()
    cora = api(network.cora)
    notice = cora.post(
        "/api/v1/notices/",
        {"type": "alert", "title": "Variants", "tlp": TLP.GREEN, "profile_ids": [child.pk]},
        format="json",
    ).json()
    assert cora.post(f"/api/v1/notices/{notice['id']}/publish/").status_code == 200

    changed = alice.patch(
        url, {"parent": red.pk}, format="json", HTTP_IF_MATCH=_etag(alice, child.pk)
    )
    assert changed.status_code == 200, changed.content
    assert (changed.json()["version"], changed.json()["parent"]) == (2, red.pk)
    assert [r["number"] for r in alice.get(f"{url}revisions/").json()["results"]] == [1, 2]

    after = charlie.get(url)
    assert after.json() == before.json()
    assert after["ETag"] == before["ETag"]
    assert charlie.get(url, HTTP_IF_NONE_MATCH=before["ETag"]).status_code == 304
    assert (after.json()["version"], after.json()["updated_at"]) == (
        before.json()["version"],
        before.json()["updated_at"],
    )
    assert [r["number"] for r in charlie.get(f"{url}revisions/").json()["results"]] == [1]
    assert charlie.get(f"{url}revisions/2/").status_code == 404
    summary = charlie.get(f"/api/v1/notices/{notice['id']}/").json()["profiles"][0]
    assert (summary["id"], summary["version"]) == (child.pk, 1)
    assert charlie.get(f"{url}stix/").json()["objects"] == stix_before["objects"]
    stix_id = next(o["id"] for o in stix_before["objects"] if o["type"] == "x-dix-device-profile")
    assert [e.version for e in member_entries(network.charlie) if e.stix_id == stix_id] == [
        next(o["modified"] for o in stix_before["objects"] if o["id"] == stix_id)
    ]
    assert not Delivery.objects.filter(event_type="profile.updated").exists()

    # A change everyone sees is a new version for everyone, numbered as it is.
    renamed = alice.patch(
        url, {"name": "Green variant II"}, format="json", HTTP_IF_MATCH=_etag(alice, child.pk)
    )
    assert renamed.status_code == 200, renamed.content
    assert charlie.get(url).json()["version"] == 3
    assert [r["number"] for r in charlie.get(f"{url}revisions/").json()["results"]] == [1, 3]
    assert Delivery.objects.filter(event_type="profile.updated").count() == 2


def test_a_writer_who_may_not_see_the_parent_keeps_it_and_is_not_refused_as_stale(
    network, api, make_profile
):
    """cora (secretariat coordinator, AMBER+STRICT) may change fr-desk's GREEN profile but not
    see its RED parent. Her If-Match names the version she read, and `parent: null` (what she
    reads) keeps the parent she cannot see."""
    red = make_profile(tlp=TLP.RED, members=[network.alice], name="Red family")
    child = make_profile(tlp=TLP.GREEN, name="Green variant")
    url = f"/api/v1/profiles/{child.pk}/"
    alice, cora = api(network.alice), api(network.cora)
    cora_etag = _etag(cora, child.pk)
    alice.patch(url, {"parent": red.pk}, format="json", HTTP_IF_MATCH=_etag(alice, child.pk))
    assert cora.get(url)["ETag"] == cora_etag

    response = cora.patch(
        url, {"parent": None, "notes": "Checked."}, format="json", HTTP_IF_MATCH=cora_etag
    )
    assert response.status_code == 200, response.content
    assert response.json()["parent"] is None
    assert DeviceProfile.objects.get(pk=child.pk).parent_id == red.pk
    assert alice.get(url).json()["parent"] == red.pk


def test_whatever_the_masking_rule_hides_is_hidden_from_every_view_alike(
    network, api, make_profile, settings, monkeypatch
):
    """The revision list, the version and its time, and `profile.updated` webhooks all ask
    `intel.revisions` whether a revision shows a reader a change: were the rule to hide one
    more field, a change to that field alone would vanish from all of them at once, never
    from the list while still counting as a version."""
    from intel import revisions
    from webhooks import services as webhook_services
    from webhooks.models import Delivery

    def hides_notes_too(changes, visible_parents):
        return unmasked({k: v for k, v in changes.items() if k != "notes"}, visible_parents)

    unmasked = revisions.visible_changes
    monkeypatch.setattr(revisions, "MASKED_KEYS", revisions.MASKED_KEYS | {"notes"})
    monkeypatch.setattr(revisions, "visible_changes", hides_notes_too)

    settings.DIX_WEBHOOK_ALLOW_LOOPBACK = True
    profile = make_profile(tlp=TLP.GREEN, name="Thumb phone")
    webhook_services.subscription_create(
        member=network.charlie,
        fields={"url": "https://127.0.0.1:9/hook", "event_types": ["profile.updated"]},
    )
    url = f"/api/v1/profiles/{profile.pk}/"
    alice, charlie = api(network.alice), api(network.charlie)
    before = charlie.get(url).json()
    changed = alice.patch(
        url, {"notes": "Sold in pairs."}, format="json", HTTP_IF_MATCH=_etag(alice, profile.pk)
    )
    assert changed.status_code == 200, changed.content

    assert [r["number"] for r in charlie.get(f"{url}revisions/").json()["results"]] == [1]
    assert charlie.get(f"{url}revisions/2/").status_code == 404
    after = charlie.get(url).json()
    assert (after["version"], after["updated_at"]) == (1, before["updated_at"])
    assert not Delivery.objects.filter(event_type="profile.updated").exists()


def test_a_profile_rendered_without_its_reader_is_refused_with_what_to_pass(network, make_profile):
    """The version a profile shows depends on who reads it; a render path that names no
    reader is told so at once, never renders the stored version (which counts changes the
    reader may not see) nor fails on a missing attribute."""
    from intel.shapes.profiles import DeviceProfileSerializer

    profile = make_profile(tlp=TLP.GREEN, name="Thumb phone")
    with pytest.raises(ImproperlyConfigured, match=r"context=\{'reader'"):
        DeviceProfileSerializer(profile).data  # noqa: B018
    with pytest.raises(ImproperlyConfigured, match=r"context=\{'reader'"):
        DeviceProfileSerializer([profile], many=True).data  # noqa: B018
    assert (
        DeviceProfileSerializer(profile, context={"reader": network.charlie}).data["version"] == 1
    )


def test_every_rendering_of_a_profile_gives_the_version_its_reader_sees(
    network, api, make_profile, settings
):
    """After a change to a parent charlie may not see, and a rename he does see: the JSON
    answers, the browsable API's pages and their forms, and the profile.updated webhook
    payload all give charlie version 1, then 3, and alice 2, then 3."""
    from webhooks import services as webhook_services
    from webhooks.engine import Renderer
    from webhooks.models import Delivery

    settings.DIX_WEBHOOK_ALLOW_LOOPBACK = True
    red = make_profile(tlp=TLP.RED, members=[network.alice], name="Red family")
    child = make_profile(tlp=TLP.GREEN, name="Green variant")
    url = f"/api/v1/profiles/{child.pk}/"
    alice, charlie = api(network.alice), api(network.charlie)
    alice.patch(url, {"parent": red.pk}, format="json", HTTP_IF_MATCH=_etag(alice, child.pk))

    def versions(client):
        html = {
            path: client.get(path, HTTP_ACCEPT="text/html")
            for path in (url, "/api/v1/profiles/", f"{url}attachments/")
        }
        assert all(page.status_code == 200 for page in html.values()), html
        return (
            client.get(url).json()["version"],
            next(p["version"] for p in client.get("/api/v1/profiles/").json()["results"]),
        )

    assert versions(charlie) == (1, 1)
    assert versions(alice) == (2, 2)
    for client, number in ((charlie, 1), (alice, 2)):
        page = client.get(url, HTTP_ACCEPT="text/html").content.decode()
        assert f"&quot;version&quot;: {number}," in page
        assert f"&quot;version&quot;: {3 - number}," not in page

    webhook_services.subscription_create(
        member=network.charlie,
        fields={"url": "https://127.0.0.1:9/hook", "event_types": ["profile.updated"]},
    )
    alice.patch(url, {"name": "Renamed"}, format="json", HTTP_IF_MATCH=_etag(alice, child.pk))
    assert versions(charlie) == versions(alice) == (3, 3)
    delivery = Delivery.objects.get(event_type="profile.updated")
    payload = Renderer().data_for(delivery)
    assert payload is not None
    assert (payload["version"], payload["parent"]) == (3, None)
