"""Change from baseline in the liver scores (MELD, MELD-Na, MELD 3.0, Child-Pugh points) at
the follow-up visits (months 3, 6 and 12): NCT05331872's primary outcome, and NCT05227846's
efficacy by dose level.

Population: every dosed participant (of the group: the dose level as treated, i.e. of the
first dose, as the safety tables group) is expected at each time point. Baseline:
the protocol's infusion visit (``D1``: its labs and grades are taken before the infusion,
protocols/*/protocol.yaml), or ``baseline_code``. The score at each visit is the one the
participant page shows (``trialdesk.clinical.visit_scores``). Change = visit - baseline.

Visits out of window (``window_rule``; ICH E9 section 5.2.2: the handling of protocol
deviations is specified before the analysis):

- ``"include"`` (default): the visit recorded under the time point's code is used whatever its
  window status; the out-of-window visits are listed (``out_of_window``) and the deviation
  is in the deviation log.
- ``"exclude"``: a visit done outside its protocol window counts as missing
  ("out of window").
- ``"nearest"``: analysis windows (as CDISC ADaM analysis visits are derived): each scheduled
  visit after the baseline owns the study days from the midpoint with the previous scheduled
  visit (exclusive) to the midpoint with the next (inclusive); the last owns as many days after
  its target as before. The participant's visit with a known score nearest the target inside
  that window is used, whatever its code; on equal distance the earlier visit.

Missing values are never imputed: each expected participant without a change is listed with
the reason (:data:`MISSING_REASONS`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta

from trialdesk.analysis.dataset import Participant, TrialDataset, Visit
from trialdesk.analysis.stats import Summary, TestResult, describe, paired_t, signed_rank

__all__ = [
    "MISSING_REASONS",
    "SCORES",
    "TIME_POINTS",
    "WINDOW_RULES",
    "ChangeFromBaseline",
    "Missing",
    "Observation",
    "VisitValues",
    "change_from_baseline",
    "endpoint_table",
    "values_by_visit",
]

#: score attribute of ``Scores`` -> label
SCORES = {
    "meld": "MELD",
    "meld_na": "MELD-Na",
    "meld3": "MELD 3.0",
    "ctp_points": "Child-Pugh points",
}
TIME_POINTS = ("M3", "M6", "M12")
WINDOW_RULES = ("include", "exclude", "nearest")
MISSING_REASONS = (
    "died",  # died before the time point's window closed (a fatal adverse event)
    "withdrawn",  # withdrawn before the window closed
    "not yet due",  # the window had not closed at the data cut
    "no baseline",  # the baseline visit or its score is missing
    "out of window",  # window_rule="exclude" and the visit was early or late
    "score unknown",  # the visit was done but the score could not be computed
    "missed",  # the window closed without the visit
)
OUT_OF_WINDOW = ("early", "late")


@dataclass(frozen=True, slots=True)
class Observation:
    """One participant's pair: the baseline and the time point's value and the change."""

    subject_id: str
    baseline: float
    value: float
    change: float
    visit_code: str  # the visit used (may differ from the time point under "nearest")
    visit_date: date
    study_day: int | None
    window_status: str


@dataclass(frozen=True, slots=True)
class Missing:
    subject_id: str
    reason: str  # one of MISSING_REASONS
    detail: str


@dataclass(frozen=True, slots=True)
class ChangeFromBaseline:
    """The change from baseline of one score at one time point in one group."""

    score: str
    score_label: str
    time_point: str
    group: str  # "All" or a dose level id / "cohort N"
    baseline_code: str
    window_rule: str
    expected: tuple[str, ...]
    observations: tuple[Observation, ...]
    missing: tuple[Missing, ...]
    out_of_window: tuple[str, ...]  # subjects whose value comes from an out-of-window visit
    baseline_summary: Summary
    value_summary: Summary
    change: Summary
    t_test: TestResult
    wilcoxon: TestResult

    @property
    def observed(self) -> tuple[str, ...]:
        return tuple(o.subject_id for o in self.observations)

    def missing_by_reason(self) -> dict[str, tuple[str, ...]]:
        out: dict[str, tuple[str, ...]] = {}
        for m in self.missing:
            out[m.reason] = out.get(m.reason, ()) + (m.subject_id,)
        return out


def _check(ds: TrialDataset, score: str, time_point: str, window_rule: str, baseline: str):
    if score not in SCORES:
        raise ValueError(f"score {score!r}: expected one of {', '.join(SCORES)}")
    if window_rule not in WINDOW_RULES:
        raise ValueError(f"window_rule {window_rule!r}: expected one of {', '.join(WINDOW_RULES)}")
    for what, code in (("time point", time_point), ("baseline visit", baseline)):
        try:
            ds.visit_plan(code)
        except KeyError:
            known = ", ".join(v.code for v in ds.schedule)
            raise ValueError(
                f"{what} {code!r} is not a visit of {ds.nct_id}'s schedule ({known})"
            ) from None
    if ds.visit_plan(time_point).target_day <= ds.visit_plan(baseline).target_day:
        raise ValueError(f"time point {time_point} is not after the baseline visit {baseline}")


def _analysis_window(ds: TrialDataset, code: str, baseline: str) -> tuple[float, float]:
    """(first day exclusive, last day inclusive) of the time point's analysis window."""
    base_day = ds.visit_plan(baseline).target_day
    days = sorted({v.target_day for v in ds.schedule if v.target_day > base_day})
    target = ds.visit_plan(code).target_day
    i = days.index(target)
    low = (days[i - 1] + target) / 2 if i > 0 else float(base_day)
    high = (target + days[i + 1]) / 2 if i + 1 < len(days) else target + (target - low)
    return low, high


def _pick(
    ds: TrialDataset, p: Participant, score: str, code: str, rule: str, baseline: str
) -> tuple[Visit | None, str | None]:
    """The visit giving the time point's value, or (None, reason) when there is none."""
    if rule == "nearest":
        low, high = _analysis_window(ds, code, baseline)
        target = ds.visit_plan(code).target_day
        candidates = [
            v
            for v in ds.visits_of(p.subject_id)
            if v.study_day is not None
            and low < v.study_day <= high
            and getattr(v.scores, score) is not None
        ]
        if candidates:
            best = min(candidates, key=lambda v: (abs(v.study_day - target), v.study_day))
            return best, None
        recorded = [
            v
            for v in ds.visits_of(p.subject_id)
            if v.study_day is not None and low < v.study_day <= high
        ]
        return None, ("score unknown" if recorded else None)
    v = ds.visit(p.subject_id, code)
    if v is None:
        return None, None
    if rule == "exclude" and v.window_status in OUT_OF_WINDOW:
        return None, "out of window"
    if getattr(v.scores, score) is None:
        return None, "score unknown"
    return v, None


def _why_absent(ds: TrialDataset, p: Participant, code: str, last_day: int) -> Missing:
    """Why a participant has no visit for the time point: died / withdrawn before the
    window (closing on study day ``last_day``) closed, the window still open at the data
    cut, or missed."""
    day1 = ds.first_dose_date(p.subject_id)
    closes = day1 + timedelta(days=last_day - 1)
    if p.end_status in ("died", "withdrawn") and p.end_date is not None and p.end_date <= closes:
        return Missing(p.subject_id, p.end_status, f"{p.end_status} on {p.end_date.isoformat()}")
    cut = ds.data_cut.date()
    if cut <= closes:
        return Missing(
            p.subject_id, "not yet due", f"window closes {closes.isoformat()}, after the data cut"
        )
    return Missing(p.subject_id, "missed", f"window closed {closes.isoformat()} without a visit")


def _members(ds: TrialDataset, group: str | None) -> tuple[Participant, ...]:
    dosed = ds.dosed()
    if group is None or group == "All":
        return dosed
    if group.startswith("cohort "):
        n = int(group.split()[1])
        return tuple(p for p in dosed if p.cohort == n)
    ds.dose_level(group)  # a KeyError naming the known levels
    return tuple(p for p in dosed if ds.treated_dose_level(p.subject_id) == group)


def change_from_baseline(
    ds: TrialDataset,
    score: str = "meld",
    time_point: str = "M3",
    *,
    window_rule: str = "include",
    group: str | None = None,
    baseline_code: str | None = None,
) -> ChangeFromBaseline:
    """The change from baseline of ``score`` at ``time_point`` among the dosed participants
    (of dose level ``group``, or ``"cohort N"``; None = all)."""
    baseline = baseline_code or ds.baseline_code
    if baseline is None:
        raise ValueError(f"{ds.nct_id}: the schedule has no infusion visit; give baseline_code")
    _check(ds, score, time_point, window_rule, baseline)
    members = _members(ds, group)
    plan = ds.visit_plan(time_point)
    last_day = plan.target_day + plan.window_after
    if window_rule == "nearest":
        last_day = math.floor(_analysis_window(ds, time_point, baseline)[1])
    observations, missing, outside = [], [], []
    for p in members:
        base_visit = ds.visit(p.subject_id, baseline)
        base = getattr(base_visit.scores, score) if base_visit else None
        if base is None:
            why = "no baseline visit" if base_visit is None else f"{SCORES[score]} unknown"
            missing.append(Missing(p.subject_id, "no baseline", f"{baseline}: {why}"))
            continue
        v, reason = _pick(ds, p, score, time_point, window_rule, baseline)
        if v is None:
            if reason is None:
                missing.append(_why_absent(ds, p, time_point, last_day))
            else:
                done = ds.visit(p.subject_id, time_point)
                where = f"{time_point} on {done.visit_date.isoformat()}" if done else time_point
                detail = f"{where}: {done.window_status}" if reason == "out of window" else where
                missing.append(Missing(p.subject_id, reason, detail))
            continue
        value = getattr(v.scores, score)
        observations.append(
            Observation(
                p.subject_id,
                float(base),
                float(value),
                float(value - base),
                v.code,
                v.visit_date,
                v.study_day,
                v.window_status,
            )  # fmt: skip
        )
        if v.window_status in OUT_OF_WINDOW:
            outside.append(p.subject_id)
    changes = [o.change for o in observations]
    return ChangeFromBaseline(
        score=score,
        score_label=SCORES[score],
        time_point=time_point,
        group=group or "All",
        baseline_code=baseline,
        window_rule=window_rule,
        expected=tuple(p.subject_id for p in members),
        observations=tuple(observations),
        missing=tuple(missing),
        out_of_window=tuple(outside),
        baseline_summary=describe(o.baseline for o in observations),
        value_summary=describe(o.value for o in observations),
        change=describe(changes),
        t_test=paired_t(changes),
        wilcoxon=signed_rank(changes),
    )


def endpoint_table(
    ds: TrialDataset,
    scores: tuple[str, ...] = tuple(SCORES),
    time_points: tuple[str, ...] = TIME_POINTS,
    *,
    window_rule: str = "include",
    by: str | None = None,
    baseline_code: str | None = None,
) -> tuple[ChangeFromBaseline, ...]:
    """Every score at every time point: overall, then (``by="dose_level"`` or
    ``by="cohort"``) per group in dose order / cohort number (groups with a dosed
    participant). Order: score, group, time point."""
    if by not in (None, "dose_level", "cohort"):
        raise ValueError(f"by {by!r}: expected None, 'dose_level' or 'cohort'")
    groups: list[str | None] = [None]
    dosed = ds.dosed()
    if by == "dose_level":
        treated = {ds.treated_dose_level(p.subject_id) for p in dosed}
        groups += [d.id for d in ds.dose_levels if d.id in treated]
    elif by == "cohort":
        groups += [f"cohort {n}" for n in sorted({p.cohort for p in dosed if p.cohort})]
    return tuple(
        change_from_baseline(
            ds, s, t, window_rule=window_rule, group=g, baseline_code=baseline_code
        )
        for s in scores
        for g in groups
        for t in time_points
    )


@dataclass(frozen=True, slots=True)
class VisitValues:
    """A score at one scheduled visit: each participant's value and their summary (mean,
    t 95% CI, ...): the points and the mean line of a per-participant plot."""

    code: str
    target_day: int
    values: tuple[tuple[str, int | None, float], ...]  # (subject id, study day, value)
    summary: Summary


def values_by_visit(
    ds: TrialDataset,
    score: str = "meld",
    *,
    window_rule: str = "include",
    group: str | None = None,
    baseline_code: str | None = None,
) -> tuple[VisitValues, ...]:
    """The score at the baseline visit and every scheduled visit after it, among the dosed
    participants of ``group``, each visit chosen by ``window_rule`` as for the change from
    baseline (the baseline visit by its code). Missing values are left out, never filled."""
    baseline = baseline_code or ds.baseline_code
    if baseline is None:
        raise ValueError(f"{ds.nct_id}: the schedule has no infusion visit; give baseline_code")
    base_day = ds.visit_plan(baseline).target_day
    members = _members(ds, group)
    out = []
    for plan in ds.schedule:
        if plan.target_day < base_day:
            continue
        if plan.code != baseline:
            _check(ds, score, plan.code, window_rule, baseline)
        elif score not in SCORES:
            raise ValueError(f"score {score!r}: expected one of {', '.join(SCORES)}")
        values = []
        for p in members:
            if plan.code == baseline:
                v = ds.visit(p.subject_id, baseline)
                v = v if v is not None and getattr(v.scores, score) is not None else None
            else:
                v, _ = _pick(ds, p, score, plan.code, window_rule, baseline)
            if v is not None:
                values.append((p.subject_id, v.study_day, float(getattr(v.scores, score))))
        out.append(
            VisitValues(plan.code, plan.target_day, tuple(values), describe(x for *_, x in values))
        )
    return tuple(out)
