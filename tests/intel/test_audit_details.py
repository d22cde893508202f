"""What an audit event may carry (docs/audit.md, "What an event carries"): an access request's
purpose, legal basis, case reference and the words of its decisions, never the content of a
profile or notice; and the allowed keys of each action are enforced when an event is written."""

import pytest
from django.test import override_settings

from intel import audit
from intel.audit_details import UnknownDetailKey
from intel.models import TLP
from intel.models.audit import canonical_json
from tests.helpers.access import analysts_decide
from tests.helpers.audit import NOTICES, PROFILES, World, events_after, last_id, ok

REQUESTS = "/api/v1/access-requests/"
SECRETS = (
    "Drancy informant",  # profile name
    "Hidden in soap bars",  # profile notes
    "Cobalt mini phones",  # notice title
    "Seen in Fleury-Merogis",  # notice summary
    "Three cells searched",  # notice body
    "Search the showers",  # notice action requested
    "Lantin cell 12",  # seizure report notes
)
PURPOSE = "Check our prisons for the model."
LEGAL_BASIS = "Art. 21 Regulation (EU) 2018/1727"
CASE = "DE-2026-0099"


__all__ = ["analysts_decide"]  # a fixture used by name


def test_a_full_scenario_leaves_no_content_in_any_event(world: World, analysts_decide) -> None:
    mark = last_id()
    alice, charlie = world.client(world.net.alice), world.client(world.net.charlie)
    profile = world.profile(
        TLP.AMBER, name="Drancy informant phone", notes="Hidden in soap bars by the supplier."
    )
    ok(alice.get(f"{PROFILES}{profile.pk}/"))
    notice_id = world.published(
        title="Cobalt mini phones",
        summary="Seen in Fleury-Merogis.",
        body="Three cells searched.",
        action_requested="Search the showers.",
        profile_ids=[profile.pk],
        restricted_data_available=True,
    )
    ok(alice.get(f"{NOTICES}{notice_id}/"))
    body = {
        "target_type": "profile",
        "target_id": profile.pk,
        "via_notice": notice_id,
        "purpose": PURPOSE,
        "legal_basis": LEGAL_BASIS,
        "case_reference": CASE,
        "days": 30,
    }
    request_id = ok(charlie.post(REQUESTS, body, format="json"), 201)["id"]
    ok(alice.post(f"{REQUESTS}{request_id}/approve/", {"days": 5}, format="json"))
    ok(charlie.get(f"{PROFILES}{profile.pk}/"))
    ok(
        world.client(world.net.bob).post(
            "/api/v1/seizures/",
            {
                "seized_on": "2025-06-12",
                "facility_type": "prison",
                "negative_result": True,
                "notes": "Lantin cell 12.",
                "tlp": TLP.AMBER,
            },
            format="json",
        ),
        201,
    )
    assert charlie.get(f"{NOTICES}{world.draft()}/").status_code == 404

    events = events_after(mark)
    actions = {e.action for e in events}
    assert {
        "profile.created",
        "profile.read",
        "notice.drafted",
        "notice.published",
        "access_request.created",
        "access_request.approved",
        "seizure.reported",
        "read.denied",
    } <= actions
    for event in events:
        written = canonical_json(event.detail) + event.justification
        for secret in SECRETS:
            assert secret not in written, (event.action, secret)

    (created,) = [e for e in events if e.action == "access_request.created"]
    assert created.justification == PURPOSE
    assert (created.detail["legal_basis"], created.detail["case_reference"]) == (LEGAL_BASIS, CASE)


def test_an_unknown_detail_key_is_refused_when_written(world: World) -> None:
    mark = last_id()
    with pytest.raises(UnknownDetailKey, match="title"):
        audit.record(action="notice.published", actor=None, detail={"title": "Cobalt"})
    with pytest.raises(UnknownDetailKey, match="notes"):
        audit.record(action="something.new", actor=None, detail={"notes": "x"})
    assert events_after(mark) == []


def test_outside_strict_mode_an_unknown_key_is_left_out(world: World) -> None:
    with override_settings(DIX_AUDIT_STRICT_DETAIL=False):
        event = audit.record(
            action="notice.published", actor=None, detail={"title": "Cobalt", "version": 2}
        )
    assert event.detail == {"version": 2}
    assert audit.verify()[1] is None
