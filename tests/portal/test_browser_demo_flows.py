"""Issue 15's six end-to-end flows with the demo's own data and personas, in a real browser
and with the keyboard only: the data `make run` loads (`manage.py load_demo`), the published
demo password and the authenticator keys the sign-in page prints. Every form is filled with
Tab, Shift+Tab, typing, Space, Enter and arrow keys; every focused control must show its focus;
axe-core runs on every page (`check_page`, which also writes the screenshots of docs/portal.md).

1. fr-analyst files a TLP:AMBER profile for Norway only, with a photo and a PDF, and a notice
   about it to Belgium and Norway; the secretariat's coordinator publishes it;
2. be-officer finds it on the home page, reads it and acknowledges "checked, none found"; the
   issuer's receipts show it, and the Norwegian liaison prosecutor as not yet acknowledged;
3. de-officer sees neither the notice nor the AMBER profile; their URLs answer "Not found";
4. be-officer requests the profile from the notice; fr-analyst approves (the French desk lets
   its analysts decide); be-officer reads it, photo included;
5. an IMEI CSV of 10,000 rows is checked and the result downloaded;
6. a seizure report is filed and appears in the statistics chart.
"""

import io
import re
from base64 import b32decode
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django_otp.oath import TOTP
from PIL import Image

from intel.models import TLP, Attachment, DeviceProfile
from operations import demo
from tests.portal.browser import check_page, needs_chromium

pytestmark = [pytest.mark.slow, needs_chromium, pytest.mark.django_db(transaction=True)]

NOTICE = "Key-fob mini phones in Belgian and Norwegian prisons"
PROFILE = "Key-fob mini phone (BM10)"
TEASER = "Key-fob mini phone: photos, identifiers and detection protocol"


@pytest.fixture
def personas(live_server: Any, settings: Any) -> dict[str, demo.Persona]:
    """The demo loaded into the live server's database, and the sign-in page listing the
    personas, as `make run` has them."""
    settings.DIX_DEMO = True
    call_command("load_demo", "--quiet", stdout=io.StringIO())
    return {persona.username: persona for persona in demo.personas()}


def code_from_key(persona: demo.Persona) -> str:
    """What an authenticator app set up with the key printed for the persona shows now."""
    key = persona.totp_secret + "=" * (-len(persona.totp_secret) % 8)
    return f"{TOTP(b32decode(key)).token():06d}"


# Keyboard only: the helpers below reach a control by pressing Tab (or Shift+Tab when it lies
# before the focus) until it has the focus, so a control the keyboard cannot reach fails.


def assert_focus_visible(page: Any) -> None:
    """The focused element is drawn with a ring: an outline or a box shadow."""
    style = page.evaluate(
        """() => { const s = getComputedStyle(document.activeElement);
        return {outline: s.outlineStyle, width: s.outlineWidth, shadow: s.boxShadow,
                what: document.activeElement.outerHTML.slice(0, 120)}; }"""
    )
    ring = style["outline"] != "none" and style["width"] != "0px"
    assert ring or style["shadow"] != "none", f"no visible focus on {style['what']}"


def tab_to(page: Any, target: Any, *, limit: int = 250) -> None:
    target.wait_for()
    for _ in range(limit):
        where = target.evaluate(
            """el => { const f = document.activeElement;
            if (f === el) return "here";
            return f && f !== document.body
              && (el.compareDocumentPosition(f) & Node.DOCUMENT_POSITION_FOLLOWING)
              ? "after" : "before"; }"""
        )
        if where == "here":
            assert_focus_visible(page)
            return
        page.keyboard.press("Shift+Tab" if where == "after" else "Tab")
    raise AssertionError(f"the keyboard does not reach {target}")


def type_into(page: Any, target: Any, text: str) -> None:
    tab_to(page, target)
    page.keyboard.press("ControlOrMeta+a")
    page.keyboard.type(text)


def choose(page: Any, select: Any, label: str) -> None:
    """A closed select's option, picked with the arrow keys."""
    tab_to(page, select)
    page.keyboard.press("Home")
    for _ in range(60):
        if select.evaluate("s => s.selectedOptions[0]?.textContent.trim()") == label:
            return
        page.keyboard.press("ArrowDown")
    raise AssertionError(f"no option {label!r}")


def tick(page: Any, box: Any) -> None:
    tab_to(page, box)
    page.keyboard.press("Space")
    assert box.is_checked()


def pick_radio(page: Any, radio: Any) -> None:
    """Tab enters a radio group on its checked button; the arrows move the choice."""
    name = radio.get_attribute("name")
    tab_to(page, page.locator(f"input[name='{name}']:checked"))
    for _ in range(10):
        if radio.is_checked():
            return
        page.keyboard.press("ArrowDown")
    raise AssertionError(f"the arrows do not reach {radio}")


def press(page: Any, control: Any) -> None:
    """Enter on a link or a button."""
    tab_to(page, control)
    page.keyboard.press("Enter")


def follow(page: Any, link: Any, name: str) -> None:
    """A link followed with Enter; axe and a screenshot on the page it opens."""
    with page.expect_navigation():
        press(page, link)
    check_page(page, name)


def choose_file(page: Any, control: Any, path: Path) -> None:
    """A file input opens the system's file chooser on Space (Chromium now and then drops a
    first press made while the page is still settling: a second one opens it)."""
    from playwright.sync_api import TimeoutError as NoChooser

    tab_to(page, control)
    for _ in range(3):
        try:
            with page.expect_file_chooser(timeout=3000) as chooser:
                page.keyboard.press("Space")
        except NoChooser:
            continue
        chooser.value.set_files(str(path))
        assert control.evaluate("input => input.files.length") == 1
        return
    raise AssertionError(f"Space does not open the file chooser of {control}")


def sign_in(browser: Any, base: str, persona: demo.Persona, *, shots: str = "") -> Any:
    page = browser.new_page(locale="en-US", viewport={"width": 1200, "height": 800})
    page.goto(base + "/")
    page.wait_for_url(re.compile(r"/login/"))
    if shots:
        check_page(page, f"{shots}sign-in")
    type_into(page, page.get_by_label("User name"), persona.username)
    type_into(page, page.get_by_label("Password"), persona.password)
    page.keyboard.press("Enter")
    if persona.totp_secret:
        page.wait_for_url(re.compile(r"/login/verify/"))
        if shots:
            check_page(page, f"{shots}second-factor")
        type_into(
            page, page.get_by_label("Code from your authenticator app"), code_from_key(persona)
        )
        page.keyboard.press("Enter")
    page.wait_for_url(base + "/")
    check_page(page, f"{shots or persona.username + '-'}home")
    return page


def nav(page: Any, name: str) -> Any:
    return page.get_by_role("navigation", name="Main").get_by_role("link", name=name, exact=True)


def messages(page: Any) -> str:
    return str(page.locator(".messages").inner_text())


def made_files(folder: Path) -> tuple[Path, Path]:
    photo = folder / "key-fob-front.jpg"
    Image.new("RGB", (480, 300), (40, 90, 160)).save(photo, format="JPEG")
    pdf = folder / "detection-protocol.pdf"
    pdf.write_bytes(b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n")
    return photo, pdf


def attach(page: Any, path: Path, kind: str, title: str) -> None:
    choose_file(page, page.get_by_label("Photo (JPEG, PNG, WebP) or PDF"), path)
    choose(page, page.get_by_label("What it is"), kind)
    type_into(page, page.get_by_label("Title (the photo's text alternative)"), title)
    with page.expect_navigation():
        press(page, page.get_by_role("button", name="Attach the file"))
    assert "Attached." in messages(page)


def flow_1_file_a_profile_and_a_notice(
    browser: Any, base: str, people: dict[str, demo.Persona], folder: Path
) -> tuple[Any, int, int]:
    analyst = sign_in(browser, base, people["fr-analyst"], shots="demo-")
    follow(analyst, nav(analyst, "Device profiles"), "demo-profiles")
    follow(analyst, analyst.get_by_role("link", name="File a new profile"), "demo-profile-new")
    type_into(analyst, analyst.get_by_label("Name", exact=True), PROFILE)
    choose(analyst, analyst.get_by_label("Class"), "Mini phone")
    type_into(analyst, analyst.get_by_label("Length (mm)"), "58")
    type_into(analyst, analyst.get_by_label("Weight (g)"), "19")
    type_into(
        analyst,
        analyst.get_by_label("Notes (never personal data)"),
        "Sold as a car key fob; passes walk-through metal detectors.",
    )
    type_into(analyst, analyst.get_by_label("Summary for those who may request it"), TEASER)
    # Norway receives the profile; Belgium will have to ask for it (flow 4).
    choose(analyst, analyst.get_by_label("Label", exact=True), "TLP:AMBER")
    tick(analyst, analyst.get_by_label("Liaison Prosecutor for Norway at Eurojust"))
    choose(analyst, analyst.locator("#id_identifiers-0-kind"), "IMEI TAC (8 digits)")
    type_into(analyst, analyst.locator("#id_identifiers-0-value"), "35824005")
    choose(analyst, analyst.locator("#id_identifiers-1-kind"), "Bluetooth name")
    type_into(analyst, analyst.locator("#id_identifiers-1-value"), "BM10")
    check_page(analyst, "demo-profile-editor")
    with analyst.expect_navigation():
        press(analyst, analyst.get_by_role("button", name="File the profile"))
    profile = DeviceProfile.objects.get(name=PROFILE)
    assert analyst.url == f"{base}/profiles/{profile.pk}/"
    assert profile.tlp == TLP.AMBER
    assert list(profile.recipient_organisations.values_list("slug", flat=True)) == ["no-liaison"]
    photo, pdf = made_files(folder)
    attach(analyst, photo, "Photo", "Front view of the key fob")
    attach(analyst, pdf, "Detection protocol", "Detection protocol")
    assert Attachment.objects.filter(profile=profile).count() == 2
    image = analyst.get_by_role("img", name="Front view of the key fob")
    image.scroll_into_view_if_needed()
    assert image.evaluate("img => img.decode().then(() => img.naturalWidth)") == 480
    check_page(analyst, "demo-profile")

    follow(analyst, nav(analyst, "Notices"), "demo-notices")
    follow(analyst, analyst.get_by_role("link", name="Draft a notice"), "demo-composer-new")
    choose(analyst, analyst.locator("#id_type"), "Alert")
    type_into(analyst, analyst.get_by_label("Title"), NOTICE)
    type_into(
        analyst,
        analyst.get_by_label("Summary"),
        "Mini phones sold as car key fobs pass walk-through metal detectors.",
    )
    type_into(
        analyst,
        analyst.get_by_label("Body (Markdown)"),
        "Seen in **three** French prisons since March.\n\n- cell searches\n- parcel scans\n",
    )
    analyst.locator("#body-preview strong").wait_for()  # the preview, while typing
    type_into(
        analyst,
        analyst.get_by_label("Action requested"),
        "Check your prisons and tell us what you found.",
    )
    type_into(analyst, analyst.get_by_label("Search the profiles you may see"), "key-fob")
    box = analyst.get_by_label(re.compile(re.escape(PROFILE)))
    tick(analyst, box)
    choose(analyst, analyst.locator("#id_tlp"), "TLP:AMBER")
    pick_radio(analyst, analyst.get_by_label("Listed countries"))
    type_into(analyst, analyst.get_by_label("Countries (audience: countries)"), "BE, NO")
    tick(analyst, analyst.get_by_label("Restricted data available on request"))
    with analyst.expect_navigation():
        press(analyst, analyst.get_by_role("button", name="Save draft"))
    analyst.wait_for_url(re.compile(r"/notices/\d+/edit/$"))
    notice = int(analyst.url.rstrip("/").split("/")[-2])
    reach = analyst.locator("#audience .reach strong").inner_text()
    # Belgium and Norway, and the issuing desk with the authorities it sponsors.
    assert reach == "Reaches 5 organisations in 3 countries", reach
    press(analyst, analyst.get_by_text("Show the organisations"))
    names = analyst.locator("#audience tbody").inner_text()
    assert "Belgian Desk at Eurojust" in names
    assert "Liaison Prosecutor for Norway at Eurojust" in names
    assert "German Desk" not in names
    check_page(analyst, "demo-composer")
    with analyst.expect_navigation(url=f"{base}/notices/{notice}/"):
        press(analyst, analyst.get_by_role("button", name="Save and submit for review"))
    assert "Submitted for review." in messages(analyst)
    check_page(analyst, "demo-notice-submitted")

    coordinator = sign_in(browser, base, people["coordinator"])
    review = coordinator.get_by_role("region", name="Drafts waiting for your review")
    follow(coordinator, review.get_by_role("link", name=NOTICE), "demo-notice-review")
    assert coordinator.get_by_role("button", name="Return to the drafter").is_visible()
    with coordinator.expect_navigation():
        press(coordinator, coordinator.get_by_role("button", name="Publish"))
    assert "Published." in messages(coordinator)
    check_page(coordinator, "demo-notice-published")
    return analyst, profile.pk, notice


def flow_2_acknowledge(
    browser: Any, base: str, people: dict[str, demo.Persona], analyst: Any, notice: int
) -> Any:
    officer = sign_in(browser, base, people["be-officer"], shots="demo-be-")
    waiting = officer.get_by_role("region", name="Waiting for your desk")
    link = waiting.get_by_role("link", name=re.compile(re.escape(NOTICE)))
    assert "not yet" in waiting.locator("tr", has_text=NOTICE).inner_text()  # read
    follow(officer, link, "demo-notice")
    assert officer.get_by_role("heading", level=1).inner_text() == NOTICE
    # The profile is not shared with Belgium: the notice says where to ask for it.
    assert officer.get_by_role("link", name=PROFILE).count() == 0
    assert "Restricted data available." in officer.get_by_role("note").last.inner_text()
    choose(officer, officer.get_by_label("What your desk did"), "Checked, none found")
    type_into(
        officer,
        officer.get_by_label("Comment for the issuer (no personal data)"),
        "Searched 12 Belgian prisons: none found.",
    )
    with officer.expect_navigation():
        press(officer, officer.get_by_role("button", name="Acknowledge for my desk"))
    assert "Acknowledged for your organisation." in messages(officer)
    check_page(officer, "demo-notice-acknowledged")
    follow(officer, nav(officer, "Notices"), "demo-be-inbox")
    assert "acknowledged" in officer.locator("tbody tr", has_text=NOTICE).inner_text()
    assert "to acknowledge" in officer.locator("tbody tr", has_text="Prison Break").inner_text()

    analyst.goto(f"{base}/notices/{notice}/")
    check_page(analyst, "demo-notice-issuer")
    follow(analyst, analyst.get_by_role("link", name="Receipts"), "demo-receipts")
    belgium = analyst.locator("#receipt-be-desk").inner_text()
    assert "Checked, none found" in belgium
    assert "Searched 12 Belgian prisons: none found." in belgium
    norway = analyst.locator("#receipt-no-liaison")
    assert "Liaison Prosecutor for Norway" in norway.inner_text()
    assert norway.locator("td").nth(2).inner_text() == "not yet"  # acknowledged
    assert analyst.locator(".progress-line").inner_text().strip() == "1 of 4 acknowledged"
    return officer


def flow_3_outsider(
    browser: Any, base: str, people: dict[str, demo.Persona], profile: int, notice: int
) -> None:
    outsider = sign_in(browser, base, people["de-officer"])
    assert NOTICE not in outsider.content()
    follow(outsider, nav(outsider, "Notices"), "demo-de-notices")
    assert NOTICE not in outsider.content()
    follow(outsider, nav(outsider, "Device profiles"), "demo-de-profiles")
    assert PROFILE not in outsider.content()
    type_into(outsider, outsider.get_by_role("searchbox"), "key fob")
    with outsider.expect_navigation():
        outsider.keyboard.press("Enter")
    check_page(outsider, "demo-de-profile-search")
    assert PROFILE not in outsider.content()
    for url in (f"/notices/{notice}/", f"/profiles/{profile}/"):
        answer = outsider.goto(base + url)
        assert answer is not None
        assert answer.status == 404
        assert outsider.get_by_role("heading", level=1).inner_text() == "Not found"
        assert NOTICE not in outsider.content()
        assert PROFILE not in outsider.content()
        check_page(outsider, "demo-not-found")


def flow_4_access_request(base: str, officer: Any, analyst: Any, profile: int) -> None:
    follow(
        officer, officer.get_by_role("link", name=re.compile(re.escape(NOTICE))), "demo-be-notice"
    )
    follow(
        officer, officer.get_by_role("link", name="See what you may request"), "demo-requestable"
    )
    follow(
        officer, officer.get_by_role("link", name=f"Request {TEASER}"), "demo-access-request-form"
    )
    type_into(
        officer,
        officer.get_by_label("Purpose: why your desk needs it"),
        "Compare with devices seized in Belgian prisons.",
    )
    type_into(officer, officer.get_by_label("Legal basis"), "Art. 21 Regulation (EU) 2018/1727")
    type_into(officer, officer.get_by_label("Case reference"), "BE-2026-0117")
    type_into(officer, officer.get_by_label("Days of access"), "30")
    with officer.expect_navigation():
        press(officer, officer.get_by_role("button", name="Send the request"))
    assert "Request sent to its owner." in messages(officer)
    request_url = officer.url
    check_page(officer, "demo-access-request-sent")

    follow(analyst, nav(analyst, "Home"), "demo-home-decide")
    decide = analyst.get_by_role("region", name="Access requests waiting for your decision")
    follow(analyst, decide.get_by_role("link", name="Decide"), "demo-access-decision")
    assert analyst.url == request_url
    choose(analyst, analyst.get_by_label("Scope"), "A profile and its attachments")
    type_into(analyst, analyst.get_by_label("Days of access"), "20")
    type_into(analyst, analyst.get_by_label("Note for the requester"), "Granted for the case.")
    with analyst.expect_navigation():
        press(analyst, analyst.get_by_role("button", name="Approve", exact=True))
    assert "Approved" in messages(analyst)
    check_page(analyst, "demo-access-approved")

    officer.goto(request_url)
    check_page(officer, "demo-access-granted")
    follow(officer, officer.get_by_role("link", name="open the profile"), "demo-granted-profile")
    assert officer.get_by_role("heading", level=1).inner_text() == PROFILE
    assert officer.get_by_role("img", name="Front view of the key fob").count() == 1
    assert officer.url == f"{base}/profiles/{profile}/"


def test_a_profile_and_a_notice_go_from_the_analyst_to_the_desks_and_their_outsider(
    browser: Any, live_server: Any, personas: dict[str, demo.Persona], tmp_path: Path
) -> None:
    """Flows 1 to 4, each building on the one before."""
    base = live_server.url
    analyst, profile, notice = flow_1_file_a_profile_and_a_notice(browser, base, personas, tmp_path)
    officer = flow_2_acknowledge(browser, base, personas, analyst, notice)
    flow_3_outsider(browser, base, personas, profile, notice)
    flow_4_access_request(base, officer, analyst, profile)


def test_an_imei_csv_of_10000_rows_is_checked_and_downloaded(
    browser: Any, live_server: Any, personas: dict[str, demo.Persona], tmp_path: Path
) -> None:
    """Flow 5: half the rows carry the demo L8star's (synthetic) TAC."""
    rows = (
        ["imei"]
        + [f"00999900{n:06d}" for n in range(5000)]
        + [f"49015420{n:06d}" for n in range(5000)]
    )
    upload = tmp_path / "seized.csv"
    upload.write_text("\n".join(rows) + "\n")
    officer = sign_in(browser, live_server.url, personas["be-officer"])
    follow(officer, nav(officer, "IMEI check"), "demo-imei")
    field = officer.get_by_label("Or a CSV file (first column)")
    choose_file(officer, field, upload)
    press(officer, officer.get_by_role("button", name="Check", exact=True))
    officer.locator("#result h2").wait_for()
    tiles = officer.locator("#result .tiles").inner_text()
    assert re.sub(r"[\s,\u202f]", "", tiles).startswith("10000items")
    assert officer.get_by_role("link", name="L8star ultra-compact mini phone").count() >= 1
    officer.locator("#result").evaluate("el => el.scrollIntoView()")
    officer.mouse.wheel(0, -160)  # the file chosen, above the result
    check_page(officer, "demo-imei-results", full_page=False)
    choose_file(officer, field, upload)
    with officer.expect_download() as download:
        press(officer, officer.get_by_role("button", name="Check and download CSV"))
    saved = tmp_path / "result.csv"
    download.value.save_as(saved)
    lines = saved.read_text().splitlines()
    assert len(lines) == 10001
    assert lines[0].startswith("input,normalised")
    assert "L8star ultra-compact mini phone" in lines[1]
    assert lines[-1].startswith("49015420004999,")


def test_a_seizure_report_appears_in_the_statistics_chart(
    browser: Any, live_server: Any, personas: dict[str, demo.Persona]
) -> None:
    """Flow 6: the Belgian desk reports 42 of the demo's Oportik mini phones."""
    officer = sign_in(browser, live_server.url, personas["be-officer"])
    follow(officer, nav(officer, "Seizures"), "demo-seizures")
    follow(officer, officer.get_by_role("link", name="Statistics"), "demo-stats-before")
    assert "2026-02" not in officer.locator("#readable table.stats-month").inner_text()
    follow(officer, nav(officer, "Seizures"), "demo-seizures")
    follow(officer, officer.get_by_role("link", name="Report a seizure"), "demo-seizure-form")
    tab_to(officer, officer.get_by_label("Date of the search"))
    officer.keyboard.type("02102026")  # mm/dd/yyyy in an en-US browser
    choose(officer, officer.get_by_label("Facility type"), "Prison")
    type_into(officer, officer.get_by_label("Facilities searched"), "4")
    choose(officer, officer.get_by_label("Detection method"), "Targeted cell search")
    type_into(officer, officer.get_by_label("Notes (no personal data)"), "Found in shoe soles.")
    choose(
        officer,
        officer.locator("#id_lines-0-profile"),
        "Ultra-compact low-metal mini phone distributed by Oportik",
    )
    type_into(officer, officer.locator("#id_lines-0-quantity"), "42")
    with officer.expect_navigation():
        press(officer, officer.get_by_role("button", name="File the report"))
    assert "Report filed." in messages(officer)
    check_page(officer, "demo-seizure-report")
    follow(officer, nav(officer, "Seizures"), "demo-seizures-after")
    follow(officer, officer.get_by_role("link", name="Statistics"), "demo-stats")
    chart = officer.locator("#readable svg[role=img]").first
    assert "devices seized by month" in (chart.locator("title").text_content() or "")
    assert "42" in (chart.text_content() or "")
    month = officer.locator("#readable table.stats-month tbody tr", has_text="2026-02")
    assert month.inner_text().split() == ["2026-02", "1", "42"]
