"""Access requests, grants, IMEI checks and seizure reports: every step leaves exactly one event,
and nothing else."""

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from access.tasks import end_expired_grants
from intel.models import (
    TLP,
    DeviceProfile,
    Grant,
    Organisation,
)
from tests.helpers.audit import (
    Case,
    Expect,
    World,
    assert_exactly_one_event,
    ok,
)

# --- access requests, seizure reports, IMEI checks: every step one event, and nothing else ----

REQUESTS = "/api/v1/access-requests/"


def _request_body(w: World) -> tuple[DeviceProfile, dict[str, Any]]:
    """fr-desk's AMBER profile, advertised in a GREEN notice, and charlie's request for it.
    fr-desk lets its analyst alice decide, as the demo's French desk does."""
    Organisation.objects.filter(pk=w.net.fr_desk.pk).update(analysts_decide_access=True)
    profile = w.profile(TLP.AMBER)
    notice_id = w.published(profile_ids=[profile.pk], restricted_data_available=True)
    return profile, {
        "target_type": "profile",
        "target_id": profile.pk,
        "via_notice": notice_id,
        "purpose": "Check our prisons.",
        "legal_basis": "Art. 21 Regulation (EU) 2018/1727",
        "days": 30,
    }


def _requested(w: World, steps: Any = ()) -> tuple[DeviceProfile, int]:
    """charlie (de-desk) has asked for fr-desk's AMBER profile, advertised in a GREEN notice;
    `steps` are (action, persona, body) taken on the request next."""
    profile, body = _request_body(w)
    created = ok(w.client(w.net.charlie).post(REQUESTS, body, format="json"), 201)
    for method, who, payload in steps:
        ok(
            w.client(getattr(w.net, who)).post(
                f"{REQUESTS}{created['id']}/{method}/", payload, format="json"
            )
        )
    return profile, int(created["id"])


def access_request_created(w: World) -> Callable[[], Expect]:
    _, body = _request_body(w)
    client = w.client(w.net.charlie)

    def act() -> Expect:
        created = ok(client.post(REQUESTS, body, format="json"), 201)
        return Expect(
            "access_request.created", w.net.charlie, "access_request", created["id"], TLP.AMBER
        )

    return act


def _decision(
    verb: str, action: str, payload: dict[str, Any], who: str = "alice", steps: Any = ()
) -> Case:
    def case(w: World) -> Callable[[], Expect]:
        _, request_id = _requested(w, steps=steps)
        member = getattr(w.net, who)
        client = w.client(member)

        def act() -> Expect:
            ok(client.post(f"{REQUESTS}{request_id}/{verb}/", payload, format="json"))
            return Expect(action, member, "access_request", request_id, TLP.AMBER)

        return act

    case.__name__ = action.replace(".", "_")
    return case


access_request_info_requested = _decision(
    "request-info", "access_request.info_requested", {"message": "Which prisons?"}
)
access_request_answered = _decision(
    "answer",
    "access_request.answered",
    {"message": "Two."},
    who="charlie",
    steps=[("request-info", "alice", {"message": "Which prisons?"})],
)
access_request_approved = _decision("approve", "access_request.approved", {"days": 5})
access_request_denied = _decision("deny", "access_request.denied", {"reason": "No case."})
access_request_withdrawn = _decision(
    "withdraw", "access_request.withdrawn", {"reason": "Closed."}, who="charlie"
)
access_request_commented = _decision(
    "comment", "access_request.commented", {"message": "Urgent."}, who="charlie"
)
access_request_routed = _decision(
    "route", "access_request.routed", {"note": "fr-desk decides."}, who="cora"
)


def grant_revoked(w: World) -> Callable[[], Expect]:
    _, request_id = _requested(w)
    alice = w.client(w.net.alice)
    approved = ok(alice.post(f"{REQUESTS}{request_id}/approve/", {"days": 5}, format="json"))

    def act() -> Expect:
        url = f"{REQUESTS}{request_id}/revoke/"
        ok(alice.post(url, {"reason": "Over."}, format="json"))
        return Expect("grant.revoked", w.net.alice, "grant", approved["grant"]["id"], TLP.AMBER)

    return act


def grant_expired_by_the_scheduler(w: World) -> Callable[[], Expect]:
    _, request_id = _requested(w)
    alice = w.client(w.net.alice)
    approved = ok(alice.post(f"{REQUESTS}{request_id}/approve/", {"days": 5}, format="json"))
    grant_id = approved["grant"]["id"]
    Grant.objects.filter(pk=grant_id).update(expires_at=timezone.now() - timedelta(seconds=1))

    def act() -> Expect:
        assert end_expired_grants() == 1
        return Expect("grant.expired", None, "grant", grant_id, TLP.AMBER, address=None)

    return act


def imei_check_performed(w: World) -> Callable[[], Expect]:
    client = w.client(w.net.bob)

    def act() -> Expect:
        body = {"imeis": ["00-999900-000005-3", "009999000000013"]}
        ok(client.post("/api/v1/imei-checks/", body, format="json"))
        return Expect("imei_check.performed", w.net.bob, "imei_check", "")

    return act


def seizure_reported(w: World) -> Callable[[], Expect]:
    client = w.client(w.net.bob)

    def act() -> Expect:
        body = {
            "seized_on": "2025-06-12",
            "facility_type": "prison",
            "negative_result": True,
            "tlp": TLP.AMBER,
        }
        created = ok(client.post("/api/v1/seizures/", body, format="json"), 201)
        return Expect("seizure.reported", w.net.bob, "seizure_report", created["id"], TLP.AMBER)

    return act


def seizure_report_read(w: World) -> Callable[[], Expect]:
    body = {"seized_on": "2025-06-12", "facility_type": "prison", "negative_result": True}
    filed = ok(
        w.client(w.net.alice).post(
            "/api/v1/seizures/",
            body | {"tlp": TLP.AMBER, "recipient_organisations": ["be-desk"]},
            format="json",
        ),
        201,
    )
    client = w.client(w.net.bob)

    def act() -> Expect:
        ok(client.get(f"/api/v1/seizures/{filed['id']}/"))
        return Expect("seizure_report.read", w.net.bob, "seizure_report", filed["id"], TLP.AMBER)

    return act


CASES: list[Case] = [
    access_request_created,
    access_request_info_requested,
    access_request_answered,
    access_request_approved,
    access_request_denied,
    access_request_withdrawn,
    access_request_commented,
    access_request_routed,
    grant_revoked,
    grant_expired_by_the_scheduler,
    imei_check_performed,
    seizure_reported,
    seizure_report_read,
]


@pytest.mark.parametrize("case", [pytest.param(c, id=c.__name__) for c in CASES])
def test_each_audited_action_leaves_exactly_one_event(world: World, case: Case) -> None:
    assert_exactly_one_event(world, case)
