"""A fixed, hand-made trial dataset for the export tests: two participants enrolled (one
at each dose level, one of whom dies of sepsis) and one screen failure. Every expected row in
tests/interop/test_sdtm.py and test_ctgov_results.py is worked out by hand from it."""

from __future__ import annotations

from datetime import UTC, date, datetime

from trialdesk.analysis import synthetic as s
from trialdesk.analysis.dataset import Criterion, HistoryItem, Lab, Vitals

TREATMENT = "UC-MSC"


def fixed_dataset(**over):
    p01 = s.participant(
        "P01", dose_level="DL1", history=[HistoryItem("Hypertension", date(2015, 3, 1), True)]
    )
    p02 = s.participant(
        "P02",
        dose_level="DL2",
        cohort=2,
        sex="female",
        birth_date=date(1980, 2, 1),
        screened_on=date(2026, 1, 20),
        end_status="died",
        end_date=date(2026, 2, 25),
        country="Vietnam",
    )
    s03 = s.participant(
        "S03",
        status="screen_failed",
        screened_on=date(2026, 1, 5),
        screen_failure_reasons=("Age out of range",),
        criteria=[
            Criterion("I2", "inclusion", "Age 18 to 70 years", "not met"),
            Criterion("E1", "exclusion", "Hepatocellular carcinoma", "met"),
            Criterion("E2", "exclusion", "Pregnancy", "not met"),
            Criterion("I3", "inclusion", "Signed consent", "unknown"),
        ],
    )
    values = dict(
        participants=[p01, p02, s03],
        doses=[
            s.dose("P01", date(2026, 1, 10), dose_level="DL1"),
            s.dose("P02", date(2026, 2, 1), dose_level="DL2", cells=60_000_000),
        ],
        visits=[
            s.visit(
                "P01",
                "D1",
                date(2026, 1, 10),
                meld=20,
                labs=[
                    Lab("bilirubin", 2.0, "mg/dL", "", "34.2 umol/L"),
                    Lab("inr", 1.5, "{INR}", "", "1.5"),
                ],
                vitals=Vitals(temperature_c=36.8, heart_rate=80.0),
            ),
            s.visit(
                "P01",
                "D7",
                date(2026, 1, 16),
                labs=[Lab("creatinine", 0.5, "mg/dL", "<", "< 0.5 mg/dL")],
            ),
            s.visit("P01", "M3", date(2026, 4, 10), meld=16),
            s.visit("P02", "D1", date(2026, 2, 1), meld=25),
        ],
        adverse_events=[
            s.adverse_event(
                "P01",
                "Fever",
                1,
                date(2026, 1, 11),
                resolution_date=date(2026, 1, 12),
                related="possibly",
            ),
            s.adverse_event(
                "P02",
                "Sepsis",
                4,
                date(2026, 2, 20),
                dose_level="DL2",
                serious=True,
                seriousness=("hospitalisation", "life_threatening"),
                outcome="fatal",
                resolution_date=date(2026, 2, 25),
                related="unrelated",
                action_taken="treatment_given",
            ),
        ],
        data_cut=datetime(2027, 6, 30, tzinfo=UTC),
    )
    values.update(over)
    return s.dataset(**values)
