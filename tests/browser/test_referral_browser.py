"""A referral in real Chromium (Debian's, never downloaded): a patient answers the
eligibility check of NCT05227846, ticks the consent and sends the answers to the study team;
the BJ302 coordinator finds the referral in the site's queue with the answers, and starts
screening from it; Vinmec's coordinator does not see it."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from tests.browser.test_conduct_browser import login
from tests.browser.test_registry_browser import browser_page, screenshot_dir  # noqa: F401
from tests.conduct.conftest import _protocols, setup, setup_roles  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_patient_sends_a_referral_and_the_coordinator_sees_it(
    setup,  # noqa: F811 (imported fixtures)
    seed_trials,
    live_server,
    browser_page,  # noqa: F811
    tmp_path,
):
    page, offsite = browser_page
    base = live_server.url
    shots = screenshot_dir(tmp_path)

    # the patient answers the check
    page.goto(f"{base}/trials/NCT05227846/check")
    page.locator('input[name="age"]').fill("57")
    page.locator('select[name="sex"]').select_option("male")
    page.locator('input[name="lab_bilirubin"]').fill("45")
    page.locator('select[name="lab_bilirubin_unit"]').select_option("umol/L")
    page.get_by_role("button", name="Check").click()
    expect(page.locator("#check-result")).to_be_visible()

    # sends the answers: consent is required, and unticked at first
    consent = page.get_by_label("I agree that my answers")
    expect(consent).not_to_be_checked()
    page.get_by_label("Your name or initials").fill("Tran Van B")
    page.get_by_label("Phone").fill("+84 24 3974 3556")
    page.get_by_role("button", name="Send").click()
    expect(page.get_by_role("alert").first).to_contain_text("nothing is sent without your consent")
    page.get_by_label("I agree that my answers").check()
    page.get_by_role("button", name="Send").click()
    expect(page.locator("h1")).to_have_text("Your answers were sent to the study team")

    # the coordinator of BJ302 sees it in the queue
    login(page, base, "bj302-coordinator")
    page.get_by_role("link", name="Referrals from the public eligibility check (1 new)").click()
    row = page.locator("#referrals-new tr[data-referral]")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("Tran Van B")
    expect(row).to_contain_text("+84 24 3974 3556")
    row.get_by_role("link").click()
    expect(page.locator("#referral-answers")).to_contain_text("Your age (in completed years): 57")
    expect(page.locator("#referral-answers")).to_contain_text("Sex: male")
    page.screenshot(path=str(shots / "conduct-referral.png"))  # the top: contact, actions
    referral_url = page.url
    page.get_by_role("link", name="Start screening").click()
    expect(page.locator("#from-referral")).to_be_visible()
    expect(page.get_by_label("Initials")).to_have_value("TVB")

    # Vinmec's coordinator does not see it
    login(page, base, "vinmec-coordinator")
    page.goto(f"{base}/conduct/referrals/")
    expect(page.locator("tr[data-referral]")).to_have_count(0)
    assert page.goto(referral_url).status == 404
    assert offsite == []
