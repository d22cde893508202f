"""Access requests and grants through the HTTP API (docs/access-requests.md).

The standard case: fr-desk (alice) owns a restricted profile and lists it in a GREEN notice
to the whole network that advertises restricted data; de-desk (charlie, the outsider) reads
the notice, does not see the profile, and asks for it. A grant shows the object in every read
until it expires or is revoked; an outsider learns nothing by guessing ids.
"""

import io
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from django.utils import timezone
from PIL import Image
from rest_framework.test import APIClient

from access.tasks import end_expired_grants
from intel import accounts, services
from intel.models import TLP, AuditEvent, Grant, Member
from tests.helpers.access import (
    PROFILES,
    REQUESTS,
    analysts_decide,
    annex,
    ask,
    notice,
    problem,
    publish,
)
from webhooks.engine import Renderer, deliver_due
from webhooks.models import Delivery, DeliveryState

NOTICES = "/api/v1/notices/"
NOT_FOUND = "urn:dix:problem:not-found"
__all__ = ["analysts_decide", "annex", "notice"]  # fixtures used by name

# The workflow as the demo runs it: fr-desk's analyst alice decides. Who decides is tested in
# test_deciders.py.
pytestmark = pytest.mark.usefixtures("analysts_decide")

Api = Callable[[Member | None], APIClient]


# --- helpers ---------------------------------------------------------------------------------


def audited(action: str, **where: Any) -> int:
    return AuditEvent.objects.filter(action=action, **where).count()


def listed_ids(client: APIClient, url: str) -> list[int]:
    response = client.get(url)
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


def png_upload() -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (4, 4), (30, 30, 200)).save(buffer, format="PNG")
    return SimpleUploadedFile("annex.png", buffer.getvalue(), content_type="image/png")


def expire(grant: Grant) -> None:
    """Time passes: the grant's expiry is now a second ago."""
    Grant.objects.filter(pk=grant.pk).update(expires_at=timezone.now() - timedelta(seconds=1))


# --- the whole path --------------------------------------------------------------------------


def test_a_granted_profile_is_seen_until_it_expires(network, api, annex, notice):
    charlie, alice = api(network.charlie), api(network.alice)
    assert charlie.get(f"{PROFILES}{annex.pk}/").status_code == 404

    offer = charlie.get(f"{REQUESTS}requestable/?via_notice={notice['id']}")
    assert offer.status_code == 200, offer.content
    assert offer.json()["results"] == [
        {
            "target_type": "profile",
            "target_id": annex.pk,
            "profile": None,
            "summary": "Device profile, TLP:AMBER",
            "owner": "fr-desk",
            "open_request": None,
        }
    ]

    created = ask(charlie, "profile", annex.pk, via_notice=notice["id"])
    assert created.status_code == 201, created.content
    req = created.json()
    assert created["Location"] == f"{REQUESTS}{req['id']}/"
    assert (req["status"], req["owner"], req["organisation"]) == ("pending", "fr-desk", "de-desk")
    assert req["grant"] is None
    assert listed_ids(alice, f"{REQUESTS}?role=received") == [req["id"]]
    assert listed_ids(charlie, f"{REQUESTS}?role=sent&target_type=profile") == [req["id"]]
    assert listed_ids(charlie, f"{REQUESTS}?role=received") == []

    asked = alice.post(
        f"{REQUESTS}{req['id']}/request-info/", {"message": "Which prisons?"}, format="json"
    )
    assert asked.status_code == 200, asked.content
    assert asked.json()["status"] == "info_requested"
    # Only a question waiting for an answer can be answered, and only by the requesting side.
    assert alice.post(f"{REQUESTS}{req['id']}/answer/", {"message": "x"}).status_code == 403
    answered = charlie.post(
        f"{REQUESTS}{req['id']}/answer/", {"message": "Berlin-Tegel only."}, format="json"
    )
    assert answered.status_code == 200, answered.content
    assert answered.json()["status"] == "pending"
    assert [(m["kind"], m["author"]) for m in answered.json()["messages"]] == [
        ("info_requested", "alice"),
        ("answer", "charlie"),
    ]
    problem(charlie.post(f"{REQUESTS}{req['id']}/answer/", {"message": "again"}), 409)

    approved = alice.post(f"{REQUESTS}{req['id']}/approve/", {"days": 10}, format="json")
    assert approved.status_code == 200, approved.content
    grant = approved.json()["grant"]
    assert approved.json()["status"] == "approved"
    assert (grant["organisation"], grant["scope"], grant["state"]) == (
        "de-desk",
        "object",
        "active",
    )

    shown = charlie.get(f"{PROFILES}{annex.pk}/")
    assert shown.status_code == 200
    assert shown.json()["name"] == "Restricted annex"
    assert annex.pk in listed_ids(charlie, PROFILES)
    in_notice = charlie.get(f"{NOTICES}{notice['id']}/").json()
    assert [p["id"] for p in in_notice["profiles"]] == [annex.pk]

    expire(Grant.objects.get(pk=grant["id"]))
    gone = charlie.get(f"{PROFILES}{annex.pk}/")
    assert problem(gone, 404)["type"] == NOT_FOUND
    assert annex.pk not in listed_ids(charlie, PROFILES)
    assert charlie.get(f"{REQUESTS}{req['id']}/").json()["grant"]["state"] == "expired"

    assert end_expired_grants() == 1
    ended = Grant.objects.get(pk=grant["id"])
    assert ended.ended_notified_at is not None
    assert end_expired_grants() == 0  # recorded once
    assert audited("grant.expired", object_id=str(grant["id"])) == 1
    for action in ("created", "info_requested", "answered", "approved"):
        assert audited(f"access_request.{action}", object_id=str(req["id"])) == 1, action
    assert [e.object_tlp for e in AuditEvent.objects.filter(action="access_request.approved")] == [
        TLP.AMBER
    ]


def test_a_granted_attachment_is_seen_until_it_expires(network, api, make_profile):
    profile = make_profile(tlp=TLP.GREEN, name="Public profile")
    attachment = services.attachment_add(
        profile_id=profile.pk,
        author=network.alice,
        kind="detection_protocol",
        title="X-ray protocol",
        tlp=TLP.AMBER,
        upload=png_upload(),
    )
    notice = publish(network, api, profile_ids=[profile.pk], restricted_data_available=True)
    charlie, cora, alice = api(network.charlie), api(network.cora), api(network.alice)
    detail = f"{PROFILES}{profile.pk}/attachments/{attachment.pk}/"
    listing = f"{PROFILES}{profile.pk}/attachments/"
    assert charlie.get(detail).status_code == 404
    assert charlie.get(listing).json()["results"] == []

    offer = charlie.get(f"{REQUESTS}requestable/?via_notice={notice['id']}").json()["results"]
    assert [(o["target_type"], o["target_id"], o["profile"]) for o in offer] == [
        ("attachment", attachment.pk, profile.pk)
    ]
    created = ask(charlie, "attachment", attachment.pk, via_notice=notice["id"])
    assert created.status_code == 201, created.content
    req = created.json()
    assert req["target_url"] == detail
    # The secretariat's coordinator does not read the attachment: it is not hers to share.
    assert problem(cora.post(f"{REQUESTS}{req['id']}/approve/", {}), 404)["type"] == NOT_FOUND
    # An attachment has no attachments to add.
    problem(
        alice.post(f"{REQUESTS}{req['id']}/approve/", {"scope": "with_attachments"}, format="json"),
        400,
        "scope",
    )
    approved = alice.post(f"{REQUESTS}{req['id']}/approve/", {}, format="json")
    assert approved.status_code == 200, approved.content
    grant = Grant.objects.get(pk=approved.json()["grant"]["id"])
    assert (grant.expires_at - timezone.now()).days in (29, 30)  # the requested 30 days

    assert charlie.get(detail).json()["title"] == "X-ray protocol"
    assert [a["id"] for a in charlie.get(listing).json()["results"]] == [attachment.pk]
    assert [a["id"] for a in charlie.get(f"{PROFILES}{profile.pk}/").json()["attachments"]] == [
        attachment.pk
    ]
    assert charlie.get(f"{detail}content/").status_code == 200

    expire(grant)
    assert problem(charlie.get(detail), 404)["type"] == NOT_FOUND
    assert charlie.get(f"{detail}content/").status_code == 404
    assert charlie.get(listing).json()["results"] == []
    assert charlie.get(f"{PROFILES}{profile.pk}/").json()["attachments"] == []
    assert end_expired_grants() == 1
    assert Grant.objects.get(pk=grant.pk).ended_notified_at is not None
    assert audited("grant.expired", object_id=str(grant.pk)) == 1


def test_a_profile_grant_with_attachments_shows_its_stricter_annexes(network, api, annex, notice):
    attachment = services.attachment_add(
        profile_id=annex.pk,
        author=network.alice,
        kind="photo",
        title="Photo",
        tlp=TLP.AMBER,
        upload=png_upload(),
    )
    charlie, alice = api(network.charlie), api(network.alice)
    req = ask(charlie, "profile", annex.pk, via_notice=notice["id"]).json()
    body = {"scope": "with_attachments", "expires_at": (timezone.now() + timedelta(days=3))}
    assert alice.post(f"{REQUESTS}{req['id']}/approve/", body, format="json").status_code == 200
    shown = charlie.get(f"{PROFILES}{annex.pk}/").json()
    assert [a["id"] for a in shown["attachments"]] == [attachment.pk]


# --- revocation ------------------------------------------------------------------------------


@override_settings(DIX_WEBHOOK_ALLOW_LOOPBACK=True)
def test_revoking_hides_the_profile_and_stops_its_webhooks(network, api, annex, notice):
    charlie, alice = api(network.charlie), api(network.alice)
    # Port 9 (discard) on loopback: anything actually sent would be a recorded failed attempt.
    sub = charlie.post(
        "/api/v1/subscriptions/",
        {"url": "http://127.0.0.1:9/hook", "event_types": ["profile.updated"]},
        format="json",
    )
    assert sub.status_code == 201, sub.content
    req = ask(charlie, "profile", annex.pk, via_notice=notice["id"]).json()
    assert alice.post(f"{REQUESTS}{req['id']}/approve/", {}, format="json").status_code == 200

    def change(notes: str) -> None:
        etag = alice.get(f"{PROFILES}{annex.pk}/")["ETag"]
        patched = alice.patch(
            f"{PROFILES}{annex.pk}/", {"notes": notes}, format="json", HTTP_IF_MATCH=etag
        )
        assert patched.status_code == 200, patched.content

    change("Seen in two more prisons.")
    delivery = Delivery.objects.select_related("subscription__created_by").get(
        subscription_id=sub.json()["id"]
    )
    assert delivery.profile_id == annex.pk
    assert Renderer().data_for(delivery) is not None  # entitled while the grant holds

    # The requester cannot revoke; the owner must give a reason.
    assert charlie.post(f"{REQUESTS}{req['id']}/revoke/", {"reason": "x"}).status_code == 403
    problem(alice.post(f"{REQUESTS}{req['id']}/revoke/", {}, format="json"), 400, "reason")
    revoked = alice.post(
        f"{REQUESTS}{req['id']}/revoke/", {"reason": "Shared beyond its purpose."}, format="json"
    )
    assert revoked.status_code == 200, revoked.content
    assert revoked.json()["grant"]["state"] == "revoked"
    assert revoked.json()["grant"]["revoke_reason"] == "Shared beyond its purpose."
    problem(alice.post(f"{REQUESTS}{req['id']}/revoke/", {"reason": "again"}), 409)

    assert problem(charlie.get(f"{PROFILES}{annex.pk}/"), 404)["type"] == NOT_FOUND
    assert annex.pk not in listed_ids(charlie, PROFILES)
    assert Renderer().data_for(delivery) is None  # the engine's entitlement check
    deliver_due(time_budget=5)
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts) == (DeliveryState.CANCELLED, 0)
    change("And one more.")
    assert Delivery.objects.filter(subscription_id=sub.json()["id"]).count() == 1

    assert audited("grant.revoked") == 1
    assert end_expired_grants() == 0  # a revoked grant's end is not recorded twice
    assert audited("grant.expired") == 0


# --- what an outsider may not learn ----------------------------------------------------------


def test_guessed_ids_and_foreign_requests_answer_404(network, api, annex, notice, make_profile):
    charlie = api(network.charlie)
    unlisted = make_profile(tlp=TLP.AMBER, name="Not in any notice")
    quiet = publish(network, api, profile_ids=[unlisted.pk], restricted_data_available=False)
    missing = ask(charlie, "profile", 987654)
    reference = problem(missing, 404)
    assert reference["type"] == NOT_FOUND
    # An object that exists but that nothing told charlie of answers exactly the same.
    for response in (
        ask(charlie, "profile", annex.pk),  # no via_notice
        ask(charlie, "profile", unlisted.pk, via_notice=notice["id"]),  # not in that notice
        ask(charlie, "profile", unlisted.pk, via_notice=quiet["id"]),  # nothing advertised
        ask(charlie, "notice", 987654),
        ask(charlie, "attachment", 987654, via_notice=notice["id"]),
        ask(charlie, "profile", annex.pk, via_notice=987654),  # an unknown notice
    ):
        assert problem(response, 404) == reference
    assert problem(charlie.get(f"{PROFILES}{annex.pk}/"), 404) == reference
    assert charlie.get(f"{REQUESTS}requestable/?via_notice=987654").status_code == 404
    assert charlie.get(f"{REQUESTS}requestable/?via_notice={quiet['id']}").json()["results"] == []
    problem(charlie.get(f"{REQUESTS}requestable/"), 400, "via_notice")

    req = ask(charlie, "profile", annex.pk, via_notice=notice["id"]).json()
    # be-desk, its customs and fr-desk's authority are neither side of charlie's request.
    for outsider in (network.bob, network.erin, network.dave, network.audrey):
        client = api(outsider)
        assert problem(client.get(f"{REQUESTS}{req['id']}/"), 404) == reference
        assert problem(client.post(f"{REQUESTS}{req['id']}/approve/", {}), 404) == reference
        assert problem(client.post(f"{REQUESTS}{req['id']}/deny/", {}), 404) == reference
        assert client.post(f"{REQUESTS}{req['id']}/withdraw/", {}).status_code == 404
        assert req["id"] not in listed_ids(client, REQUESTS)
    assert charlie.get(f"{REQUESTS}987654/").status_code == 404
    assert charlie.get(f"{REQUESTS}99999999999999999999/").status_code == 404
    assert audited("access_request.created") == 1


def test_nobody_decides_their_own_request(network, api, annex, notice):
    charlie = api(network.charlie)
    req = ask(charlie, "profile", annex.pk, via_notice=notice["id"]).json()
    own = problem(charlie.post(f"{REQUESTS}{req['id']}/approve/", {}, format="json"), 403)
    assert own["type"] == "urn:dix:problem:permission-denied"
    # The owner's desk officer sees the request but does not decide it.
    assert api(network.olga).get(f"{REQUESTS}{req['id']}/").status_code == 200
    problem(api(network.olga).post(f"{REQUESTS}{req['id']}/approve/", {}, format="json"), 403)
    assert charlie.get(f"{PROFILES}{annex.pk}/").status_code == 404
    assert audited("access_request.approved") == 0


def test_what_you_already_see_is_not_requested(network, api, annex, notice):
    seen = problem(ask(api(network.bob), "profile", annex.pk, via_notice=notice["id"]), 409)
    assert "already see" in seen["detail"]
    owned = problem(ask(api(network.alice), "profile", annex.pk), 409)
    assert "owns" in owned["detail"]
    charlie = api(network.charlie)
    assert ask(charlie, "profile", annex.pk, via_notice=notice["id"]).status_code == 201
    twice = problem(ask(charlie, "profile", annex.pk, via_notice=notice["id"]), 409)
    assert "still open" in twice["detail"]


def test_a_denial_needs_a_reason(network, api, annex, notice):
    charlie, alice = api(network.charlie), api(network.alice)
    req = ask(charlie, "profile", annex.pk, via_notice=notice["id"]).json()
    problem(alice.post(f"{REQUESTS}{req['id']}/deny/", {}, format="json"), 400, "reason")
    problem(
        alice.post(f"{REQUESTS}{req['id']}/deny/", {"reason": ""}, format="json"), 400, "reason"
    )
    denied = alice.post(f"{REQUESTS}{req['id']}/deny/", {"reason": "No open case."}, format="json")
    assert denied.status_code == 200, denied.content
    shown = charlie.get(f"{REQUESTS}{req['id']}/").json()
    assert (shown["status"], shown["decision_reason"], shown["decided_by"]) == (
        "denied",
        "No open case.",
        "alice",
    )
    assert charlie.get(f"{PROFILES}{annex.pk}/").status_code == 404
    problem(alice.post(f"{REQUESTS}{req['id']}/approve/", {}, format="json"), 409)
    assert audited("access_request.denied") == 1
    assert listed_ids(charlie, f"{REQUESTS}?status=denied") == [req["id"]]
    assert listed_ids(charlie, f"{REQUESTS}?status=pending") == []


def test_approval_limits(network, api, annex, notice):
    charlie, alice = api(network.charlie), api(network.alice)
    req = ask(charlie, "profile", annex.pk, via_notice=notice["id"]).json()
    url = f"{REQUESTS}{req['id']}/approve/"
    far = (timezone.now() + timedelta(days=400)).isoformat()
    problem(alice.post(url, {"expires_at": far}, format="json"), 400, "expires_at")
    past = (timezone.now() - timedelta(days=1)).isoformat()
    problem(alice.post(url, {"expires_at": past}, format="json"), 400, "expires_at")
    problem(alice.post(url, {"days": 366}, format="json"), 400, "days")
    problem(alice.post(url, {"days": 3, "expires_at": far}, format="json"), 400, "expires_at")
    problem(alice.post(url, {"scope": "everything"}, format="json"), 400, "scope")
    problem(alice.post(url, {"dayz": 3}, format="json"), 400, "dayz")
    problem(ask(charlie, "profile", annex.pk, days=0), 400, "days")
    problem(ask(charlie, "profile", annex.pk, requested_days=5), 400, "requested_days")
    problem(ask(charlie, "widget", annex.pk), 400, "target_type")
    assert audited("access_request.approved") == 0
    assert alice.post(url, {"days": 365}, format="json").status_code == 200


# --- on behalf of a sponsored authority ------------------------------------------------------


def test_on_behalf_of_must_be_a_sponsored_authority(network, api, annex, notice):
    charlie = api(network.charlie)
    foreign = ask(charlie, "profile", annex.pk, via_notice=notice["id"], on_behalf_of="be-customs")
    body = problem(foreign, 400, "on_behalf_of")
    assert "not an authority sponsored by your organisation" in body["detail"]
    problem(
        ask(charlie, "profile", annex.pk, via_notice=notice["id"], on_behalf_of="nowhere"),
        400,
        "on_behalf_of",
    )
    # Even a guessed id gets the 400: the check does not depend on the object.
    problem(ask(charlie, "profile", 987654, on_behalf_of="be-customs"), 400, "on_behalf_of")
    assert audited("access_request.created") == 0


def test_a_grant_on_behalf_names_the_authority_only(network, api, make_profile):
    private = make_profile(tlp=TLP.AMBER, name="fr-desk only")
    notice = publish(network, api, profile_ids=[private.pk], restricted_data_available=True)
    bob, erin, alice = api(network.bob), api(network.erin), api(network.alice)
    created = ask(bob, "profile", private.pk, via_notice=notice["id"], on_behalf_of="be-customs")
    assert created.status_code == 201, created.content
    req = created.json()
    assert req["on_behalf_of"] == "be-customs"
    # The authority reads the request but neither decides nor withdraws it.
    assert erin.get(f"{REQUESTS}{req['id']}/").status_code == 200
    assert listed_ids(erin, f"{REQUESTS}?role=sent") == [req["id"]]
    assert erin.post(f"{REQUESTS}{req['id']}/approve/", {}, format="json").status_code == 403
    assert erin.post(f"{REQUESTS}{req['id']}/withdraw/", {}, format="json").status_code == 403
    assert alice.post(f"{REQUESTS}{req['id']}/approve/", {}, format="json").status_code == 200
    assert erin.get(f"{PROFILES}{private.pk}/").status_code == 200
    assert bob.get(f"{PROFILES}{private.pk}/").status_code == 404
    again = ask(bob, "profile", private.pk, via_notice=notice["id"], on_behalf_of="be-customs")
    assert "be-customs already sees" in problem(again, 409)["detail"]


# --- the rest of the life of a request -------------------------------------------------------


def test_withdrawing_an_open_request(network, api, annex, notice):
    charlie, alice = api(network.charlie), api(network.alice)
    req = ask(charlie, "profile", annex.pk, via_notice=notice["id"]).json()
    withdrawn = charlie.post(
        f"{REQUESTS}{req['id']}/withdraw/", {"reason": "Case closed."}, format="json"
    )
    assert withdrawn.status_code == 200, withdrawn.content
    assert withdrawn.json()["status"] == "withdrawn"
    problem(charlie.post(f"{REQUESTS}{req['id']}/withdraw/", {}, format="json"), 409)
    problem(alice.post(f"{REQUESTS}{req['id']}/approve/", {}, format="json"), 409)
    assert audited("access_request.withdrawn") == 1
    assert ask(charlie, "profile", annex.pk, via_notice=notice["id"]).status_code == 201


def test_a_successor_notice_is_requestable_from_the_one_it_superseded(network, api):
    first = publish(network, api, title="First alert")
    successor = publish(
        network,
        api,
        title="Successor for be-desk",
        tlp=TLP.AMBER,
        audience={"scope": "organisations", "organisations": ["be-desk"]},
    )
    cora, charlie, alice = api(network.cora), api(network.charlie), api(network.alice)
    superseded = cora.post(
        f"{NOTICES}{first['id']}/supersede/", {"superseded_by": successor["id"]}, format="json"
    )
    assert superseded.status_code == 200, superseded.content
    assert charlie.get(f"{NOTICES}{successor['id']}/").status_code == 404
    offer = charlie.get(f"{REQUESTS}requestable/?via_notice={first['id']}").json()["results"]
    assert [(o["target_type"], o["target_id"]) for o in offer] == [("notice", successor["id"])]
    req = ask(charlie, "notice", successor["id"], via_notice=first["id"]).json()
    assert req["owner"] == "fr-desk"
    assert alice.post(f"{REQUESTS}{req['id']}/approve/", {}, format="json").status_code == 200
    assert charlie.get(f"{NOTICES}{successor['id']}/").json()["title"] == "Successor for be-desk"


def test_requests_and_decisions_reach_the_sides_webhooks(network, api, annex, notice):
    with override_settings(DIX_WEBHOOK_ALLOW_LOOPBACK=True):
        for member, event in (
            (network.alice, "access_request.created"),
            (network.charlie, "access_request.decided"),
        ):
            created = api(member).post(
                "/api/v1/subscriptions/",
                {"url": "http://127.0.0.1:9/hook", "event_types": [event]},
                format="json",
            )
            assert created.status_code == 201, created.content
    req = ask(api(network.charlie), "profile", annex.pk, via_notice=notice["id"]).json()
    assert list(
        Delivery.objects.filter(access_request_id=req["id"]).values_list(
            "event_type", "subscription__organisation__slug"
        )
    ) == [("access_request.created", "fr-desk")]
    api(network.alice).post(f"{REQUESTS}{req['id']}/deny/", {"reason": "No."}, format="json")
    assert sorted(
        Delivery.objects.filter(access_request_id=req["id"]).values_list(
            "event_type", "subscription__organisation__slug"
        )
    ) == [("access_request.created", "fr-desk"), ("access_request.decided", "de-desk")]


def test_the_scheduler_runs_the_expiry_sweep():
    tasks = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert "intel.tasks.end_expired_grants" in tasks


def test_odd_inputs_get_a_400_not_a_500(network, api, annex, notice):
    charlie = api(network.charlie)
    req = ask(charlie, "profile", annex.pk, via_notice=notice["id"]).json()
    for body, field in (
        ({"target_type": "profile", "target_id": "abc"}, "target_id"),
        ({"target_type": "profile", "target_id": 2**70}, "target_id"),
        ({"target_type": "profile", "target_id": annex.pk, "via_notice": -1}, "via_notice"),
        ({"target_type": ["profile"], "target_id": annex.pk}, "target_type"),
        ({"target_type": "profile", "target_id": annex.pk, "purpose": "   "}, "purpose"),
    ):
        problem(charlie.post(REQUESTS, body, format="json"), 400, field)
    problem(charlie.post(REQUESTS, [1, 2], format="json"), 400)
    problem(charlie.post(REQUESTS, "{", content_type="application/json"), 400)
    for query, field in (("role=boss", "role"), ("status=lost", "status"), ("target_type=x", None)):
        problem(charlie.get(f"{REQUESTS}?{query}"), 400, field)
    problem(charlie.get(f"{REQUESTS}requestable/?via_notice=abc"), 400, "via_notice")
    assert charlie.get(f"{REQUESTS}requestable/?via_notice={2**70}").status_code == 404
    alice = api(network.alice)
    for body in (
        {"expires_at": "yesterday"},
        {"expires_at": "9999-12-31T23:59:59Z"},
        {"days": "x"},
    ):
        assert alice.post(f"{REQUESTS}{req['id']}/approve/", body, format="json").status_code == 400
    assert (
        alice.post(
            f"{REQUESTS}{req['id']}/approve/", "[]", content_type="application/json"
        ).status_code
        == 400
    )
    problem(
        alice.post(f"{REQUESTS}{req['id']}/request-info/", {"message": "x" * 5001}), 400, "message"
    )
    assert charlie.get(f"{REQUESTS}{req['id']}/").json()["status"] == "pending"


def test_approval_and_the_expiry_sweep_refresh_cached_inboxes(network, api, annex, notice):
    charlie, alice = api(network.charlie), api(network.alice)
    before = charlie.get(NOTICES)
    assert before.json()["results"][0]["profiles"] == []
    req = ask(charlie, "profile", annex.pk, via_notice=notice["id"]).json()
    approved = alice.post(f"{REQUESTS}{req['id']}/approve/", {}, format="json")
    grant = Grant.objects.get(pk=approved.json()["grant"]["id"])
    granted = charlie.get(NOTICES, HTTP_IF_NONE_MATCH=before["ETag"])
    assert granted.status_code == 200
    assert [p["id"] for p in granted.json()["results"][0]["profiles"]] == [annex.pk]
    expire(grant)
    end_expired_grants()
    ended = charlie.get(NOTICES, HTTP_IF_NONE_MATCH=granted["ETag"])
    assert ended.status_code == 200
    assert ended.json()["results"][0]["profiles"] == []


def test_what_is_above_your_clearance_is_neither_offered_nor_requestable(
    network, api, make_profile
):
    strict = make_profile(tlp=TLP.AMBER_STRICT, name="Strict annex")
    notice = publish(network, api, profile_ids=[strict.pk], restricted_data_available=True)
    charlie = api(network.charlie)  # AMBER clearance
    assert charlie.get(f"{REQUESTS}requestable/?via_notice={notice['id']}").json()["results"] == []
    # Answered like an unknown id: no oracle for what lies above one's clearance.
    refused = ask(charlie, "profile", strict.pk, via_notice=notice["id"])
    unknown = ask(charlie, "profile", 987654, via_notice=notice["id"])
    assert problem(refused, 404) == problem(unknown, 404)
    carl = accounts.member_create(
        organisation=network.de_desk, username="carl", role="analyst", clearance=TLP.AMBER_STRICT
    )
    offer = api(carl).get(f"{REQUESTS}requestable/?via_notice={notice['id']}").json()["results"]
    assert [o["target_id"] for o in offer] == [strict.pk]
    assert ask(api(carl), "profile", strict.pk, via_notice=notice["id"]).status_code == 201


def test_a_red_grant_names_the_requester_alone(network, api, make_profile):
    red = make_profile(tlp=TLP.RED, members=[network.alice], name="Source report")
    notice = publish(network, api, profile_ids=[red.pk], restricted_data_available=True)

    def de_member(username: str) -> Member:
        return accounts.member_create(
            organisation=network.de_desk, username=username, role="analyst", clearance=TLP.RED
        )

    carla, dirk = de_member("carla"), de_member("dirk")
    accounts.organisation_create(
        slug="de-prisons",
        name="German prisons",
        kind="national_authority",
        country="DE",
        sponsor=network.de_desk,
    )
    on_behalf = ask(
        api(carla), "profile", red.pk, via_notice=notice["id"], on_behalf_of="de-prisons"
    )
    assert "named people only" in problem(on_behalf, 400, "on_behalf_of")["detail"]
    req = ask(api(carla), "profile", red.pk, via_notice=notice["id"]).json()
    # RED is shared by its owner alone: the secretariat does not even read it.
    problem(api(network.cora).post(f"{REQUESTS}{req['id']}/approve/", {}, format="json"), 404)
    approved = api(network.alice).post(f"{REQUESTS}{req['id']}/approve/", {}, format="json")
    assert approved.json()["grant"]["member"] == "carla"
    assert api(carla).get(f"{PROFILES}{red.pk}/").status_code == 200
    assert api(dirk).get(f"{PROFILES}{red.pk}/").status_code == 404
