"""What each plot shows, as plain values: one home for the selection and ordering that the
static (matplotlib) and interactive (plotly) versions of a plot share.

Everything is ordered by subject id, then date (the dataset's own order), so identical data
gives identical series.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from trialdesk.analysis.dataset import TrialDataset
from trialdesk.analysis.endpoints import values_by_visit

#: The scores a trajectory plot can show: attribute of ``Scores`` -> axis label.
SCORES = {
    "meld": "MELD",
    "meld_na": "MELD-Na",
    "meld3": "MELD 3.0",
    "ctp_points": "Child-Pugh points",
}


@dataclass(frozen=True, slots=True)
class Trajectory:
    """One participant's score over study days."""

    subject_id: str
    dose_level: str | None
    days: tuple[int, ...]
    values: tuple[float, ...]
    codes: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class VisitSummary:
    """The score at one scheduled visit across participants: mean with the two-sided 95%
    t-interval of ``trialdesk.analysis.stats.describe`` (``low``/``high`` are ``None`` when
    n < 2: not estimable)."""

    code: str
    label: str
    target_day: int
    n: int
    mean: float
    low: float | None
    high: float | None


def trajectories(ds: TrialDataset, score: str = "meld") -> tuple[Trajectory, ...]:
    """Each enrolled participant's ``score`` at visits that have it and a study day."""
    if score not in SCORES:
        raise ValueError(f"score {score!r}: use one of {', '.join(SCORES)}")
    out = []
    for p in ds.enrolled():
        rows = sorted(
            (v.study_day, v.code, getattr(v.scores, score))
            for v in ds.visits
            if v.subject_id == p.subject_id
            and v.study_day is not None
            and getattr(v.scores, score) is not None
        )
        if rows:
            out.append(
                Trajectory(
                    subject_id=p.subject_id,
                    dose_level=p.dose_level,
                    days=tuple(r[0] for r in rows),
                    values=tuple(float(r[2]) for r in rows),
                    codes=tuple(r[1] for r in rows),
                )
            )
    return tuple(sorted(out, key=lambda t: t.subject_id))


def visit_summaries(ds: TrialDataset, score: str = "meld") -> tuple[VisitSummary, ...]:
    """The mean and 95% CI of ``score`` at the baseline visit and each scheduled visit after
    it that has a value, among the dosed participants, each visit chosen as for the change
    from baseline (``analysis.endpoints.values_by_visit``, default window rule "include").
    None without an infusion (baseline) visit in the schedule."""
    if score not in SCORES:
        raise ValueError(f"score {score!r}: use one of {', '.join(SCORES)}")
    if ds.baseline_code is None:
        return ()
    out = []
    for row in values_by_visit(ds, score):
        s = row.summary
        if s.n:
            label = ds.visit_plan(row.code).label
            out.append(
                VisitSummary(row.code, label, row.target_day, s.n, s.mean, s.ci_low, s.ci_high)
            )
    return tuple(out)


@dataclass(frozen=True, slots=True)
class EscalationPoint:
    """One dosed (or enrolled) participant in the escalation history."""

    subject_id: str
    cohort: int
    dose_level: str
    dose_order: int
    position: int  # 1-based, in order of dosing
    dlt_outcome: str  # "dlt" / "no_dlt" / "pending"


@dataclass(frozen=True, slots=True)
class CohortBlock:
    cohort: int
    dose_level: str
    first: int
    last: int
    decision: str | None  # e.g. "escalate to DL3", from the signed SRC decision
    departs: bool


def escalation(ds: TrialDataset) -> tuple[tuple[EscalationPoint, ...], tuple[CohortBlock, ...]]:
    """The enrolled participants with a cohort, in order of first dose (else enrolment),
    and each cohort's block with the signed decision taken after it."""
    order = {d.id: d.order for d in ds.dose_levels}
    first_dose = {}
    for d in ds.doses:
        first_dose.setdefault(d.subject_id, d.started_at)
    people = [p for p in ds.enrolled() if p.cohort is not None and p.dose_level is not None]
    unknown = sorted({p.dose_level for p in people if p.dose_level not in order})
    if unknown:
        raise ValueError(f"escalation plot: dose level(s) {', '.join(unknown)} not in the protocol")
    people.sort(
        key=lambda p: (p.cohort, first_dose.get(p.subject_id) or p.enrolled_at, p.subject_id)
    )
    points = tuple(
        EscalationPoint(p.subject_id, p.cohort, p.dose_level, order[p.dose_level], i, p.dlt_outcome)
        for i, p in enumerate(people, start=1)
    )
    decisions = {}
    for d in sorted(ds.decisions, key=lambda d: d.decided_at):
        decisions[d.cohort] = d
    blocks = []
    for cohort in sorted({p.cohort for p in points}):
        mine = [p for p in points if p.cohort == cohort]
        d = decisions.get(cohort)
        label = None
        if d is not None:
            word = "at" if d.decision == "stay" else "to"
            label = d.decision.replace("_", "-") + (f" {word} {d.chosen}" if d.chosen else "")
        blocks.append(
            CohortBlock(
                cohort,
                mine[0].dose_level,
                mine[0].position,
                mine[-1].position,
                label,
                bool(d and d.departs_from_recommendation),
            )
        )
    return points, tuple(blocks)


@dataclass(frozen=True, slots=True)
class SwimmerRow:
    """One dosed participant's follow-up, in days since the first dose (dose day = 0)."""

    subject_id: str
    dose_level: str | None
    end_day: int
    end_status: str  # "completed" / "withdrawn" / "died" / "ongoing"
    visit_days: tuple[int, ...]
    ae_days: tuple[int, ...]
    sae_days: tuple[int, ...]
    ae_terms: tuple[str, ...]
    sae_terms: tuple[str, ...]


def swimmer(ds: TrialDataset) -> tuple[SwimmerRow, ...]:
    """Each dosed participant from the first dose to the end of follow-up (the end date, or
    the data cut while ongoing); visits, adverse events (SAEs apart) on the same axis."""
    cut = ds.data_cut.date()
    first_dose: dict[str, date] = {}
    for d in ds.doses:
        day = d.started_at.date()
        if d.subject_id not in first_dose or day < first_dose[d.subject_id]:
            first_dose[d.subject_id] = day
    rows = []
    for p in ds.participants:
        start = first_dose.get(p.subject_id)
        if start is None:
            continue
        end = p.end_date if p.end_status is not None and p.end_date is not None else cut
        visits = tuple(
            sorted((v.visit_date - start).days for v in ds.visits if v.subject_id == p.subject_id)
        )
        aes = sorted(
            ((a.onset_date - start).days, a.term, a.serious)
            for a in ds.adverse_events
            if a.subject_id == p.subject_id
        )
        rows.append(
            SwimmerRow(
                subject_id=p.subject_id,
                dose_level=p.dose_level,
                end_day=max((end - start).days, 0),
                end_status=p.end_status or "ongoing",
                visit_days=visits,
                ae_days=tuple(a[0] for a in aes if not a[2]),
                sae_days=tuple(a[0] for a in aes if a[2]),
                ae_terms=tuple(a[1] for a in aes if not a[2]),
                sae_terms=tuple(a[1] for a in aes if a[2]),
            )
        )
    return tuple(sorted(rows, key=lambda r: r.subject_id))
