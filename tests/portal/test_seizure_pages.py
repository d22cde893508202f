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
        ({"notes": "Call the courier at +33 6 12 34 56 78."}, "id_notes_error"),
        ({"notes": "Mail him: courier@example.org"}, "id_notes_error"),
        ({"lines-0-item_type": "phone of +33 6 12 34 56 78"}, "id_lines-0-item_type_error"),
        ({"seized_on": "2999-01-01"}, "id_seized_on_error"),
        ({"seized_on": "soon"}, "id_seized_on_error"),
        ({"tlp": TLP.RED}, "id_tlp_error"),
        ({"lines-0-quantity": "0"}, "id_lines-0-quantity_error"),
        ({"facility_type": "castle"}, "id_facility_type_error"),
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


# --- The optional fields, amending and withdrawing ------------------------------------------


def test_the_optional_fields_reach_the_api(network, mini, portal, api) -> None:
    alert = published(network.cora, network.cora, profiles=[mini])
    browser = portal(network.bob)
    page = browser.get(f"/seizures/new/?notice={alert.pk}").content.decode()
    assert f'<option value="{alert.pk}" selected>' in page  # prefilled from the notice
    extra = {
        "notice": str(alert.pk),
        "tacs_observed": "35824005, 86012345",
        "cash_amount": "1250.50",
        "cash_currency": "eur",
        "concealment_method": "Inside a shoe heel",
        "recipient_organisations": ["fr-desk"],
    }
    answer = browser.post("/seizures/new/", form(**extra))
    assert answer.status_code == 302, answer.content.decode()
    report = SeizureReport.objects.get()
    data = api(network.bob).get(f"/api/v1/seizures/{report.pk}/").json()
    assert data["notice"] == {"id": alert.pk, "reference": alert.reference}
    assert data["tacs_observed"] == ["35824005", "86012345"]
    assert (data["cash_amount"], data["cash_currency"]) == ("1250.50", "EUR")
    assert data["concealment_method"] == "Inside a shoe heel"
    # fr-desk as named, and the notice's issuer (the secretariat) added by the service.
    assert data["recipient_organisations"] == sorted(["fr-desk", alert.issuer.slug])
    shown = browser.get(answer["Location"]).content.decode()
    for text in ("35824005", "1250.50 EUR", "Inside a shoe heel", alert.reference):
        assert text in shown


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"tacs_observed": "35824005 1234"}, "id_tacs_observed_error"),
        ({"tacs_observed": "358240051234567"}, "id_tacs_observed_error"),
        ({"cash_amount": "40"}, "id_cash_currency_error"),
        ({"cash_amount": "40", "cash_currency": "XXQ"}, "id_cash_currency_error"),
        ({"concealment_method": "ask courier@example.org"}, "id_concealment_method_error"),
        ({"operation": "Call +33 6 12 34 56 78"}, "id_operation_error"),
        ({"notice": "999999"}, "id_notice_error"),
        ({"recipient_organisations": ["nowhere"]}, "id_recipient_organisations_error"),
    ],
)
def test_bad_optional_fields_are_shown_at_their_field(network, portal, changes, field) -> None:
    page = portal(network.bob).post("/seizures/new/", form(**changes))
    assert page.status_code == 400
    assert re.search(f'id="{field}"><p class="error">[^<]+', page.content.decode())
    assert not SeizureReport.objects.exists()


def amend(report: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """The amend form as it comes prefilled (one line), with changes."""
    line = report["lines"][0]
    body = form(
        seized_on=report["seized_on"],
        country=report["country"],
        facility_type=report["facility_type"],
        detection_method=report["detection_method"],
        tlp=report["tlp"],
        notes=report["notes"],
        version=str(report["version"]),
        **{
            "lines-TOTAL_FORMS": "4",
            "lines-INITIAL_FORMS": "1",
            "lines-0-item_type": line["item_type"],
            "lines-0-quantity": str(line["quantity"]),
        },
    )
    return body | changes


def test_amending_writes_a_version_the_api_shows(network, mini, portal, api) -> None:
    alice, olga = portal(network.alice), portal(network.olga)
    assert alice.post("/seizures/new/", form()).status_code == 302
    report = SeizureReport.objects.get()
    before = api(network.alice).get(f"/api/v1/seizures/{report.pk}/").json()
    # A colleague of the reporting organisation amends it: the form comes prefilled.
    page = olga.get(f"/seizures/{report.pk}/amend/").content.decode()
    assert 'value="76"' in page
    assert "About 500 cells searched." in page
    answer = olga.post(
        f"/seizures/{report.pk}/amend/",
        amend(before, reason="Recount at the evidence store.", **{"lines-0-quantity": "90"}),
    )
    assert answer.status_code == 302, answer.content.decode()
    after = api(network.alice).get(f"/api/v1/seizures/{report.pk}/").json()
    assert after["version"] == 2
    assert [line["quantity"] for line in after["lines"]] == [90]
    assert after["notes"] == before["notes"]
    versions = api(network.alice).get(f"/api/v1/seizures/{report.pk}/versions/").json()
    assert [(v["number"], v["author"], v["reason"]) for v in versions["results"]] == [
        (1, "alice", ""),
        (2, "olga", "Recount at the evidence store."),
    ]
    # The aggregates follow the latest version.
    stats = api(network.alice).get("/api/v1/seizures/stats/", {"group_by": "country"}).json()
    assert stats["totals"]["devices"] == 90
    shown = alice.get(f"/seizures/{report.pk}/").content.decode()
    versions_table = shown.split('class="versions"')[1]
    assert "Recount at the evidence store." in versions_table
    assert "Other mobile phone: 90" in versions_table
    assert "90" in versions_table
    assert "76" in versions_table


def test_an_amendment_changes_only_what_the_desk_changed(network, portal, api) -> None:
    browser = portal(network.bob)
    assert browser.post("/seizures/new/", form(operation="Op Cell")).status_code == 302
    report = SeizureReport.objects.get()
    before = api(network.bob).get(f"/api/v1/seizures/{report.pk}/").json()
    answer = browser.post(
        f"/seizures/{report.pk}/amend/",
        amend(before, operation="Op Cell", cash_amount="40", cash_currency="EUR", reason="Cash."),
    )
    assert answer.status_code == 302, answer.content.decode()
    from intel.models.audit import AuditEvent

    event = AuditEvent.objects.get(action="seizure.amended")
    assert event.detail["fields"] == ["cash_amount", "cash_currency"]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"reason": ""}, "id_reason_error"),
        ({"reason": "Told by +33 6 12 34 56 78"}, "id_reason_error"),
        ({"reason": "Typo.", "tacs_observed": "12"}, "id_tacs_observed_error"),
        ({"reason": "Typo.", "lines-0-quantity": "0"}, "id_lines-0-quantity_error"),
        ({"reason": "Typo.", "notes": "mail x@example.org"}, "id_notes_error"),
    ],
)
def test_a_refused_amendment_is_shown_at_its_field(network, portal, api, changes, field) -> None:
    browser = portal(network.bob)
    assert browser.post("/seizures/new/", form()).status_code == 302
    report = SeizureReport.objects.get()
    before = api(network.bob).get(f"/api/v1/seizures/{report.pk}/").json()
    answer = browser.post(f"/seizures/{report.pk}/amend/", amend(before, **changes))
    assert answer.status_code == 400
    assert re.search(f'id="{field}"><p class="error">[^<]+', answer.content.decode())
    assert api(network.bob).get(f"/api/v1/seizures/{report.pk}/").json() == before


def test_a_stale_amendment_is_refused(network, portal, api) -> None:
    browser = portal(network.bob)
    assert browser.post("/seizures/new/", form()).status_code == 302
    report = SeizureReport.objects.get()
    opened = api(network.bob).get(f"/api/v1/seizures/{report.pk}/").json()
    patched = api(network.bob).patch(
        f"/api/v1/seizures/{report.pk}/", {"notes": "Corrected.", "reason": "Typo."}, format="json"
    )
    assert patched.status_code == 200
    answer = browser.post(f"/seizures/{report.pk}/amend/", amend(opened, reason="Mine."))
    assert answer.status_code == 400
    assert "changed meanwhile" in answer.content.decode()
    assert api(network.bob).get(f"/api/v1/seizures/{report.pk}/").json()["version"] == 2


def test_amend_and_withdraw_are_offered_to_whom_the_api_allows(network, portal, api) -> None:
    # One sign-in each: a second factor's code is used once.
    personas = (network.bob, network.charlie, network.cora, network.audrey, network.dave)
    signed_in = {m.username: portal(m) for m in (network.alice, network.olga, *personas)}
    assert signed_in["alice"].post("/seizures/new/", form()).status_code == 302
    report = SeizureReport.objects.get()
    url = f"/api/v1/seizures/{report.pk}/"
    for persona in personas:
        browser = signed_in[persona.username]
        refused = api(persona).patch(url, {"notes": "x", "reason": "y"}, format="json")
        assert refused.status_code in (403, 404)
        # The page answers as the API's write: 404 when hidden, 403 when read but not theirs.
        assert browser.get(f"/seizures/{report.pk}/amend/").status_code == refused.status_code
        assert browser.get(f"/seizures/{report.pk}/withdraw/").status_code == refused.status_code
        page = browser.get(f"/seizures/{report.pk}/")
        assert f"/seizures/{report.pk}/amend/" not in page.content.decode()
    for persona in (network.alice, network.olga):
        browser = signed_in[persona.username]
        page = browser.get(f"/seizures/{report.pk}/").content.decode()
        assert f"/seizures/{report.pk}/amend/" in page
        assert browser.get(f"/seizures/{report.pk}/amend/").status_code == 200
        assert browser.get(f"/seizures/{report.pk}/withdraw/").status_code == 200
        allowed = api(persona).patch(url, {"notes": "x", "reason": "y"}, format="json")
        assert allowed.status_code == 200


def test_withdrawing_asks_a_reason_and_the_figures_follow(network, portal, api) -> None:
    browser = portal(network.bob)
    assert browser.post("/seizures/new/", form()).status_code == 302
    report = SeizureReport.objects.get()
    confirm = browser.get(f"/seizures/{report.pk}/withdraw/")
    assert confirm.status_code == 200
    assert 'name="reason"' in confirm.content.decode()
    empty = browser.post(f"/seizures/{report.pk}/withdraw/", {"reason": ""})
    assert empty.status_code == 400
    assert 'id="id_reason_error"' in empty.content.decode()
    personal = browser.post(f"/seizures/{report.pk}/withdraw/", {"reason": "ask a@example.org"})
    assert personal.status_code == 400
    assert 'id="id_reason_error"' in personal.content.decode()
    assert api(network.bob).get(f"/api/v1/seizures/{report.pk}/").json()["status"] == "filed"
    answer = browser.post(f"/seizures/{report.pk}/withdraw/", {"reason": "Filed twice."})
    assert answer.status_code == 302
    data = api(network.bob).get(f"/api/v1/seizures/{report.pk}/").json()
    assert (data["status"], data["withdrawal_reason"]) == ("withdrawn", "Filed twice.")
    stats = api(network.bob).get("/api/v1/seizures/stats/", {"group_by": "country"}).json()
    assert stats["totals"]["reports"] == 0
    page = browser.get(f"/seizures/{report.pk}/").content.decode()
    assert "Filed twice." in page
    assert f"/seizures/{report.pk}/amend/" not in page
    assert browser.get(f"/seizures/{report.pk}/amend/").status_code == 404
    assert browser.get(f"/seizures/{report.pk}/withdraw/").status_code == 404


def test_opening_a_restricted_report_to_amend_it_is_an_audited_read(network, portal) -> None:
    from intel.models.audit import AuditEvent

    browser = portal(network.bob)
    assert browser.post("/seizures/new/", form(tlp=TLP.AMBER)).status_code == 302
    report = SeizureReport.objects.get()
    assert browser.get(f"/seizures/{report.pk}/amend/").status_code == 200
    reads = AuditEvent.objects.filter(action="seizure_report.read", object_id=str(report.pk))
    assert [(e.actor_id, e.object_tlp) for e in reads] == [(network.bob.pk, TLP.AMBER)]


def test_the_notices_offered_are_bounded_and_an_older_one_is_still_answered(
    network, mini, portal, api, monkeypatch
) -> None:
    from portal.views import seizure_forms

    monkeypatch.setattr(seizure_forms, "NOTICE_CHOICES", 1)
    older = published(network.alice, network.cora, profiles=[mini], title="Older alert")
    newer = published(network.alice, network.cora, profiles=[mini], title="Newer alert")
    browser = portal(network.bob)
    page = browser.get("/seizures/new/").content.decode()
    offered = page.split('id="id_notice"', 1)[1].split("</select>", 1)[0]
    assert f'<option value="{newer.pk}"' in offered
    assert f'<option value="{older.pk}"' not in offered
    prefilled = browser.get(f"/seizures/new/?notice={older.pk}").content.decode()
    assert f'<option value="{older.pk}" selected>' in prefilled
    answer = browser.post("/seizures/new/", form(notice=str(older.pk), country="BE"))
    assert answer.status_code == 302, answer.content.decode()
    report = SeizureReport.objects.get()
    assert api(network.bob).get(f"/api/v1/seizures/{report.pk}/").json()["notice"]["id"] == older.pk


def test_a_notice_links_to_a_report_answering_it(network, mini, portal) -> None:
    alert = published(network.alice, network.cora, profiles=[mini])
    link = f'href="/seizures/new/?notice={alert.pk}"'
    assert link in portal(network.bob).get(f"/notices/{alert.pk}/").content.decode()
    # Auditors file no reports: no link.
    assert link not in portal(network.audrey).get(f"/notices/{alert.pk}/").content.decode()
