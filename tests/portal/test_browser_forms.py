"""The portal's fuller forms in a real browser: a desk amends a seizure report (the form comes
prefilled, a reason holding personal data is refused at its field, the saved version joins
the report's versions). axe-core on every page."""

from typing import Any

import pytest

from intel.models import TLP
from tests.portal.browser import check_page, needs_chromium
from tests.portal.conftest import code_for, with_authenticator
from tests.portal.test_browser_flows import sign_in

pytestmark = [pytest.mark.slow, needs_chromium, pytest.mark.django_db(transaction=True)]


def test_a_desk_amends_a_seizure_report(
    browser: Any, live_server: Any, network: Any, make_profile: Any, api: Any
) -> None:
    mini = make_profile(tlp=TLP.GREEN, name="Oportik mini phone")
    filed = api(network.bob).post(
        "/api/v1/seizures/",
        {
            "seized_on": "2025-05-20",
            "facility_type": "prison",
            "lines": [{"profile": mini.pk, "quantity": 88}],
        },
        format="json",
    )
    assert filed.status_code == 201, filed.content
    report = filed.json()["id"]
    device = with_authenticator(network.bob)
    page = browser.new_page()
    sign_in(page, live_server.url, "bob", code_for(device))
    page.goto(f"{live_server.url}/seizures/{report}/")
    check_page(page, "seizure-report")
    page.get_by_role("link", name="Amend").click()
    assert page.locator("#id_lines-0-quantity").input_value() == "88"
    check_page(page, "seizure-amend")
    page.locator("#id_lines-0-quantity").fill("90")
    page.get_by_label("TACs read on the devices").fill("35824005")
    page.get_by_label("Why you amend the report").fill("Recount, told by +33 6 12 34 56 78")
    page.get_by_role("button", name="Save the new version").click()
    assert "phone number" in page.locator("#id_reason_error").inner_text()
    check_page(page, "seizure-amend-refused")
    page.get_by_label("Why you amend the report").fill("Recount at the evidence store.")
    page.get_by_role("button", name="Save the new version").click()
    assert "Report amended" in page.locator(".messages").inner_text()
    versions = page.locator("table.versions tbody tr")
    assert versions.count() == 2
    assert "Recount at the evidence store." in versions.first.inner_text()
    assert "90" in versions.first.inner_text()
    assert "88" in versions.last.inner_text()
    check_page(page, "seizure-versions")
    data = api(network.bob).get(f"/api/v1/seizures/{report}/").json()
    assert (data["version"], data["tacs_observed"]) == (2, ["35824005"])
