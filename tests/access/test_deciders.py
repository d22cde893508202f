"""Who decides an access request: the table of docs/access-requests.md, row by row.

fr-desk owns the objects: its coordinator fred decides, its analyst alice only when fr-desk
lets its analysts decide, its desk officer olga never. The secretariat's coordinator cora
sees every request, routes it, asks and comments, and decides only what fr-desk delegated to
the secretariat AND she reads herself. charlie (de-desk) asks; bob (be-desk) is no party.
"""

from collections.abc import Callable
from typing import Any

import pytest
from django.test import override_settings
from rest_framework.test import APIClient

from intel import accounts
from intel.models import TLP, AuditEvent, DeviceProfile, Member
from tests.conftest import Network
from tests.helpers.access import (
    REQUESTS,
    analysts_decide,
    annex,
    ask,
    fred,
    notice,
    problem,
    publish,
)
from webhooks.models import Delivery

Api = Callable[[Member | None], APIClient]
ORGANISATIONS = "/api/v1/organisations/"
FORBIDDEN = "urn:dix:problem:permission-denied"
NOT_FOUND = "urn:dix:problem:not-found"
__all__ = ["analysts_decide", "annex", "fred", "notice"]  # fixtures used by name


def open_request(network: Network, api: Api, notice: dict[str, Any], target: int) -> int:
    created = ask(api(network.charlie), "profile", target, via_notice=notice["id"])
    assert created.status_code == 201, created.content
    request_id: int = created.json()["id"]
    return request_id


def received(client: APIClient) -> list[int]:
    response = client.get(f"{REQUESTS}?role=received")
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


def set_policy(client: APIClient, network: Network, **policy: bool) -> Any:
    return client.patch(f"{ORGANISATIONS}{network.fr_desk.pk}/", policy, format="json")


@pytest.fixture
def shared_with_secretariat(
    network: Network, api: Api, make_profile: Callable[..., DeviceProfile]
) -> tuple[DeviceProfile, dict[str, Any]]:
    """An AMBER profile of fr-desk that the secretariat reads, advertised to the network."""
    profile = make_profile(
        tlp=TLP.AMBER, recipients=[network.be_desk, network.eurojust], name="Shared annex"
    )
    return profile, publish(network, api, profile_ids=[profile.pk], restricted_data_available=True)


def test_the_owners_coordinator_decides(network, api, fred, annex, notice):
    request_id = open_request(network, api, notice, annex.pk)
    coordinator = api(fred)
    assert received(coordinator) == [request_id]
    url = f"{REQUESTS}{request_id}/"
    assert coordinator.post(f"{url}comment/", {"message": "Looking."}).status_code == 200
    assert coordinator.post(f"{url}request-info/", {"message": "Which case?"}).status_code == 200
    assert api(network.charlie).post(f"{url}answer/", {"message": "DE-42."}).status_code == 200
    approved = coordinator.post(f"{url}approve/", {"days": 10}, format="json")
    assert approved.status_code == 200, approved.content
    assert approved.json()["decided_by"] == "fred"
    kinds = [m["kind"] for m in approved.json()["messages"]]
    assert kinds == ["comment", "info_requested", "answer"]
    assert (
        AuditEvent.objects.filter(action="access_request.commented", actor_id=fred.pk).count() == 1
    )
    revoked = coordinator.post(f"{url}revoke/", {"reason": "Over."}, format="json")
    assert revoked.json()["grant"]["state"] == "revoked"


def test_the_owners_analysts_decide_only_when_the_owner_lets_them(
    network, api, fred, annex, notice
):
    request_id = open_request(network, api, notice, annex.pk)
    alice = api(network.alice)
    url = f"{REQUESTS}{request_id}/"
    assert alice.get(url).status_code == 200
    assert received(alice) == []
    refused = problem(alice.post(f"{url}approve/", {}, format="json"), 403)
    assert "coordinators decide" in refused["detail"]
    problem(alice.post(f"{url}request-info/", {"message": "Which case?"}), 403)
    problem(alice.post(f"{url}comment/", {"message": "Hm."}), 403)

    # Only fr-desk's own coordinators say who decides for it.
    for outsider in (network.alice, network.cora, network.charlie):
        problem(set_policy(api(outsider), network, analysts_decide_access=True), 403)
    changed = set_policy(api(fred), network, analysts_decide_access=True)
    assert changed.status_code == 200, changed.content
    assert changed.json()["analysts_decide_access"] is True
    assert changed.json()["delegates_access_to_secretariat"] is False
    event = AuditEvent.objects.get(action="organisation.access_policy_changed")
    assert event.detail["entitlements"] == {"analysts_decide_access": {"old": False, "new": True}}
    problem(set_policy(api(fred), network, kind="secretariat"), 400, "kind")

    assert received(alice) == [request_id]
    assert alice.post(f"{url}approve/", {}, format="json").status_code == 200


def test_the_owners_desk_officer_reads_only(network, api, annex, notice, analysts_decide):
    request_id = open_request(network, api, notice, annex.pk)
    olga = api(network.olga)
    url = f"{REQUESTS}{request_id}/"
    assert olga.get(url).status_code == 200
    assert received(olga) == []
    for action, body in (
        ("approve", {}),
        ("deny", {"reason": "No."}),
        ("request-info", {"message": "?"}),
        ("comment", {"message": "!"}),
        ("route", {}),
    ):
        problem(olga.post(f"{url}{action}/", body, format="json"), 403)


def test_the_secretariat_routes_asks_and_comments_what_it_does_not_read(
    network, api, fred, annex, notice
):
    with override_settings(DIX_WEBHOOK_ALLOW_LOOPBACK=True):
        subscribed = api(network.alice).post(
            "/api/v1/subscriptions/",
            {"url": "http://127.0.0.1:9/hook", "event_types": ["access_request.created"]},
            format="json",
        )
    assert subscribed.status_code == 201, subscribed.content
    request_id = open_request(network, api, notice, annex.pk)
    cora = api(network.cora)
    url = f"{REQUESTS}{request_id}/"
    assert set_policy(api(fred), network, delegates_access_to_secretariat=True).status_code == 200

    assert request_id in listed(cora)
    assert received(cora) == []  # delegated, but cora does not read the annex
    # She does not read the annex: deciding answers as for any unseen object.
    for action, body in (("approve", {}), ("deny", {"reason": "No."})):
        assert problem(cora.post(f"{url}{action}/", body, format="json"), 404)["type"] == NOT_FOUND
    assert cora.post(f"{url}comment/", {"message": "Known case."}).status_code == 200
    assert cora.post(f"{url}request-info/", {"message": "Which prisons?"}).status_code == 200
    routed = cora.post(f"{url}route/", {"note": "fr-desk, please decide."}, format="json")
    assert routed.status_code == 200, routed.content
    assert [(m["kind"], m["author"]) for m in routed.json()["messages"]][-1] == ("routed", "cora")
    assert routed.json()["status"] == "info_requested"
    # Routing tells the owner again.
    assert (
        Delivery.objects.filter(
            access_request_id=request_id, event_type="access_request.created"
        ).count()
        == 2
    )
    assert AuditEvent.objects.filter(
        action="access_request.routed", actor_id=network.cora.pk
    ).exists()
    # Routing is the secretariat's step; a decided request is routed no more.
    problem(api(fred).post(f"{url}route/", {}, format="json"), 403)
    problem(api(network.charlie).post(f"{url}route/", {}, format="json"), 403)
    assert api(fred).post(f"{url}deny/", {"reason": "No case."}, format="json").status_code == 200
    problem(cora.post(f"{url}route/", {}, format="json"), 409)


def test_the_secretariat_decides_what_it_reads_only_when_delegated(
    network, api, fred, shared_with_secretariat
):
    profile, advertising = shared_with_secretariat
    request_id = open_request(network, api, advertising, profile.pk)
    cora = api(network.cora)
    url = f"{REQUESTS}{request_id}/approve/"
    assert received(cora) == []
    refused = problem(cora.post(url, {}, format="json"), 403)
    assert refused["type"] == FORBIDDEN
    assert "fr-desk owns this device profile" in refused["detail"]
    assert "route the request" in refused["detail"]

    assert set_policy(api(fred), network, delegates_access_to_secretariat=True).status_code == 200
    assert received(cora) == [request_id]
    approved = cora.post(url, {"days": 5}, format="json")
    assert approved.status_code == 200, approved.content
    assert approved.json()["decided_by"] == "cora"


def test_the_requesting_side_and_its_authority_do_not_decide(network, api, fred, annex, notice):
    authority = accounts.organisation_create(
        slug="de-prisons",
        name="German prisons",
        kind="national_authority",
        country="DE",
        sponsor=network.de_desk,
    )
    warden = accounts.member_create(
        organisation=authority, username="warden", role="analyst", clearance=TLP.AMBER
    )
    created = ask(
        api(network.charlie),
        "profile",
        annex.pk,
        via_notice=notice["id"],
        on_behalf_of="de-prisons",
    )
    assert created.status_code == 201, created.content
    url = f"{REQUESTS}{created.json()['id']}/"
    charlie, beneficiary = api(network.charlie), api(warden)
    assert charlie.post(f"{url}comment/", {"message": "Urgent."}).status_code == 200
    assert received(charlie) == []
    assert received(beneficiary) == []
    for client in (charlie, beneficiary):
        problem(client.post(f"{url}approve/", {}, format="json"), 403)
        problem(client.post(f"{url}request-info/", {"message": "?"}), 403)
    assert beneficiary.get(url).status_code == 200
    problem(beneficiary.post(f"{url}comment/", {"message": "Hello."}), 403)


def test_no_party_sees_nothing(network, api, fred, annex, notice):
    request_id = open_request(network, api, notice, annex.pk)
    bob = api(network.bob)
    url = f"{REQUESTS}{request_id}/"
    assert problem(bob.get(url), 404)["type"] == NOT_FOUND
    for action in ("comment", "route", "request-info", "approve"):
        assert bob.post(f"{url}{action}/", {"message": "x"}).status_code == 404
    assert received(bob) == []


def listed(client: APIClient) -> list[int]:
    return [row["id"] for row in client.get(REQUESTS).json()["results"]]
