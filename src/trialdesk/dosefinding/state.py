"""What a design sees (:class:`TrialState`) and what it answers (:class:`Decision`)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from trialdesk.dosefinding.outcomes import Outcomes, parse_outcomes


@dataclass(frozen=True)
class TrialState:
    """Per-dose counts of the trial so far and the dose the last cohort received.

    Every design in this package decides from these counts alone (plus the current
    dose), which is what lets simulations cache decisions by state.
    Doses are 1-based in ``current``; tuples are indexed 0..n_doses-1.
    """

    n: tuple[int, ...]
    y: tuple[int, ...]
    current: int | None = None
    cohorts: tuple[int, ...] = ()

    @classmethod
    def empty(cls, n_doses: int) -> TrialState:
        z = (0,) * n_doses
        return cls(z, z, None, z)

    @classmethod
    def from_outcomes(cls, outcomes: str | Outcomes, n_doses: int) -> TrialState:
        out = parse_outcomes(outcomes, n_doses)
        n, y, k = out.counts(n_doses)
        current = out.cohorts[-1].dose if out.cohorts else None
        return cls(n, y, current, k)

    @property
    def n_doses(self) -> int:
        return len(self.n)

    @property
    def total_n(self) -> int:
        return sum(self.n)

    @property
    def total_dlt(self) -> int:
        return sum(self.y)

    @property
    def highest_tried(self) -> int:
        """Highest dose level (1-based) given to anyone; 0 if none."""
        for j in range(len(self.n) - 1, -1, -1):
            if self.n[j] > 0:
                return j + 1
        return 0

    def after_cohort(self, dose: int, size: int, dlts: int) -> TrialState:
        """The state after a cohort of ``size`` patients at ``dose`` with ``dlts`` DLTs."""
        i = dose - 1
        n = list(self.n)
        y = list(self.y)
        k = list(self.cohorts) if self.cohorts else [0] * len(n)
        n[i] += size
        y[i] += dlts
        k[i] += 1
        return TrialState(tuple(n), tuple(y), dose, tuple(k))

    def key(self) -> tuple:
        return (self.current, self.n, self.y, self.cohorts)


@dataclass(frozen=True)
class DoseSummary:
    """One row of the per-dose summary a decision used."""

    dose: int
    n: int
    dlt: int
    estimate: float | None = None
    admissible: bool = True
    note: str = ""

    def to_dict(self) -> dict:
        return {
            "dose": self.dose,
            "n": self.n,
            "dlt": self.dlt,
            "estimate": self.estimate,
            "admissible": self.admissible,
            "note": self.note,
        }


@dataclass(frozen=True)
class Decision:
    """A design's answer: the next dose (``None`` = stop), why, and what it looked at.

    ``mtd`` is the dose selected as maximum tolerated dose when the trial stops
    (``None`` if no dose is acceptable, or while the trial continues).
    ``rule`` names the design or rule that had the last word.
    """

    next_dose: int | None
    reason: str
    rule: str
    summary: tuple[DoseSummary, ...] = ()
    mtd: int | None = None
    details: dict = field(default_factory=dict, compare=False, hash=False)

    @property
    def stop(self) -> bool:
        return self.next_dose is None

    def to_dict(self) -> dict:
        return {
            "next_dose": self.next_dose,
            "reason": self.reason,
            "stop": self.stop,
            "mtd": self.mtd,
            "rule": self.rule,
            "summary": [s.to_dict() for s in self.summary],
            **({"details": self.details} if self.details else {}),
        }


def count_summary(
    state: TrialState,
    notes: dict[int, str] | None = None,
    estimates: list[float] | None = None,
    admissible: list[bool] | None = None,
) -> tuple[DoseSummary, ...]:
    notes = notes or {}
    return tuple(
        DoseSummary(
            dose=j + 1,
            n=state.n[j],
            dlt=state.y[j],
            estimate=None
            if estimates is None or not math.isfinite(estimates[j])
            else round(float(estimates[j]), 6),
            admissible=True if admissible is None else bool(admissible[j]),
            note=notes.get(j + 1, ""),
        )
        for j in range(state.n_doses)
    )
