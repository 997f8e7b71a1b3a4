"""A small fixed escalation trial built by hand (the numbers in the report tests are
computed from it by hand): 6 enrolled participants in two cohorts of three at DL1 and DL2,
one screen failure, MELD at D1, M3 and M6, three adverse events (one serious), one DLT."""

from __future__ import annotations

from datetime import date

from trialdesk.analysis.synthetic import (
    adverse_event,
    dataset,
    decision,
    dose,
    participant,
    visit,
)

# subject -> (cohort, dose level, first dose, MELD at D1, M3, M6, DLT outcome)
PEOPLE = {
    "P01": (1, "DL1", date(2026, 1, 5), 15, 13, 12, "no_dlt"),
    "P02": (1, "DL1", date(2026, 1, 12), 18, 16, None, "no_dlt"),
    "P03": (1, "DL1", date(2026, 1, 19), 12, 12, 11, "no_dlt"),
    "P04": (2, "DL2", date(2026, 3, 2), 20, 17, None, "dlt"),
    "P05": (2, "DL2", date(2026, 3, 9), 16, None, None, "no_dlt"),
    "P06": (2, "DL2", date(2026, 3, 16), 14, 11, None, "pending"),
}


def small_trial(**over):
    from datetime import timedelta

    participants, doses, visits = [], [], []
    for sid, (cohort, level, day, d1, m3, m6, dlt) in PEOPLE.items():
        participants.append(
            participant(
                sid,
                cohort=cohort,
                dose_level=level,
                dlt_outcome=dlt,
                screened_on=day - timedelta(days=10),
                **(
                    {"end_status": "withdrawn", "end_date": date(2026, 5, 1)}
                    if sid == "P05"
                    else {}
                ),
            )
        )
        doses.append(dose(sid, day, dose_level=level))
        visits.append(visit(sid, "D1", day, meld=d1))
        if m3 is not None:
            visits.append(visit(sid, "M3", day + timedelta(days=90), meld=m3))
        if m6 is not None:
            visits.append(visit(sid, "M6", day + timedelta(days=180), meld=m6))
    participants.append(
        participant("S-07", status="screen_failed", screen_failure_reasons=("exc-4.1",))
    )
    events = [
        adverse_event("P01", "Fever", 1, date(2026, 1, 6), related="possibly"),
        adverse_event(
            "P04",
            "Liver failure",
            3,
            date(2026, 3, 20),
            serious=True,
            related="related",
            seriousness=("hospitalization",),
            dlt=True,
            dose_level="DL2",
        ),
        adverse_event("P06", "Nausea", 2, date(2026, 3, 18), dose_level="DL2"),
    ]
    decisions = [decision(1, "DL1", "DL2", date(2026, 2, 20), outcomes="1NNN")]
    values = dict(
        participants=participants,
        doses=doses,
        visits=visits,
        adverse_events=events,
        decisions=decisions,
        nct_id="NCT05227846",
        title="Small escalation trial",
    )
    values.update(over)
    return dataset(**values)
