"""How long access is asked for and granted: `days` or `expires_at`, never both, neither for
the default (the one validity rule of every body, `core.durations`)."""

from datetime import timedelta

from django.utils import timezone
from django.utils.dateparse import parse_datetime

from tests.helpers.access import REQUESTS, analysts_decide, annex, ask, notice, problem

__all__ = ["analysts_decide", "annex", "notice"]  # fixtures used by name


def in_days(days: float) -> str:
    return (timezone.now() + timedelta(days=days)).isoformat()


def days_left(stamp: str) -> float:
    parsed = parse_datetime(stamp)
    assert parsed is not None
    return (parsed - timezone.now()).total_seconds() / 86400


def test_a_request_reads_back_the_duration_it_asked_for(network, api, annex, notice):
    charlie = api(network.charlie)
    by_days = ask(charlie, "profile", annex.pk, via_notice=notice["id"], days=45)
    assert by_days.status_code == 201, by_days.content
    assert (by_days.json()["days"], by_days.json()["expires_at"]) == (45, None)
    charlie.post(f"{REQUESTS}{by_days.json()['id']}/withdraw/", {}, format="json")

    default = ask(charlie, "profile", annex.pk, via_notice=notice["id"], days=None)
    assert default.status_code == 201, default.content
    assert (default.json()["days"], default.json()["expires_at"]) == (90, None)
    charlie.post(f"{REQUESTS}{default.json()['id']}/withdraw/", {}, format="json")

    until = in_days(20)
    by_time = ask(
        charlie, "profile", annex.pk, via_notice=notice["id"], days=None, expires_at=until
    )
    assert by_time.status_code == 201, by_time.content
    assert by_time.json()["days"] is None
    assert 19.9 < days_left(by_time.json()["expires_at"]) <= 20


def test_durations_out_of_rule_are_a_400_naming_the_field(network, api, annex, notice):
    charlie = api(network.charlie)
    both = ask(charlie, "profile", annex.pk, via_notice=notice["id"], expires_at=in_days(5))
    body = problem(both, 400)
    assert {e["field"] for e in body["errors"]} == {"days", "expires_at"}
    for fields, field in (
        ({"days": 0}, "days"),
        ({"days": 366}, "days"),
        ({"days": None, "expires_at": in_days(-1)}, "expires_at"),
        ({"days": None, "expires_at": in_days(400)}, "expires_at"),
        ({"requested_days": 30}, "requested_days"),
    ):
        problem(ask(charlie, "profile", annex.pk, via_notice=notice["id"], **fields), 400, field)


def test_an_approval_defaults_to_the_duration_asked(network, api, annex, notice, analysts_decide):
    charlie, alice = api(network.charlie), api(network.alice)
    until = in_days(12)
    req = ask(charlie, "profile", annex.pk, via_notice=notice["id"], days=None, expires_at=until)
    approved = alice.post(f"{REQUESTS}{req.json()['id']}/approve/", {}, format="json")
    assert approved.status_code == 200, approved.content
    assert approved.json()["grant"]["expires_at"] == req.json()["expires_at"]
    # What was asked stays as asked beside the grant.
    assert approved.json()["expires_at"] == req.json()["expires_at"]
    both = alice.post(
        f"{REQUESTS}{req.json()['id']}/approve/", {"days": 3, "expires_at": until}, format="json"
    )
    assert {e["field"] for e in problem(both, 400)["errors"]} == {"days", "expires_at"}
