"""The DMC report page in real Chromium: the monitor logs in, opens the report from the
dashboard, and the interactive plots are drawn by plotly.js (served by this site) with no
Content-Security-Policy violation, no script error and no request leaving the site; a hover
shows a participant. A screenshot of the page goes to $TRIALDESK_SCREENSHOT_DIR or tmp_path."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from tests.browser.test_registry_browser import screenshot_dir
from tests.browser.test_site_browser import watched  # noqa: F401
from tests.conduct.conftest import PASSWORD
from tests.report.conftest import _protocols, setup, setup_roles, trial  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_report_page_draws_interactive_plots_without_csp_violation(
    trial,  # noqa: F811 (imported fixture)
    live_server,
    watched,  # noqa: F811 (imported fixture)
    tmp_path,
):
    page = watched.page
    base = live_server.url
    page.goto(f"{base}/conduct/")
    page.get_by_label("Username").fill("bj302-monitor")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("link", name="NCT05227846").click()
    page.get_by_role("link", name="DMC report").click()
    # generous waits: the report is computed on the request, on a machine that may be busy
    expect(page.locator("h1")).to_contain_text("NCT05227846", timeout=60_000)
    for fig in ("flow-plot", "escalation-plot", "meld-plot", "swimmer-plot"):
        plot = page.locator(f"#{fig} .plotly-plot")
        expect(plot).to_have_attribute("data-drawn", "true", timeout=30_000)
        expect(plot.locator("svg.main-svg").first).to_be_visible()
    # the escalation plot: one marker per enrolled participant (7), a DLT among them
    markers = page.locator("#escalation-plot .scatterlayer .point")
    expect(markers).to_have_count(7)
    page.locator("#escalation-plot").scroll_into_view_if_needed()
    box = markers.first.bounding_box()  # plotly's drag layer takes the pointer events
    page.mouse.move(box["x"] + box["width"] / 2 + 2, box["y"] + box["height"] / 2 + 2)
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2, steps=3)
    # the first trace drawn is the DLTs': the demo's one DLT, in cohort 2
    expect(page.locator("#escalation-plot .hoverlayer")).to_contain_text(", cohort 2, DL2")
    expect(page.locator("#table-dlt")).to_contain_text("DL2")
    expect(page.locator("#download-pdf")).to_have_attribute(
        "href", "/conduct/trials/NCT05227846/report.pdf"
    )
    page.screenshot(path=str(screenshot_dir(tmp_path) / "dmc-report-page.png"), full_page=True)
    assert watched.csp_problems() == []
    assert watched.errors() == []
    assert watched.offsite == []
