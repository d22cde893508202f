"""Amending and withdrawing a seizure report: by its organisation, a new version that keeps the
old, a withdrawal with a reason; never a deletion. Figures follow."""

from typing import Any

import pytest

from intel.models import DeviceProfile
from intel.models.audit import AuditEvent
from notices.models import Notice
from tests.conftest import Network
from tests.factories import MemberFactory
from tests.helpers.seizures import SEIZURES, Api, file, positive, stats_url

STATS = f"{SEIZURES}stats/"


@pytest.fixture
def report(api: Api, network: Network, mini: DeviceProfile, alert: Notice) -> int:
    response = file(api, network.alice, positive(mini, alert))
    assert response.status_code == 201, response.content
    return int(response.json()["id"])


def amend(api: Api, member: Any, report: int, **body: Any) -> Any:
    return api(member).patch(f"{SEIZURES}{report}/", body, format="json")


def withdraw(api: Api, member: Any, report: int, reason: str = "Filed twice.") -> Any:
    return api(member).post(f"{SEIZURES}{report}/withdraw/", {"reason": reason}, format="json")


def test_a_colleague_amends_and_the_old_version_is_kept(
    api: Api, network: Network, mini: DeviceProfile, report: int
) -> None:
    """olga (fr-desk, not the author) may amend what alice filed for fr-desk."""
    response = amend(
        api,
        network.olga,
        report,
        lines=[{"profile": mini.pk, "quantity": 90}],
        reason="Recount at the evidence store.",
    )

    assert response.status_code == 200, response.content
    amended = response.json()
    assert amended["version"] == 2
    assert amended["status"] == "filed"
    assert amended["lines"] == [{"profile": mini.pk, "item_type": "", "quantity": 90}]
    assert amended["notes"].startswith("About 500 cells")  # fields not sent are kept
    versions = api(network.bob).get(f"{SEIZURES}{report}/versions/").json()["results"]
    assert [(v["number"], v["author"], v["reason"]) for v in versions] == [
        (1, "alice", ""),
        (2, "olga", "Recount at the evidence store."),
    ]
    assert [line["quantity"] for line in versions[0]["report"]["lines"]] == [88, 76]
    assert [line["quantity"] for line in versions[1]["report"]["lines"]] == [90]
    event = AuditEvent.objects.get(action="seizure.amended")
    assert (event.actor_id, str(event.object_id), event.detail["version"]) == (
        network.olga.pk,
        str(report),
        2,
    )


def test_figures_count_the_latest_version(
    api: Api, network: Network, mini: DeviceProfile, report: int
) -> None:
    amend(
        api,
        network.alice,
        report,
        lines=[{"profile": mini.pk, "quantity": 90}],
        seized_on="2025-06-01",
        reason="Recount; the right date.",
    )

    figures = api(network.bob).get(stats_url(mini.pk)).json()
    assert figures["totals"] == {"reports": 1, "negative_reports": 0, "quantity": 90}
    assert [row["month"] for row in figures["by_country_month"]] == ["2025-06"]
    rows = api(network.bob).get(STATS, {"group_by": "month"}).json()["rows"]
    assert rows == [{"month": "2025-06", "reports": 1, "devices": 90, "suppressed": False}]


def test_withdrawn_reports_stay_readable_and_leave_every_figure(
    api: Api, network: Network, mini: DeviceProfile, report: int
) -> None:
    response = withdraw(api, network.alice, report, "Filed twice: see the other report.")

    assert response.status_code == 200, response.content
    withdrawn = response.json()
    assert withdrawn["status"] == "withdrawn"
    assert withdrawn["withdrawal_reason"] == "Filed twice: see the other report."
    assert withdrawn["withdrawn_at"] is not None
    assert api(network.bob).get(f"{SEIZURES}{report}/").json()["status"] == "withdrawn"
    figures = api(network.bob).get(stats_url(mini.pk)).json()
    assert figures["totals"] == {"reports": 0, "negative_reports": 0, "quantity": 0}
    assert api(network.bob).get(STATS).json()["rows"] == []
    assert AuditEvent.objects.filter(action="seizure.withdrawn", object_id=str(report)).count() == 1
    # Neither amended nor withdrawn again.
    assert withdraw(api, network.alice, report).status_code == 409
    again = amend(api, network.alice, report, notes="x", reason="Typo.")
    assert again.status_code == 409


def test_only_the_reporting_organisation_changes_its_reports(
    api: Api, network: Network, report: int
) -> None:
    """bob (be-desk) reads the report but may not change it; an auditor of fr-desk neither."""
    fr_auditor = MemberFactory(username="fred", organisation=network.fr_desk, role="auditor")

    for member in (network.bob, fr_auditor):
        assert amend(api, member, report, notes="x", reason="Mine.").status_code == 403
        assert withdraw(api, member, report).status_code == 403
    # One who may not read it is told it does not exist.
    assert amend(api, network.charlie, report + 1000, notes="x", reason="y").status_code == 404
    assert api(network.alice).get(f"{SEIZURES}{report}/").json()["version"] == 1


def test_amendments_are_checked_as_filings_are(api: Api, network: Network, report: int) -> None:
    phone = amend(api, network.alice, report, notes="Call +33 6 12 34 56 78.", reason="More.")
    assert phone.status_code == 400
    assert phone.json()["errors"][0]["field"] == "notes"
    in_reason = amend(api, network.alice, report, notes="ok", reason="mail jo@example.org")
    assert in_reason.json()["errors"][0]["field"] == "reason"
    no_quantity = amend(api, network.alice, report, lines=[{"item_type": "x"}], reason="R.")
    assert no_quantity.json()["errors"][0]["field"] == "lines.0.quantity"
    unknown = amend(api, network.alice, report, colour="red", reason="R.")
    assert unknown.status_code == 400
    no_reason = withdraw(api, network.alice, report, "  ")
    assert no_reason.status_code == 400
    assert (
        api(network.alice).get(f"{SEIZURES}{report}/versions/").json()["results"][-1]["number"] == 1
    )
