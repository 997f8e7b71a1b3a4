"""Adverse events: pick-list terms, seriousness (ICH E2A) and the 24-hour clock from awareness,
the DLT verdict from NCT05227846's definition (and the participant's DLT outcome following
it), changes only with a reason, impossible dates refused."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from tests.conduct.conftest import make_eligible

from trialdesk.conduct import services
from trialdesk.conduct.errors import ConductError
from trialdesk.conduct.models import AdverseEvent
from trialdesk.conduct.services.safety import (
    record_adverse_event,
    report_initial,
    sae_clock,
    update_adverse_event,
)

pytestmark = pytest.mark.django_db

INFUSION = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


@pytest.fixture
def dosed(setup):
    (p,) = make_eligible(setup, 1)
    coordinator = setup.users[("BJ302", "coordinator")]
    services.enrol(p, coordinator, at=datetime(2026, 11, 21, 10, 0, tzinfo=UTC))
    p.refresh_from_db()
    services.record_dose(
        p,
        coordinator,
        product_lot="UC-1",
        cells=50_000_000,
        started_at=INFUSION,
        ended_at=INFUSION + timedelta(minutes=40),
        route="intravenous infusion",
        volume_ml=Decimal(100),
    )
    return p


def ae(setup, p, **over):
    args = dict(
        term="Fever",
        grade=1,
        onset_date=date(2026, 11, 24),
        awareness_at=datetime(2026, 11, 24, 12, 0, tzinfo=UTC),
        related="possibly",
    )
    args.update(over)
    return record_adverse_event(p, setup.users[("BJ302", "investigator")], **args)


def test_a_mild_event_is_neither_serious_nor_a_dlt(setup, dosed):
    event = ae(setup, dosed)
    assert (event.serious, event.dlt, event.ctcae_version) == (False, False, "5.0")
    assert sae_clock(event) is None


def test_sae_clock_runs_from_awareness_not_onset(setup, dosed):
    event = ae(
        setup,
        dosed,
        term="Sepsis",
        grade=3,
        onset_date=date(2026, 11, 25),
        awareness_at=datetime(2026, 11, 27, 8, 0, tzinfo=UTC),
        seriousness=["hospitalisation"],
        related="unlikely",
    )
    assert event.serious
    clock = sae_clock(event, now=datetime(2026, 11, 27, 20, 0, tzinfo=UTC))
    assert clock["deadline"] == datetime(2026, 11, 28, 8, 0, tzinfo=UTC)
    assert clock["hours_left"] == 12.0 and not clock["overdue"]
    assert sae_clock(event, now=datetime(2026, 11, 29, tzinfo=UTC))["overdue"]
    report_initial(event, setup.users[("BJ302", "investigator")])
    assert not sae_clock(event, now=datetime(2026, 11, 29, tzinfo=UTC))["overdue"]


def test_a_grade_3_related_event_in_the_window_is_a_dlt(setup, dosed):
    event = ae(setup, dosed, term="Infusion related reaction", grade=3, related="related")
    assert event.dlt is True
    assert "dlt-3" in event.dlt_reasons  # grade >= 3 infusion-related reaction
    dosed.refresh_from_db()
    assert dosed.dlt_outcome == "dlt"


def test_unknown_attribution_leaves_the_dlt_unknown(setup, dosed):
    event = ae(setup, dosed, term="Hepatic failure", grade=3, related="unknown")
    assert event.dlt is None


def test_changes_need_a_reason_and_are_rechecked(setup, dosed):
    event = ae(setup, dosed)
    inv = setup.users[("BJ302", "investigator")]
    with pytest.raises(ConductError, match="reason is required"):
        update_adverse_event(event, inv, reason="", grade=2)
    with pytest.raises(ConductError, match="resolution is before the onset"):
        update_adverse_event(event, inv, reason="resolved", resolution_date=date(2026, 11, 20))
    event = AdverseEvent.objects.get(pk=event.pk)
    update_adverse_event(
        event, inv, reason="resolved", resolution_date=date(2026, 11, 26), outcome="recovered"
    )
    event.refresh_from_db()
    assert event.history.first().history_change_reason == "resolved"


@pytest.mark.parametrize(
    ("over", "message"),
    [
        ({"term": "Feeling unwell"}, "not a CTCAE term"),
        ({"onset_date": date(2999, 1, 1)}, "onset is in the future"),
        ({"onset_date": date(2026, 11, 1)}, "before the consent"),
        ({"resolution_date": date(2026, 11, 23)}, "resolution is before the onset"),
        ({"awareness_at": datetime(2026, 11, 23, tzinfo=UTC)}, "before its onset"),
        ({"seriousness": ["bad"]}, "seriousness criterion 'bad'"),
        ({"outcome": "fatal", "grade": 3}, "grade 5"),
    ],
)
def test_impossible_events_are_refused(setup, dosed, over, message):
    with pytest.raises(ConductError, match=message):
        ae(setup, dosed, **over)
    assert not AdverseEvent.objects.exists()


def test_unconsented_participants_get_no_events(setup):
    (p,) = make_eligible(setup, 1, consent=False)
    with pytest.raises(ConductError, match="no consent recorded"):
        ae(setup, p)


def test_adverse_event_pages_and_dashboard(setup, dosed, client, page_text):
    client.force_login(setup.users[("BJ302", "investigator")])
    response = client.post(
        reverse("conduct:new-adverse-event", args=[dosed.pk]),
        {
            "term": "Sepsis",
            "grade": "3",
            "onset_date": "2026-11-25",
            "awareness_at": "2026-11-26T08:00",
            "seriousness": ["hospitalisation"],
            "related": "unlikely",
            "action_taken": "treatment_given",
            "outcome": "recovering",
        },
        follow=True,
    )
    text = page_text(response.content)
    assert "yes: hospitalisation" in text and "Initial report to the sponsor due" in text
    event = AdverseEvent.objects.get()
    url = reverse("conduct:adverse-event", args=[dosed.pk, event.pk])
    response = client.post(
        url,
        {
            "term": "Sepsis",
            "grade": "4",
            "onset_date": "2026-11-25",
            "awareness_at": "2026-11-26T08:00",
            "seriousness": ["hospitalisation"],
            "related": "unlikely",
            "action_taken": "treatment_given",
            "outcome": "recovering",
        },
    )
    assert "a reason is required" in page_text(response.content)
    event.refresh_from_db()
    assert event.grade == 3
    dash = page_text(client.get(reverse("conduct:dashboard", args=["NCT05227846"])).content)
    assert "SAE Sepsis" in dash and "Open adverse events: 1" in dash
