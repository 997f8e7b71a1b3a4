"""The one protocol every design answers, and the wrapper that composes rules.

Following the R ``escalation`` package (Brock, 2020: "escalation: a grammar for dose-finding
clinical trials"), a design is a small dose selector wrapped by behaviours:

>>> from trialdesk.dosefinding import BOIN, DontSkipDoses, StopAtN
>>> design = BOIN(doses=4, target=0.3) | DontSkipDoses() | StopAtN(24)
>>> design.describe()
"BOIN (target 0.3) | don't skip doses | stop at n = 24"
>>> design.next_dose("1NNN 2NTN").next_dose
2

Every design, wrapped or not, answers ``next_dose(outcomes)``, ``decide(state)`` and
``select_mtd(state)``; simulation, dose paths and exact operating characteristics
(:mod:`trialdesk.dosefinding.simulate`, :mod:`~trialdesk.dosefinding.paths`) work on any of
them. Parameters are validated once, at construction, with a message naming the parameter
and its allowed range; the numerical core trusts them afterwards.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any

from trialdesk.dosefinding.errors import DoseFindingError
from trialdesk.dosefinding.outcomes import Outcomes
from trialdesk.dosefinding.state import Decision, TrialState


class Design(ABC):
    """A dose-finding design: decides the next dose from the per-dose counts so far."""

    name: str = "design"
    reference: str = ""

    @property
    @abstractmethod
    def n_doses(self) -> int: ...

    @abstractmethod
    def decide(self, state: TrialState) -> Decision:
        """The decision after the data in ``state`` (``next_dose`` None = stop)."""

    @abstractmethod
    def select_mtd(self, state: TrialState) -> tuple[int | None, str]:
        """The dose this design selects as MTD at the end of the trial, and why."""

    def prefetch(self, states: list[TrialState]) -> None:  # noqa: B027 - optional hook
        """Optional hook: compute, in one batch, what ``decide`` will need for ``states``."""

    def next_dose(self, outcomes: str | Outcomes = "") -> Decision:
        """The recommended next dose after ``outcomes`` (e.g. ``"1NNN 2NTN"``)."""
        return self.decide(TrialState.from_outcomes(outcomes, self.n_doses))

    def __or__(self, rule: Rule) -> Design:
        if not isinstance(rule, Rule):
            raise DoseFindingError(f"can only wrap a design in a Rule, got {type(rule).__name__}")
        return Ruled(self, rule)

    def describe(self) -> str:
        return self.name


class Rule(ABC):
    """A behaviour that wraps a design and may override its decision."""

    name: str = "rule"

    @abstractmethod
    def apply(self, state: TrialState, decision: Decision, inner: Design) -> Decision: ...

    def describe(self) -> str:
        return self.name


@dataclass(frozen=True)
class Ruled(Design):
    """A design wrapped by one rule (nest for several: ``d | r1 | r2``)."""

    inner: Design
    rule: Rule

    @property
    def name(self) -> str:  # type: ignore[override]
        return self.inner.name

    @property
    def n_doses(self) -> int:
        return self.inner.n_doses

    @property
    def reference(self) -> str:  # type: ignore[override]
        return self.inner.reference

    def decide(self, state: TrialState) -> Decision:
        return self.rule.apply(state, self.inner.decide(state), self.inner)

    def select_mtd(self, state: TrialState) -> tuple[int | None, str]:
        return self.inner.select_mtd(state)

    def prefetch(self, states: list[TrialState]) -> None:
        self.inner.prefetch(states)

    def base(self) -> Design:
        d: Design = self
        while isinstance(d, Ruled):
            d = d.inner
        return d

    def describe(self) -> str:
        return f"{self.inner.describe()} | {self.rule.describe()}"


def base_design(design: Design) -> Design:
    return design.base() if isinstance(design, Ruled) else design


# -- validation helpers (used by every constructor) ---------------------------------------


def check_int(name: str, value: Any, low: int, high: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise DoseFindingError(f"{name}: expected an integer, got {value!r}")
    if value < low or (high is not None and value > high):
        rng = f">= {low}" if high is None else f"in {low}..{high}"
        raise DoseFindingError(f"{name}: must be {rng}, got {value}")
    return value


def check_prob(name: str, value: Any, low: float = 0.0, high: float = 1.0) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise DoseFindingError(f"{name}: expected a probability, got {value!r}") from None
    if not (math.isfinite(v) and low < v < high):
        raise DoseFindingError(
            f"{name}: must be strictly between {low:g} and {high:g}, got {value}"
        )
    return v


def check_probs(
    name: str,
    values: Any,
    n: int | None = None,
    increasing: bool = False,
    nondecreasing: bool = False,
) -> tuple[float, ...]:
    try:
        vals = tuple(values)
    except TypeError:
        raise DoseFindingError(
            f"{name}: expected a list of probabilities, got {values!r}"
        ) from None
    if not vals:
        raise DoseFindingError(f"{name}: needs at least one value")
    if n is not None and len(vals) != n:
        raise DoseFindingError(f"{name}: expected {n} values (one per dose), got {len(vals)}")
    out = tuple(check_prob(f"{name}[{i + 1}]", v) for i, v in enumerate(vals))
    for i in range(1, len(out)):
        if increasing and not out[i] > out[i - 1]:
            raise DoseFindingError(
                f"{name}: must be strictly increasing, but value {i + 1} ({out[i]}) <= value "
                f"{i} ({out[i - 1]})"
            )
        if nondecreasing and out[i] < out[i - 1]:
            raise DoseFindingError(
                f"{name}: must not decrease, but value {i + 1} ({out[i]}) < value {i} "
                f"({out[i - 1]})"
            )
    return out
