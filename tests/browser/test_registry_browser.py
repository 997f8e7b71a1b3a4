"""A patient's path through the public registry in real Chromium (Debian's, never downloaded).

Search "cirrhosis" on /trials/, open NCT05227846 from the results, and read its key facts
(shared/seeds/NCT05227846.txt). Every request must stay on the test server: the site and
its API docs work offline. The listing's full-page screenshot is saved as
``listing-NCT05227846.png`` in $TRIALDESK_SCREENSHOT_DIR (docs/img for the committed one),
else in the test's tmp_path.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlparse

import pytest
from playwright.sync_api import expect, sync_playwright
from tests.browser._db import close_playwright_connections

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def browser_page(live_server, monkeypatch):
    """(page, offsite): a Chromium page whose requests may only go to the live server;
    any other request is aborted and its URL appended to ``offsite``."""
    assert CHROMIUM.exists(), f"{CHROMIUM} is missing: apt-get install chromium"
    # Playwright's sync API keeps an event loop in this thread; ORM calls made meanwhile by
    # the test (synchronous, on this thread) are safe, so let Django allow them here only.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    host = urlparse(live_server.url).netloc
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            context = browser.new_context(viewport={"width": 1280, "height": 900})
            page = context.new_page()
            offsite: list[str] = []

            def only_local(route):
                url = route.request.url
                if urlparse(url).netloc == host or url.startswith("data:"):
                    route.continue_()
                else:
                    offsite.append(url)
                    route.abort()

            context.route("**/*", only_local)
            page.set_default_timeout(15_000)
            yield page, offsite
        finally:
            close_playwright_connections()  # tests/browser/_db.py
            browser.close()


def screenshot_dir(tmp_path: Path) -> Path:
    wanted = os.environ.get("TRIALDESK_SCREENSHOT_DIR")
    path = Path(wanted) if wanted else tmp_path
    path.mkdir(parents=True, exist_ok=True)
    return path


def test_search_open_and_read_a_listing(seed_trials, live_server, browser_page, tmp_path):
    page, offsite = browser_page
    page.goto(f"{live_server.url}/trials/")
    expect(page.get_by_role("heading", name="Find clinical trials")).to_be_visible()
    # The site's own stylesheet loaded (the header is dark, not the default transparent).
    header_bg = page.eval_on_selector(".site-header", "e => getComputedStyle(e).backgroundColor")
    assert header_bg not in ("rgba(0, 0, 0, 0)", "transparent")

    page.get_by_label("Search").fill("cirrhosis")
    page.get_by_role("button", name="Search").click()
    page.wait_for_url("**/trials/?*text=cirrhosis*")
    expect(page.get_by_role("heading", name="2 trials found")).to_be_visible()

    result = page.locator('li[data-nct-id="NCT05227846"] h2 a')
    expect(result).to_contain_text("Decompensated Cirrhosis")
    result.click()
    page.wait_for_url("**/trials/NCT05227846/")

    expect(page.locator("h1")).to_have_text(
        "Human Umbilical Cord-derived Mesenchymal Stem Cells for Decompensated Cirrhosis"
        " (MSC-DLC-1)"
    )
    status = page.locator("#status-and-phase .status")
    expect(status).to_have_text("Recruiting")
    expect(status).to_have_attribute("data-status", "RECRUITING")
    expect(page.locator("#status-and-phase")).to_contain_text("Phase 1")
    expect(page.get_by_text("18 to 75 years old")).to_be_visible()
    exclusion = page.locator('ol[aria-labelledby="exclusion-criteria"] > li')
    expect(exclusion).to_have_count(20)
    expect(exclusion.nth(14)).to_have_text("HIV seropositivity.")
    expect(exclusion.nth(14)).to_be_visible()
    expect(page.locator(".sites")).to_contain_text("Beijing, China")
    expect(page.get_by_text("Data sourced from clinicaltrials.gov")).to_be_visible()

    shot = screenshot_dir(tmp_path) / "listing-NCT05227846.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 20_000
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert offsite == []


def test_api_docs_render_offline(live_server, browser_page):
    page, offsite = browser_page
    page.goto(f"{live_server.url}/api/docs")
    # Swagger UI (served by the site) fetched /api/openapi.json and rendered the operations.
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("trialdesk registry API")
    expect(page.locator(".opblock-summary-path").first).to_be_visible()
    paths = page.locator(".opblock-summary-path").all_inner_texts()
    assert {"/api/trials", "/api/trials/{nct_id}"} <= {p.replace("\u200b", "") for p in paths}
    assert offsite == []
