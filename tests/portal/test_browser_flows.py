"""The portal in a real browser: signing in with a code from an authenticator, reading a
profile, keyboard-only sign-in, a token shown once; axe-core on every page. The issue's
end-to-end flows with the demo personas are in test_browser_demo_flows.py."""

import re
from typing import Any

import pytest

from intel.models import TLP
from tests.portal.browser import check_page, needs_chromium
from tests.portal.conftest import PASSWORD, code_for, with_authenticator, with_password

pytestmark = [pytest.mark.slow, needs_chromium, pytest.mark.django_db(transaction=True)]


def password_step(page: Any, base: str, username: str) -> None:
    page.goto(base + "/")
    page.get_by_label("User name").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Continue").click()


def sign_in(page: Any, base: str, username: str, code: str | None) -> None:
    password_step(page, base, username)
    if code is not None:
        page.get_by_label("Code from your authenticator app").fill(code)
        page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(base + "/")


def test_an_analyst_signs_in_with_a_code_and_reads_a_profile(
    browser: Any, live_server: Any, network: Any, make_profile: Any
) -> None:
    profile = make_profile(name="Key-fob mini phone", tlp=TLP.AMBER, recipients=[network.be_desk])
    device = with_authenticator(network.alice)
    page = browser.new_page()
    page.goto(live_server.url + "/")
    check_page(page, "sign-in")
    password_step(page, live_server.url, "alice")
    page.wait_for_url(live_server.url + "/login/verify/")
    check_page(page, "second-factor")
    page.get_by_label("Code from your authenticator app").fill(code_for(device))
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(live_server.url + "/")
    check_page(page, "home")
    page.get_by_role("link", name="Device profiles").first.click()
    check_page(page, "profiles")
    page.get_by_role("link", name="Key-fob mini phone").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Key-fob mini phone"
    assert "TLP:AMBER" in page.locator(".label-banner").inner_text()
    check_page(page, "profile")
    assert page.url.endswith(f"/profiles/{profile.pk}/")


def test_a_token_is_shown_once_and_works(browser: Any, live_server: Any, network: Any) -> None:
    with_password(network.olga)
    page = browser.new_page()
    sign_in(page, live_server.url, "olga", None)
    page.get_by_role("link", name="My settings").click()
    page.get_by_label("Name (what the token is for)").fill("case system")
    page.get_by_role("button", name="Create a token").click()
    secret = page.locator("#new-token").inner_text()
    assert re.fullmatch(r"dix_[A-Za-z0-9_-]+", secret)
    check_page(page, "settings")
    me = page.request.get(
        live_server.url + "/api/v1/me/", headers={"Authorization": f"Bearer {secret}"}
    )
    assert me.json()["username"] == "olga"
    page.reload()
    assert secret not in page.content()


def test_keyboard_only_sign_in(browser: Any, live_server: Any, network: Any) -> None:
    with_password(network.olga)
    page = browser.new_page()
    page.goto(live_server.url + "/login/")
    page.keyboard.press("Tab")  # the skip link comes first, and is visible when focused
    assert page.evaluate("document.activeElement.className") == "skip"
    page.get_by_label("User name").focus()
    page.keyboard.type("olga")
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(live_server.url + "/")
