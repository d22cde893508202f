"""The access-request pages against the API: what a notice lets a desk request, the request
form (bad input at its field), the lists sent and received, and the decision screen whose
buttons follow access/policies.py; foreign requests answer the portal's 404."""

import re
from typing import Any

import pytest

from intel.models import AccessRequest
from tests.helpers.access import REQUESTS, analysts_decide, annex, ask, fred, notice

__all__ = ["analysts_decide", "annex", "fred", "notice"]  # fixtures used by name

pytestmark = pytest.mark.django_db

BODY = {
    "purpose": "Check our prisons for the device.",
    "legal_basis": "Art. 21 Regulation (EU) 2018/1727",
    "case_reference": "DE-2025-0042",
    "days": "30",
}


def new_url(notice: dict[str, Any], annex: Any) -> str:
    return (
        f"/access-requests/new/?via_notice={notice['id']}&target_type=profile&target_id={annex.pk}"
    )


def test_the_notice_links_to_what_it_lets_a_desk_request(network, notice, annex, portal, api):
    charlie = portal(network.charlie)
    page = charlie.get(f"/notices/{notice['id']}/").content.decode()
    assert f'href="/access-requests/new/?via_notice={notice["id"]}"' in page
    listed = charlie.get(f"/access-requests/new/?via_notice={notice['id']}").content.decode()
    through_api = (
        api(network.charlie)
        .get(f"{REQUESTS}requestable/", {"via_notice": notice["id"]})
        .json()["results"]
    )
    assert [row["target_id"] for row in through_api] == [annex.pk]
    assert f"target_id={annex.pk}" in listed
    assert "Restricted annex" not in listed  # named by its teaser, never its name


def test_a_request_made_through_the_form_is_decided_on_the_decision_screen(
    network, notice, annex, analysts_decide, portal, api
):
    charlie, alice = portal(network.charlie), portal(network.alice)
    answer = charlie.post(new_url(notice, annex), BODY)
    assert answer.status_code == 302, answer.content.decode()
    created = AccessRequest.objects.get()
    assert answer["Location"] == f"/access-requests/{created.pk}/"
    assert created.requested_days == 30
    mine = charlie.get(answer["Location"]).content.decode()
    assert "Approve" not in mine
    assert "Withdraw" in mine
    screen = alice.get(answer["Location"]).content.decode()
    for button in ("Approve", "Deny", "Ask the requester", "Add the comment"):
        assert f">{button}</button>" in screen
    assert ">Route</button>" not in screen  # for the secretariat only
    assert f'href="/access-requests/{created.pk}/"' in alice.get("/").content.decode()
    asked = alice.post(
        f"/access-requests/{created.pk}/request_info/", {"message": "Which prisons?"}
    )
    assert asked.status_code == 302
    assert "Which prisons?" in charlie.get(answer["Location"]).content.decode()
    charlie.post(f"/access-requests/{created.pk}/answer/", {"message": "Fresnes only."})
    approved = alice.post(
        f"/access-requests/{created.pk}/approve/", {"scope": "object", "days": "10"}
    )
    assert approved.status_code == 302
    assert api(network.charlie).get(f"/api/v1/profiles/{annex.pk}/").status_code == 200
    assert charlie.get(f"/profiles/{annex.pk}/").status_code == 200
    history = charlie.get(answer["Location"]).content.decode()
    assert "Fresnes only." in history
    assert "Approved" in history


@pytest.mark.parametrize(
    ("changes", "fields"),
    [
        ({"purpose": ""}, ["purpose"]),
        ({"days": "30", "expires_at": "2099-01-01T10:00"}, ["days", "expires_at"]),
        ({"days": "999"}, ["days"]),
        ({"days": "", "expires_at": "2001-01-01T10:00"}, ["expires_at"]),
    ],
)
def test_bad_input_is_shown_at_its_field(network, notice, annex, portal, changes, fields):
    page = portal(network.charlie).post(new_url(notice, annex), BODY | changes)
    assert page.status_code == 400
    for field in fields:
        assert f'id="id_{field}_error"' in page.content.decode()
    assert not AccessRequest.objects.exists()


def test_a_denial_needs_its_reason_at_the_field(network, notice, annex, fred, portal, api):
    created = ask(api(network.charlie), "profile", annex.pk, via_notice=notice["id"]).json()
    page = portal(fred).post(f"/access-requests/{created['id']}/deny/", {"reason": ""})
    assert page.status_code == 400
    assert 'id="id_deny_reason_error"' in page.content.decode()


def test_the_lists_are_the_apis(network, notice, annex, fred, portal, api):
    ask(api(network.charlie), "profile", annex.pk, via_notice=notice["id"])
    for member in (network.charlie, fred, network.bob, network.cora):
        page = portal(member).get("/access-requests/").content.decode()
        for role in ("sent", "received"):
            rows = api(member).get(REQUESTS, {"role": role}).json()["results"]
            block = page.split(f'id="{role}"', 1)[1].split("</table>")[0] if rows else ""
            shown = {int(pk) for pk in re.findall(r'href="/access-requests/(\d+)/"', block)}
            assert shown == {row["id"] for row in rows}


def test_foreign_and_missing_requests_answer_404(network, notice, annex, portal, api):
    created = ask(api(network.charlie), "profile", annex.pk, via_notice=notice["id"]).json()
    bob = portal(network.bob)
    assert bob.get(f"/access-requests/{created['id']}/").status_code == 404
    assert (
        bob.post(f"/access-requests/{created['id']}/comment/", {"message": "x"}).status_code == 404
    )
    assert bob.get("/access-requests/999999/").status_code == 404
    assert bob.get("/access-requests/new/?via_notice=999999").status_code == 404
    assert bob.get("/access-requests/new/").status_code == 404
    charlie = portal(network.charlie)
    assert charlie.post(f"/access-requests/{created['id']}/explode/", {}).status_code == 404
    # A member who may not approve gets no button and a refusal, never a 500.
    refused = charlie.post(f"/access-requests/{created['id']}/approve/", {"scope": "object"})
    assert refused.status_code == 403


def test_the_decision_screen_names_what_and_who_in_the_readers_language(
    network, notice, annex, analysts_decide, portal
):
    answer = portal(network.charlie).post(new_url(notice, annex), BODY)
    created = AccessRequest.objects.get()
    alice = portal(network.alice)
    html = alice.get(answer["Location"], HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert f"“{annex.name}”" in html
    assert network.de_desk.name in html
    assert network.fr_desk.name in html
    assert f">{network.de_desk.slug}<" not in html
    alice.post("/account/language/", {"language": "fr", "next": "/"})
    localised = alice.get(answer["Location"]).content.decode()
    assert f"{created.created_at:%d/%m/%Y}" in localised
    assert created.created_at.isoformat()[:16] not in localised
