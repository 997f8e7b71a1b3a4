"""Stopping and safety rules shared by every design (wrap with ``design | rule``).

The set follows the behaviours of the R ``escalation`` package (Brock 2020):
``stop_at_n``, ``stop_when_too_toxic``, ``dont_skip_doses``, ``stop_when_n_at_dose``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import lru_cache

from scipy.stats import beta as beta_dist

from trialdesk.dosefinding.design import Design, Rule, check_int, check_prob
from trialdesk.dosefinding.errors import DoseFindingError
from trialdesk.dosefinding.state import Decision, TrialState


def _stop_and_select(
    state: TrialState, decision: Decision, inner: Design, rule: str, why_stopped: str
) -> Decision:
    """Stop the trial under ``rule`` and let the design select the MTD from the data so far;
    the reason gives why the trial stopped, then the design's reason for its MTD."""
    mtd, why = inner.select_mtd(state)
    return replace(decision, next_dose=None, mtd=mtd, rule=rule, reason=f"{why_stopped} {why}")


@dataclass(frozen=True)
class StopAtN(Rule):
    """Stop once ``n`` patients have been treated, and select the MTD."""

    n: int
    name = "stop at N"

    def __post_init__(self) -> None:
        check_int("StopAtN.n", self.n, 1)

    def apply(self, state: TrialState, decision: Decision, inner: Design) -> Decision:
        if decision.stop or state.total_n < self.n:
            return decision
        return _stop_and_select(
            state, decision, inner, self.name,
            f"Stop: {state.total_n} patients treated, the maximum of {self.n} is reached.",
        )  # fmt: skip

    def describe(self) -> str:
        return f"stop at n = {self.n}"


@lru_cache(maxsize=4096)
def _too_toxic_min_dlt(n: int, target: float, confidence: float) -> int | None:
    """Smallest y with Pr(p > target | y of n, Beta(1, 1) prior) > confidence, or None."""
    for y in range(n + 1):
        if beta_dist.sf(target, y + 1, n - y + 1) > confidence:
            return y
    return None


def too_toxic(n: int, y: int, target: float, confidence: float, min_n: int) -> bool:
    if n < min_n:
        return False
    t = _too_toxic_min_dlt(n, target, confidence)
    return t is not None and y >= t


@dataclass(frozen=True)
class StopWhenTooToxic(Rule):
    """Stop with no MTD when the lowest dose is too toxic.

    Too toxic: at least ``min_n`` patients at dose ``dose`` and
    Pr(p_dose > target | data) > ``confidence`` under a Beta(1, 1) prior (the BOIN
    elimination rule of Liu & Yuan 2015, used here for every design).
    """

    target: float
    confidence: float = 0.95
    min_n: int = 3
    dose: int = 1
    name = "stop when too toxic"

    def __post_init__(self) -> None:
        check_prob("StopWhenTooToxic.target", self.target)
        check_prob("StopWhenTooToxic.confidence", self.confidence)
        check_int("StopWhenTooToxic.min_n", self.min_n, 1)
        check_int("StopWhenTooToxic.dose", self.dose, 1)

    def apply(self, state: TrialState, decision: Decision, inner: Design) -> Decision:
        if self.dose > state.n_doses:
            raise DoseFindingError(
                f"StopWhenTooToxic.dose: {self.dose} is above the {state.n_doses} doses"
            )
        i = self.dose - 1
        if decision.stop and decision.mtd is None:
            return decision
        if not too_toxic(state.n[i], state.y[i], self.target, self.confidence, self.min_n):
            return decision
        return replace(
            decision,
            next_dose=None,
            mtd=None,
            rule=self.name,
            reason=f"Stop, no MTD: dose {self.dose} is too toxic ({state.y[i]} DLTs in "
            f"{state.n[i]} patients; Pr(DLT rate > {self.target:g}) > {self.confidence:g}).",
        )

    def describe(self) -> str:
        return f"stop when dose {self.dose} too toxic (Pr > {self.target:g}) > {self.confidence:g}"


@dataclass(frozen=True)
class DontSkipDoses(Rule):
    """Never give a dose above the highest dose tried so far plus one.

    With ``when_deescalating`` the design also may not jump down more than one level.
    """

    when_escalating: bool = True
    when_deescalating: bool = False
    name = "never skip an untried dose"

    def apply(self, state: TrialState, decision: Decision, inner: Design) -> Decision:
        d = decision.next_dose
        if d is None:
            return decision
        if self.when_escalating:
            limit = state.highest_tried + 1
            if d > limit:
                tried = (
                    "no dose has been given yet"
                    if limit == 1
                    else f"the highest dose given so far is {limit - 1}"
                )
                return replace(
                    decision,
                    next_dose=limit,
                    rule=self.name,
                    reason=f"{decision.reason} Capped at dose {limit}: untried doses are "
                    f"never skipped and {tried}.",
                )
        if self.when_deescalating and state.current is not None and d < state.current - 1:
            return replace(
                decision,
                next_dose=state.current - 1,
                rule=self.name,
                reason=f"{decision.reason} Limited to one level down (dose {state.current - 1}).",
            )
        return decision

    def describe(self) -> str:
        return "don't skip doses"


@dataclass(frozen=True)
class MaxCohortsPerDose(Rule):
    """Stop and select the MTD when the recommended dose already has ``cohorts`` cohorts."""

    cohorts: int
    name = "maximum cohorts per dose"

    def __post_init__(self) -> None:
        check_int("MaxCohortsPerDose.cohorts", self.cohorts, 1)

    def apply(self, state: TrialState, decision: Decision, inner: Design) -> Decision:
        d = decision.next_dose
        if d is None or not state.cohorts or state.cohorts[d - 1] < self.cohorts:
            return decision
        return _stop_and_select(
            state, decision, inner, self.name,
            f"Stop: the recommended dose {d} already has {state.cohorts[d - 1]} cohorts "
            f"(maximum {self.cohorts}).",
        )  # fmt: skip

    def describe(self) -> str:
        return f"at most {self.cohorts} cohorts per dose"
