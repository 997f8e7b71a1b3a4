"""The bedside check in real Chromium (Debian's): the investigator scans another
participant's unit and is refused with the reason, then scans the right unit and the
infusion is recorded; the pages load without a Content Security Policy violation."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect
from tests.browser.test_site_browser import watched  # noqa: F401
from tests.cellproduct.conftest import (  # noqa: F401
    PASSWORD,
    _protocols,
    cell_setup,
    donor_with_collection,
    enrolled_vinmec,
    lab,
    processed_lot,
    record_results,
    setup,
    setup_roles,
)

from trialdesk.cellproduct.models import BedsideCheck
from trialdesk.cellproduct.services import doses, release

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_bedside_refuses_the_wrong_participant(cell_setup, live_server, watched):  # noqa: F811
    s = cell_setup
    people = enrolled_vinmec(s, 2)
    _, collection = donor_with_collection(s)
    lot = processed_lot(s, collection, "VM-L1")
    record_results(s, lot)
    release.release_lot(lot, lab(s), password=PASSWORD, meaning=release.RELEASE_MEANING)
    lot.refresh_from_db()
    unit = doses.prepare_dose(lot, people[0], lab(s), body_weight_kg=Decimal(60))

    page, base = watched.page, live_server.url
    page.goto(f"{base}/conduct/login/")
    page.get_by_label("Username").fill("vinmec-investigator")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="My trials")).to_be_visible()

    now = timezone.now().strftime("%Y-%m-%dT%H:%M")
    page.goto(f"{base}/cellproduct/participants/{people[1].pk}/bedside/")
    expect(page.get_by_role("heading", name="Bedside check and infusion")).to_be_visible()
    page.get_by_label("Dose unit id").fill(unit.unit_id)
    page.get_by_label("Infusion started at (UTC)").fill(now)
    page.get_by_label("Infusion ended at (UTC)").fill(now)
    page.get_by_role("button", name="Check and record the infusion").click()
    refusal = page.locator("#refusal")
    expect(refusal).to_contain_text("Refused")
    expect(refusal).to_contain_text(f"prepared for participant {people[0].participant_id}")
    assert BedsideCheck.objects.filter(ok=False, participant=people[1]).count() == 1

    page.goto(f"{base}/cellproduct/participants/{people[0].pk}/bedside/")
    page.get_by_label("Dose unit id").fill(unit.unit_id)
    page.get_by_label("Infusion started at (UTC)").fill(now)
    page.get_by_label("Infusion ended at (UTC)").fill(now)
    page.get_by_role("button", name="Check and record the infusion").click()
    expect(page.get_by_role("status")).to_contain_text("verified and the infusion recorded")
    unit.refresh_from_db()
    assert unit.dosing_record is not None

    page.goto(f"{base}/cellproduct/trace/?q={collection.din.keyed}")
    expect(page.locator("main")).to_contain_text(people[0].participant_id)
    assert watched.csp_problems() == []
    assert watched.errors() == []
    assert watched.offsite == []
