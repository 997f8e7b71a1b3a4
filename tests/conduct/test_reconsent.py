"""A pending reconsent (a newer form version that forces reconsent) blocks new interventions
only: follow-up and safety data of a participant already in the trial are still recorded,
and dated from the participant's first consent, not the latest."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from tests.conduct.conftest import make_eligible

from trialdesk.conduct import services
from trialdesk.conduct.errors import ConductError
from trialdesk.conduct.models import ConsentFormVersion, write
from trialdesk.conduct.services.lab_events import confirm
from trialdesk.conduct.services.safety import record_adverse_event
from trialdesk.conduct.services.visits import record_visit

pytestmark = pytest.mark.django_db

INFUSION = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # consent (make_eligible): 2026-11-21


def dose(setup, p, start=INFUSION):
    return services.record_dose(
        p,
        setup.users[("BJ302", "coordinator")],
        product_lot="UC-1",
        cells=50_000_000,
        started_at=start,
        ended_at=start + timedelta(minutes=40),
        route="intravenous infusion",
        volume_ml=Decimal(100),
    )


@pytest.fixture
def dosed(setup):
    (p,) = make_eligible(setup, 1)
    services.enrol(
        p, setup.users[("BJ302", "coordinator")], at=datetime(2026, 11, 21, 10, 0, tzinfo=UTC)
    )
    p.refresh_from_db()
    dose(setup, p)
    return p


def new_version(setup, approved_on: date):
    return write(
        ConsentFormVersion(
            study=setup.bj, version="2.0", approved_on=approved_on, forces_reconsent=True
        ),
        setup.admin,
    )


def test_pending_reconsent_blocks_dosing_but_not_follow_up_or_safety(setup, dosed, client):
    coordinator = setup.users[("BJ302", "coordinator")]
    new_version(setup, date(2026, 11, 24))
    with pytest.raises(ConductError, match="v2.0 forces reconsent"):
        dose(setup, dosed, start=INFUSION + timedelta(days=3))
    sae = record_adverse_event(
        dosed,
        setup.users[("BJ302", "investigator")],
        term="Fever",
        grade=3,
        onset_date=date(2026, 11, 26),
        awareness_at=datetime(2026, 11, 26, 12, 0, tzinfo=UTC),
        related="possibly",
        seriousness=["hospitalisation"],
    )
    assert sae.serious is True
    visit = record_visit(
        dosed,
        coordinator,
        code="D7",
        visit_date=date(2026, 11, 29),
        labs={"sodium": "128 mmol/L"},
    )
    ae = confirm(visit.proposals.get(), coordinator, related="unlikely")
    assert ae.term == "Hyponatremia"
    client.force_login(coordinator)
    text = client.get(reverse("conduct:participant", args=[dosed.pk])).content.decode()
    assert 'id="consent-problem"' in text and "v2.0 forces reconsent" in text
    assert "no new enrolment or dosing" in text


def test_follow_up_still_needs_a_consent_on_record(setup):
    (p,) = make_eligible(setup, 1, consent=False)
    with pytest.raises(ConductError, match="no consent recorded"):
        record_adverse_event(
            p,
            setup.users[("BJ302", "investigator")],
            term="Fever",
            grade=1,
            onset_date=date(2026, 11, 24),
            awareness_at=datetime(2026, 11, 24, 12, 0, tzinfo=UTC),
            related="possibly",
        )


def test_dates_are_checked_against_the_first_consent_not_the_reconsent(setup):
    (p,) = make_eligible(setup, 1)  # first consent: 2026-11-21 09:00 UTC on v1
    coordinator = setup.users[("BJ302", "coordinator")]
    v2 = new_version(setup, date(2026, 11, 21))
    services.record_consent(
        p, coordinator, form_version=v2, consented_at=datetime(2026, 11, 21, 11, 0, tzinfo=UTC)
    )
    # enrolled between the first consent and the reconsent
    services.enrol(p, coordinator, at=datetime(2026, 11, 21, 10, 0, tzinfo=UTC))
    p.refresh_from_db()
    services.record_consent(
        p, coordinator, form_version=v2, consented_at=datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
    )
    # dosed, seen and an event begun between the first consent and the latest reconsent
    dose(setup, p)
    ae = record_adverse_event(
        p,
        setup.users[("BJ302", "investigator")],
        term="Fever",
        grade=1,
        onset_date=date(2026, 11, 24),
        awareness_at=datetime(2026, 11, 24, 12, 0, tzinfo=UTC),
        related="possibly",
    )
    assert ae.onset_date == date(2026, 11, 24)
    visit = record_visit(p, coordinator, code="D1", visit_date=date(2026, 11, 23), labs={})
    assert visit.visit_date == date(2026, 11, 23)
    with pytest.raises(ConductError, match="before the consent"):
        record_adverse_event(
            p,
            setup.users[("BJ302", "investigator")],
            term="Fever",
            grade=1,
            onset_date=date(2026, 11, 20),
            awareness_at=datetime(2026, 11, 24, 12, 0, tzinfo=UTC),
            related="possibly",
        )
