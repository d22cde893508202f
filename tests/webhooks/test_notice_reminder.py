"""`notice.reminder` through the outbox: sent to the reminded organisation's endpoints that
subscribed to it, within their label cap, carrying the notice as that organisation sees it."""

from collections.abc import Callable
from datetime import timedelta

from django.utils import timezone
from rest_framework.test import APIClient

from intel.models import TLP, DeviceProfile, Member
from notices.tasks import send_reminders
from tests.conftest import Network
from tests.helpers.webhooks import NOTICES, Receiver, receiver, subscribe
from webhooks.engine import deliver_due

__all__ = ["receiver"]  # a fixture, used by name

Api = Callable[[Member | None], APIClient]


def test_a_reminder_reaches_only_entitled_endpoints_of_the_reminded_organisation(
    network: Network, api: Api, receiver: Receiver, make_profile: Callable[..., DeviceProfile]
) -> None:
    hidden = make_profile(tlp=TLP.AMBER, recipients=[network.fr_desk], name="Hidden phone")
    shown = make_profile(tlp=TLP.GREEN, name="Shown phone")
    reminder_only = ["notice.reminder"]
    subscribe(api(network.bob), receiver, "be", event_types=reminder_only, max_tlp=TLP.AMBER)
    subscribe(api(network.erin), receiver, "customs", event_types=reminder_only, max_tlp=TLP.GREEN)
    subscribe(api(network.charlie), receiver, "de", event_types=reminder_only)

    body = {
        "type": "alert",
        "title": "Key-fob phones",
        "tlp": TLP.AMBER,
        "profile_ids": [hidden.pk, shown.pk],
        "respond_by": (timezone.now() - timedelta(hours=1)).isoformat(),
        "audience": {"scope": "organisations", "organisations": ["be-desk"]},
    }
    created = api(network.alice).post(NOTICES, body, format="json")
    assert created.status_code == 201, created.content
    notice_id = created.json()["id"]
    assert api(network.cora).post(f"{NOTICES}{notice_id}/publish/").status_code == 200

    # be-desk (named) and be-customs (sponsored by it) are reminded; fr-prison-admin too.
    assert send_reminders() == 3
    deliver_due(time_budget=5)

    (hit,) = receiver.hits  # be-customs' endpoint is capped below AMBER; de-desk not reminded
    assert hit.path == "be"
    assert hit.payload["type"] == "notice.reminder"
    data = hit.payload["data"]
    assert (data["id"], data["respond_by"] is not None) == (notice_id, True)
    assert [p["name"] for p in data["profiles"]] == ["Shown phone"]
    assert data["restricted_data_available"] is False
