"""The notices inbox and a notice's page show what the same member's API calls return; opening
one marks it read for the desk, acknowledging goes through the same service; a notice's
Markdown body is rendered without anything executable."""

import re

import pytest

from intel.models import TLP, AuditEvent
from notices.models import NoticeReceipt
from tests.helpers.notices import draft, publish
from tests.portal.test_pages import PERSONAS


@pytest.fixture
def notices(network, api):
    cora = api(network.cora)
    published = []
    for tlp, fields in [
        (TLP.GREEN, {}),
        (TLP.AMBER, {"title": "Amber alert"}),
        (TLP.AMBER_STRICT, {"title": "Strict alert"}),
    ]:
        notice = draft(cora, tlp=tlp, **fields)
        published.append(publish(cora, notice["id"]))
    published.append(draft(cora, title="A draft"))
    return published


@pytest.mark.parametrize("persona", PERSONAS)
def test_notice_pages_show_what_the_api_returns(persona, network, notices, portal, api) -> None:
    member = getattr(network, persona)
    browser = portal(member)
    listed = {row["id"] for row in api(member).get("/api/v1/notices/").json()["results"]}
    inbox = browser.get("/notices/").content.decode()
    assert {int(pk) for pk in re.findall(r'href="/notices/(\d+)/"', inbox)} == listed
    for notice in notices:
        page = browser.get(f"/notices/{notice['id']}/")
        assert page.status_code == api(member).get(f"/api/v1/notices/{notice['id']}/").status_code
        if page.status_code == 404:
            assert notice["title"] not in page.content.decode()


def test_opening_a_notice_marks_it_read_and_acknowledging_records_it(
    network, notices, portal
) -> None:
    browser = portal(network.bob)
    amber = notices[1]
    assert "unread" in browser.get("/notices/").content.decode()
    page = browser.get(f"/notices/{amber['id']}/")
    assert page.status_code == 200
    receipt = NoticeReceipt.objects.get(notice_id=amber["id"], organisation=network.be_desk)
    assert receipt.read_at is not None
    assert AuditEvent.objects.filter(action="notice.read", object_id=str(amber["id"])).exists()
    answer = browser.post(f"/notices/{amber['id']}/acknowledge/")
    assert answer["Location"] == f"/notices/{amber['id']}/"
    receipt.refresh_from_db()
    assert receipt.acknowledged_by == network.bob
    assert "Acknowledged" in browser.get(answer["Location"]).content.decode()


def test_a_notice_body_is_rendered_without_scripts(network, api, portal) -> None:
    cora = api(network.cora)
    body = "**Check** cells.\n\n<script>alert(1)</script>\n\n[x](javascript:alert(2)) <img src=x onerror=alert(3)>"
    notice = publish(cora, draft(cora, body=body)["id"])
    html = portal(network.olga).get(f"/notices/{notice['id']}/").content.decode()
    assert "<strong>Check</strong>" in html
    assert "<script>alert(1)" not in html
    assert "javascript:" not in html
    assert "onerror" not in html


def test_acknowledging_says_what_was_done_and_refuses_personal_data_at_its_field(
    network, notices, portal
) -> None:
    browser = portal(network.bob)
    amber = notices[1]
    refused = browser.post(
        f"/notices/{amber['id']}/acknowledge/",
        {"outcome": "seized", "comment": "Call the inmate on +32 470 12 34 56"},
    )
    assert refused.status_code == 400
    assert 'id="id_comment_error"' in refused.content.decode()
    done = browser.post(
        f"/notices/{amber['id']}/acknowledge/",
        {"outcome": "checked_none_found", "comment": "Searched 12 cells."},
    )
    assert done.status_code == 302
    receipt = NoticeReceipt.objects.get(notice_id=amber["id"], organisation=network.be_desk)
    assert (receipt.outcome, receipt.comment) == ("checked_none_found", "Searched 12 cells.")


def test_the_home_page_lists_drafts_to_review_for_reviewers(network, api, portal) -> None:
    alice = api(network.alice)
    notice = draft(alice, title="Please review this")
    assert alice.post(f"/api/v1/notices/{notice['id']}/submit/").status_code == 200
    assert "Please review this" in portal(network.cora).get("/").content.decode()
    assert "Please review this" not in portal(network.bob).get("/").content.decode()
