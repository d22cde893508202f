"""A notice from draft to receipts in a real browser: the owner desk's analyst drafts it about
a profile for Belgium and Norway and submits it, the desk's coordinator publishes it, the
Belgian desk acknowledges it, and the issuer's receipts show who did and who not yet; axe-core
on every page."""

import re
from typing import Any

import pytest

from intel.models import TLP
from tests.factories import MemberFactory, OrganisationFactory
from tests.portal.browser import check_page, needs_chromium
from tests.portal.conftest import code_for, with_authenticator
from tests.portal.test_browser_flows import sign_in

pytestmark = [pytest.mark.slow, needs_chromium, pytest.mark.django_db(transaction=True)]


def test_a_notice_is_drafted_reviewed_published_acknowledged_and_followed_up(
    browser: Any, live_server: Any, network: Any, make_profile: Any
) -> None:
    base = live_server.url
    OrganisationFactory(slug="no-desk", name="Norwegian Desk", country="NO")
    felix = MemberFactory(
        username="felix", organisation=network.fr_desk, role="coordinator", clearance=TLP.RED
    )
    make_profile(name="Key-fob mini phone", tlp=TLP.AMBER, recipients=[network.be_desk])

    # The analyst drafts the notice.
    alice = browser.new_page()
    sign_in(alice, base, "alice", code_for(with_authenticator(network.alice)))
    alice.get_by_role("link", name="Notices", exact=True).click()
    alice.get_by_role("link", name="Draft a notice").click()
    check_page(alice, "notice-composer")
    alice.get_by_label("Title").fill("Key-fob mini phones in prisons")
    alice.get_by_label("Summary").fill("Low-metal phones pass walk-through metal detectors.")
    alice.get_by_label("Body (Markdown)").fill("Seen in **three** prisons.\n\n- cell searches")
    alice.locator("#body-preview strong").wait_for()  # the preview, while typing
    alice.get_by_label("Search the profiles you may see").fill("key-fob")
    alice.get_by_label(re.compile("Key-fob mini phone")).check()
    alice.locator("#id_tlp").select_option(TLP.AMBER)
    alice.get_by_label("Listed countries").check()
    alice.get_by_label("Countries (audience: countries)").fill("BE, NO")
    alice.get_by_role("button", name="Save draft").click()
    alice.wait_for_url(re.compile(r"/notices/\d+/edit/$"))
    pk = int(alice.url.rstrip("/").split("/")[-2])
    reach = alice.locator("#audience .reach strong").inner_text()
    assert re.fullmatch(r"Reaches \d+ organisations in 3 countries", reach), reach
    alice.get_by_text("Show the organisations").click()
    names = alice.locator("#audience tbody").inner_text()
    assert "Belgian Desk" in names
    assert "Norwegian Desk" in names
    assert "German Desk" not in names
    check_page(alice, "notice-draft")
    alice.get_by_role("button", name="Save and submit for review").click()
    alice.wait_for_url(f"{base}/notices/{pk}/")
    assert "Submitted for review." in alice.locator(".messages").inner_text()

    # The desk's coordinator reviews and publishes it.
    reviewer = browser.new_page()
    sign_in(reviewer, base, "felix", code_for(with_authenticator(felix)))
    reviewer.get_by_role("link", name=re.compile("Key-fob mini phones in prisons")).click()
    assert reviewer.get_by_role("button", name="Return to the drafter").is_visible()
    check_page(reviewer, "notice-review")
    reviewer.get_by_role("button", name="Publish").click()
    assert "Published." in reviewer.locator(".messages").inner_text()

    # The Belgian desk sees it and acknowledges what it did.
    bob = browser.new_page()
    sign_in(bob, base, "bob", code_for(with_authenticator(network.bob)))
    bob.get_by_role("link", name=re.compile("Key-fob mini phones in prisons")).first.click()
    bob.get_by_label("What your desk did").select_option(label="Checked, none found")
    bob.get_by_role("button", name="Acknowledge for my desk").click()
    assert "Acknowledged for your organisation." in bob.locator(".messages").inner_text()

    # The issuer follows up: the Belgian desk acknowledged, the Norwegian one not yet.
    alice.goto(f"{base}/notices/{pk}/")
    alice.get_by_role("link", name="Receipts").click()
    alice.wait_for_url(f"{base}/notices/{pk}/receipts/")
    assert "Checked, none found" in alice.locator("#receipt-be-desk").inner_text()
    assert "not yet" in alice.locator("#receipt-no-desk").inner_text()
    assert re.search(r"1 of \d+ acknowledged", alice.locator(".progress-line").inner_text())
    check_page(alice, "notice-receipts")
