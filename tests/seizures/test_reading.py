"""Reading seizure reports: who may read what, the list's filters, a profile's seizure figures
counting only what the reader may see, and the demo's figures."""

from typing import Any

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from intel.models import DeviceProfile, Member
from intel.models.audit import AuditEvent
from notices.models import AudienceScope, Notice
from seizures.models import SeizureReport
from tests.conftest import Network
from tests.helpers.seizures import SEIZURES, Api, file, positive, published, stats_url

# --- Who reads what --------------------------------------------------------------------------


@pytest.fixture
def amber_report(api: Api, network: Network, mini: DeviceProfile, alert: Notice) -> int:
    """fr-desk's AMBER report, sent to be-desk (and eurojust, the notice's issuer)."""
    body = positive(mini, alert, tlp="TLP:AMBER", recipient_organisations=["be-desk"])
    response = file(api, network.alice, body)
    assert response.status_code == 201, response.content
    return int(response.json()["id"])


def test_the_outsider_cannot_read_a_foreign_amber_report(
    api: Api, network: Network, amber_report: int
) -> None:
    charlie = api(network.charlie)

    hidden = charlie.get(f"{SEIZURES}{amber_report}/")
    missing = charlie.get(f"{SEIZURES}{amber_report + 1000}/")
    assert hidden.status_code == missing.status_code == 404
    assert hidden.json() == missing.json()
    assert charlie.get(SEIZURES).json()["results"] == []
    assert charlie.get(f"{SEIZURES}999999999999999999999999/").status_code == 404


@pytest.mark.parametrize(
    ("who", "sees"),
    [("alice", True), ("bob", True), ("dave", True), ("erin", True), ("charlie", False)],
)
def test_amber_report_audience(
    api: Api, network: Network, amber_report: int, who: str, sees: bool
) -> None:
    client = api(getattr(network, who))

    assert (client.get(f"{SEIZURES}{amber_report}/").status_code == 200) is sees
    assert ([r["id"] for r in client.get(SEIZURES).json()["results"]] == [amber_report]) is sees


def test_reading_an_amber_report_is_audited(
    api: Api, network: Network, amber_report: int, mini: DeviceProfile, alert: Notice
) -> None:
    green = file(api, network.alice, positive(mini, alert, facility_type="border")).json()["id"]

    api(network.bob).get(f"{SEIZURES}{amber_report}/")
    api(network.bob).get(f"{SEIZURES}{green}/")

    reads = AuditEvent.objects.filter(action="seizure_report.read")
    assert [(e.actor_username, e.object_id) for e in reads] == [("bob", str(amber_report))]


def test_lines_of_profiles_the_reader_may_not_see_are_left_out(
    api: Api, network: Network, mini: DeviceProfile, alert: Notice, annex: DeviceProfile
) -> None:
    lines = [{"profile": annex.pk, "quantity": 5}, {"profile": mini.pk, "quantity": 7}]
    report = file(api, network.alice, positive(mini, alert, lines=lines)).json()["id"]

    seen_by = {
        who: api(getattr(network, who)).get(f"{SEIZURES}{report}/").json()["lines"]
        for who in ("bob", "charlie")
    }
    assert [line["profile"] for line in seen_by["bob"]] == [annex.pk, mini.pk]
    assert [line["profile"] for line in seen_by["charlie"]] == [mini.pk]


def test_a_notice_the_reader_may_not_see_is_not_named(
    api: Api, network: Network, mini: DeviceProfile, alert: Notice
) -> None:
    only_belgium = published(
        network.cora,
        network.cora,
        audience_scope=AudienceScope.ORGANISATIONS,
        audience_organisations=[network.be_desk],
    )
    report = file(api, network.bob, positive(mini, alert, notice=only_belgium.pk)).json()["id"]

    assert api(network.bob).get(f"{SEIZURES}{report}/").json()["notice"]["id"] == only_belgium.pk
    assert api(network.charlie).get(f"{SEIZURES}{report}/").json()["notice"] is None


def test_list_filters(api: Api, network: Network, mini: DeviceProfile, alert: Notice) -> None:
    file(api, network.alice, positive(mini, alert))
    file(api, network.alice, positive(mini, alert, seized_on="2025-07-01", facility_type="postal"))
    file(
        api,
        network.bob,
        {"seized_on": "2025-06-12", "facility_type": "prison", "negative_result": True},
    )
    client = api(network.charlie)

    def found(query: str) -> list[tuple[str, str]]:
        response = client.get(f"{SEIZURES}?{query}")
        assert response.status_code == 200, response.content
        return sorted((r["country"], r["seized_on"]) for r in response.json()["results"])

    assert found("country=be") == [("BE", "2025-06-12")]
    assert found("facility_type=postal") == [("FR", "2025-07-01")]
    assert found(f"notice={alert.pk}") == [("FR", "2025-05-20"), ("FR", "2025-07-01")]
    assert found(f"profile={mini.pk}") == [("FR", "2025-05-20"), ("FR", "2025-07-01")]
    assert found("seized_from=2025-06-01&seized_until=2025-06-30") == [("BE", "2025-06-12")]
    assert found("negative_result=true") == [("BE", "2025-06-12")]
    assert found("organisation=be-desk") == [("BE", "2025-06-12")]
    assert found("notice=9999999") == []  # well-formed, missing: matches nothing
    assert client.get(f"{SEIZURES}?notice=99999999999999999999999").status_code == 400
    assert client.get(f"{SEIZURES}?seized_from=yesterday").status_code == 400
    first = client.get(f"{SEIZURES}?page_size=2").json()
    assert len(first["results"]) == 2
    assert first["next"] is not None
    rest = client.get(first["next"]).json()
    assert len(rest["results"]) == 1
    assert rest["next"] is None


# --- A profile's seizure figures -------------------------------------------------------------


def test_stats_of_an_invisible_profile_are_not_found(
    api: Api, network: Network, annex: DeviceProfile
) -> None:
    charlie = api(network.charlie)

    hidden = charlie.get(stats_url(annex.pk))
    assert hidden.status_code == 404
    assert hidden.json() == charlie.get(stats_url(annex.pk + 1000)).json()
    assert charlie.get(stats_url("99999999999999999999999")).status_code == 404
    assert charlie.get(stats_url("abc")).status_code == 404
    assert api(network.bob).get(stats_url(annex.pk)).status_code == 200


def test_stats_count_only_the_reports_the_member_may_see(
    api: Api, network: Network, mini: DeviceProfile, alert: Notice
) -> None:
    file(api, network.alice, positive(mini, alert, lines=[{"profile": mini.pk, "quantity": 10}]))
    file(
        api,
        network.alice,
        positive(
            mini,
            alert,
            facility_type="storage",
            seized_on="2025-06-03",
            lines=[{"profile": mini.pk, "quantity": 5}],
            tlp="TLP:AMBER",
            recipient_organisations=["be-desk"],
        ),
    )
    file(
        api,
        network.bob,
        {
            "seized_on": "2025-06-12",
            "facility_type": "prison",
            "notice": alert.pk,
            "negative_result": True,
        },
    )

    for_bob = api(network.bob).get(stats_url(mini.pk)).json()
    for_charlie = api(network.charlie).get(stats_url(mini.pk)).json()

    assert for_bob == {
        "profile": mini.pk,
        "totals": {"reports": 3, "negative_reports": 1, "quantity": 15},
        "by_country_month": [
            {
                "country": "FR",
                "month": "2025-05",
                "reports": 1,
                "negative_reports": 0,
                "quantity": 10,
            },
            {
                "country": "BE",
                "month": "2025-06",
                "reports": 1,
                "negative_reports": 1,
                "quantity": 0,
            },
            {
                "country": "FR",
                "month": "2025-06",
                "reports": 1,
                "negative_reports": 0,
                "quantity": 5,
            },
        ],
    }
    # The AMBER report (sent to be-desk) is not charlie's to see: it changes bob's figures only.
    assert for_charlie["totals"] == {"reports": 2, "negative_reports": 1, "quantity": 10}
    assert [row["month"] for row in for_charlie["by_country_month"]] == ["2025-05", "2025-06"]


# --- The demo ----------------------------------------------------------------------------------


def test_demo_figures_for_the_mini_phone(db: None) -> None:
    call_command("load_demo", "--quiet")
    call_command("load_demo", "--quiet")  # running it again adds nothing

    assert SeizureReport.objects.count() == 3
    mini = DeviceProfile.objects.get(
        name="Ultra-compact low-metal mini phone distributed by Oportik"
    )
    analyst = Member.objects.get(username="fr-analyst")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Bearer dix_demo_fr_analyst_7c41e2b8aa")

    stats = client.get(stats_url(mini.pk)).json()

    france = [row for row in stats["by_country_month"] if row["country"] == "FR"]
    assert france == [
        {"country": "FR", "month": "2025-05", "reports": 2, "negative_reports": 0, "quantity": 588}
    ]
    belgium = [row for row in stats["by_country_month"] if row["country"] == "BE"]
    assert belgium[0]["negative_reports"] == 1
    reports = client.get(SEIZURES).json()["results"]
    # The founding case's figures, each where the reporting put it: 88 mini phones and 76
    # other phones in the prisons; 500 phones and EUR 70,000 in the storage building.
    prisons = [r for r in reports if r["facility_type"] == "prison" and not r["negative_result"]]
    assert [(r["country"], r["seized_on"], r["lines"]) for r in prisons] == [
        (
            "FR",
            "2025-05-20",
            [
                {"profile": mini.pk, "item_type": "", "quantity": 88},
                {"profile": None, "item_type": "other_mobile_phone", "quantity": 76},
            ],
        )
    ]
    assert prisons[0]["cash_amount"] is None
    storage = next(r for r in reports if r["facility_type"] == "storage")
    assert storage["lines"] == [{"profile": mini.pk, "item_type": "", "quantity": 500}]
    assert (storage["cash_amount"], storage["cash_currency"]) == ("70000.00", "EUR")
    assert {r["reported_by"] for r in reports} == {analyst.username, "be-officer"}


def test_a_profile_counts_only_the_lines_about_it(
    api: Api, network: Network, mini: DeviceProfile, make_profile: Any
) -> None:
    """A seizure of mini phones answering a notice about two profiles is no figure of the
    other; a search that found nothing answering it concerns both."""
    other = make_profile(tlp="TLP:GREEN", name="L8star")
    notice = published(network.cora, network.cora, profiles=[mini, other])
    file(api, network.alice, positive(mini, notice, lines=[{"profile": mini.pk, "quantity": 7}]))
    negative = {
        "seized_on": "2025-06-12",
        "facility_type": "prison",
        "notice": notice.pk,
        "negative_result": True,
    }
    file(api, network.bob, negative)

    for_other = api(network.bob).get(stats_url(other.pk)).json()
    for_mini = api(network.bob).get(stats_url(mini.pk)).json()

    assert for_other["totals"] == {"reports": 1, "negative_reports": 1, "quantity": 0}
    assert [row["country"] for row in for_other["by_country_month"]] == ["BE"]
    assert for_mini["totals"] == {"reports": 2, "negative_reports": 1, "quantity": 7}
