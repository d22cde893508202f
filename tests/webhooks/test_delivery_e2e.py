"""Publish → webhook, end to end with real parts: the API in this process, a Celery worker
process on the configured broker (Redis in CI, else the embedded filesystem broker), and a
receiver on 127.0.0.1 that verifies every request with the `standardwebhooks` package.

The notice is issued by the secretariat (cora) at TLP:AMBER to the French and Belgian desks
and concerns four profiles filed by the French desk:

    green      TLP:GREEN                                   everyone
    shared     TLP:AMBER to eurojust, be-desk              be-desk, be-customs, fr-*
    fr_only    TLP:AMBER to eurojust                       fr-desk and fr-prison-admin
    strict_be  TLP:AMBER+STRICT to eurojust, be-desk       be-desk only (endpoint cap allowing)

so each organisation's endpoint must receive a different rendering of the same notice.
"""

import time
from collections.abc import Callable
from typing import Any

import pytest
from rest_framework.test import APIClient

from intel import accounts
from intel.models import TLP, DeviceProfile, Member
from notices.models import Notice, NoticeReceipt
from tests.conftest import Network
from tests.helpers.receiver import Receiver, assert_all_arrived, endpoint_name
from tests.webhooks.conftest import Subscribe, Workers
from webhooks.models import Delivery, DeliveryState

# Real Celery worker processes, waited for (seconds each).
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

Api = Callable[[Member | None], APIClient]


def file_profiles(network: Network, make_profile: Callable[..., DeviceProfile]) -> dict[str, int]:
    eurojust, be = network.eurojust, network.be_desk
    profiles = {
        "green": make_profile(tlp=TLP.GREEN, name="Green mini phone"),
        "shared": make_profile(tlp=TLP.AMBER, recipients=[eurojust, be], name="Shared"),
        "fr_only": make_profile(tlp=TLP.AMBER, recipients=[eurojust], name="French only"),
        "strict_be": make_profile(tlp=TLP.AMBER_STRICT, recipients=[eurojust, be], name="Strict"),
    }
    return {name: profile.pk for name, profile in profiles.items()}


def amber_notice(network: Network, profiles: dict[str, int]) -> dict[str, Any]:
    return {
        "tlp": TLP.AMBER,
        "audience": {"scope": "organisations", "organisations": ["fr-desk", "be-desk"]},
        "profile_ids": sorted(profiles.values()),
        "restricted_data_available": True,
    }


def api_subscribe(client: APIClient, receiver: Receiver, name: str, **fields: Any) -> int:
    """Register an endpoint through the API, as its organisation would."""
    body = {"url": receiver.url(name), "event_types": ["notice.published"]} | fields
    response = client.post("/api/v1/subscriptions/", body, format="json")
    assert response.status_code == 201, response.content
    receiver.register(name, response.json()["secret"])
    return int(response.json()["id"])


def test_every_entitled_subscriber_gets_the_notice_rendered_for_it(
    network: Network,
    make_profile: Callable[..., DeviceProfile],
    api: Api,
    workers: Workers,
    hook_receiver: Receiver,
    loopback_allowed: None,
    publish_notice: Callable[..., Notice],
) -> None:
    """be-desk's endpoints (the partner desk: bob's, capped at his TLP:AMBER, and bea's at
    AMBER+STRICT) get what be-desk may see under each endpoint's cap, dave's
    (an authority sponsored by the French desk) what fr-prison-admin may see, erin's (sponsored
    by the Belgian desk) what be-customs may see; charlie's desk is not addressed and gets
    nothing, nor does an endpoint capped below the notice's label or filtering another type.

    The worker runs without beat: only the message queued on commit can have started it."""
    bea = accounts.member_create(
        organisation=network.be_desk,
        username="bea",
        role="desk_officer",
        clearance=TLP.AMBER_STRICT,
    )
    profiles = file_profiles(network, make_profile)
    entitled = {
        # endpoint: (its subscriber, a member whose API view the payload must equal, profiles)
        "bob-amber": (network.bob, network.bob, {"green", "shared"}),
        "bea-strict": (bea, bea, {"green", "shared", "strict_be"}),
        "dave": (network.dave, network.dave, {"green", "shared", "fr_only"}),
        "erin": (network.erin, network.erin, {"green", "shared"}),
    }
    caps = {"bob-amber": {"max_tlp": TLP.AMBER}, "bea-strict": {"max_tlp": TLP.AMBER_STRICT}}
    subscriptions = {
        name: api_subscribe(api(member), hook_receiver, name, **caps.get(name, {}))
        for name, (member, _, _) in entitled.items()
    }
    not_entitled = {
        "charlie": api_subscribe(api(network.charlie), hook_receiver, "charlie"),
        "bob-green": api_subscribe(api(network.bob), hook_receiver, "bob-green", max_tlp=TLP.GREEN),
        "bob-rfi": api_subscribe(
            api(network.bob), hook_receiver, "bob-rfi", notice_types=["request_for_information"]
        ),
    }
    workers.start(beat=False)

    started = time.monotonic()
    notice = publish_notice(network.cora, **amber_notice(network, profiles))
    deliveries = Delivery.objects.filter(notice=notice).select_related("subscription")
    assert workers.wait_settled(deliveries) == {DeliveryState.SUCCEEDED: len(entitled)}
    elapsed = time.monotonic() - started

    # The outbox named exactly the entitled endpoints; each got its delivery once, verified.
    assert {d.subscription_id for d in deliveries} == set(subscriptions.values())
    assert not set(not_entitled.values()) & {d.subscription_id for d in deliveries}
    assert all(d.attempts == 1 for d in deliveries)
    assert assert_all_arrived(hook_receiver, deliveries) == 0
    for name in not_entitled:
        assert hook_receiver.hits_for(name) == [], name
    # Delivered means received: the engine recorded a receipt for each receiving organisation.
    assert set(
        NoticeReceipt.objects.filter(notice=notice, received_at__isnull=False).values_list(
            "organisation__slug", flat=True
        )
    ) == {"be-desk", "fr-prison-admin", "be-customs"}

    ids = {pk: name for name, pk in profiles.items()}
    for name, (_, reader, visible) in entitled.items():
        (hit,) = hook_receiver.hits_for(name)
        assert hit.payload["type"] == "notice.published"
        data = hit.payload["data"]
        assert {ids[p["id"]] for p in data["profiles"]} == visible, name
        assert data["restricted_data_available"] is True  # every reader misses some profile
        assert data["reference"] == notice.reference
        # Exactly what the organisation's member with the endpoint's clearance reads.
        view = api(reader).get(f"/api/v1/notices/{notice.pk}/")
        assert view.status_code == 200, view.content
        assert data == {k: v for k, v in view.json().items() if k != "acknowledged_at"}, name
    print(f"\n[e2e] {len(entitled)} entitled endpoints delivered {elapsed:.2f} s after publish")


def test_a_fan_out_to_200_subscriptions_completes(
    network: Network,
    make_profile: Callable[..., DeviceProfile],
    workers: Workers,
    hook_receiver: Receiver,
    subscribe_endpoint: Subscribe,
    publish_notice: Callable[..., Notice],
) -> None:
    """200 endpoints of three entitled organisations, 20 of the outsider's: every entitled one
    gets its own rendering once, verified; the outsider's get nothing."""
    profiles = file_profiles(network, make_profile)
    visible = {
        network.be_desk.pk: {"green", "shared"},  # bob's endpoints: capped at his AMBER
        network.fr_prison.pk: {"green", "shared", "fr_only"},
        network.be_customs.pk: {"green", "shared"},
    }
    for i in range(200):
        member = (network.bob, network.dave, network.erin)[i % 3]
        subscribe_endpoint(member, f"fan-{i}")
    for i in range(20):
        subscribe_endpoint(network.charlie, f"outsider-{i}")
    workers.start()

    started = time.monotonic()
    notice = publish_notice(network.cora, **amber_notice(network, profiles))
    deliveries = Delivery.objects.filter(notice=notice).select_related("subscription")
    assert deliveries.count() == 200
    assert workers.wait_settled(deliveries) == {DeliveryState.SUCCEEDED: 200}
    elapsed = time.monotonic() - started

    duplicates = assert_all_arrived(hook_receiver, deliveries)
    assert not any(hit.endpoint.startswith("outsider-") for hit in hook_receiver.snapshot())
    ids = {pk: name for name, pk in profiles.items()}
    for delivery in deliveries:
        (hit, *_) = hook_receiver.hits_for(endpoint_name(delivery.subscription))
        shown = {ids[p["id"]] for p in hit.payload["data"]["profiles"]}
        assert shown == visible[delivery.subscription.organisation_id], delivery.subscription.url
    print(
        f"\n[e2e] 200 deliveries settled {elapsed:.2f} s after publish "
        f"({200 / elapsed:.0f}/s incl. broker latency), {duplicates} duplicates"
    )
