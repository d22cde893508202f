"""Access requests and seizure reports in a real browser (issue 15, flows 4 and 6): a desk
requests a restricted profile from a notice and sees it once the owner approves; a seizure
report filed through the form appears in the statistics. axe-core on every page."""

from typing import Any

import pytest

from intel.models import TLP
from tests.helpers.access import analysts_decide, publish
from tests.portal.browser import check_page, needs_chromium
from tests.portal.conftest import code_for, with_authenticator
from tests.portal.test_browser_flows import sign_in

__all__ = ["analysts_decide"]  # a fixture used by name

pytestmark = [pytest.mark.slow, needs_chromium, pytest.mark.django_db(transaction=True)]


def test_a_desk_requests_a_restricted_profile_and_reads_it_once_approved(
    browser: Any, live_server: Any, network: Any, make_profile: Any, api: Any, analysts_decide: Any
) -> None:
    profile = make_profile(tlp=TLP.AMBER, name="Fr-only annex", request_summary="A shoe phone")
    notice = publish(
        network, api, profile_ids=[profile.pk], restricted_data_available=True, title="Shoe phones"
    )
    bob_device, alice_device = with_authenticator(network.bob), with_authenticator(network.alice)
    bob = browser.new_page()
    sign_in(bob, live_server.url, "bob", code_for(bob_device))
    bob.goto(f"{live_server.url}/notices/{notice['id']}/")
    bob.get_by_role("link", name="See what you may request").click()
    check_page(bob, "access-requestable")
    bob.get_by_role("link", name="Request A shoe phone").click()
    bob.get_by_label("Purpose: why your desk needs it").fill("Check Belgian prisons.")
    bob.get_by_label("Legal basis").fill("Art. 21 Regulation (EU) 2018/1727")
    bob.get_by_label("Days of access").fill("30")
    check_page(bob, "access-request-form")
    bob.get_by_role("button", name="Send the request").click()
    assert "Request sent to its owner." in bob.locator(".messages").inner_text()
    request_url = bob.url
    check_page(bob, "access-request-sent")

    alice = browser.new_page()
    sign_in(alice, live_server.url, "alice", code_for(alice_device))
    alice.get_by_role("link", name="Decide").first.click()
    assert alice.url == request_url
    check_page(alice, "access-request-decision")
    alice.get_by_label("Days of access").fill("10")
    alice.get_by_role("button", name="Approve").click()
    assert "Approved" in alice.locator(".messages").inner_text()
    alice.get_by_role("link", name="Access requests").first.click()
    check_page(alice, "access-requests")

    bob.goto(request_url)
    bob.get_by_role("link", name="open the profile").click()
    assert bob.get_by_role("heading", level=1).inner_text() == "Fr-only annex"
    check_page(bob, "access-granted-profile")


def test_a_seizure_report_filed_through_the_form_appears_in_the_statistics(
    browser: Any, live_server: Any, network: Any, make_profile: Any
) -> None:
    make_profile(tlp=TLP.GREEN, name="Oportik mini phone")
    device = with_authenticator(network.bob)
    page = browser.new_page()
    sign_in(page, live_server.url, "bob", code_for(device))
    page.get_by_role("link", name="Seizures").click()
    check_page(page, "seizures")
    page.get_by_role("link", name="Report a seizure").click()
    page.get_by_label("Date of the search").fill("2025-05-20")
    page.get_by_label("Facility type").select_option("prison")
    page.get_by_label("Notes (no personal data)").fill("Call +33 6 12 34 56 78")
    page.locator("#id_lines-0-profile").select_option(label="Oportik mini phone")
    page.locator("#id_lines-0-quantity").fill("88")
    page.get_by_role("button", name="File the report").click()
    assert "phone number" in page.locator("#id_notes_error").inner_text()
    check_page(page, "seizure-form-refused")
    page.get_by_label("Notes (no personal data)").fill("About 500 cells searched.")
    page.get_by_role("button", name="File the report").click()
    assert "Report filed." in page.locator(".messages").inner_text()
    check_page(page, "seizure-report")
    page.get_by_role("link", name="Seizures").click()
    page.get_by_role("link", name="Statistics").click()
    chart = page.locator("#readable svg[role=img]").first
    assert "devices seized by month" in (chart.locator("title").text_content() or "")
    assert "88" in (chart.text_content() or "")
    row = page.locator("#readable table.stats-month tbody tr").first
    assert row.inner_text().split() == ["2025-05", "1", "88"]
    check_page(page, "seizure-stats")
