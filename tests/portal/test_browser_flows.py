"""The portal in a real browser: signing in with a code from an authenticator, reading a
profile, an outsider's 404, a token shown once; axe-core on every page."""

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


def test_an_outsider_meets_the_portals_404(
    browser: Any, live_server: Any, network: Any, make_profile: Any
) -> None:
    profile = make_profile(name="Restricted annex", tlp=TLP.AMBER, recipients=[network.be_desk])
    device = with_authenticator(network.charlie)
    page = browser.new_page()
    sign_in(page, live_server.url, "charlie", code_for(device))
    answer = page.goto(f"{live_server.url}/profiles/{profile.pk}/")
    assert answer is not None
    assert answer.status == 404
    assert "Not found" in page.get_by_role("heading", level=1).inner_text()
    assert "Restricted annex" not in page.content()
    check_page(page, "not-found")
    page.goto(live_server.url + "/profiles/")
    assert "Restricted annex" not in page.content()


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


def test_a_desk_officer_reads_and_acknowledges_a_notice(
    browser: Any, live_server: Any, network: Any, api: Any
) -> None:
    from tests.helpers.notices import draft, publish

    cora = api(network.cora)
    notice = publish(cora, draft(cora, title="Mini phones in prisons", tlp=TLP.AMBER)["id"])
    device = with_authenticator(network.bob)
    page = browser.new_page()
    sign_in(page, live_server.url, "bob", code_for(device))
    page.get_by_role("link", name=re.compile("Mini phones in prisons")).click()
    assert page.get_by_role("heading", level=1).inner_text() == "Mini phones in prisons"
    check_page(page, "notice")
    page.get_by_role("button", name="Acknowledge for my desk").click()
    assert "Acknowledged for your organisation." in page.locator(".messages").inner_text()
    page.get_by_role("link", name="Notices", exact=True).click()
    check_page(page, "notices")
    assert "acknowledged" in page.locator("tbody").inner_text()
    assert notice["id"]


def test_an_imei_csv_of_10000_rows_is_checked_and_downloaded(
    browser: Any, live_server: Any, network: Any, make_profile: Any, tmp_path: Any
) -> None:
    make_profile(
        name="Key-fob mini phone",
        tlp=TLP.GREEN,
        identifiers=[{"kind": "tac", "value": "35824005"}],
    )
    rows = (
        ["imei"]
        + [f"35824005{n:06d}" for n in range(5000)]
        + [f"49015420{n:06d}" for n in range(5000)]
    )
    upload = tmp_path / "seized.csv"
    upload.write_text("\n".join(rows) + "\n")
    with_password(network.olga)
    page = browser.new_page()
    sign_in(page, live_server.url, "olga", None)
    page.get_by_role("link", name="IMEI check").click()
    page.get_by_label("Or a CSV file (first column)").set_input_files(str(upload))
    page.get_by_role("button", name="Check", exact=True).click()
    page.locator("#result h2").wait_for()
    tiles = page.locator("#result .tiles").inner_text()
    assert "10000" in tiles.replace(",", "").replace("\u202f", "")
    assert page.get_by_role("link", name="Key-fob mini phone").count() >= 1
    check_page(page, "imei-check", full_page=False)
    page.get_by_label("Or a CSV file (first column)").set_input_files(str(upload))
    with page.expect_download() as download:
        page.get_by_role("button", name="Check and download CSV").click()
    saved = tmp_path / "result.csv"
    download.value.save_as(saved)
    lines = saved.read_text().splitlines()
    assert len(lines) == 10001
    assert lines[0].startswith("input,normalised")
    assert "Key-fob mini phone" in lines[1]
