"""Is an adverse event a dose-limiting toxicity (DLT) under the protocol's definition?

:func:`evaluate_dlt` checks an adverse event against every criterion of
:attr:`EscalationPlan.dlt_definition <trialdesk.protocol.conduct.EscalationPlan>` with
three-valued logic: a criterion is met when all its conditions hold, not met when one fails,
unknown when none fails but one cannot be decided (grade, attribution, onset or dose date
not recorded). The event is a DLT when a criterion is met, not a DLT when every criterion is
not met, and unknown otherwise: missing is never read as "no".

The DLT window is study days 1 to ``dlt_window_days`` counted from the infusion (day 1 =
infusion date, CDISC SDTM IG v3.4 section 4.4.4). Grades are CTCAE grades (NCI CTCAE v5.0,
2017); the definition itself is data in protocol.yaml with its source.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

from trialdesk.protocol.conduct import RELATEDNESS, DltCriterion, EscalationPlan
from trialdesk.protocol.schedule import study_day

__all__ = [
    "ATTRIBUTIONS",
    "AdverseEventFacts",
    "CriterionOutcome",
    "DltAssessment",
    "evaluate_dlt",
]

ATTRIBUTIONS = (*RELATEDNESS, "unknown")  # "unknown" = relationship not yet assessed


@dataclass(frozen=True)
class AdverseEventFacts:
    """What the DLT definition needs to know about one adverse event.

    ``related`` is the investigator's attribution to the cell product: "related",
    "possibly", "unlikely", "unrelated" or "unknown" (not yet assessed). ``grade`` (CTCAE
    1-5), ``onset_date``, ``serious`` and ``dose_date`` (the infusion) may be None when not
    recorded; the assessment is then unknown where they matter.
    """

    term: str
    grade: int | None
    onset_date: date | None
    related: str
    serious: bool | None
    dose_date: date | None

    def __post_init__(self) -> None:
        if not str(self.term or "").strip():
            raise ValueError("term: an adverse event needs a CTCAE term")
        if self.grade is not None and (
            isinstance(self.grade, bool)
            or not isinstance(self.grade, int)
            or not 1 <= self.grade <= 5
        ):
            raise ValueError(f"grade: a CTCAE grade is 1 to 5, not {self.grade!r}")
        if self.related not in ATTRIBUTIONS:
            raise ValueError(
                f"related: expected one of {', '.join(ATTRIBUTIONS)}, got {self.related!r}"
            )


@dataclass(frozen=True)
class CriterionOutcome:
    """One DLT criterion applied to the event: met (True), not met (False) or unknown (None)."""

    id: str
    text: str
    met: bool | None
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class DltAssessment:
    """The verdict (True / False / None = unknown), the criteria behind it and the reasons."""

    is_dlt: bool | None
    reasons: tuple[str, ...]
    criteria: tuple[CriterionOutcome, ...] = ()
    window_start: date | None = None
    window_end: date | None = None

    @property
    def met_criteria(self) -> tuple[str, ...]:
        return tuple(c.id for c in self.criteria if c.met)

    def to_dict(self) -> dict[str, object]:
        return {
            "is_dlt": self.is_dlt,
            "reasons": list(self.reasons),
            "criteria": [
                {"id": c.id, "text": c.text, "met": c.met, "reasons": list(c.reasons)}
                for c in self.criteria
            ],
            "window_start": self.window_start.isoformat() if self.window_start else None,
            "window_end": self.window_end.isoformat() if self.window_end else None,
        }


def _canonical_term(name: str) -> str:
    from trialdesk.clinical.ctcae import GradingError, get_term

    try:
        return get_term(name).term
    except GradingError:  # a verbatim term outside trialdesk's CTCAE tables: compare as written
        return " ".join(str(name).split())


Check = Callable[[DltCriterion, AdverseEventFacts, str, int], tuple[bool | None, str]]


def _grade(
    c: DltCriterion, e: AdverseEventFacts, term: str, window: int
) -> tuple[bool | None, str]:
    if e.grade is None:
        return None, f"grade not recorded (needs grade >= {c.min_grade})"
    if e.grade >= c.min_grade:
        return True, f"grade {e.grade} >= {c.min_grade}"
    return False, f"grade {e.grade} < {c.min_grade}"


def _term(c: DltCriterion, e: AdverseEventFacts, term: str, window: int) -> tuple[bool | None, str]:
    if c.terms:
        if term.casefold() in {t.casefold() for t in c.terms}:
            return True, f"term {term!r} is one of the criterion's terms"
        return False, f"term {term!r} is not one of {', '.join(c.terms)}"
    if term.casefold() in {t.casefold() for t in c.exclude_terms}:
        return False, f"term {term!r} is excluded from this criterion"
    return True, f"term {term!r} counts (any term" + (" not excluded)" if c.exclude_terms else ")")


def _related(
    c: DltCriterion, e: AdverseEventFacts, term: str, window: int
) -> tuple[bool | None, str]:
    if set(c.relatedness) == set(RELATEDNESS):
        return True, "any attribution counts"
    if e.related in c.relatedness:
        return True, f"attribution {e.related!r} counts ({'/'.join(c.relatedness)})"
    if e.related == "unknown":
        return None, f"attribution not yet assessed (counts if {'/'.join(c.relatedness)})"
    return False, f"attribution {e.related!r} does not count ({'/'.join(c.relatedness)} needed)"


def _window(
    c: DltCriterion, e: AdverseEventFacts, term: str, window: int
) -> tuple[bool | None, str]:
    if not c.within_window:
        return True, "any time after the infusion counts"
    if e.dose_date is None:
        return None, "no infusion date: the DLT window cannot be placed"
    if e.onset_date is None:
        return None, f"onset date not recorded (DLT window: study days 1-{window})"
    day = study_day(e.onset_date, e.dose_date)
    if day < 1:
        return False, f"onset {e.onset_date.isoformat()} is before the infusion (study day {day})"
    if day <= window:
        return True, f"onset on study day {day}, inside the DLT window (days 1-{window})"
    return False, f"onset on study day {day}, after the DLT window (days 1-{window})"


def _serious(
    c: DltCriterion, e: AdverseEventFacts, term: str, window: int
) -> tuple[bool | None, str]:
    if c.serious is None:
        return True, ""
    want = "serious" if c.serious else "non-serious"
    if e.serious is None:
        return None, f"seriousness not recorded (criterion needs a {want} event)"
    if e.serious == c.serious:
        return True, f"the event is {want}"
    return False, f"the event is not {want}"


_CHECKS: tuple[Check, ...] = (_grade, _term, _related, _window, _serious)


def _criterion(c: DltCriterion, e: AdverseEventFacts, term: str, window: int) -> CriterionOutcome:
    results = [check(c, e, term, window) for check in _CHECKS]
    failed = [why for ok, why in results if ok is False]
    unknown = [why for ok, why in results if ok is None]
    if failed:
        return CriterionOutcome(c.id, c.text, False, tuple(failed))
    if unknown:
        return CriterionOutcome(c.id, c.text, None, tuple(unknown))
    return CriterionOutcome(c.id, c.text, True, tuple(why for _, why in results if why))


def evaluate_dlt(plan: EscalationPlan, event: AdverseEventFacts) -> DltAssessment:
    """Apply the protocol's DLT definition to one adverse event (three-valued, with reasons)."""
    term = _canonical_term(event.term)
    window = plan.dlt_window_days
    outcomes = tuple(_criterion(c, event, term, window) for c in plan.dlt_definition)
    start = end = None
    if event.dose_date is not None:
        start, end = event.dose_date, event.dose_date + timedelta(days=window - 1)
    met = [o for o in outcomes if o.met is True]
    unknown = [o for o in outcomes if o.met is None]
    if met:
        reasons = tuple(f"{o.id} met: {'; '.join(o.reasons)}" for o in met)
        return DltAssessment(True, reasons, outcomes, start, end)
    if unknown:
        reasons = tuple(f"{o.id} undecided: {'; '.join(o.reasons)}" for o in unknown)
        return DltAssessment(None, reasons, outcomes, start, end)
    reasons = tuple(f"{o.id} not met: {'; '.join(o.reasons)}" for o in outcomes)
    return DltAssessment(False, reasons, outcomes, start, end)
