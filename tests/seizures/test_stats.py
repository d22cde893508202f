"""The network's seizure statistics (`GET /api/v1/seizures/stats/`): each grouping over the
reports the member may read, and, for the secretariat's coordinators and issuers of notices,
network-wide aggregates with small cells suppressed and no text."""

import json
from typing import Any

import pytest
from django.test import override_settings

from intel.models import DeviceProfile
from notices.models import Notice
from tests.conftest import Network
from tests.factories import MemberFactory
from tests.helpers.seizures import SEIZURES, Api, file, positive, published

STATS = f"{SEIZURES}stats/"
SECRET_NOTE = "Cell block C, informant said so"


def line(profile: DeviceProfile, quantity: int) -> dict[str, Any]:
    return {"profile": profile.pk, "quantity": quantity}


@pytest.fixture
def reports(
    api: Api, network: Network, mini: DeviceProfile, annex: DeviceProfile, alert: Notice
) -> None:
    """Three GREEN French prison reports in May (10, 20, 30 mini phones), one GREEN French
    storage report in June (5 mini + 7 unprofiled), one AMBER French report for be-desk only
    (2 of the annex), and bob's negative Belgian search."""
    for quantity in (10, 20, 30):
        body = positive(mini, alert, lines=[line(mini, quantity)], notes=SECRET_NOTE)
        assert file(api, network.alice, body).status_code == 201
    storage = positive(
        mini,
        alert,
        seized_on="2025-06-03",
        facility_type="storage",
        detection_method="canine",
        lines=[line(mini, 5), {"item_type": "other_mobile_phone", "quantity": 7}],
    )
    assert file(api, network.alice, storage).status_code == 201
    amber = positive(
        mini,
        alert,
        seized_on="2025-06-04",
        notice=None,
        tlp="TLP:AMBER",
        recipient_organisations=["be-desk"],
        lines=[line(annex, 2)],
    )
    assert file(api, network.alice, amber).status_code == 201
    negative = {
        "seized_on": "2025-06-12",
        "facility_type": "prison",
        "notice": alert.pk,
        "negative_result": True,
    }
    assert file(api, network.bob, negative).status_code == 201


def stats(api: Api, member: Any, **params: str) -> Any:
    response = api(member).get(STATS, params)
    assert response.status_code == 200, response.content
    return response.json()


def numbers(body: Any) -> list[tuple[Any, ...]]:
    keys = body["group_by"]
    return [
        (*(row[k] for k in keys), row.get("reports"), row.get("devices"), row["suppressed"])
        for row in body["rows"]
    ]


def test_group_by_country_and_month_over_readable_reports(
    api: Api, network: Network, reports: None
) -> None:
    body = stats(api, network.bob, group_by="country,month")

    assert body["scope"] == "readable"
    assert body["min_cell"] is None
    assert numbers(body) == [
        ("BE", "2025-06", 1, 0, False),
        ("FR", "2025-05", 3, 60, False),
        ("FR", "2025-06", 2, 14, False),
    ]
    assert body["totals"] == {"reports": 6, "devices": 74, "suppressed_cells": 0}


def test_an_outsider_counts_only_the_reports_they_may_read(
    api: Api, network: Network, reports: None
) -> None:
    """charlie (de-desk) may not read the AMBER report sent to be-desk."""
    body = stats(api, network.charlie, group_by="country")

    assert numbers(body) == [("BE", 1, 0, False), ("FR", 4, 72, False)]
    refused = api(network.charlie).get(STATS, {"scope": "network"})
    assert refused.status_code == 403
    assert "secretariat" in refused.json()["detail"]


@pytest.mark.parametrize(
    ("group_by", "expected"),
    [
        ("facility_type", [("prison", 4, 60, False), ("storage", 1, 12, False)]),
        (
            "detection_method",
            [("", 1, 0, False), ("canine", 1, 12, False), ("targeted_cell_search", 3, 60, False)],
        ),
        ("", [(5, 72, False)]),
    ],
)
def test_other_groupings(
    api: Api, network: Network, reports: None, group_by: str, expected: list[Any]
) -> None:
    assert numbers(stats(api, network.charlie, group_by=group_by)) == expected


def test_group_by_profile_names_only_profiles_the_reader_sees(
    api: Api, network: Network, reports: None, mini: DeviceProfile
) -> None:
    body = stats(api, network.bob, group_by="profile")

    rows = {row["profile"]: row for row in body["rows"]}
    assert rows[mini.pk]["profile_name"] == mini.name
    assert (rows[mini.pk]["reports"], rows[mini.pk]["devices"]) == (4, 65)
    # bob sees the annex (be-desk is its recipient); the unprofiled line and the negative
    # search have no profile.
    assert rows["none"]["reports"] == 2
    assert rows["none"]["devices"] == 7
    assert "other" not in rows


def test_bad_groupings_are_refused(api: Api, network: Network) -> None:
    for bad in ("colour", "country,country", "country,"):
        response = api(network.bob).get(STATS, {"group_by": bad})
        assert response.status_code == 400, bad
        assert response.json()["errors"][0]["field"] == "group_by"
    wrong_scope = api(network.bob).get(STATS, {"scope": "everything"})
    assert wrong_scope.status_code == 400
    assert wrong_scope.json()["errors"][0]["field"] == "scope"


def test_network_scope_suppresses_small_cells_and_shows_no_text(
    api: Api, network: Network, reports: None, annex: DeviceProfile
) -> None:
    """cora, the secretariat's coordinator, does not see the annex nor the AMBER report: she
    gets their numbers, grouped as `other`, cells under 3 reports suppressed."""
    body = stats(api, network.cora, group_by="country,month", scope="network")

    assert body["min_cell"] == 3
    assert numbers(body) == [
        ("BE", "2025-06", None, None, True),
        ("FR", "2025-05", 3, 60, False),
        ("FR", "2025-06", None, None, True),
    ]
    assert "reports" not in body["rows"][0]
    # The totals leave the suppressed cells out: nothing to recover by subtraction.
    assert body["totals"] == {"reports": 3, "devices": 60, "suppressed_cells": 2}

    by_profile = stats(api, network.cora, group_by="profile", scope="network")
    text = json.dumps(by_profile)
    assert annex.name not in text
    assert {row["profile"] for row in by_profile["rows"]} >= {"other", "none"}
    other = next(row for row in by_profile["rows"] if row["profile"] == "other")
    assert other == {"profile": "other", "profile_name": None, "suppressed": True}
    for row in body["rows"] + by_profile["rows"]:
        assert set(row) <= {"country", "month", "profile", "profile_name", "reports"} | {
            "devices",
            "suppressed",
        }
    assert SECRET_NOTE not in json.dumps(body) + text


@override_settings(DIX_STATS_MIN_CELL=1)
def test_network_scope_counts_reports_the_member_may_not_read(
    api: Api, network: Network, reports: None
) -> None:
    body = stats(api, network.cora, group_by="country", scope="network")

    assert numbers(body) == [("BE", 1, 0, False), ("FR", 5, 74, False)]


def test_issuers_of_a_published_notice_may_ask_for_network_figures(
    api: Api, network: Network, reports: None, mini: DeviceProfile
) -> None:
    fr_coordinator = MemberFactory(
        username="fabienne", organisation=network.fr_desk, role="coordinator"
    )
    assert api(network.alice).get(STATS, {"scope": "network"}).status_code == 403

    published(network.alice, fr_coordinator, profiles=[mini])

    assert api(network.alice).get(STATS, {"scope": "network"}).status_code == 200
    assert api(network.bob).get(STATS, {"scope": "network"}).status_code == 403
