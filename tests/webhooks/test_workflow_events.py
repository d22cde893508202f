"""The workflow events travel like notices: `access_request.created` to the deciding
organisation, `access_request.decided` to the requester, `seizure.reported` to the linked
notice's issuer — signed, verified by the receiver, rendered for the receiving organisation."""

from typing import Any

from intel import accounts
from intel.models import TLP, AuditEvent
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


SEIZURE_EVENTS = ["seizure.reported", "seizure.amended", "seizure.withdrawn"]


def test_an_amended_or_withdrawn_report_reaches_those_it_was_sent_to_who_may_read_it(
    network, api, receiver, issue
):
    published = issue()  # a GREEN notice issued by fr-desk
    subscribe(api(network.alice), receiver, "issuer", event_types=SEIZURE_EVENTS)
    subscribe(
        api(network.alice),
        receiver,
        "issuer-green",
        event_types=SEIZURE_EVENTS,
        max_tlp="TLP:GREEN",
    )
    subscribe(api(network.charlie), receiver, "outsider", event_types=SEIZURE_EVENTS)
    subscribe(api(network.bob), receiver, "reporter", event_types=SEIZURE_EVENTS)
    bob = api(network.bob)
    body = {
        "country": "BE",
        "seized_on": "2025-06-01",
        "facility_type": "prison",
        "notice": published["id"],
        "detection_method": "targeted_cell_search",
        "lines": [{"item_type": "other_mobile_phone", "quantity": 2}],
        "tlp": TLP.GREEN,
    }
    filed = bob.post("/api/v1/seizures/", body, format="json")
    assert filed.status_code == 201, filed.content
    report = filed.json()["id"]
    deliver_due(time_budget=5)

    recount = {"lines": [{"item_type": "other_mobile_phone", "quantity": 5}], "reason": "Recount."}
    amended = bob.patch(f"/api/v1/seizures/{report}/", recount, format="json")
    assert amended.status_code == 200, amended.content
    deliver_due(time_budget=5)
    # Now AMBER: fr-desk still reads it, but not through an endpoint capped at GREEN.
    relabelled = bob.patch(
        f"/api/v1/seizures/{report}/", {"tlp": TLP.AMBER, "reason": "Relabelled."}, format="json"
    )
    assert relabelled.status_code == 200, relabelled.content
    deliver_due(time_budget=5)
    refused = api(network.charlie).post(
        f"/api/v1/seizures/{report}/withdraw/", {"reason": "Not mine."}, format="json"
    )
    assert refused.status_code in (403, 404)
    withdrawn = bob.post(
        f"/api/v1/seizures/{report}/withdraw/", {"reason": "Filed twice."}, format="json"
    )
    assert withdrawn.status_code == 200, withdrawn.content
    deliver_due(time_budget=5)

    assert [
        (e["type"], e["data"]["id"], e["data"]["version"], e["data"]["status"])
        for e in payloads(receiver, "issuer")
    ] == [
        ("seizure.reported", report, 1, "filed"),
        ("seizure.amended", report, 2, "filed"),
        ("seizure.amended", report, 3, "filed"),
        ("seizure.withdrawn", report, 3, "withdrawn"),
    ]
    assert payloads(receiver, "issuer")[1]["data"]["lines"][0]["quantity"] == 5
    assert [e["type"] for e in payloads(receiver, "issuer-green")] == [
        "seizure.reported",
        "seizure.amended",
    ]
    assert payloads(receiver, "outsider") == []  # not a recipient of the report
    assert payloads(receiver, "reporter") == []  # its own organisation's report
    (withdrawal,) = AuditEvent.objects.filter(action="seizure.withdrawn", object_id=str(report))
    assert withdrawal.detail["deliveries"] == 2  # the issuer's two endpoints
