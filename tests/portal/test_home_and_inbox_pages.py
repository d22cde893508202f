"""The home page and the inbox against the API: recent seizure reports of the organisation's
profiles are those the member's `GET /api/v1/seizures/?profile=` returns, failing webhook
endpoints are shown to those who manage the organisation's endpoints and see them in
`GET /api/v1/subscriptions/`, read marks and acknowledgements show at once although the rest
of both pages is kept between changes of shared data, and a bad filter is shown at the
filter."""

import re
from typing import Any

import pytest

from intel.models import TLP, Member
from tests.factories import MemberFactory
from tests.helpers.notices import draft, publish
from tests.helpers.seizures import published
from tests.helpers.webhooks import SUBSCRIPTIONS, Receiver, issue, receiver, subscribe
from webhooks.engine import deliver_due

__all__ = ["issue", "receiver"]

SEIZURES = "/api/v1/seizures/"
SEIZURE_LINK = re.compile(r'href="/seizures/(\d+)/"')
ENDPOINT_LINK = re.compile(r'href="/subscriptions/(\d+)/"')


def report(client: Any, profile: Any, **changes: Any) -> int:
    body = {
        "seized_on": "2025-05-20",
        "facility_type": "prison",
        "lines": [{"profile": profile.pk, "quantity": 12}],
        "tlp": TLP.GREEN,
    } | changes
    answer = client.post(SEIZURES, body, format="json")
    assert answer.status_code == 201, answer.content
    report_id: int = answer.json()["id"]
    return report_id


def section(html: str, heading_id: str) -> str:
    """The home page's section under the heading with this id ("" when absent)."""
    found = re.search(rf'<section aria-labelledby="{heading_id}">(.*?)</section>', html, re.S)
    return found.group(1) if found else ""


@pytest.fixture
def fr_profiles(network, make_profile):
    return {
        "green": make_profile(tlp=TLP.GREEN, name="Oportik mini phone"),
        # Not for olga, cleared TLP:GREEN: reports naming it are not hers to see as such.
        "amber": make_profile(tlp=TLP.AMBER, name="Oportik annex"),
    }


@pytest.fixture
def reports(network, api, fr_profiles):
    bob, dave = api(network.bob), api(network.dave)
    withdrawn = report(bob, fr_profiles["green"], operation="Counted twice")
    answer = bob.post(f"{SEIZURES}{withdrawn}/withdraw/", {"reason": "Double count."})
    assert answer.status_code == 200, answer.content
    return {
        "green": report(bob, fr_profiles["green"]),
        # dave's authority is sponsored by fr-desk: it sees the AMBER profile.
        "amber line": report(dave, fr_profiles["amber"]),
        "amber, for be-desk": report(bob, fr_profiles["green"], tlp=TLP.AMBER),
        "withdrawn": withdrawn,
    }


def through_api(client: Any, profiles: list[Any]) -> set[int]:
    """The reports in force of these profiles that the member's API returns."""
    found = set()
    for profile in profiles:
        answer = client.get(SEIZURES, {"profile": profile.pk})
        assert answer.status_code == 200, answer.content
        found |= {r["id"] for r in answer.json()["results"] if r["status"] != "withdrawn"}
    return found


@pytest.mark.parametrize(
    ("persona", "expected"),
    [
        ("alice", {"green", "amber line"}),
        ("olga", {"green"}),
        ("bob", set()),  # it reported them, but the profiles are fr-desk's
        ("charlie", set()),
        ("dave", set()),  # sponsored by fr-desk, owns no profile
    ],
)
def test_recent_seizure_reports_of_the_organisations_profiles_are_the_apis(
    persona, expected, network, fr_profiles, reports, portal, api
) -> None:
    member: Member = getattr(network, persona)
    html = portal(member).get("/").content.decode()
    shown = {int(pk) for pk in SEIZURE_LINK.findall(section(html, "seizures"))}
    assert shown == {reports[name] for name in expected}
    own = [p for p in fr_profiles.values() if p.owner_id == member.organisation_id]
    assert shown == through_api(api(member), own)
    if not expected:
        assert 'id="seizures"' not in html


def test_a_withdrawn_report_leaves_the_home_page_at_once(network, fr_profiles, portal, api) -> None:
    bob = api(network.bob)
    filed = report(bob, fr_profiles["green"], operation="Fresnes")
    alice = portal(network.alice)
    shown = SEIZURE_LINK.findall(section(alice.get("/").content.decode(), "seizures"))
    assert shown == [str(filed)]
    answer = bob.post(f"{SEIZURES}{filed}/withdraw/", {"reason": "Counted twice."})
    assert answer.status_code == 200, answer.content
    assert SEIZURE_LINK.findall(section(alice.get("/").content.decode(), "seizures")) == []


def test_only_the_newest_few_seizure_reports_are_shown_newest_first(
    network, fr_profiles, portal, api
) -> None:
    bob = api(network.bob)
    filed = [report(bob, fr_profiles["green"], operation=f"Search {i}") for i in range(7)]
    html = portal(network.alice).get("/").content.decode()
    shown = [int(pk) for pk in SEIZURE_LINK.findall(section(html, "seizures"))]
    assert shown == filed[::-1][:5]
    assert "Oportik mini phone" in section(html, "seizures")


@pytest.fixture
def endpoints(network, api, receiver: Receiver, issue):
    alice = api(network.alice)
    failing = subscribe(alice, receiver, "fr-failing", description="French case system")
    healthy = subscribe(alice, receiver, "fr-ok", description="French gateway")
    subscribe(api(network.bob), receiver, "be-failing", description="Belgian gateway")
    receiver.script["fr-failing"] = [(500, {})]
    receiver.script["be-failing"] = [(503, {})]
    issue()
    deliver_due(time_budget=5)
    return {"failing": failing["id"], "healthy": healthy["id"]}


def test_failing_endpoints_are_shown_to_those_who_manage_them(
    network, endpoints, portal, api
) -> None:
    html = portal(network.alice).get("/").content.decode()
    failing = section(html, "failing")
    assert {int(pk) for pk in ENDPOINT_LINK.findall(failing)} == {endpoints["failing"]}
    assert "French case system" in failing
    listed = {row["id"]: row for row in api(network.alice).get(SUBSCRIPTIONS).json()["results"]}
    assert listed[endpoints["failing"]]["failing_since"] is not None
    assert listed[endpoints["healthy"]]["failing_since"] is None
    bob = portal(network.bob).get("/").content.decode()
    assert "Belgian gateway" in section(bob, "failing")
    assert "French case system" not in bob


@pytest.mark.parametrize("persona", ["olga", "auditor", "charlie"])
def test_failing_endpoints_are_not_shown_to_others(
    persona, network, endpoints, portal, api
) -> None:
    """olga is cleared below what alice's endpoint receives (the API does not list it to
    her); an auditor of fr-desk reads the endpoints but manages none; charlie is elsewhere."""
    if persona == "auditor":
        member = MemberFactory(
            username="fr-auditor", organisation=network.fr_desk, role="auditor", clearance=TLP.RED
        )
    else:
        member = getattr(network, persona)
    html = portal(member).get("/").content.decode()
    assert 'id="failing"' not in html
    assert "French case system" not in html
    if persona == "auditor":
        assert endpoints["failing"] in {
            row["id"] for row in api(member).get(SUBSCRIPTIONS).json()["results"]
        }


def test_read_marks_and_acknowledgements_show_at_once(network, api, portal) -> None:
    cora = api(network.cora)
    notice = publish(cora, draft(cora, tlp=TLP.GREEN, title="Check the cells")["id"])
    browser = portal(network.bob)
    row = re.compile(rf'<tr( class="unread")?>\s*<td><a href="/notices/{notice["id"]}/">')
    home = browser.get("/").content.decode()
    assert row.search(home).group(1)  # unread
    assert "<strong>1</strong> notice not yet opened" in home
    inbox = browser.get("/notices/").content.decode()
    assert row.search(inbox).group(1)
    assert browser.get(f"/notices/{notice['id']}/").status_code == 200  # opens: read mark
    home = browser.get("/").content.decode()
    assert not row.search(home).group(1)
    assert "<strong>0</strong> notices not yet opened" in home
    assert not row.search(browser.get("/notices/").content.decode()).group(1)
    assert browser.post(f"/notices/{notice['id']}/acknowledge/").status_code == 302
    assert "Check the cells" not in browser.get("/").content.decode()
    assert "Check the cells" not in browser.get("/notices/?acknowledged=false").content.decode()
    inbox = browser.get("/notices/").content.decode()
    assert "Check the cells" in inbox
    assert "to acknowledge" not in inbox


def test_a_bad_since_in_the_inbox_is_shown_at_its_filter(network, portal) -> None:
    page = portal(network.bob).get("/notices/?since=yesterday")
    assert page.status_code == 200
    assert "since: Neither an RFC 3339 time" in page.content.decode()


def test_a_desks_own_notices_do_not_wait_for_its_acknowledgement(network, api, portal) -> None:
    own = published(network.alice, network.cora, title="Our own alert")
    other = published(network.cora, network.cora, title="Secretariat alert")
    waiting = api(network.alice).get("/api/v1/notices/", {"acknowledged": "false"}).json()
    assert [row["id"] for row in waiting["results"]] == [other.pk]
    html = portal(network.alice).get("/").content.decode()
    assert "Secretariat alert" in html
    assert "Our own alert" not in html
    assert re.search(r"<strong>1</strong> notice your desk has not acknowledged", html)
    assert own.pk in [
        row["id"] for row in api(network.alice).get("/api/v1/notices/").json()["results"]
    ]
