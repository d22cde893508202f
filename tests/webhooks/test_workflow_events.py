"""The workflow events travel like notices: `access_request.created` to the deciding
organisation, `access_request.decided` to the requester, `seizure.reported` to the linked
notice's issuer — signed, verified by the receiver, rendered for the receiving organisation."""

from typing import Any

from intel import accounts
from intel.models import TLP
from seizures.models import SeizureReport
from tests.helpers.access import REQUESTS, analysts_decide, annex, ask, notice
from tests.helpers.webhooks import issue, receiver, subscribe
from webhooks.engine import deliver_due
from webhooks.models import Delivery, DeliveryState

__all__ = ["analysts_decide", "annex", "issue", "notice", "receiver"]  # fixtures used by name


def payloads(receiver: Any, name: str) -> list[dict[str, Any]]:
    return [hit.payload for hit in receiver.hits if hit.path == name]


def test_access_request_events_reach_both_sides(
    network, api, receiver, annex, notice, analysts_decide
):
    alice, charlie = api(network.alice), api(network.charlie)
    subscribe(alice, receiver, "owner", event_types=["access_request.created"])
    subscribe(charlie, receiver, "requester", event_types=["access_request.decided"])
    subscribe(api(network.bob), receiver, "bystander", event_types=["access_request.created"])

    created = ask(charlie, "profile", annex.pk, via_notice=notice["id"]).json()
    deliver_due(time_budget=5)
    (event,) = payloads(receiver, "owner")
    assert event["type"] == "access_request.created"
    assert event["data"]["id"] == created["id"]
    assert event["data"]["status"] == "pending"
    assert event["data"]["organisation"] == "de-desk"
    assert payloads(receiver, "requester") == []

    approved = alice.post(f"{REQUESTS}{created['id']}/approve/", {"days": 10}, format="json")
    assert approved.status_code == 200, approved.content
    deliver_due(time_budget=5)
    (decided,) = payloads(receiver, "requester")
    assert decided["type"] == "access_request.decided"
    assert decided["data"]["status"] == "approved"
    assert decided["data"]["grant"]["expires_at"]
    assert payloads(receiver, "bystander") == []  # not a party
    assert not Delivery.objects.exclude(state=DeliveryState.SUCCEEDED).exists()


def test_a_seizure_report_reaches_the_notice_issuer_as_it_may_read_it(
    network, api, receiver, make_profile, issue
):
    # be-desk's own AMBER profile, shared with nobody: fr-desk does not see it.
    be_analyst = accounts.member_create(
        organisation=network.be_desk, username="be-analyst", role="analyst", clearance=TLP.AMBER
    )
    hidden = make_profile(tlp=TLP.AMBER, author=be_analyst, name="Belgian-only")
    published = issue()  # a GREEN notice issued by fr-desk
    subscribe(api(network.alice), receiver, "issuer", event_types=["seizure.reported"])
    subscribe(api(network.charlie), receiver, "outsider", event_types=["seizure.reported"])

    body = {
        "country": "BE",
        "seized_on": "2025-06-01",
        "facility_type": "prison",
        "notice": published["id"],
        "detection_method": "targeted_cell_search",
        "lines": [
            {"profile": hidden.pk, "quantity": 3},
            {"item_type": "other_mobile_phone", "quantity": 2},
        ],
        "tlp": TLP.GREEN,
    }
    filed = api(network.bob).post("/api/v1/seizures/", body, format="json")
    assert filed.status_code == 201, filed.content
    deliver_due(time_budget=5)

    (event,) = payloads(receiver, "issuer")
    assert event["type"] == "seizure.reported"
    assert event["data"]["id"] == filed.json()["id"]
    assert event["data"]["notice"]["id"] == published["id"]
    # The line about be-desk's own profile is left out for fr-desk, as in the API.
    assert [(line["profile"], line["quantity"]) for line in event["data"]["lines"]] == [(None, 2)]
    assert payloads(receiver, "outsider") == []  # not a recipient of the report
    report = SeizureReport.objects.get(pk=filed.json()["id"])
    assert list(report.recipient_organisations.values_list("slug", flat=True)) == ["fr-desk"]
