"""`webhooks.engine.payload_bodies`: the bodies a fan-out would send, without sending them
(bench/fanout's anchor sends exactly these)."""

import json

from intel.models import TLP
from webhooks import services as webhook_services
from webhooks.engine import payload_bodies
from webhooks.models import Delivery, Subscription


def test_a_body_is_the_event_as_sent_and_none_once_the_endpoint_may_not_receive_it(
    network, api, make_profile, settings
):
    settings.DIX_WEBHOOK_ALLOW_LOOPBACK = True
    profile = make_profile(tlp=TLP.GREEN, name="Green variant")
    webhook_services.subscription_create(
        member=network.charlie,
        fields={"url": "https://127.0.0.1:9/hook", "event_types": ["profile.updated"]},
    )
    alice = api(network.alice)
    url = f"/api/v1/profiles/{profile.pk}/"
    renamed = alice.patch(
        url, {"name": "Renamed"}, format="json", HTTP_IF_MATCH=alice.get(url)["ETag"]
    )
    assert renamed.status_code == 200, renamed.content
    delivery = Delivery.objects.select_related("subscription__organisation").get(
        event_type="profile.updated"
    )

    (body,) = payload_bodies([delivery])

    assert body is not None
    sent = json.loads(body)
    assert sent["type"] == "profile.updated"
    assert (sent["data"]["id"], sent["data"]["name"]) == (profile.pk, "Renamed")

    Subscription.objects.filter(pk=delivery.subscription_id).update(enabled=False)
    delivery = Delivery.objects.select_related("subscription__organisation").get(pk=delivery.pk)
    assert payload_bodies([delivery]) == [None]
