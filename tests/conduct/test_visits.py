"""Visits: the calendar from the infusion date, window status, labs in any unit, the scores
at each visit, deviations for visits out of window, and impossible input refused."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone
from tests.conduct.conftest import make_eligible

from trialdesk.conduct import services
from trialdesk.conduct.errors import ConductError
from trialdesk.conduct.models import LabResult, ProtocolDeviation, Visit
from trialdesk.conduct.services.visits import calendar, record_visit, scores

pytestmark = pytest.mark.django_db

INFUSION = date(2026, 11, 23)  # study day 1 (consent: 2026-11-21, make_eligible)


@pytest.fixture
def dosed(setup):
    (p,) = make_eligible(setup, 1)
    coordinator = setup.users[("BJ302", "coordinator")]
    services.enrol(p, coordinator, at=datetime(2026, 11, 21, 10, 0, tzinfo=UTC))
    p.refresh_from_db()
    start = datetime.combine(INFUSION, datetime.min.time(), tzinfo=UTC) + timedelta(hours=9)
    services.record_dose(
        p,
        coordinator,
        product_lot="UC-1",
        cells=50_000_000,
        started_at=start,
        ended_at=start + timedelta(minutes=40),
        route="intravenous infusion",
        volume_ml=Decimal(100),
    )
    return p


def test_calendar_and_window_status(setup, dosed):
    rows = {r.scheduled.code: r for r in calendar(dosed, today=date(2026, 11, 28))}
    assert rows["D1"].scheduled.target_date == INFUSION
    assert rows["D7"].scheduled.target_date == date(2026, 11, 29)
    assert rows["D7"].status == "due"
    assert rows["M12"].status == "upcoming"


def test_record_visit_converts_labs_and_computes_scores(setup, dosed, client):
    coordinator = setup.users[("BJ302", "coordinator")]
    target = date(2026, 11, 29)
    visit = record_visit(
        dosed,
        coordinator,
        code="D7",
        visit_date=target,
        labs={"bilirubin": "2.0 mg/dL", "inr": "1.5", "creatinine": "88.4 umol/L",
              "sodium": "134 mmol/L", "albumin": "30 g/L"},
        ascites="mild",
        encephalopathy=0,
        heart_rate=80,
    )  # fmt: skip
    assert visit.window_status == "in_window"
    bili = LabResult.objects.get(visit=visit, analyte="bilirubin")
    assert (bili.entered, bili.canonical_unit, bili.canonical_value) == (
        "2.0 mg/dL",
        "mg/dL",
        Decimal("2.0"),
    )
    # creatinine entered in umol/L, kept in mg/dL: 1 mg/dL = 88.4 umol/L (molar mass
    # 113.12 g/mol: 10 mg/L / 113.12 g/mol = 88.40 umol/L)
    cr = LabResult.objects.get(visit=visit, analyte="creatinine")
    assert cr.canonical_unit == "mg/dL" and abs(cr.canonical_value - Decimal(1)) < Decimal("0.001")
    s = scores(visit)
    assert s.meld.status == "computed" and s.meld.value is not None
    assert s.child_pugh.status == "computed"
    client.force_login(coordinator)
    text = client.get(reverse("conduct:visit", args=[dosed.pk, "D7"])).content.decode()
    assert "MELD-Na" in text and "in_window" in text
    page = client.get(reverse("conduct:participant", args=[dosed.pk])).content.decode()
    assert "MELD trend" in page


def test_missing_input_gives_unknown_not_zero(setup, dosed):
    visit = record_visit(
        dosed,
        setup.users[("BJ302", "coordinator")],
        code="D7",
        visit_date=date(2026, 11, 29),
        labs={"bilirubin": "2.0 mg/dL"},
    )
    s = scores(visit)
    assert s.meld.status == "unknown" and s.meld.value is None
    assert "INR" in " ".join(s.meld.reasons)


def test_out_of_window_visit_is_a_deviation(setup, dosed):
    visit = record_visit(
        dosed,
        setup.users[("BJ302", "coordinator")],
        code="D7",
        visit_date=date(2026, 12, 3),
        labs={},
    )
    assert visit.window_status == "late"
    deviation = ProtocolDeviation.objects.get()
    assert deviation.kind == "visit late" and "D7 window" in deviation.description


@pytest.mark.parametrize(
    ("over", "message"),
    [
        ({"visit_date": date(2999, 1, 1)}, "in the future"),
        ({"visit_date": date(2026, 11, 20)}, "before the consent"),
        ({"code": "D99"}, "no visit 'D99'"),
        ({"labs": {"bilirubin": "2.0 kg"}}, "bilirubin"),
        ({"labs": {"bilirubin": "2.0"}}, "no unit"),
        ({"labs": {"hbv_dna": "20 [IU]/mL"}}, "not in the protocol's lab panel"),
    ],
)
def test_impossible_visits_are_refused(setup, dosed, over, message):
    args = dict(code="D7", visit_date=date(2026, 11, 29), labs={})
    args.update(over)
    with pytest.raises(ConductError, match=message):
        record_visit(dosed, setup.users[("BJ302", "coordinator")], **args)
    assert not Visit.objects.exists() and not LabResult.objects.exists()


def test_visit_twice_and_before_infusion_are_refused(setup, dosed):
    coordinator = setup.users[("BJ302", "coordinator")]
    record_visit(dosed, coordinator, code="D7", visit_date=date(2026, 11, 29), labs={})
    with pytest.raises(ConductError, match="already recorded"):
        record_visit(dosed, coordinator, code="D7", visit_date=date(2026, 11, 30), labs={})
    (other,) = make_eligible(setup, 1, first=1)
    with pytest.raises(ConductError, match="no infusion recorded"):
        record_visit(other, coordinator, code="D7", visit_date=timezone.localdate(), labs={})


def test_abnormal_labs_propose_graded_events_to_confirm_or_dismiss(setup, dosed, client):
    from trialdesk.conduct.models import AdverseEvent, LabEventProposal
    from trialdesk.conduct.services.lab_events import confirm, dismiss

    coordinator = setup.users[("BJ302", "coordinator")]
    visit = record_visit(
        dosed,
        coordinator,
        code="D7",
        visit_date=date(2026, 11, 29),
        labs={"alt": "250 U/L", "sodium": "128 mmol/L"},
    )
    proposals = {p.term: p for p in visit.proposals.all()}
    # CTCAE v5.0: ALT > 5.0-20.0 x ULN (site ULN 41 U/L) = grade 3; Na 125-129 = grade 2
    assert proposals["Alanine aminotransferase increased"].grade == 3
    assert proposals["Hyponatremia"].grade == 2
    with pytest.raises(ConductError, match="say why"):
        dismiss(proposals["Hyponatremia"], coordinator, reason=" ")
    dismiss(proposals["Hyponatremia"], coordinator, reason="haemolysed sample, repeat normal")
    ae = confirm(proposals["Alanine aminotransferase increased"], coordinator, related="possibly")
    assert (ae.term, ae.grade, ae.onset_date) == (
        "Alanine aminotransferase increased",
        3,
        date(2026, 11, 29),
    )
    assert ae.dlt is True  # grade >= 3 non-haematological, possibly related, in the window
    statuses = dict(LabEventProposal.objects.values_list("term", "status"))
    assert statuses == {
        "Alanine aminotransferase increased": "confirmed",
        "Hyponatremia": "dismissed",
    }
    with pytest.raises(ConductError, match="already confirmed"):
        confirm(proposals["Alanine aminotransferase increased"], coordinator, related="possibly")
    assert AdverseEvent.objects.count() == 1
    client.force_login(coordinator)
    text = client.get(reverse("conduct:visit", args=[dosed.pk, "D7"])).content.decode()
    assert "haemolysed sample" in text and "Confirmed" in text


def test_deciding_a_proposal_with_htmx_returns_the_list_in_place(setup, dosed, client):
    coordinator = setup.users[("BJ302", "coordinator")]
    visit = record_visit(
        dosed, coordinator, code="D7", visit_date=date(2026, 11, 29), labs={"sodium": "128 mmol/L"}
    )
    proposal = visit.proposals.get()
    client.force_login(coordinator)
    url = reverse("conduct:decide-proposal", args=[dosed.pk, proposal.pk])
    response = client.post(url, {"action": "dismiss", "reason": ""}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    body = response.content.decode()
    assert body.startswith('<div id="proposals">') and "say why" in body
    response = client.post(
        url, {"action": "dismiss", "reason": "repeat was normal"}, HTTP_HX_REQUEST="true"
    )
    assert "Dismissed" in response.content.decode() and "<html" not in response.content.decode()
    # without HTMX: the ordinary redirect back to the visit page
    proposal.refresh_from_db()
    assert proposal.status == "dismissed"
    assert client.post(url, {"action": "dismiss", "reason": "x"}).status_code == 302


def test_confirming_a_proposal_with_an_unknown_relationship_is_answered_inline(
    setup, dosed, client
):
    from trialdesk.conduct.models import AdverseEvent
    from trialdesk.conduct.services.lab_events import confirm

    coordinator = setup.users[("BJ302", "coordinator")]
    visit = record_visit(
        dosed, coordinator, code="D7", visit_date=date(2026, 11, 29), labs={"sodium": "128 mmol/L"}
    )
    proposal = visit.proposals.get()
    with pytest.raises(ConductError, match="relationship"):
        confirm(proposal, coordinator, related="certainly")
    client.force_login(coordinator)
    url = reverse("conduct:decide-proposal", args=[dosed.pk, proposal.pk])
    response = client.post(
        url, {"action": "confirm", "related": "certainly"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert body.startswith('<div id="proposals">') and "certainly" in body
    response = client.post(url, {"action": "approve"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and "approve" in response.content.decode()
    proposal.refresh_from_db()
    assert proposal.status == "proposed" and AdverseEvent.objects.count() == 0
    response = client.post(
        url, {"action": "confirm", "related": "possibly"}, HTTP_HX_REQUEST="true"
    )
    assert "Confirmed" in response.content.decode() and AdverseEvent.objects.count() == 1
