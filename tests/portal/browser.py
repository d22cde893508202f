"""A real browser for the portal's tests: Debian's Chromium driven by Playwright (its own
browser download is not reachable here), axe-core run on every page, screenshots kept.

Tests that use it are marked `browser` and skipped, in one line, where no Chromium is
installed (`.ci/run` installs it).
"""

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = os.environ.get("DIX_CHROMIUM") or shutil.which("chromium") or ""
SHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"
# Flags that keep a headless Chromium on this machine's closed network quiet and fast.
FLAGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

NO_BROWSER = "no Chromium: apt-get install chromium (or set DIX_CHROMIUM)"
# CI (`.ci/run`) sets DIX_REQUIRE_BROWSER: there a missing browser fails the tests.
needs_chromium = pytest.mark.skipif(
    not CHROMIUM and not os.environ.get("DIX_REQUIRE_BROWSER"), reason=NO_BROWSER
)


@pytest.fixture
def browser() -> Iterator[Any]:
    # Playwright's sync API runs an event loop in this thread; the test's own ORM calls
    # stay synchronous.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        try:
            yield launched
        finally:
            launched.close()
    os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)


def serious_violations(page: Any) -> list[str]:
    """axe-core's serious and critical findings on the page as it is now."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
        for v in results.response["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def check_page(page: Any, name: str, *, full_page: bool = True) -> None:
    """axe on the page, and a screenshot for docs/portal.md."""
    found = serious_violations(page)
    assert not found, f"{name}: " + "\n".join(found)
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=full_page)
