"""Site staff in real Chromium (Debian's, never downloaded): a coordinator screens a
participant, the investigator settles the attestations and signs, the coordinator records
consent and enrols; a change without a reason is refused; another site's participant is
not reachable. Screenshots of the staff pages go to $TRIALDESK_SCREENSHOT_DIR (docs/img
for the committed ones), else the test's tmp_path."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from tests.browser.test_registry_browser import browser_page, screenshot_dir  # noqa: F401
from tests.browser.test_site_browser import watched  # noqa: F401
from tests.conduct.conftest import (  # noqa: F401
    PASSWORD,
    SETTLED,
    _protocols,
    eligible_plain,
    setup,
    setup_roles,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def login(page, base, username):
    page.goto(f"{base}/conduct/")
    if page.get_by_role("button", name="Log out").count():
        page.get_by_role("button", name="Log out").click()
        page.goto(f"{base}/conduct/")
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="My trials")).to_be_visible()


def test_screen_sign_consent_enrol_and_scoping(setup, live_server, browser_page, tmp_path):  # noqa: F811 (imported fixtures)
    page, offsite = browser_page
    base = live_server.url
    shots = screenshot_dir(tmp_path)

    # the coordinator screens
    login(page, base, "bj302-coordinator")
    page.get_by_role("link", name="NCT05227846").click()
    page.get_by_role("link", name="Screen a participant").click()
    page.get_by_label("Initials").fill("NVA")
    page.get_by_label("Sex").select_option("male")
    page.get_by_label("Birth date").fill("1968-04-02")
    page.get_by_label("Screening date").fill("2026-11-20")
    page.get_by_label("Screening data").fill(eligible_plain())
    page.get_by_role("button", name="Screen").click()
    expect(page.locator("h1")).to_have_text("BJ302-S001")
    expect(page.locator("#overall")).to_have_text("INCOMPLETE")
    participant_url = page.url

    # the investigator settles the attestations and signs (password re-entered)
    login(page, base, "bj302-investigator")
    page.goto(participant_url)
    page.get_by_role("link", name="Settle attestations").click()
    for cid, answer in SETTLED.items():
        page.locator(f'select[name="{cid}"]').select_option("yes" if answer else "no")
    page.get_by_role("button", name="Record answers").click()
    expect(page.locator("#overall")).to_have_text("ELIGIBLE")
    page.get_by_role("link", name="Sign eligibility").click()
    page.get_by_label("Your password (re-entered to sign)").fill("not my password")
    page.get_by_role("button", name="Sign").click()
    expect(page.get_by_role("alert")).to_contain_text("password is not correct")
    page.get_by_label("Your password (re-entered to sign)").fill(PASSWORD)
    page.get_by_role("button", name="Sign").click()
    expect(page.locator(".signature")).to_contain_text("Signed by Investigator BJ302")
    expect(page.locator(".signature")).to_contain_text("UTC")

    # the coordinator records consent and enrols
    login(page, base, "bj302-coordinator")
    page.goto(participant_url)
    page.get_by_role("link", name="Record consent").click()
    page.get_by_label("Consent signed at (UTC)").fill("2026-11-21T09:00")
    page.get_by_role("button", name="Record consent").click()
    page.get_by_role("button", name="Enrol").click()
    expect(page.locator("#participant-id")).to_have_text("7846-BJ302-001")
    expect(page.locator("#status")).to_have_text("Enrolled")
    page.screenshot(path=str(shots / "conduct-participant.png"), full_page=True)

    # a change without a reason is refused, and nothing changes
    page.get_by_role("link", name="Correct details").click()
    page.get_by_label("Initials").fill("NVB")
    page.get_by_role("button", name="Save change").click()
    expect(page.get_by_role("alert")).to_contain_text("a reason is required")
    page.goto(participant_url)
    expect(page.locator("h1")).to_contain_text("BJ302-S001")
    expect(page.locator("dl.plain")).to_contain_text("NVA")

    page.get_by_role("link", name="NCT05227846").click()
    expect(page.locator("table.grid").first).to_contain_text("1 of 3")
    page.screenshot(path=str(shots / "conduct-dashboard.png"), full_page=True)

    # another site's coordinator cannot reach the participant
    login(page, base, "vinmec-coordinator")
    response = page.goto(participant_url)
    assert response.status == 404
    response = page.goto(f"{base}/conduct/trials/NCT05227846/")
    assert response.status == 404
    assert offsite == []


def test_htmx_dismisses_a_lab_proposal_in_place_without_csp_violation(
    setup,  # noqa: F811 (imported fixture)
    live_server,
    watched,  # noqa: F811 (imported fixture)
):
    """htmx 2 injects an indicator <style> unless told not to; the nonce CSP would block it
    and log a violation on every conduct page."""
    from datetime import UTC, date, datetime, timedelta
    from decimal import Decimal

    from tests.conduct.conftest import make_eligible

    from trialdesk.conduct import services
    from trialdesk.conduct.services.visits import record_visit

    page, offsite = watched.page, watched.offsite
    (p,) = make_eligible(setup, 1)
    coordinator = setup.users[("BJ302", "coordinator")]
    services.enrol(p, coordinator, at=datetime(2026, 11, 21, 10, tzinfo=UTC))
    p.refresh_from_db()
    start = datetime(2026, 11, 23, 9, tzinfo=UTC)
    services.record_dose(
        p, coordinator, product_lot="UC-1", cells=50_000_000, started_at=start,
        ended_at=start + timedelta(minutes=40), route="intravenous infusion",
        volume_ml=Decimal(100),
    )  # fmt: skip
    record_visit(
        p, coordinator, code="D7", visit_date=date(2026, 11, 29), labs={"sodium": "128 mmol/L"}
    )
    login(page, live_server.url, "bj302-coordinator")
    page.goto(f"{live_server.url}/conduct/participants/{p.pk}/visits/D7/")
    expect(page.locator("#proposals")).to_contain_text("Hyponatremia, grade 2")
    url_before = page.url
    page.get_by_label("Reason").fill("repeat sample normal")
    page.get_by_role("button", name="Dismiss").click()
    expect(page.locator("#proposals")).to_contain_text("Dismissed: repeat sample normal")
    assert page.url == url_before  # updated in place, no navigation
    assert offsite == []
    page.goto(f"{live_server.url}/conduct/participants/{p.pk}/")
    assert watched.csp_problems() == []


def test_htmx_answers_a_query_and_shows_ae_form_errors_in_place(
    setup,  # noqa: F811 (imported fixture)
    live_server,
    watched,  # noqa: F811 (imported fixture)
):
    """The data query's answer and the adverse-event form update in place (HTMX): no
    navigation until the event is recorded, and no CSP violation."""
    from tests.conduct.conftest import make_eligible

    from trialdesk.conduct.models import DataQuery
    from trialdesk.conduct.services.queries import open_query

    page = watched.page
    (p,) = make_eligible(setup, 1)
    q = open_query(
        p, setup.users[("BJ302", "monitor")], record_type="participant", record_id=p.pk,
        field="birth_date", question="Please check the birth date against the ID card.",
    )  # fmt: skip
    login(page, live_server.url, "bj302-coordinator")
    page.goto(f"{live_server.url}/conduct/participants/{p.pk}/queries/{q.pk}/")
    url_before = page.url
    page.get_by_label("Answer").fill("Checked: the birth date matches the ID card.")
    page.get_by_role("button", name="Answer").click()
    expect(page.locator("#query-status")).to_have_text("Answered")
    expect(page.locator("#query-panel")).to_contain_text("Query updated.")
    expect(page.locator("#query-history")).to_contain_text("answered")
    assert page.url == url_before
    assert DataQuery.objects.get(pk=q.pk).status == DataQuery.ANSWERED

    # the adverse-event form: a resolution before the onset is refused in place
    page.goto(f"{live_server.url}/conduct/participants/{p.pk}/adverse-events/new/")
    url_before = page.url
    page.get_by_label("CTCAE term").select_option("Fever")
    page.locator("#id_grade").select_option("1")
    page.locator("#id_onset_date").fill("2026-11-25")
    page.get_by_label("Site aware at (UTC)").fill("2026-11-25T10:00")
    page.locator("#id_resolution_date").fill("2026-11-24")
    page.get_by_role("button", name="Record").click()
    expect(page.locator("#ae-form")).to_contain_text("the resolution is before the onset")
    assert page.url == url_before
    expect(page.locator("#id_onset_date")).to_have_value("2026-11-25")  # what was typed stays
    page.locator("#id_resolution_date").fill("2026-11-26")
    page.get_by_role("button", name="Record").click()
    page.wait_for_url("**/adverse-events/*/")
    expect(page.locator("body")).to_contain_text("Adverse event recorded")
    assert p.adverse_events.get().resolution_date.isoformat() == "2026-11-26"
    assert watched.csp_problems() == []
