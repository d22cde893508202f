"""A notice's webhook fan-out, delivered in process to a real loopback receiver that verifies
every request with the `standardwebhooks` package: rendered for each recipient, once per
entitled endpoint, withdrawals reaching earlier recipients, RED never sent, entitlement checked
again before a retry."""

from collections.abc import Callable
from typing import Any

from django.utils import timezone
from rest_framework.test import APIClient

from intel.models import TLP, DeviceProfile
from notices.models import Notice
from notices.rendering import webhook_viewer
from tests.conftest import Network
from tests.helpers.notices import (
    EVENTS,
    NOTICES,
    SUBSCRIPTIONS,
    Api,
    Extra,
    assert_problem,
    draft,
    publish,
)
from tests.helpers.webhooks import Receiver, receiver
from webhooks.engine import deliver_due
from webhooks.models import Delivery, DeliveryState, Subscription

__all__ = ["receiver"]  # a fixture, used by name


def subscribe(client: APIClient, receiver: Receiver, name: str, **fields: Any) -> int:
    """Register `receiver/<name>` for the client's organisation; the receiver learns the secret."""
    body = {"url": receiver.url(name), "event_types": EVENTS} | fields
    response = client.post(SUBSCRIPTIONS, body, format="json")
    assert response.status_code == 201, response.content
    receiver.secrets[name] = [response.json()["secret"]]
    return int(response.json()["id"])


def test_a_notice_is_rendered_for_each_recipient_and_each_webhook(
    network: Network,
    extra: Extra,
    api: Api,
    make_profile: Callable[..., DeviceProfile],
    receiver: Receiver,
) -> None:
    amber = make_profile(tlp=TLP.AMBER, recipients=[network.be_desk], name="Amber phone")
    green = make_profile(tlp=TLP.GREEN, name="Green phone")
    bob, charlie = api(network.bob), api(network.charlie)
    subscribe(bob, receiver, "be", max_tlp=TLP.AMBER)
    subscribe(charlie, receiver, "de", max_tlp=TLP.AMBER)

    advertised = publish(
        api(extra.felix),
        draft(api(network.alice), profile_ids=[amber.pk, green.pk], restricted_data_available=True)[
            "id"
        ],
    )
    silent = publish(
        api(extra.felix), draft(api(network.alice), profile_ids=[amber.pk, green.pk])["id"]
    )

    def seen(client: APIClient, notice: dict[str, Any]) -> dict[str, Any]:
        data: dict[str, Any] = client.get(f"{NOTICES}{notice['id']}/").json()
        return data

    for_bob, for_charlie = seen(bob, advertised), seen(charlie, advertised)
    assert sorted(p["name"] for p in for_bob["profiles"]) == ["Amber phone", "Green phone"]
    assert for_bob["restricted_data_available"] is False
    assert [p["name"] for p in for_charlie["profiles"]] == ["Green phone"]
    assert for_charlie["restricted_data_available"] is True
    assert "Amber phone" not in str(for_charlie)
    assert seen(charlie, silent)["restricted_data_available"] is False
    assert [p["id"] for p in seen(charlie, silent)["profiles"]] == [green.pk]
    # Version history leaves out what the reader may not see.
    assert charlie.get(f"{NOTICES}{advertised['id']}/versions/").json()["results"][0][
        "profile_ids"
    ] == [green.pk]

    assert deliver_due(time_budget=5) == 4
    for name, client in (("be", bob), ("de", charlie)):
        hits = receiver.to(name)
        assert sorted(h.payload["data"]["id"] for h in hits) == sorted(
            [advertised["id"], silent["id"]]
        )
        for hit in hits:
            assert hit.payload["type"] == "notice.published"
            expected = seen(client, hit.payload["data"])
            expected.pop("acknowledged_at")
            assert hit.payload["data"] == expected
    charlie_hit = next(h for h in receiver.to("de") if h.payload["data"]["id"] == advertised["id"])
    assert charlie_hit.payload["data"]["restricted_data_available"] is True
    assert [p["name"] for p in charlie_hit.payload["data"]["profiles"]] == ["Green phone"]


# --- Webhook delivery, in process ------------------------------------------------------------


def test_publish_and_withdraw_reach_each_entitled_endpoint_once(
    network: Network,
    extra: Extra,
    api: Api,
    make_profile: Callable[..., DeviceProfile],
    receiver: Receiver,
) -> None:
    profile = make_profile(tlp=TLP.AMBER, recipients=[network.be_desk])
    members = {
        "fr": network.alice,
        "be": network.bob,
        "be-customs": network.erin,
        "de": network.charlie,
        "eurojust": network.cora,
    }
    subs = {name: subscribe(api(m), receiver, name) for name, m in members.items()}
    subscribe(api(network.olga), receiver, "fr-green", max_tlp=TLP.GREEN)
    notice = publish(
        api(extra.felix),
        draft(
            api(network.alice),
            tlp=TLP.AMBER,
            audience={"scope": "organisations", "organisations": ["be-desk"]},
            profile_ids=[profile.pk],
        )["id"],
    )
    entitled = {"fr", "be", "be-customs"}
    rows = Delivery.objects.filter(notice_id=notice["id"])
    assert sorted(rows.values_list("subscription_id", flat=True)) == sorted(
        subs[name] for name in entitled
    )
    assert deliver_due(time_budget=5) == 3
    assert deliver_due(time_budget=5) == 0
    for name in entitled:
        (hit,) = receiver.to(name)
        assert set(hit.payload) == {"type", "timestamp", "data"}
        assert hit.payload["type"] == "notice.published"
        assert hit.payload["data"]["reference"] == notice["reference"]
        expected = api(members[name]).get(f"{NOTICES}{notice['id']}/").json()
        expected.pop("acknowledged_at")
        assert hit.payload["data"] == expected
        assert [p["id"] for p in hit.payload["data"]["profiles"]] == [profile.pk]
        assert hit.headers["webhook-id"] == rows.get(subscription_id=subs[name]).webhook_id
    for name in ("de", "eurojust", "fr-green"):
        assert receiver.to(name) == []
    assert set(rows.values_list("state", flat=True)) == {DeliveryState.SUCCEEDED}

    response = api(extra.felix).post(
        f"{NOTICES}{notice['id']}/withdraw/", {"reason": "Wrong model."}, format="json"
    )
    assert response.status_code == 200
    assert deliver_due(time_budget=5) == 3
    for name in entitled:
        published, withdrawn = receiver.to(name)
        assert withdrawn.payload["type"] == "notice.withdrawn"
        assert withdrawn.payload["data"]["status"] == "withdrawn"
        assert withdrawn.payload["data"]["withdrawal_reason"] == "Wrong model."
        assert withdrawn.headers["webhook-id"] != published.headers["webhook-id"]
    for name in ("de", "eurojust", "fr-green"):
        assert receiver.to(name) == []
    assert not Delivery.objects.filter(subscription_id__in=[subs["de"], subs["eurojust"]]).exists()


def test_withdrawal_reaches_earlier_recipients_even_without_that_event(
    network: Network, extra: Extra, api: Api, receiver: Receiver, issue: Callable[..., Any]
) -> None:
    subscribe(api(network.bob), receiver, "be", event_types=["notice.published"])
    subscribe(api(network.charlie), receiver, "de", event_types=["notice.published"])
    notice = issue(audience={"scope": "organisations", "organisations": ["be-desk"]})
    assert deliver_due(time_budget=5) == 1
    api(extra.felix).post(f"{NOTICES}{notice['id']}/withdraw/", {"reason": "r"}, format="json")
    assert deliver_due(time_budget=5) == 1
    assert [h.payload["type"] for h in receiver.to("be")] == [
        "notice.published",
        "notice.withdrawn",
    ]
    assert receiver.to("de") == []


def test_a_red_notice_never_travels_by_webhook(
    network: Network, extra: Extra, api: Api, receiver: Receiver
) -> None:
    for name, member in (("fr", network.alice), ("eurojust", network.cora), ("be", network.bob)):
        subscribe(api(member), receiver, name)
    felix = api(extra.felix)
    unnamed = felix.post(NOTICES, {"type": "alert", "title": "t", "tlp": TLP.RED}, format="json")
    assert_problem(unnamed, 400, "audience.members")
    assert not Notice.objects.exists()
    notice = publish(
        felix, draft(felix, tlp=TLP.RED, audience={"members": ["audrey", "alice"]})["id"]
    )
    assert notice["tlp"] == TLP.RED
    assert api(network.audrey).get(f"{NOTICES}{notice['id']}/").status_code == 200
    assert_problem(api(network.cora).get(f"{NOTICES}{notice['id']}/"), 404)
    assert not Delivery.objects.filter(notice_id=notice["id"]).exists()
    assert deliver_due(time_budget=5) == 0
    # Even an endpoint whose cap were set to RED in the database is sent nothing.
    Subscription.objects.all().update(max_tlp=TLP.RED)
    assert webhook_viewer(network.fr_desk, TLP.RED).clearance == TLP.AMBER_STRICT
    felix.post(
        f"{NOTICES}{notice['id']}/update/", {"change_note": "n", "body": "more"}, format="json"
    )
    felix.post(f"{NOTICES}{notice['id']}/withdraw/", {"reason": "r"}, format="json")
    assert not Delivery.objects.filter(notice_id=notice["id"]).exists()
    assert deliver_due(time_budget=5) == 0
    assert receiver.hits == []


def test_entitlement_is_checked_again_before_a_retry(
    network: Network, extra: Extra, api: Api, receiver: Receiver
) -> None:
    """bruno's endpoint gets an AMBER+STRICT notice while he is cleared for it; once his
    clearance is lowered the pending retry is cancelled, not sent."""
    sub = subscribe(api(extra.bruno), receiver, "be-strict", max_tlp=TLP.AMBER_STRICT)
    receiver.script["be-strict"] = [(500, {})]
    notice = publish(
        api(extra.felix),
        draft(
            api(network.alice),
            tlp=TLP.AMBER_STRICT,
            audience={"scope": "organisations", "organisations": ["be-desk"]},
        )["id"],
    )
    assert deliver_due(time_budget=5) == 1
    delivery = Delivery.objects.get(subscription_id=sub)
    assert (delivery.state, delivery.last_status_code) == ("pending", 500)

    type(extra.bruno).objects.filter(pk=extra.bruno.pk).update(clearance=TLP.AMBER)
    Delivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())
    assert deliver_due(time_budget=5) == 0
    delivery.refresh_from_db()
    assert delivery.state == "cancelled"
    assert delivery.attempts == 1
    assert len(receiver.to("be-strict")) == 1
    assert notice["tlp"] == TLP.AMBER_STRICT
