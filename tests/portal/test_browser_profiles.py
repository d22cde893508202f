"""The profile editor in a real browser: alice (RED, TOTP) files a profile with a photo and a
PDF, edits it, and compares two revisions side by side; axe-core on every page."""

from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from intel.models import Attachment, DeviceProfile
from tests.portal.browser import check_page, needs_chromium
from tests.portal.conftest import code_for, with_authenticator
from tests.portal.test_browser_flows import sign_in

pytestmark = [pytest.mark.slow, needs_chromium, pytest.mark.django_db(transaction=True)]


def files(folder: Path) -> tuple[Path, Path]:
    photo = folder / "front.jpg"
    Image.new("RGB", (320, 200), (40, 90, 160)).save(photo, format="JPEG")
    pdf = folder / "protocol.pdf"
    pdf.write_bytes(b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n")
    return photo, pdf


def attach(page: Any, path: Path, kind: str, title: str) -> None:
    page.get_by_label("Photo (JPEG, PNG, WebP) or PDF").set_input_files(str(path))
    page.get_by_label("What it is").select_option(kind)
    page.get_by_label("Title (the photo's text alternative)").fill(title)
    with page.expect_navigation():
        page.get_by_role("button", name="Attach the file").click()


def test_alice_files_a_profile_with_a_photo_and_a_pdf(
    browser: Any, live_server: Any, network: Any, tmp_path: Path
) -> None:
    photo, pdf = files(tmp_path)
    device = with_authenticator(network.alice)
    page = browser.new_page()
    sign_in(page, live_server.url, "alice", code_for(device))
    page.get_by_role("link", name="Device profiles").first.click()
    page.get_by_role("link", name="File a new profile").click()
    page.get_by_label("Name", exact=True).fill("Key-fob mini phone")
    page.get_by_label("Class").select_option("mini_phone")
    page.get_by_label("Label", exact=True).select_option("TLP:AMBER")
    page.get_by_label("Belgian Desk").check()
    page.locator("#id_identifiers-0-kind").select_option("tac")
    page.locator("#id_identifiers-0-value").fill("35824005")
    # "Add another" brings a third identifier row (htmx), numbered after the two shown.
    page.get_by_role("button", name="Add another: Identifier").click()
    page.locator("#id_identifiers-2-value").wait_for()
    page.locator("#id_identifiers-2-kind").select_option("bluetooth_name")
    page.locator("#id_identifiers-2-value").fill("BM10")
    check_page(page, "profile-editor")
    page.get_by_role("button", name="File the profile").click()
    page.wait_for_url(live_server.url + "/profiles/*/")
    profile = DeviceProfile.objects.get(name="Key-fob mini phone")
    assert sorted(profile.identifiers.values_list("value", flat=True)) == ["35824005", "BM10"]

    attach(page, photo, "photo", "Front view")
    attach(page, pdf, "detection_protocol", "Detection protocol")
    assert Attachment.objects.filter(profile=profile).count() == 2
    image = page.get_by_role("img", name="Front view")
    # Once loaded: the thumbnail loads lazily, after the page.
    assert image.evaluate("img => img.decode().then(() => img.naturalWidth)") == 320
    assert page.get_by_role("link", name="Detection protocol").count() == 1
    check_page(page, "profile-with-photo")

    page.get_by_role("link", name="Edit this profile").click()
    page.get_by_label("Notes (never personal data)").fill("Sold as a car key fob.")
    page.get_by_role("button", name="Save changes").click()
    page.wait_for_url(f"{live_server.url}/profiles/{profile.pk}/")
    page.get_by_role("link", name="Revision history").click()
    check_page(page, "profile-revisions")
    page.get_by_role("button", name="Compare side by side").click()
    assert "Sold as a car key fob." in page.locator("tr.changed").inner_text()
    check_page(page, "profile-diff")
