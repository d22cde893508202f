"""Subscriptions in a real browser: a coordinator creates an endpoint on a loopback receiver,
sees its secret once, sends a test event and finds it in the delivery log with a notice's
delivery; axe-core on every page."""

from typing import Any

import pytest

from tests.helpers.notices import draft, publish
from tests.helpers.webhooks import Receiver, receiver
from tests.portal.browser import check_page, needs_chromium
from tests.portal.conftest import code_for, with_authenticator
from tests.portal.test_browser_flows import sign_in
from webhooks import engine

pytestmark = [pytest.mark.slow, needs_chromium, pytest.mark.django_db(transaction=True)]
__all__ = ["receiver"]


def test_an_endpoint_is_created_tested_and_its_log_read(
    browser: Any, live_server: Any, network: Any, api: Any, receiver: Receiver
) -> None:
    device = with_authenticator(network.cora)
    page = browser.new_page()
    sign_in(page, live_server.url, "cora", code_for(device))
    page.get_by_role("link", name="Subscriptions", exact=True).click()
    page.wait_for_url(live_server.url + "/subscriptions/")
    check_page(page, "subscriptions-empty")
    page.get_by_label("URL").fill("http://10.0.0.1/hook")
    page.get_by_label("notice.published").check()
    page.get_by_role("button", name="Create the endpoint").click()
    assert page.locator("#id_url_error").is_visible()
    check_page(page, "subscriptions-refused")
    page.get_by_label("URL").fill(receiver.url("desk"))
    page.get_by_label("Description").fill("Secretariat case system")
    page.get_by_role("button", name="Create the endpoint").click()
    page.wait_for_url(live_server.url + "/subscriptions/*/")
    secret = page.locator("#new-secret").inner_text()
    assert secret.startswith("whsec_")
    receiver.secrets["desk"] = [secret]
    check_page(page, "subscription-created")
    page.get_by_role("button", name="Send a test event").click()
    assert "the endpoint answered 200" in page.locator(".messages").inner_text()
    assert secret not in page.content()
    assert [hit.payload["type"] for hit in receiver.to("desk")] == ["dix.test"]
    cora = api(network.cora)
    publish(cora, draft(cora, title="Mini phones in prisons")["id"])
    engine.deliver_due()
    page.reload()
    log = page.locator("table.deliveries").inner_text()
    assert "dix.test" in log
    assert "notice.published" in log
    check_page(page, "subscription")
    page.get_by_role("link", name="Subscriptions", exact=True).click()
    assert "Secretariat case system" in page.locator("table.subscriptions").inner_text()
    check_page(page, "subscriptions")
