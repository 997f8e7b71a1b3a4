"""The eligibility check as a patient uses it, in real Chromium (Debian's, never downloaded),
on a 375 x 812 phone screen.

Answer the NCT05227846 questions leaving ascites as "I don't know": the Child-Pugh criterion
(inclusion 4, score 7 to 12) must be under "What the study team must check", with the range
the answers allow (4 known points + ascites 1 to 3 = 5 to 7, Pugh 1973 points), never under
"What may rule you out"; an exclusion that does not apply is never under "What you meet";
the page shows no internal ids or rule text and needs no horizontal scrolling. A completed
trial (the seed NCT05331872) says it is not recruiting and offers no check. The result's
screenshot is saved as ``check-NCT05227846-375.png`` in $TRIALDESK_SCREENSHOT_DIR, else in
the test's tmp_path.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from urllib.parse import urlparse

import pytest
from playwright.sync_api import expect, sync_playwright
from tests.browser._db import close_playwright_connections

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-sync"]
PHONE = {"width": 375, "height": 812}

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def phone_page(live_server, monkeypatch):
    """(page, offsite): a 375 px wide Chromium page limited to the live server."""
    assert CHROMIUM.exists(), f"{CHROMIUM} is missing: apt-get install chromium"
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    monkeypatch.setenv("TRIALDESK_PROTOCOLS", str(ROOT / "protocols"))
    host = urlparse(live_server.url).netloc
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            context = browser.new_context(viewport=PHONE)
            offsite: list[str] = []

            def only_local(route):
                if urlparse(route.request.url).netloc == host:
                    route.continue_()
                else:
                    offsite.append(route.request.url)
                    route.abort()

            context.route("**/*", only_local)
            page = context.new_page()
            page.set_default_timeout(15_000)
            yield page, offsite
        finally:
            close_playwright_connections()  # tests/browser/_db.py
            browser.close()


def _scroll_width(page) -> int:
    return page.evaluate(
        "Math.max(document.documentElement.scrollWidth, document.body.scrollWidth)"
    )


def test_dont_know_ascites_reads_as_must_check_on_a_phone(
    seed_trials, live_server, phone_page, tmp_path
):
    page, offsite = phone_page
    page.goto(f"{live_server.url}/trials/NCT05227846/")
    page.get_by_role("link", name=re.compile("Could I take part")).click()
    page.wait_for_url("**/trials/NCT05227846/check")
    assert _scroll_width(page) <= PHONE["width"]

    page.get_by_label("Your age (in completed years)").fill("50")
    page.locator('select[name="sex"]').select_option(label="female")
    # 1.0 mg/dL bilirubin, 4.0 g/dL albumin, INR 1.0, no encephalopathy: 1 point each
    for analyte, value, unit in (
        ("bilirubin", "1.0", "mg/dL"),
        ("albumin", "4.0", "g/dL"),
        ("inr", "1.0", None),
    ):
        page.locator(f'input[name="lab_{analyte}"]').fill(value)
        if unit:
            page.locator(f'select[name="lab_{analyte}_unit"]').select_option(value=unit)
    page.locator('select[name="history_hepatic_encephalopathy"]').select_option(label="No")
    ascites = page.get_by_label("Ascites:", exact=True)
    expect(ascites).to_have_value("")  # left as "I don't know"
    expect(ascites.locator("option:checked")).to_have_text("I don't know")
    page.locator('select[name="history_tips"]').select_option(label="No")
    page.get_by_role("button", name="Check").click()

    result = page.locator("#check-result")
    expect(result).to_be_visible()
    must_check = page.locator('[data-group="check"]')
    rule_out = page.locator('[data-group="rule_out"]')
    meet = page.locator('[data-group="meet"]')
    inc4 = must_check.locator("li", has_text="Child-Turcotte-Pugh (CTP) score 7 to 12")
    expect(inc4).to_have_count(1)
    expect(inc4).to_contain_text("Child-Pugh score from your answers: could be 5 to 7 points")
    expect(inc4).to_contain_text("Not answered: Ascites")
    expect(rule_out).not_to_contain_text("Child-Turcotte-Pugh")
    expect(rule_out).to_contain_text("Nothing in your answers rules you out.")
    expect(page.locator("#team-checks")).to_have_text("What the study team must check")

    # exclusion 7 (TIPS) does not apply: not under "What you meet", but under its own list
    expect(meet).to_contain_text("Aged 18 to 75 years")
    expect(meet).not_to_contain_text("TIPS")
    expect(meet.locator("li")).to_have_count(1)
    details = page.locator("details.not-apply")
    details.locator("summary").click()
    tips = page.locator('[data-group="not_apply"] li', has_text="TIPS")
    expect(tips).to_be_visible()
    expect(tips).to_contain_text("From your answers, this does not apply to you.")

    text = page.locator("main").inner_text()
    assert not re.search(r"\b(inc|exc)-\d", text)
    for rule_words in ("child_pugh", "between 7 and 12", "Used by", "condition(", "looks not met"):
        assert rule_words not in text.lower() if rule_words.islower() else rule_words not in text
    assert _scroll_width(page) <= PHONE["width"]

    wanted = os.environ.get("TRIALDESK_SCREENSHOT_DIR")
    shots = Path(wanted) if wanted else tmp_path
    shots.mkdir(parents=True, exist_ok=True)
    result.screenshot(path=str(shots / "check-NCT05227846-375.png"))
    assert offsite == []


def test_completed_trial_offers_no_check(seed_trials, live_server, phone_page):
    page, offsite = phone_page
    page.goto(f"{live_server.url}/trials/NCT05331872/")
    expect(page.locator("#status-and-phase .status")).to_have_text("Completed")
    expect(page.locator("#not-recruiting")).to_contain_text("This trial is not recruiting")
    expect(page.get_by_role("link", name=re.compile("Could I take part"))).to_have_count(0)
    assert _scroll_width(page) <= PHONE["width"]
    page.goto(f"{live_server.url}/trials/NCT05331872/check")
    expect(page.get_by_role("heading", name="This trial is not recruiting")).to_be_visible()
    expect(page.locator("form#prescreen-form")).to_have_count(0)
    expect(page.get_by_role("button", name="Check")).to_have_count(0)
    assert offsite == []
