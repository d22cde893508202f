"""Portal pages show what the same member's API calls return, no more: every persona walks the
profile pages and the API; missing and foreign ids answer the portal's 404 page."""

import re
from io import StringIO

import pytest
from django.core.management import call_command
from django.test import Client

from intel.models import TLP, AuditEvent
from tests.helpers.seizures import file, positive, published, stats_url

PERSONAS = ["cora", "audrey", "alice", "olga", "bob", "charlie", "dave", "erin"]


@pytest.fixture
def profiles(network, make_profile):
    return [
        make_profile(name="Green mini phone", tlp=TLP.GREEN),
        make_profile(name="Amber annex", tlp=TLP.AMBER, recipients=[network.be_desk]),
        make_profile(name="Strict annex", tlp=TLP.AMBER_STRICT, recipients=[network.be_desk]),
        make_profile(name="Red protocol", tlp=TLP.RED, members=[network.bob]),
    ]


@pytest.mark.parametrize("persona", PERSONAS)
def test_profile_pages_show_what_the_api_returns(persona, network, profiles, portal, api) -> None:
    member = getattr(network, persona)
    browser = portal(member)
    through_api = {
        row["id"]: row["name"] for row in api(member).get("/api/v1/profiles/").json()["results"]
    }
    listed = browser.get("/profiles/").content.decode()
    on_page = {int(pk) for pk in re.findall(r'href="/profiles/(\d+)/"', listed)}
    assert on_page == set(through_api)
    for profile in profiles:
        page = browser.get(f"/profiles/{profile.pk}/")
        api_answer = api(member).get(f"/api/v1/profiles/{profile.pk}/")
        assert page.status_code == api_answer.status_code
        if page.status_code == 404:
            assert profile.name not in page.content.decode()
            assert "text/html" in page["Content-Type"]


def test_a_restricted_profile_page_is_an_audited_read(network, profiles, portal) -> None:
    browser = portal(network.bob)
    assert browser.get(f"/profiles/{profiles[1].pk}/").status_code == 200
    event = AuditEvent.objects.filter(action="profile.read").latest("pk")
    assert (event.actor_id, event.object_id) == (network.bob.pk, str(profiles[1].pk))


@pytest.mark.parametrize("path", ["/profiles/999999/", "/profiles/x/", "/nothing-here/"])
def test_unknown_pages_answer_the_portals_404(path, network, portal) -> None:
    page = portal(network.olga).get(path)
    assert page.status_code == 404
    assert "text/html" in page["Content-Type"]
    assert "Back to your home page" in page.content.decode()


def test_the_api_keeps_its_problem_404(client: Client, db: None) -> None:
    answer = client.get("/api/v1/nothing-here/")
    assert answer.status_code == 404
    assert answer["Content-Type"].startswith("application/problem+json")


def test_an_invitation_link_sets_the_first_password_once(client: Client, network) -> None:
    out = StringIO()
    call_command("invite_member", "olga", stdout=out)
    link = re.search(r"http://\S+", out.getvalue()).group(0)
    path = link.split("8000", 1)[1]
    assert client.get(path).status_code == 200
    new = "a long passphrase for olga 42"
    answer = client.post(path, {"new_password1": new, "new_password2": new})
    assert answer["Location"] == "/login/?welcome=1"
    assert client.get(path).status_code == 404  # used
    assert client.post("/login/", {"username": "olga", "password": new})["Location"] == "/"
    assert AuditEvent.objects.filter(action="member.invited", object_id=str(network.olga.pk))


def test_a_weak_password_is_refused_at_its_field(client: Client, network) -> None:
    out = StringIO()
    call_command("invite_member", "olga", stdout=out)
    path = re.search(r"http://\S+", out.getvalue()).group(0).split("8000", 1)[1]
    page = client.post(path, {"new_password1": "1234", "new_password2": "1234"})
    assert page.status_code == 200
    assert 'id="id_new_password2_error"' in page.content.decode()


def test_the_imei_page_checks_a_pasted_list(network, make_profile, portal) -> None:
    make_profile(name="Tracked", tlp=TLP.GREEN, identifiers=[{"kind": "tac", "value": "35824005"}])
    browser = portal(network.olga)
    page = browser.post("/imei-check/", {"pasted": "35824005 111111 0\n1234\n"})
    html = page.content.decode()
    assert page.status_code == 200
    assert 'href="/profiles/' in html
    assert "Not 14 or 15 digits" in html
    assert AuditEvent.objects.filter(action="imei_check.performed").count() == 1


def test_the_imei_page_shows_bad_input_at_its_field(network, portal) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    browser = portal(network.olga)
    empty = browser.post("/imei-check/", {})
    assert empty.status_code == 400
    assert "Paste IMEIs or choose a CSV file." in empty.content.decode()
    latin1 = SimpleUploadedFile(
        "seized.csv", "imei;lieu\n358240051111110;Fresnes é\n".encode("latin-1")
    )
    bad = browser.post("/imei-check/", {"upload": latin1})
    assert bad.status_code == 400
    assert 'id="id_upload_error"' in bad.content.decode()
    assert "UTF-8" in bad.content.decode()


def test_the_audit_trail_is_for_auditors_only(network, make_profile, portal) -> None:
    make_profile(name="Amber annex", tlp=TLP.AMBER, recipients=[network.be_desk])
    for persona in ("cora", "alice", "bob"):
        assert portal(getattr(network, persona)).get("/audit/").status_code == 404
    auditor = portal(network.audrey)
    page = auditor.get("/audit/?action=profile.*")
    assert page.status_code == 200
    assert "profile.created" in page.content.decode()
    searched = AuditEvent.objects.filter(action="audit.searched").latest("pk")
    assert searched.detail == {"action": "profile.*", "via": "portal"}
    verified = auditor.post("/audit/").content.decode()
    assert "The chain is intact" in verified


def test_a_bad_audit_filter_is_shown_at_its_field(network, portal) -> None:
    page = portal(network.audrey).get("/audit/?after=yesterday")
    assert page.status_code == 400
    assert 'id="f-after-error"' in page.content.decode()


@pytest.mark.parametrize("persona", PERSONAS)
def test_a_profile_page_shows_the_apis_seizure_figures(
    persona, network, make_profile, portal, api
) -> None:
    mini = make_profile(name="Thumb phone", tlp=TLP.GREEN)
    alert = published(network.alice, network.cora, profiles=[mini])
    filed = file(api, network.alice, positive(mini, alert))
    assert filed.status_code == 201, filed.content
    belgian = positive(mini, alert, country="BE", seized_on="2025-06-02", notice=None)
    belgian["lines"] = [{"profile": mini.pk, "quantity": 5}]
    assert file(api, network.bob, belgian).status_code == 201
    member = getattr(network, persona)
    through_api = api(member).get(stats_url(mini.pk)).json()
    page = portal(member).get(f"/profiles/{mini.pk}/").content.decode()
    shown = re.search(r'<section[^>]*id="seizure-figures".*?</section>', page, re.S)
    assert shown is not None
    text = shown.group(0)
    totals = through_api["totals"]
    if persona in ("alice", "bob"):
        assert totals["reports"] >= 1
    if totals["reports"]:
        assert f"{totals['quantity']} devices seized" in text
        rows = re.findall(r"<tr><th scope=\"row\">(\w\w)</th><td>([\d-]+)</td>", text)
        assert rows == [(r["country"], r["month"]) for r in through_api["by_country_month"]]
        assert 'role="img"' in text
    else:
        assert "No seizure report about this model that you may read." in text


def test_imei_counts_are_grouped_in_the_readers_language(network, portal) -> None:
    browser = portal(network.olga)
    pasted = "\n".join(f"3582400{n:08d}" for n in range(1200))
    english = browser.post("/imei-check/", {"pasted": pasted}, HTTP_ACCEPT_LANGUAGE="en")
    assert "<strong>1,200</strong>" in english.content.decode()
    browser.post("/account/language/", {"language": "fr", "next": "/"})
    french = browser.post("/imei-check/", {"pasted": pasted}).content.decode()
    assert "<strong>1\u202f200</strong>" in french or "<strong>1\xa0200</strong>" in french
