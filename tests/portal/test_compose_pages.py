"""The notice composer, the review on a notice's page and the receipts page answer as the API
does: the same refusals at their fields, the same audience, the same receipts, 404 for those
the API answers 404."""

import re

import pytest

from intel.models import TLP, AuditEvent
from notices.models import Notice
from tests.factories import MemberFactory, OrganisationFactory
from tests.helpers.notices import draft, publish


def composed(**changes: object) -> dict[str, object]:
    """A composer form as a drafter fills it in."""
    return {
        "type": "alert",
        "title": "Mini phones in Belgian and Norwegian prisons",
        "summary": "Low-metal phones pass walk-through detectors.",
        "body": "Seen in **three** prisons.",
        "action_requested": "Check your prisons.",
        "tlp": TLP.GREEN,
        "scope": "countries",
        "countries": "BE, NO",
        "members": "",
        "respond_by": "2027-01-15T12:00",
        "save": "",
    } | changes


@pytest.fixture
def felix(network):
    """The owner desk's coordinator: reviews and publishes its notices."""
    return MemberFactory(
        username="felix", organisation=network.fr_desk, role="coordinator", clearance=TLP.RED
    )


@pytest.fixture
def no_desk(network):
    return OrganisationFactory(slug="no-desk", name="Norwegian Desk", country="NO")


def test_a_drafter_composes_a_notice_the_api_reads_back(
    network, no_desk, make_profile, portal, api
) -> None:
    profile = make_profile(name="Key-fob mini phone", tlp=TLP.AMBER, recipients=[network.be_desk])
    browser = portal(network.alice)
    assert "Draft a notice" in browser.get("/notices/").content.decode()
    page = browser.get("/notices/new/")
    assert page.status_code == 200
    assert "csrfmiddlewaretoken" in page.content.decode()
    saved = browser.post("/notices/new/", composed(profile_ids=[str(profile.pk)], tlp=TLP.AMBER))
    assert saved.status_code == 302, saved.content.decode()
    pk = int(re.fullmatch(r"/notices/(\d+)/edit/", saved["Location"]).group(1))
    body = api(network.alice).get(f"/api/v1/notices/{pk}/").json()
    assert body["status"] == "draft"
    assert body["title"] == "Mini phones in Belgian and Norwegian prisons"
    assert body["profile_ids"] == [profile.pk]
    assert body["audience"] == {
        "scope": "countries",
        "organisations": [],
        "countries": ["BE", "NO"],
        "members": [],
    }
    assert body["respond_by"].startswith("2027-01-15T12:00")
    edit = browser.get(saved["Location"]).content.decode()
    assert "Draft saved." in edit
    assert "<strong>three</strong>" in edit  # the body's preview
    assert 'value="TLP:AMBER" selected' in edit or "TLP:AMBER</option>" in edit


def test_bad_input_is_shown_at_its_field(network, make_profile, portal) -> None:
    hidden = make_profile(name="Someone else's", tlp=TLP.AMBER, author=network.alice)
    browser = portal(network.cora)  # cora does not receive alice's AMBER profile
    page = browser.post(
        "/notices/new/",
        composed(title="", countries="BE, XX", profile_ids=[str(hidden.pk)]),
    )
    html = page.content.decode()
    assert page.status_code == 400
    assert 'id="id_title_error"' in html
    assert 'id="id_countries_error"' in html
    assert "&#x27;XX&#x27; is not an ISO 3166-1 alpha-2 country code." in html
    assert 'id="id_profile_ids-error"' in html
    assert not Notice.objects.exists()
    nobody = browser.post("/notices/new/", composed(scope="organisations"))
    assert nobody.status_code == 400
    assert 'id="id_organisations_error"' in nobody.content.decode()
    assert "Name at least one organisation." in nobody.content.decode()


def test_a_label_above_the_clearance_is_neither_offered_nor_accepted(network, portal) -> None:
    browser = portal(network.cora)  # cleared for TLP:AMBER+STRICT
    form = browser.get("/notices/new/").content.decode()
    assert 'value="TLP:AMBER+STRICT"' in form
    assert 'value="TLP:RED"' not in form
    refused = browser.post("/notices/new/", composed(tlp=TLP.RED, members="alice"))
    assert refused.status_code == 400
    html = refused.content.decode()
    assert 'id="id_tlp_error"' in html
    assert "TLP:RED is above your clearance" in html
    assert not Notice.objects.exists()


def test_the_audience_preview_is_the_apis_audience(network, no_desk, portal, api) -> None:
    notice = draft(api(network.alice), audience={"scope": "countries", "countries": ["BE", "NO"]})
    answer = api(network.alice).get(f"/api/v1/notices/{notice['id']}/audience/").json()
    browser = portal(network.alice)
    page = browser.get(f"/notices/{notice['id']}/edit/").content.decode()
    organisations, countries = answer["totals"]["organisations"], answer["totals"]["countries"]
    assert f"Reaches {organisations} organisations in {countries} countries" in page
    box = page.split('id="audience"', 1)[1]
    assert re.findall(r'<th scope="row">([^<]+)</th>', box) == [
        row["name"] for row in sorted(answer["results"], key=lambda r: r["slug"])
    ]
    partial = browser.get(f"/notices/{notice['id']}/audience/", headers={"HX-Request": "true"})
    assert f"Reaches {organisations} organisations" in partial.content.decode()


def test_saving_with_htmx_refreshes_the_audience_preview(network, no_desk, portal, api) -> None:
    notice = draft(api(network.alice))
    browser = portal(network.alice)
    saved = browser.post(
        f"/notices/{notice['id']}/edit/", composed(countries="NO"), headers={"HX-Request": "true"}
    )
    assert saved.status_code == 200
    assert saved["HX-Trigger"] == "dix-notice-saved"
    box = browser.get(f"/notices/{notice['id']}/audience/").content.decode()
    assert "Norwegian Desk" in box
    assert "Belgian Desk" not in box


def test_profiles_are_searched_among_those_the_member_sees(network, make_profile, portal) -> None:
    profiles = [
        make_profile(name="Key-fob mini phone", tlp=TLP.GREEN),
        make_profile(name="Lighter phone", tlp=TLP.GREEN),
    ]
    hidden = make_profile(name="Key-fob annex", tlp=TLP.AMBER, author=network.alice)
    browser = portal(network.cora)
    found = browser.get("/notices/new/profiles/", {"q": "key-fob"}).content.decode()
    assert "Key-fob mini phone" in found
    assert "Lighter phone" not in found
    assert hidden.name not in found
    form = composed(q="lighter", search="")
    del form["save"]
    searched = browser.post("/notices/new/", form)
    assert searched.status_code == 200
    assert "Lighter phone" in searched.content.decode()
    kept = browser.get(
        "/notices/new/profiles/", {"q": "lighter", "profile_ids": [str(profiles[0].pk)]}
    ).content.decode()
    assert re.search(rf'value="{profiles[0].pk}"[^>]*checked', kept)
    assert "Lighter phone" in kept
    assert not Notice.objects.exists()


def test_submit_return_with_a_comment_and_publish(network, felix, portal, api) -> None:
    notice = draft(api(network.alice), title="For review")
    alice, reviewer = portal(network.alice), portal(felix)
    page = alice.get(f"/notices/{notice['id']}/").content.decode()
    assert "Submit for review" in page
    assert "Publish" not in page  # an analyst does not publish
    assert alice.post(f"/notices/{notice['id']}/submit/").status_code == 302
    assert alice.get(f"/notices/{notice['id']}/edit/").status_code == 404  # submitted
    empty = reviewer.post(f"/notices/{notice['id']}/return/", {"return-comment": ""})
    assert empty.status_code == 400
    assert 'id="id_return-comment_error"' in empty.content.decode()
    returned = reviewer.post(
        f"/notices/{notice['id']}/return/", {"return-comment": "Name the facility type."}
    )
    assert returned.status_code == 302
    shown = alice.get(f"/notices/{notice['id']}/").content.decode()
    assert "Returned to the drafter by felix:" in shown
    assert "Name the facility type." in shown
    assert "Name the facility type." in alice.get(f"/notices/{notice['id']}/edit/").content.decode()
    # A coordinator may publish a draft without its review, as the API allows.
    assert reviewer.post(f"/notices/{notice['id']}/publish/").status_code == 302
    assert api(felix).get(f"/api/v1/notices/{notice['id']}/").json()["status"] == "published"
    assert alice.get(f"/notices/{notice['id']}/edit/").status_code == 404  # published


def test_save_and_submit_in_one_step(network, portal, api) -> None:
    browser = portal(network.alice)
    saved = browser.post("/notices/new/", composed())
    pk = saved["Location"].split("/")[2]
    form = composed(save_submit="")
    del form["save"]
    submitted = browser.post(f"/notices/{pk}/edit/", form)
    assert submitted["Location"] == f"/notices/{pk}/"
    assert api(network.alice).get(f"/api/v1/notices/{pk}/").json()["status"] == "submitted"


def test_the_receipts_page_is_the_apis_receipts(network, no_desk, portal, api) -> None:
    cora = api(network.cora)
    notice = publish(cora, draft(cora, tlp=TLP.AMBER)["id"])
    bob = portal(network.bob)
    bob.get(f"/notices/{notice['id']}/")
    bob.post(
        f"/notices/{notice['id']}/acknowledge/",
        {"outcome": "checked_none_found", "comment": "Searched 12 cells."},
    )
    answer = cora.get(f"/api/v1/notices/{notice['id']}/receipts/", {"page_size": 200}).json()
    page = portal(network.cora).get(f"/notices/{notice['id']}/receipts/")  # once: one code
    html = page.content.decode()
    assert page.status_code == 200
    rows = re.findall(r'<tr id="receipt-([^"]+)" class="(done|waiting)"', html)
    assert rows == [
        (r["organisation"], "done" if r["acknowledged_at"] else "waiting")
        for r in answer["results"]
    ]
    totals = answer["totals"]
    assert f"{totals['acknowledged']} of {totals['audience']} acknowledged" in html
    assert f'<progress id="acknowledged-progress" max="{totals["audience"]}"' in html
    assert "Checked, none found" in html
    assert "Searched 12 cells." in html


def test_outsiders_get_404(network, portal, api) -> None:
    alice = api(network.alice)
    mine = draft(alice, audience={"scope": "organisations", "organisations": ["be-desk"]})
    published = publish(api(network.cora), draft(api(network.cora))["id"])
    charlie, bob = portal(network.charlie), portal(network.bob)
    for path in ("edit", "audience", "receipts"):
        assert charlie.get(f"/notices/{mine['id']}/{path}/").status_code == 404
        assert bob.get(f"/notices/{published['id']}/{path}/").status_code == 404
    for path in ("submit", "publish", "return"):
        assert charlie.post(f"/notices/{mine['id']}/{path}/").status_code == 404
    assert bob.get("/notices/new/").status_code == 403  # an officer does not draft
    assert portal(network.alice).get("/notices/999999/edit/").status_code == 404  # once
    refused = bob.post(f"/notices/{published['id']}/publish/", follow=True)
    assert "Only the issuer" in refused.content.decode()
    assert api(network.bob).get(f"/api/v1/notices/{published['id']}/").json()["version"] == 1


def test_the_audience_box_and_the_receipts_page_are_audited_as_the_api(
    network, felix, portal, api
) -> None:
    alice = api(network.alice)
    amber = draft(alice, tlp=TLP.AMBER, audience={"scope": "countries", "countries": ["BE"]})
    green = draft(alice)
    browser = portal(network.alice)
    mark = last_audit_id()

    assert browser.get(f"/notices/{amber['id']}/edit/").status_code == 200
    assert browser.get(f"/notices/{amber['id']}/audience/").status_code == 200
    assert browser.get(f"/notices/{green['id']}/audience/").status_code == 200  # GREEN: none
    published = publish(api(felix), amber["id"])
    mark_published = last_audit_id()
    assert browser.get(f"/notices/{published['id']}/receipts/").status_code == 200

    read = audit_events(mark, up_to=mark_published, action__endswith="_read")
    assert [(e.action, e.actor_username, e.object_id, e.object_tlp) for e in read] == [
        ("notice.audience_read", "alice", str(amber["id"]), TLP.AMBER),
        ("notice.audience_read", "alice", str(amber["id"]), TLP.AMBER),
    ]
    (receipts,) = audit_events(mark_published)
    assert (receipts.action, receipts.actor_username, receipts.detail) == (
        "notice.receipts_read",
        "alice",
        {"reference": published["reference"], "version": 1},
    )
    api_read = api(network.alice).get(f"/api/v1/notices/{amber['id']}/receipts/")
    assert api_read.status_code == 200
    assert [e.detail for e in audit_events(mark_published)][-1] == receipts.detail


def last_audit_id() -> int:
    return AuditEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0


def audit_events(after: int, up_to: int | None = None, **lookups: object) -> list[AuditEvent]:
    events = AuditEvent.objects.filter(id__gt=after, **lookups)
    if up_to is not None:
        events = events.filter(id__lte=up_to)
    return list(events.order_by("id"))
