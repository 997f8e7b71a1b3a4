"""Small, fixed trial datasets built by hand, for hand-computed tests and for trying the
analysis in a notebook without a database.

The builders fill every contract field with a plain default so a test states only what it
is about::

    ds = dataset(
        participants=[participant("P01", cohort=1, dose_level="DL1")],
        doses=[dose("P01", date(2026, 1, 5))],
        visits=[visit("P01", "D1", date(2026, 1, 5), meld=15),
                visit("P01", "M3", date(2026, 4, 5), meld=12)],
    )

The schedule and dose levels default to a copy of the seed protocols' (D1 infusion = the
baseline, D7 ... M3 day 91, M6 day 181, M12 day 366 with +/-14 day windows; two dose levels).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta

from trialdesk.analysis.dataset import (
    AdverseEvent,
    Criterion,
    Decision,
    Deviation,
    Dose,
    DoseLevelInfo,
    HistoryItem,
    Lab,
    Participant,
    Scores,
    TrialDataset,
    Visit,
    VisitPlan,
    Vitals,
)

__all__ = [
    "DOSE_LEVELS",
    "SCHEDULE",
    "adverse_event",
    "dataset",
    "decision",
    "dose",
    "participant",
    "visit",
]

#: The seed protocols' follow-up schedule (protocols/NCT05227846/protocol.yaml, visits).
SCHEDULE: tuple[VisitPlan, ...] = (
    VisitPlan("SCR", "Screening", -1, 27, 0),
    VisitPlan("D1", "Infusion day", 1, 0, 0, is_infusion=True),
    VisitPlan("D7", "Day 7", 7, 2, 2),
    VisitPlan("D14", "Day 14", 14, 3, 3),
    VisitPlan("D28", "Day 28", 28, 3, 3),
    VisitPlan("M3", "Month 3", 91, 14, 14),
    VisitPlan("M6", "Month 6", 181, 14, 14),
    VisitPlan("M12", "Month 12", 366, 14, 14),
)

DOSE_LEVELS: tuple[DoseLevelInfo, ...] = (
    DoseLevelInfo("DL1", "0.5 x 10^6 cells/kg", 1, None, 500_000.0),
    DoseLevelInfo("DL2", "1.0 x 10^6 cells/kg", 2, None, 1_000_000.0),
)


def _at(day: date, hour: int = 9) -> datetime:
    return datetime.combine(day, time(hour, 0), tzinfo=UTC)


def participant(
    subject_id: str,
    *,
    status: str = "enrolled",
    cohort: int | None = 1,
    dose_level: str | None = "DL1",
    screened_on: date = date(2026, 1, 1),
    sex: str = "male",
    birth_date: date = date(1970, 6, 15),
    criteria: Iterable[Criterion] = (),
    history: Iterable[HistoryItem] = (),
    **over: object,
) -> Participant:
    """An enrolled participant at site S1 (consented the day after screening, enrolled three
    days after); a non-enrolled ``status`` clears the enrolment fields."""
    enrolled = status == "enrolled"
    age = (
        screened_on.year
        - birth_date.year
        - ((screened_on.month, screened_on.day) < (birth_date.month, birth_date.day))
    )
    values: dict[str, object] = dict(
        subject_id=subject_id,
        screening_number=f"S-{subject_id}",
        site_code="S1",
        site_name="Site One",
        country="Viet Nam",
        sex=sex,
        birth_date=birth_date,
        age_at_screening=age,
        screened_on=screened_on,
        status=status,
        screen_failure_reasons=(),
        consented_at=_at(screened_on + timedelta(days=1), 8) if status != "screen_failed" else None,
        consent_version="1.0" if status != "screen_failed" else None,
        enrolled_at=_at(screened_on + timedelta(days=3), 8) if enrolled else None,
        cohort=cohort if enrolled else None,
        dose_level=dose_level if enrolled else None,
        dlt_outcome="no_dlt" if enrolled else "pending",
        criteria=tuple(criteria),
        history=tuple(history),
        end_status=None,
        end_date=None,
        participant_id=subject_id if enrolled else None,
        eligible=status in ("eligible", "enrolled"),
    )
    values.update(over)
    return Participant(**values)  # type: ignore[arg-type]


def dose(subject_id: str, on: date, *, dose_level: str = "DL1", **over: object) -> Dose:
    values: dict[str, object] = dict(
        subject_id=subject_id,
        lot=f"LOT-{subject_id}",
        dose_level=dose_level,
        cells=30_000_000,
        body_weight_kg=60.0,
        started_at=_at(on, 9),
        ended_at=_at(on, 10),
        route="intravenous",
        volume_ml=100.0,
        premedication="none",
        infusion_reactions="",
    )
    values.update(over)
    return Dose(**values)  # type: ignore[arg-type]


def visit(
    subject_id: str,
    code: str,
    on: date,
    *,
    meld: int | None = None,
    meld_na: int | None = None,
    meld3: int | None = None,
    ctp_points: int | None = None,
    ctp_class: str | None = None,
    study_day: int | None = None,
    window_status: str = "in_window",
    labs: Iterable[Lab] = (),
    vitals: Vitals | None = None,
    **over: object,
) -> Visit:
    """A visit with the given scores (labs are optional: the scores are what is tested)."""
    v = Visit(
        subject_id=subject_id,
        code=code,
        visit_date=on,
        study_day=study_day,
        window_status=window_status,
        ascites=None,
        encephalopathy=None,
        vitals=vitals or Vitals(),
        labs=tuple(labs),
        scores=Scores(meld, meld_na, meld3, ctp_points, ctp_class),
    )
    return replace(v, **over) if over else v  # type: ignore[arg-type]


def adverse_event(
    subject_id: str,
    term: str,
    grade: int | None,
    onset: date,
    *,
    dose_level: str | None = "DL1",
    **over: object,
) -> AdverseEvent:
    values: dict[str, object] = dict(
        subject_id=subject_id,
        term=term,
        grade=grade,
        ctcae_version="5.0",
        onset_date=onset,
        resolution_date=None,
        serious=False,
        seriousness=(),
        related="unrelated",
        action_taken="none",
        outcome="recovered",
        dlt=False,
        dose_level=dose_level,
    )
    values.update(over)
    return AdverseEvent(**values)  # type: ignore[arg-type]


def decision(cohort: int, dose_level: str, chosen: str, on: date, **over: object) -> Decision:
    values: dict[str, object] = dict(
        cohort=cohort,
        dose_level=dose_level,
        outcomes="",
        recommended=chosen,
        decision="escalate" if chosen != dose_level else "stay",
        chosen=chosen,
        decided_at=_at(on, 12),
        departs_from_recommendation=False,
    )
    values.update(over)
    return Decision(**values)  # type: ignore[arg-type]


def dataset(
    *,
    participants: Iterable[Participant] = (),
    doses: Iterable[Dose] = (),
    visits: Iterable[Visit] = (),
    adverse_events: Iterable[AdverseEvent] = (),
    decisions: Iterable[Decision] = (),
    deviations: Iterable[Deviation] = (),
    nct_id: str = "NCT00000000",
    design: str = "escalation",
    schedule: tuple[VisitPlan, ...] = SCHEDULE,
    dose_levels: tuple[DoseLevelInfo, ...] = DOSE_LEVELS,
    data_cut: datetime = datetime(2027, 6, 30, 0, 0, tzinfo=UTC),
    title: str = "Synthetic trial",
) -> TrialDataset:
    """A dataset of the records given. Visits without a study day get it from the
    participant's first dose (day 1 = infusion day, no day 0)."""
    doses = tuple(doses)
    first: dict[str, date] = {}
    for d in sorted(doses, key=lambda d: d.started_at):
        first.setdefault(d.subject_id, d.started_at.astimezone(UTC).date())
    placed = []
    for v in visits:
        if v.study_day is None and v.subject_id in first:
            delta = (v.visit_date - first[v.subject_id]).days
            v = replace(v, study_day=delta + 1 if delta >= 0 else delta)
        placed.append(v)
    return TrialDataset(
        nct_id=nct_id,
        title=title,
        design=design,
        dose_levels=dose_levels,
        schedule=schedule,
        participants=tuple(participants),
        doses=doses,
        visits=tuple(placed),
        adverse_events=tuple(adverse_events),
        decisions=tuple(decisions),
        deviations=tuple(deviations),
        data_cut=data_cut,
    )
