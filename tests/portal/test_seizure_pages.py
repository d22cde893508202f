"""The seizure pages against the API: filing through the form (bad input and personal data
shown at the field), the organisation's list and the statistics equal to the same member's
API answers, and the portal's 404 for reports a member may not read."""

import re
from typing import Any

import pytest

from intel.models import TLP
from seizures.models import SeizureReport
from tests.helpers.seizures import published

pytestmark = pytest.mark.django_db


@pytest.fixture
def mini(make_profile: Any) -> Any:
    return make_profile(tlp=TLP.GREEN, name="Oportik mini phone")


def form(**changes: Any) -> dict[str, Any]:
    body = {
        "seized_on": "2025-05-20",
        "country": "",
        "facility_type": "prison",
        "detection_method": "targeted_cell_search",
        "tlp": TLP.GREEN,
        "notes": "About 500 cells searched.",
        "lines-TOTAL_FORMS": "3",
        "lines-INITIAL_FORMS": "0",
        "lines-MIN_NUM_FORMS": "0",
        "lines-MAX_NUM_FORMS": "100",
        "lines-0-item_type": "other_mobile_phone",
        "lines-0-quantity": "76",
    }
    return body | changes


def test_a_report_filed_through_the_form_is_the_apis(network, mini, portal, api) -> None:
    browser = portal(network.bob)
    answer = browser.post(
        "/seizures/new/", form(**{"lines-1-profile": str(mini.pk), "lines-1-quantity": "12"})
    )
    assert answer.status_code == 302, answer.content.decode()
    report = SeizureReport.objects.get()
    assert answer["Location"] == f"/seizures/{report.pk}/"
    through_api = api(network.bob).get(f"/api/v1/seizures/{report.pk}/").json()
    assert through_api["country"] == "BE"
    assert sorted(line["quantity"] for line in through_api["lines"]) == [12, 76]
    page = browser.get(answer["Location"]).content.decode()
    assert "Oportik mini phone" in page


def test_the_list_is_the_apis_list(network, mini, portal, api) -> None:
    signed_in = {m.username: portal(m) for m in (network.bob, network.alice, network.charlie)}
    for name in ("bob", "alice", "bob"):
        assert signed_in[name].post("/seizures/new/", form()).status_code == 302
    for member in (network.bob, network.alice, network.charlie):
        slug = member.organisation.slug
        rows = api(member).get("/api/v1/seizures/", {"organisation": slug}).json()["results"]
        page = signed_in[member.username].get("/seizures/").content.decode()
        assert {int(pk) for pk in re.findall(r'href="/seizures/(\d+)/"', page)} == {
            row["id"] for row in rows
        }
        everything = api(member).get("/api/v1/seizures/").json()["results"]
        page = signed_in[member.username].get("/seizures/?organisation=").content.decode()
        assert {int(pk) for pk in re.findall(r'href="/seizures/(\d+)/"', page)} == {
            row["id"] for row in everything
        }


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"notes": "Call the courier at +33 6 12 34 56 78."}, "id_notes-error"),
        ({"notes": "Mail him: courier@example.org"}, "id_notes-error"),
        ({"lines-0-item_type": "phone of +33 6 12 34 56 78"}, "id_lines-0-item_type-error"),
        ({"seized_on": "2999-01-01"}, "id_seized_on-error"),
        ({"seized_on": "soon"}, "id_seized_on-error"),
        ({"tlp": TLP.RED}, "id_tlp-error"),
        ({"lines-0-quantity": "0"}, "id_lines-0-quantity-error"),
        ({"facility_type": "castle"}, "id_facility_type-error"),
    ],
)
def test_bad_input_is_shown_at_its_field(network, portal, changes, field) -> None:
    page = portal(network.bob).post("/seizures/new/", form(**changes))
    assert page.status_code == 400
    assert f'id="{field}"' in page.content.decode()
    assert not SeizureReport.objects.exists()


def test_a_report_without_lines_says_so(network, portal) -> None:
    page = portal(network.bob).post(
        "/seizures/new/", form(**{"lines-0-item_type": "", "lines-0-quantity": ""})
    )
    assert page.status_code == 400
    assert 'id="lines-errors"' in page.content.decode()


def test_reports_a_member_may_not_read_answer_404(network, portal) -> None:
    alice, charlie = portal(network.alice), portal(network.charlie)
    strict = form(tlp=TLP.AMBER_STRICT, notes="Strict.")
    assert alice.post("/seizures/new/", strict).status_code == 302
    report = SeizureReport.objects.get()
    assert charlie.get(f"/seizures/{report.pk}/").status_code == 404
    assert charlie.get("/seizures/999999/").status_code == 404
    assert alice.get(f"/seizures/{report.pk}/").status_code == 200
    assert portal(network.audrey).get("/seizures/new/").status_code == 403  # auditors read


def test_the_form_needs_its_csrf_token(network, portal) -> None:
    from django.test import Client

    browser = portal(network.bob)
    strict = Client(enforce_csrf_checks=True)
    strict.cookies = browser.cookies
    assert strict.post("/seizures/new/", form()).status_code == 403


def table(html: str, css: str) -> dict[str, tuple[str, ...]]:
    block = html.split(f'class="{css}"', 1)[1].split("</table>", 1)[0]
    rows = re.findall(r'<th scope="row">([^<]+)</th>((?:<td[^>]*>[^<]*</td>)+)', block)
    return {key: tuple(re.findall(r"<td[^>]*>([^<]*)</td>", cells)) for key, cells in rows}


def test_the_statistics_are_the_apis(network, mini, portal, api) -> None:
    alert = published(network.cora, network.cora, profiles=[mini])
    assert alert.pk
    signed_in = {m.username: portal(m) for m in (network.bob, network.alice, network.cora)}
    for name, date in (("bob", "2025-05-20"), ("alice", "2025-06-02")):
        assert signed_in[name].post("/seizures/new/", form(seized_on=date)).status_code == 302
    for member in (network.bob, network.cora):
        html = signed_in[member.username].get("/seizures/stats/").content.decode()
        section = html.split('id="network"')[0]
        for group, css in (("month", "stats-month"), ("country", "stats-country")):
            rows = api(member).get("/api/v1/seizures/stats/", {"group_by": group}).json()["rows"]
            assert table(section, css) == {
                row[group]: (str(row["reports"]), str(row["devices"])) for row in rows
            }
        assert 'role="img"' in html
        assert "<title" in html
    # The secretariat's coordinators see the network's figures, small cells suppressed.
    html = signed_in["cora"].get("/seizures/stats/").content.decode()
    network_part = html.split('id="network"')[1]
    rows = (
        api(network.cora)
        .get("/api/v1/seizures/stats/", {"group_by": "country", "scope": "network"})
        .json()["rows"]
    )
    assert all(row["suppressed"] for row in rows)
    assert "fewer than 3 reports" in network_part
    assert 'id="network"' not in signed_in["bob"].get("/seizures/stats/").content.decode()
