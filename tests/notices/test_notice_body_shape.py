"""A notice is written with the keys it is read with: a nested `audience` and `profile_ids`
(beside the read-only expanded `profiles`); the keys of earlier bodies are refused naming
their replacement."""

import json
from collections.abc import Callable
from typing import Any

from intel.models import TLP, DeviceProfile
from tests.conftest import Network
from tests.helpers.notices import NOTICES, Api, Extra, assert_problem, draft
from webhooks import services as webhook_services
from webhooks.engine import payload_bodies
from webhooks.models import Delivery


def test_what_is_written_is_what_is_read(
    network: Network, extra: Extra, api: Api, make_profile: Callable[..., DeviceProfile]
) -> None:
    profile = make_profile(tlp=TLP.GREEN, name="Thumb phone")
    alice = api(network.alice)
    audience = {"scope": "organisations", "organisations": ["be-desk"], "countries": []}
    notice = draft(alice, audience=audience, profile_ids=[profile.pk])
    assert notice["audience"] == audience | {"members": []}
    assert notice["profile_ids"] == [profile.pk]
    assert [p["id"] for p in notice["profiles"]] == [profile.pk]
    # The body read back is accepted as it is (the fields a write takes).
    read = alice.get(f"{NOTICES}{notice['id']}/").json()
    again = {name: read[name] for name in ("title", "summary", "audience", "profile_ids", "tlp")}
    response = alice.patch(f"{NOTICES}{notice['id']}/", again, format="json")
    assert response.status_code == 200, response.content
    # A partial audience changes only what it names.
    response = alice.patch(
        f"{NOTICES}{notice['id']}/",
        {"audience": {"scope": "countries", "countries": ["BE", "NL"]}},
        format="json",
    )
    assert response.json()["audience"] == {
        "scope": "countries",
        "organisations": ["be-desk"],
        "countries": ["BE", "NL"],
        "members": [],
    }
    red = draft(alice, tlp=TLP.RED, audience={"members": ["alice", "audrey"]})
    assert red["audience"]["members"] == ["alice", "audrey"]


def test_old_keys_name_the_new_ones(network: Network, api: Api) -> None:
    alice = api(network.alice)
    body: dict[str, Any] = {
        "type": "alert",
        "title": "t",
        "audience_scope": "network",
        "audience_organisations": ["be-desk"],
        "audience_countries": ["BE"],
        "recipient_members": ["alice"],
        "profiles": [1],
        "typo": 1,
    }
    problem = assert_problem(alice.post(NOTICES, body, format="json"), 400)
    errors = {e["field"]: e["detail"] for e in problem["errors"]}
    assert errors == {
        "audience_countries": "Unknown field: use `audience.countries`.",
        "audience_organisations": "Unknown field: use `audience.organisations`.",
        "audience_scope": "Unknown field: use `audience.scope`.",
        "profiles": "Unknown field: use `profile_ids`.",
        "recipient_members": "Unknown field: use `audience.members`.",
        "typo": "Unknown field.",
    }
    assert {e["code"] for e in problem["errors"]} == {"unknown_field"}
    notice = draft(alice)
    revision = {"change_note": "n", "profiles": []}
    update = alice.post(f"{NOTICES}{notice['id']}/update/", revision, format="json")
    assert_problem(update, 400, "profiles")
    unknown = alice.post(
        NOTICES, {"type": "alert", "title": "t", "audience": {"scop": "network"}}, format="json"
    )
    assert_problem(unknown, 400, "audience.scop")
    unnamed = alice.post(
        NOTICES,
        {"type": "alert", "title": "t", "audience": {"members": ["nobody"]}},
        format="json",
    )
    assert_problem(unnamed, 400, "audience.members")


def test_the_webhook_payload_is_the_api_answer_without_the_acknowledgement(
    network: Network,
    extra: Extra,
    api: Api,
    make_profile: Callable[..., DeviceProfile],
    settings: Any,
) -> None:
    """One shape (`notices.shapes`): an organisation's endpoint gets what its member reads."""
    settings.DIX_WEBHOOK_ALLOW_LOOPBACK = True
    shown = make_profile(tlp=TLP.GREEN, name="Thumb phone")
    hidden = make_profile(tlp=TLP.AMBER, name="Annex", recipients=[])
    webhook_services.subscription_create(
        member=network.bob,
        fields={
            "url": "https://127.0.0.1:9/hook",
            "event_types": ["notice.published"],
            "max_tlp": TLP.AMBER,
        },
    )
    notice = draft(
        api(network.alice),
        profile_ids=[shown.pk, hidden.pk],
        restricted_data_available=True,
        respond_by="2027-01-15T12:00:00Z",
    )
    response = api(extra.felix).post(f"{NOTICES}{notice['id']}/publish/")
    assert response.status_code == 200, response.content
    delivery = Delivery.objects.select_related("subscription__organisation").get(
        event_type="notice.published"
    )
    (body,) = payload_bodies([delivery])
    assert body is not None

    read = api(network.bob).get(f"{NOTICES}{notice['id']}/").json()
    assert read.pop("acknowledged_at") is None
    assert json.loads(body)["data"] == read
    assert read["profile_ids"] == [shown.pk]
    assert read["restricted_data_available"] is True
