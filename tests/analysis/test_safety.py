"""Safety tables and the participant flow on a fixed synthetic trial, every expected number
counted by hand from the records below (the subject ids behind each count are checked too)."""

from __future__ import annotations

from datetime import date

import pytest

from trialdesk.analysis.dataset import Criterion
from trialdesk.analysis.flow import participant_flow
from trialdesk.analysis.safety import (
    ae_overview,
    by_relatedness,
    by_term,
    deaths,
    dlt_table,
    sae_listing,
)
from trialdesk.analysis.synthetic import adverse_event, dataset, dose, participant

DL1, DL2 = "DL1", "DL2"


def trial():
    """Dosed: P01-P03 at DL1 (cohort 1), P04-P05 at DL2 (cohort 2); P06 enrolled at DL2, not
    dosed. S-07 / S-08 screen failures, S-09 in screening, S-10 eligible without consent.

    Adverse events (onset; TE = on or after the first dose):
      P01 (dosed 01-05)  Nausea g1 unlikely 01-03 (before the dose: not TE)
                         Fever g1 possibly 01-06; Fever g2 unrelated 02-01
      P02 (dosed 01-10)  Fever g1 possibly 01-11; Ascites g3 serious unrelated 03-01,
                         participant withdrawn
      P03 (dosed 01-15)  Infusion related reaction g3 related serious DLT 01-15
      P04 (dosed 03-01)  Sepsis g5 unrelated serious fatal 04-28 (died 05-01)
      P05 (dosed 03-05)  Fever, grade not recorded, attribution unknown 03-06
    """
    ps = [
        participant("P01", cohort=1, end_status="completed", end_date=date(2027, 1, 6)),
        participant("P02", cohort=1, end_status="withdrawn", end_date=date(2026, 3, 1)),
        participant("P03", cohort=1, dlt_outcome="dlt"),
        participant("P04", cohort=2, dose_level=DL2, end_status="died", end_date=date(2026, 5, 1)),
        participant("P05", cohort=2, dose_level=DL2, dlt_outcome="pending"),
        participant("P06", cohort=2, dose_level=DL2, dlt_outcome="pending"),
        participant(
            "S-07",
            status="screen_failed",
            criteria=[
                Criterion("inc-1", "inclusion", "Decompensated cirrhosis", "met"),
                Criterion("exc-9", "exclusion", "Serum sodium < 125 mmol/L", "met"),
            ],
        ),
        participant(
            "S-08", status="screen_failed", screen_failure_reasons=("inc-2 not met: age 17",)
        ),  # fmt: skip
        participant("S-09", status="screening"),
        participant("S-10", status="eligible", consented_at=None, consent_version=None),
    ]
    doses = [
        dose("P01", date(2026, 1, 5)),
        dose("P02", date(2026, 1, 10)),
        dose("P03", date(2026, 1, 15)),
        dose("P04", date(2026, 3, 1), dose_level=DL2),
        dose("P05", date(2026, 3, 5), dose_level=DL2),
    ]
    serious = dict(serious=True, seriousness=("hospitalisation",))
    aes = [
        adverse_event("P01", "Nausea", 1, date(2026, 1, 3), related="unlikely"),
        adverse_event("P01", "Fever", 1, date(2026, 1, 6), related="possibly"),
        adverse_event("P01", "Fever", 2, date(2026, 2, 1), related="unrelated"),
        adverse_event("P02", "Fever", 1, date(2026, 1, 11), related="possibly"),
        adverse_event("P02", "Ascites", 3, date(2026, 3, 1), action_taken="withdrawn", **serious),
        adverse_event(
            "P03",
            "Infusion related reaction",
            3,
            date(2026, 1, 15),
            related="related",
            dlt=True,
            **serious,
        ),  # fmt: skip
        adverse_event(
            "P04",
            "Sepsis",
            5,
            date(2026, 4, 28),
            dose_level=DL2,
            outcome="fatal",
            resolution_date=date(2026, 5, 1),
            serious=True,
            seriousness=("death",),
        ),  # fmt: skip
        adverse_event("P05", "Fever", None, date(2026, 3, 6), dose_level=DL2, related="unknown"),
    ]
    return dataset(participants=ps, doses=doses, adverse_events=aes)


def cells(table, label):
    """(n, at risk, events, ids) per group, All first."""
    return [(c.n, c.at_risk, c.events, c.subject_ids) for c in table.row(label).cells]


ALL5 = ("P01", "P02", "P03", "P04", "P05")


def test_overview_by_hand():
    t = ae_overview(trial())
    assert [(g.id, g.subject_ids) for g in t.groups] == [
        ("All", ALL5), ("DL1", ("P01", "P02", "P03")), ("DL2", ("P04", "P05")),
    ]  # fmt: skip
    # 7 treatment-emergent events (P01's nausea came before the dose): DL1 5, DL2 2
    assert cells(t, "Any adverse event") == [
        (5, 5, 7, ALL5), (3, 3, 5, ("P01", "P02", "P03")), (2, 2, 2, ("P04", "P05")),
    ]  # fmt: skip
    assert t.cell("Any adverse event").percent == 100.0
    assert cells(t, "Any serious adverse event") == [
        (3, 5, 3, ("P02", "P03", "P04")), (2, 3, 2, ("P02", "P03")), (1, 2, 1, ("P04",)),
    ]  # fmt: skip
    assert t.cell("Any serious adverse event").percent == pytest.approx(60.0)  # 3 / 5
    assert t.cell("Any serious adverse event", "DL1").percent == pytest.approx(200 / 3)
    # related or possibly: P01 fever g1, P02 fever g1, P03 infusion reaction
    assert cells(t, "Any related adverse event") == [
        (3, 5, 3, ("P01", "P02", "P03")), (3, 3, 3, ("P01", "P02", "P03")), (0, 2, 0, ()),
    ]  # fmt: skip
    assert t.cell("Any adverse event of grade 3 or higher").subject_ids == ("P02", "P03", "P04")
    assert cells(t, "Any dose-limiting toxicity")[0] == (1, 5, 1, ("P03",))
    assert t.cell("Any adverse event leading to withdrawal").subject_ids == ("P02",)
    assert t.cell("Any fatal adverse event", "DL2").percent == 50.0  # 1 / 2
    assert cells(t, "Deaths (all causes)")[0] == (1, 5, 1, ("P04",))
    # worst grade: P01 2, P02 3, P03 3, P04 5, P05 not recorded; events of each grade
    assert [(r.label, r.cells[0].subject_ids, r.cells[0].events) for r in t.rows[8:]] == [
        ("Worst grade 1", (), 2),
        ("Worst grade 2", ("P01",), 1),
        ("Worst grade 3", ("P02", "P03"), 2),
        ("Worst grade 4", (), 0),
        ("Worst grade 5", ("P04",), 1),
        ("Worst grade not recorded", ("P05",), 1),
    ]
    every = ae_overview(trial(), treatment_emergent=False)
    assert every.cell("Any adverse event").events == 8  # the nausea counts too


def test_by_term_and_worst_grade():
    t = by_term(trial())
    # Fever in 3 participants first, then one each in alphabetical order
    assert [r.label for r in t.rows] == ["Fever", "Ascites", "Infusion related reaction", "Sepsis"]
    assert cells(t, "Fever") == [
        (3, 5, 4, ("P01", "P02", "P05")), (2, 3, 3, ("P01", "P02")), (1, 2, 1, ("P05",)),
    ]  # fmt: skip
    fever = {r.label: (r.cells[0].subject_ids, r.cells[0].events) for r in t.row("Fever").detail}
    # worst fever grade: P01 2 (grades 1 and 2), P02 1, P05 not recorded
    assert fever == {
        "Grade 1": (("P02",), 2),  # two grade-1 fevers: P01's and P02's
        "Grade 2": (("P01",), 1),
        "Grade 3": ((), 0),
        "Grade 4": ((), 0),
        "Grade 5": ((), 0),
        "Grade not recorded": (("P05",), 1),
    }
    assert cells(t, "Sepsis")[2] == (1, 2, 1, ("P04",))
    assert "Nausea" in [r.label for r in by_term(trial(), treatment_emergent=False).rows]


def test_by_relatedness():
    t = by_relatedness(trial())
    assert [(r.label, r.cells[0].n, r.cells[0].events) for r in t.rows] == [
        ("Related or possibly related", 3, 3),
        ("Related", 1, 1),  # P03
        ("Possibly", 2, 2),  # P01, P02 fevers
        ("Unlikely", 0, 0),  # P01's nausea was before the dose
        ("Unrelated", 3, 3),  # P01 fever g2, P02 ascites, P04 sepsis
        ("Unknown", 1, 1),  # P05
    ]
    assert t.cell("Unrelated", "DL2").subject_ids == ("P04",)


def test_sae_listing_dlts_and_deaths():
    saes = sae_listing(trial())
    # study day of the onset: P02 2026-03-01 - 2026-01-10 = 50 days -> day 51
    assert [(s.subject_id, s.term, s.grade, s.study_day, s.dose_level) for s in saes] == [
        ("P02", "Ascites", 3, 51, "DL1"),
        ("P03", "Infusion related reaction", 3, 1, "DL1"),
        ("P04", "Sepsis", 5, 59, "DL2"),  # 2026-04-28 - 2026-03-01 = 58 days -> day 59
    ]
    assert saes[0].seriousness == ("hospitalisation",) and saes[0].action_taken == "withdrawn"
    c1, c2 = dlt_table(trial())
    assert (c1.cohort, c1.dose_level, c1.n_evaluable, c1.n_with_dlt) == (1, "DL1", 3, 1)
    assert c1.with_dlt == ("P03",) and c1.dlt_events == (("P03", "Infusion related reaction", 3),)
    assert (c2.cohort, c2.enrolled, c2.evaluable, c2.pending) == (
        2, ("P04", "P05", "P06"), ("P04",), ("P05", "P06"),
    )  # fmt: skip
    assert c2.n_with_dlt == 0
    (death,) = deaths(trial())
    # 2026-05-01 - 2026-03-01 = 61 days -> study day 62
    assert (death.subject_id, death.date, death.study_day, death.cause, death.dose_level) == (
        "P04", date(2026, 5, 1), 62, "Sepsis", "DL2",
    )  # fmt: skip


def test_participant_flow():
    f = participant_flow(trial())
    assert [(s.name, s.n) for s in f.stages] == [
        ("screened", 10),
        ("eligible", 7),  # P01-P06 and S-10
        ("consented", 6),  # S-10 has not consented
        ("enrolled", 6),
        ("dosed", 5),  # P06 not yet dosed
        ("completed", 1),  # P01
    ]
    assert f.stage("dosed").subject_ids == ALL5
    assert f.screen_failed.subject_ids == ("S-07", "S-08") and f.in_screening.subject_ids == (
        "S-09",
    )
    assert [(r.reason, r.text, r.subject_ids) for r in f.screen_failure_reasons] == [
        ("exc-9", "Serum sodium < 125 mmol/L", ("S-07",)),
        ("inc-2 not met: age 17", "inc-2 not met: age 17", ("S-08",)),
    ]
    assert (f.died.subject_ids, f.withdrawn.subject_ids, f.ongoing.subject_ids) == (
        ("P04",), ("P02",), ("P03", "P05"),
    )  # fmt: skip
    dl1, dl2 = f.arms
    assert (dl1.dose_level, dl1.dosed.n, dl1.completed.n, dl1.withdrawn.n, dl1.ongoing.n) == (
        "DL1", 3, 1, 1, 1,
    )  # fmt: skip
    assert (dl2.dosed.subject_ids, dl2.died.subject_ids, dl2.ongoing.subject_ids) == (
        ("P04", "P05"), ("P04",), ("P05",),
    )  # fmt: skip
    # the end states of the dosed add up to the dosed
    ends = f.stage("completed").n + f.died.n + f.withdrawn.n + f.ongoing.n
    assert ends == f.stage("dosed").n
    with pytest.raises(KeyError, match="no flow stage 'randomised'"):
        f.stage("randomised")


def test_empty_trial_gives_empty_tables_not_errors():
    ds = dataset(participants=[participant("S-1", status="screening")])
    t = ae_overview(ds)
    assert [g.id for g in t.groups] == ["All"]
    assert t.cell("Any adverse event").n == 0 and t.cell("Any adverse event").percent is None
    assert by_term(ds).rows == () and sae_listing(ds) == () and dlt_table(ds) == ()
    assert participant_flow(ds).stage("screened").n == 1


def test_single_arm_has_one_column():
    ds = trial()
    from dataclasses import replace

    single = replace(ds, design="single_arm")
    t = ae_overview(single)
    assert [g.id for g in t.groups] == ["All"]
    assert t.cell("Any adverse event").subject_ids == ALL5


def test_dose_level_as_treated_in_safety_and_endpoints():
    """Enrolled at DL1 but given DL2: both the safety columns and the endpoint groups count
    the participant at DL2 (the first dose's level)."""
    from trialdesk.analysis.endpoints import endpoint_table
    from trialdesk.analysis.synthetic import visit

    ds = dataset(
        participants=[participant("P01", dose_level=DL1)],
        doses=[dose("P01", date(2026, 1, 5), dose_level=DL2)],
        visits=[
            visit("P01", "D1", date(2026, 1, 5), meld=15),
            visit("P01", "M3", date(2026, 4, 5), meld=13),
        ],  # fmt: skip
        adverse_events=[adverse_event("P01", "Fever", 1, date(2026, 1, 6))],
    )
    assert ds.treated_dose_level("P01") == DL2
    assert [(g.id, g.subject_ids) for g in ae_overview(ds).groups] == [
        ("All", ("P01",)), ("DL2", ("P01",)),
    ]  # fmt: skip
    rows = endpoint_table(ds, ("meld",), ("M3",), by="dose_level")
    assert [(r.group, r.observed, r.change.mean) for r in rows] == [
        ("All", ("P01",), -2.0), ("DL2", ("P01",), -2.0),
    ]  # fmt: skip


def test_by_term_serious_split_and_frequency_threshold():
    ds = trial()
    serious = by_term(ds, serious=True)
    assert [r.label for r in serious.rows] == ["Ascites", "Infusion related reaction", "Sepsis"]
    other = by_term(ds, serious=False)
    assert [r.label for r in other.rows] == ["Fever"]  # 3 of 5, 4 events
    assert other.cell("Fever").events == 4
    # threshold: Ascites is 1 of 5 = 20% overall but 1 of 3 = 33.3% at DL1
    assert [r.label for r in by_term(ds, min_percent=34).rows] == ["Fever", "Sepsis"]  # 1/2 at DL2
    assert [r.label for r in by_term(ds, min_percent=33).rows] == [
        "Fever", "Ascites", "Infusion related reaction", "Sepsis",
    ]  # fmt: skip
    assert [r.label for r in by_term(ds, min_percent=51).rows] == ["Fever"]  # 2/3, 3/5
    with pytest.raises(ValueError, match="min_percent 120"):
        by_term(ds, min_percent=120)
