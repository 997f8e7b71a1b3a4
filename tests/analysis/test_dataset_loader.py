"""``load_dataset``: a study's records, written through conduct's services, read back as the
plain values of ``trialdesk.analysis.dataset`` (real database, no mocks), with the scores of
the participant page, a bounded number of queries, the data cut and the site filter; and the
demo history (``trialdesk demo``) read whole."""

from __future__ import annotations

from dataclasses import FrozenInstanceError
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from click.testing import CliRunner
from django.db import connection
from django.test.utils import CaptureQueriesContext
from tests.conduct.conftest import make_eligible, screen_bj

from trialdesk.analysis.dataset import TrialDataset
from trialdesk.conduct import services
from trialdesk.conduct.services.dataset import load_dataset
from trialdesk.conduct.services.safety import record_adverse_event
from trialdesk.conduct.services.visits import record_visit, scores

pytestmark = pytest.mark.django_db

INFUSION = date(2026, 11, 23)  # study day 1 (consent 2026-11-21 09:00 UTC, make_eligible)
LABS = {"bilirubin": "2.0 mg/dL", "inr": "1.5", "creatinine": "88.4 umol/L",
        "sodium": "135 mmol/L", "albumin": "31 g/L"}  # fmt: skip


def _enrol_and_dose(setup, p, day: date = INFUSION):
    coordinator = setup.users[("BJ302", "coordinator")]
    services.enrol(p, coordinator, at=datetime(2026, 11, 21, 10, 0, tzinfo=UTC))
    p.refresh_from_db()
    start = datetime.combine(day, datetime.min.time(), tzinfo=UTC) + timedelta(hours=9)
    services.record_dose(
        p,
        coordinator,
        product_lot="UC-1",
        cells=50_000_000,
        body_weight_kg=Decimal("61.5"),
        started_at=start,
        ended_at=start + timedelta(minutes=40),
        route="intravenous infusion",
        volume_ml=Decimal(100),
    )
    p.refresh_from_db()
    return p


def test_loads_a_conducted_participant(setup):
    p, waiting = make_eligible(setup, 2)
    p = _enrol_and_dose(setup, p)
    coordinator = setup.users[("BJ302", "coordinator")]
    d1 = record_visit(p, coordinator, code="D1", visit_date=INFUSION, labs=LABS,
                      ascites="mild", encephalopathy=0, heart_rate=80)  # fmt: skip
    d7 = record_visit(
        p,
        coordinator,
        code="D7",
        visit_date=INFUSION + timedelta(days=10),
        labs={**LABS, "bilirubin": "3.0 mg/dL"},
    )  # fmt: skip  (late: day 11)
    record_adverse_event(
        p, setup.users[("BJ302", "investigator")], term="Fever", grade=1,
        onset_date=INFUSION + timedelta(days=1),
        awareness_at=datetime(2026, 11, 24, 14, 0, tzinfo=UTC), related="possibly",
    )  # fmt: skip
    failed = screen_bj(setup, initials="SFX", data=_with_sodium(120))

    ds = load_dataset(setup.bj)
    assert isinstance(ds, TrialDataset)
    assert (ds.nct_id, ds.design) == ("NCT05227846", "escalation")
    assert [d.id for d in ds.dose_levels][:2] == ["DL1", "DL2"]
    assert ds.baseline_code == "D1" and ds.visit_plan("M3").target_day == 91
    assert len(ds.participants) == 3
    sid = p.participant_id
    got = ds.participant(sid)
    assert (got.status, got.cohort, got.dose_level, got.site_code) == (
        "enrolled",
        1,
        "DL1",
        "BJ302",
    )
    assert got.screening_number == p.screening_number and got.eligible
    assert got.consented_at == datetime(2026, 11, 21, 9, 0, tzinfo=UTC)
    assert got.consent_version == setup.bj.consent_versions.get().version
    assert got.age_at_screening == 66  # born 1960-03-01, screened 2026-11-20
    assert {c.id for c in got.criteria} >= {"inc-1", "exc-4.1"}
    assert all(c.outcome in ("met", "not met", "unknown") for c in got.criteria)
    assert not got.failed_criteria
    assert "cirrhosis" in {h.term for h in got.history}
    assert (got.end_status, got.end_date) == (None, None)  # in follow-up
    # the waiting participant keeps the screening number as subject id
    assert ds.participant(waiting.screening_number).status == "eligible"
    sf = ds.participant(failed.screening_number)
    assert sf.status == "screen_failed" and sf.screen_failure_reasons and sf.failed_criteria
    assert sf.consented_at is None and sf.enrolled_at is None and sf.dose_level is None

    (dose,) = ds.doses
    assert (dose.subject_id, dose.cells, dose.body_weight_kg, dose.volume_ml) == (
        sid, 50_000_000, 61.5, 100.0,
    )  # fmt: skip
    assert dose.started_at.tzinfo is not None
    visits = ds.visits_of(sid)
    assert [(v.code, v.study_day, v.window_status) for v in visits] == [
        ("D1", 1, "in_window"),
        ("D7", 11, "late"),
    ]
    for row, v in ((d1, visits[0]), (d7, visits[1])):  # the participant page's scores
        s = scores(row)
        assert v.scores.meld == s.meld.value and v.scores.meld_na == s.meld_na.value
        assert v.scores.meld3 == s.meld3.value and v.scores.ctp_points == s.child_pugh.value
        assert v.scores.ctp_class == s.child_pugh.klass
    assert visits[0].scores.meld is not None and visits[1].scores.meld > visits[0].scores.meld
    alb = visits[0].lab("albumin")
    assert (alb.value, alb.unit, alb.entered) == (3.1, "g/dL", "31 g/L")
    assert visits[0].vitals.heart_rate == 80.0 and visits[0].vitals.temperature_c is None
    assert visits[0].ascites == "mild" and visits[1].ascites is None
    (ae,) = ds.adverse_events
    assert (ae.term, ae.grade, ae.related, ae.dose_level, ae.ctcae_version) == (
        "Fever", 1, "possibly", "DL1", "5.0",
    )  # fmt: skip
    (dev,) = ds.deviations
    assert (dev.subject_id, dev.visit_code, dev.kind) == (sid, "D7", "visit late")
    with pytest.raises(FrozenInstanceError):
        got.status = "screening"  # type: ignore[misc]


def _with_sodium(value: int) -> str:
    import yaml
    from tests.conduct.conftest import eligible_plain

    data = yaml.safe_load(eligible_plain())
    data["labs"]["sodium"]["value"] = value
    return yaml.safe_dump(data)


def test_data_cut_leaves_out_later_records(setup):
    (p,) = make_eligible(setup, 1)
    p = _enrol_and_dose(setup, p)
    coordinator = setup.users[("BJ302", "coordinator")]
    record_visit(p, coordinator, code="D1", visit_date=INFUSION, labs=LABS)
    record_visit(p, coordinator, code="D7", visit_date=INFUSION + timedelta(days=6), labs=LABS)
    cut = datetime(2026, 11, 25, 0, 0, tzinfo=UTC)
    ds = load_dataset(setup.bj, data_cut=cut)
    assert ds.data_cut == cut
    assert [v.code for v in ds.visits] == ["D1"]
    before = load_dataset(setup.bj, data_cut=datetime(2026, 11, 21, 9, 30, tzinfo=UTC))
    (only,) = before.participants  # consented, not yet enrolled at that time
    assert only.status == "eligible" and only.subject_id == p.screening_number
    assert only.consented_at is not None and before.doses == () and before.visits == ()
    with pytest.raises(ValueError, match="data_cut .* timezone-aware"):
        load_dataset(setup.bj, data_cut=datetime(2026, 11, 25, 0, 0))


def test_site_filter_and_bounded_queries(setup):
    made = make_eligible(setup, 3)
    coordinator = setup.users[("BJ302", "coordinator")]
    first = _enrol_and_dose(setup, made[0])
    record_visit(first, coordinator, code="D1", visit_date=INFUSION, labs=LABS)
    load_dataset(setup.bj)  # warm: protocol and unit registry load once per process
    with CaptureQueriesContext(connection) as one:
        load_dataset(setup.bj)
    p = _enrol_and_dose(setup, made[1])
    record_visit(p, coordinator, code="D1", visit_date=INFUSION, labs=LABS)
    record_visit(p, coordinator, code="D7", visit_date=INFUSION + timedelta(days=6), labs=LABS)
    with CaptureQueriesContext(connection) as more:
        load_dataset(setup.bj)
    assert len(more.captured_queries) == len(one.captured_queries) <= 15
    other = next(s for code, s in setup.sites.items() if code != "BJ302")
    assert load_dataset(setup.bj, sites=[other]).participants == ()
    assert len(load_dataset(setup.bj, sites=[setup.sites["BJ302"]]).participants) == 3


def test_demo_history_is_consistent(setup_roles):
    from trialdesk.cli import main
    from trialdesk.conduct.models import Study

    result = CliRunner().invoke(main, ["demo"])
    assert result.exit_code == 0, result.output
    esc = load_dataset(Study.objects.get(nct_id="NCT05227846"))
    arm = load_dataset(Study.objects.get(nct_id="NCT05331872"))
    assert (esc.design, arm.design) == ("escalation", "single_arm")
    # NCT05227846: 10 screened, 7 enrolled (3 + 3 + 1) and dosed, one screen failure
    assert len(esc.participants) == 10 and len(esc.enrolled()) == 7 and len(esc.dosed()) == 7
    assert sum(p.status == "screen_failed" for p in esc.participants) == 1
    assert [(p.cohort, p.dose_level) for p in esc.enrolled()].count((2, "DL2")) == 3
    assert [(d.cohort, d.outcomes, d.decision) for d in esc.decisions] == [
        (1, "1NNN", "escalate"),
        (2, "1NNN 2NNT", "stay"),
    ]
    dlt = [p.subject_id for p in esc.enrolled() if p.dlt_outcome == "dlt"]
    assert len(dlt) == 1
    assert any(a.dlt and a.subject_id == dlt[0] for a in esc.adverse_events)
    # NCT05331872: 20 enrolled and dosed, every visit scored with MELD at baseline
    assert len(arm.enrolled()) == 20 and len(arm.doses) == 20
    baseline = [arm.visit(p.subject_id, "D1") for p in arm.enrolled()]
    assert all(v is not None and v.scores.meld is not None for v in baseline)
    assert sum(p.end_status == "completed" for p in arm.participants) >= 1
    assert all(v.study_day is not None for v in arm.visits)
    # identical data, identical dataset
    assert load_dataset(Study.objects.get(nct_id="NCT05331872"), data_cut=arm.data_cut) == arm

    # The tables on the demo data add up, and agree with counts read from the database.
    from trialdesk.analysis.endpoints import change_from_baseline, endpoint_table
    from trialdesk.analysis.flow import participant_flow
    from trialdesk.analysis.safety import ae_overview, by_term, dlt_table, sae_listing
    from trialdesk.conduct.models import AdverseEvent, Participant

    for ds in (esc, arm):
        flow = participant_flow(ds)
        counts = [s.n for s in flow.stages]
        assert counts == sorted(counts, reverse=True)  # never rises along the flow
        assert counts[0] == Participant.objects.filter(study__nct_id=ds.nct_id).count()
        assert flow.stage("enrolled").n == len(ds.enrolled())
        dosed = flow.stage("dosed")
        assert dosed.n == sum(a.dosed.n for a in flow.arms)
        assert (
            dosed.n == flow.stage("completed").n + flow.died.n + flow.withdrawn.n + flow.ongoing.n
        )
        failed = flow.screen_failed.n
        assert (
            failed
            == Participant.objects.filter(study__nct_id=ds.nct_id, status="screen_failed").count()
        )
        assert sum(r.n for r in flow.screen_failure_reasons) >= failed
        saes = AdverseEvent.objects.filter(participant__study__nct_id=ds.nct_id, serious=True)
        assert len(sae_listing(ds)) == saes.count()
        overview = ae_overview(ds)
        any_ae = overview.cell("Any adverse event")
        assert any_ae.at_risk == dosed.n and any_ae.n <= dosed.n
        if ds.design == "escalation":  # a column per dose level, splitting the dosed
            assert sum(g.at_risk for g in overview.groups[1:]) == dosed.n
        else:
            assert [g.id for g in overview.groups] == ["All"]
        for row in by_term(ds).rows:  # worst-grade rows split the term's participants
            assert sum(d.cells[0].n for d in row.detail) == row.cells[0].n
            assert sum(d.cells[0].events for d in row.detail) == row.cells[0].events
    # NCT05227846: fever after each infusion of cohorts 1 and 2, the DLT of cohort 2
    assert by_term(esc).cell("Fever").n == 6
    assert [(r.cohort, r.dose_level, r.n_evaluable, r.n_with_dlt) for r in dlt_table(esc)] == [
        (1, "DL1", 3, 0), (2, "DL2", 3, 1), (3, "DL2", 0, 0),
    ]  # fmt: skip
    # NCT05331872: MELD at month 3 - every dosed participant observed or missing with a reason
    for rule in ("include", "exclude", "nearest"):
        for r in endpoint_table(arm, ("meld",), window_rule=rule):
            assert r.expected == tuple(p.subject_id for p in arm.dosed())
            assert sorted(r.observed + tuple(m.subject_id for m in r.missing)) == sorted(r.expected)
            assert r.change.n == len(r.observations)
    from trialdesk.analysis.baseline import baseline_characteristics

    (column,) = baseline_characteristics(arm)  # single arm: one column
    assert column.age.summary.n == 20 and sum(c.n for c in column.sex) == 20
    assert column.score("meld").summary.n + len(column.score("meld").missing) == 20
    late = change_from_baseline(arm, "meld", "M3")
    assert len(late.out_of_window) == 1  # the demo's late month-3 visit, used under "include"
    excluded = change_from_baseline(arm, "meld", "M3", window_rule="exclude")
    assert excluded.missing_by_reason()["out of window"] == late.out_of_window


def test_history_from_a_fhir_screening(setup):
    """A participant screened from a FHIR R4 bundle: the medical history is the bundle's
    conditions as the eligibility reader reads them (onset, ongoing or resolved)."""
    import json

    from tests.eligibility.fhir_builders import (
        ICD10CM,
        SCREEN,
        SNOMED,
        bundle,
        cirrhosis_labs,
        cond,
    )

    from trialdesk.conduct import services

    site = next(s for code, s in setup.sites.items() if code != "BJ302")
    user = setup.users[(site.code, "coordinator")]
    resources = [cond(SNOMED, "19943007", 1500), cond(ICD10CM, "J18.9", 90, 70), *cirrhosis_labs()]
    services.screen_participant(
        setup.vm, site, user, initials="FHR", sex="female", birth_date=date(1970, 5, 5),
        screened_on=SCREEN, source="fhir",
        data=json.dumps(bundle("1970-05-05", "female", resources)),
    )  # fmt: skip
    (p,) = load_dataset(setup.vm).participants
    history = {h.term: (h.start, h.ongoing) for h in p.history}
    assert history["cirrhosis"] == (SCREEN - timedelta(days=1500), True)
    resolved = [h for h in p.history if h.start == SCREEN - timedelta(days=90)]
    assert resolved and resolved[0].ongoing is False  # the pneumonia, abated 70 days ago
    assert (p.site_code, p.sex, p.status) == (site.code, "female", "screening")


def test_death_and_withdrawal_come_from_the_adverse_events(setup):
    """Conduct records a death as a fatal adverse event and a withdrawal as an event's action
    "participant withdrawn": the loader derives the end status and date from them, and the
    flow, the deaths table and the endpoints' missing reasons follow."""
    from trialdesk.analysis.endpoints import change_from_baseline
    from trialdesk.analysis.flow import participant_flow
    from trialdesk.analysis.safety import deaths

    first, second = (_enrol_and_dose(setup, p) for p in make_eligible(setup, 2))
    coordinator = setup.users[("BJ302", "coordinator")]
    investigator = setup.users[("BJ302", "investigator")]
    for p in (first, second):
        record_visit(p, coordinator, code="D1", visit_date=INFUSION, labs=LABS)
    aware = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
    record_adverse_event(
        first, investigator, term="Sepsis", grade=5, onset_date=INFUSION + timedelta(days=4),
        resolution_date=INFUSION + timedelta(days=6), awareness_at=aware, related="unrelated",
        seriousness=["death"], outcome="fatal",
    )  # fmt: skip
    record_adverse_event(
        second, investigator, term="Fever", grade=2, onset_date=INFUSION + timedelta(days=3),
        awareness_at=aware, related="possibly", action_taken="withdrawn", outcome="recovered",
        resolution_date=INFUSION + timedelta(days=4),
    )  # fmt: skip
    ds = load_dataset(setup.bj)
    died, withdrew = ds.participant(first.participant_id), ds.participant(second.participant_id)
    assert (died.end_status, died.end_date) == ("died", INFUSION + timedelta(days=6))
    assert (withdrew.end_status, withdrew.end_date) == ("withdrawn", INFUSION + timedelta(days=3))
    (death,) = deaths(ds)
    assert (death.subject_id, death.cause, death.study_day) == (died.subject_id, "Sepsis", 7)
    flow = participant_flow(ds)
    assert flow.died.subject_ids == (died.subject_id,)
    assert flow.withdrawn.subject_ids == (withdrew.subject_id,)
    m3 = change_from_baseline(ds, "meld", "M3")
    assert m3.missing_by_reason() == {
        "died": (died.subject_id,),
        "withdrawn": (withdrew.subject_id,),
    }
