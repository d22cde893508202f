"""Deleting a webhook subscription through the HTTP API: it leaves every list and receives
nothing more (what was pending is not sent), its delivery log stays readable to the
organisation (its auditors included) until the retention period ends, and it is audited."""

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.test import override_settings
from django.utils import timezone
from rest_framework.test import APIClient

from intel import accounts
from intel.models import TLP, AuditEvent, Member
from operations import retention
from tests.conftest import Network
from tests.helpers.webhooks import SUBSCRIPTIONS, Receiver, issue, receiver, subscribe
from webhooks.engine import deliver_due
from webhooks.models import Delivery, Subscription

__all__ = ["issue", "receiver"]  # fixtures used by name

Api = Callable[[Member | None], APIClient]


def test_a_deleted_subscription_gets_nothing_more_and_keeps_its_log(
    network: Network, api: Api, receiver: Receiver, issue: Callable[..., dict[str, Any]]
) -> None:
    bob = api(network.bob)
    gone = subscribe(bob, receiver, "gone")
    kept = subscribe(bob, receiver, "kept")
    issue()  # pending for both endpoints, not sent yet

    response = bob.delete(f"{SUBSCRIPTIONS}{gone['id']}/")
    assert response.status_code == 204, response.content

    assert [s["id"] for s in bob.get(SUBSCRIPTIONS).json()["results"]] == [kept["id"]]
    assert bob.get(f"{SUBSCRIPTIONS}{gone['id']}/").status_code == 404
    assert (
        bob.patch(f"{SUBSCRIPTIONS}{gone['id']}/", {"enabled": True}, format="json").status_code
        == 404
    )
    assert bob.delete(f"{SUBSCRIPTIONS}{gone['id']}/").status_code == 404

    deliver_due(time_budget=5)
    issue()
    deliver_due(time_budget=5)
    assert receiver.to("gone") == []
    assert len(receiver.to("kept")) == 2

    # The log stays, for the organisation's auditors too: the pending delivery cancelled.
    auditor = accounts.member_create(
        organisation=network.be_desk, username="be-auditor", role="auditor", clearance=TLP.AMBER
    )
    for reader in (bob, api(auditor)):
        log = reader.get(f"{SUBSCRIPTIONS}{gone['id']}/deliveries/")
        assert log.status_code == 200, log.content
        rows = log.json()["results"]
        assert [(r["event_type"], r["state"]) for r in rows] == [("notice.published", "cancelled")]
    # Another organisation still learns nothing of it.
    assert api(network.charlie).get(f"{SUBSCRIPTIONS}{gone['id']}/deliveries/").status_code == 404

    event = AuditEvent.objects.get(action="subscription.deleted")
    assert (event.actor_id, event.object_id) == (network.bob.pk, str(gone["id"]))


def test_only_its_organisations_managers_delete_it(
    network: Network, api: Api, receiver: Receiver
) -> None:
    sub = subscribe(api(network.bob), receiver, "be")
    auditor = accounts.member_create(
        organisation=network.be_desk, username="be-auditor", role="auditor", clearance=TLP.AMBER
    )
    assert api(network.charlie).delete(f"{SUBSCRIPTIONS}{sub['id']}/").status_code == 404
    assert api(auditor).delete(f"{SUBSCRIPTIONS}{sub['id']}/").status_code == 403
    assert Subscription.objects.get(pk=sub["id"]).deleted_at is None


def test_retention_purges_a_deleted_subscriptions_log_then_the_subscription(
    network: Network, api: Api, receiver: Receiver, issue: Callable[..., dict[str, Any]]
) -> None:
    bob = api(network.bob)
    sub = subscribe(bob, receiver, "be")
    issue()
    deliver_due(time_budget=5)
    assert bob.delete(f"{SUBSCRIPTIONS}{sub['id']}/").status_code == 204

    with override_settings(DIX_RETENTION_DELIVERIES_DAYS=90):
        soon = retention.run(now=timezone.now() + timedelta(days=30))
        assert soon.counts["notices.Delivery"] == 0
        assert bob.get(f"{SUBSCRIPTIONS}{sub['id']}/deliveries/").json()["results"] != []

        later = retention.run(now=timezone.now() + timedelta(days=91))
    assert (later.counts["notices.Delivery"], later.counts["notices.Subscription"]) == (1, 1)
    assert not Delivery.objects.filter(subscription_id=sub["id"]).exists()
    assert bob.get(f"{SUBSCRIPTIONS}{sub['id']}/deliveries/").status_code == 404
