"""Dose-finding outcomes in the field's notation: ``"1NNN 2NTN 2NNN"``.

Each cohort is a dose level (1-based integer) followed by one letter per patient:
``T`` = dose-limiting toxicity (DLT), ``N`` = none. Cohorts are separated by spaces
(they may also be written back to back, ``"1NNN2NTN"``). This is the syntax of
Brock (2019), "trialr: Bayesian Clinical Trial Designs in R and Stan", arXiv:1907.00161,
also used by the R ``escalation`` package.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from trialdesk.dosefinding.errors import DoseFindingError

_COHORT = re.compile(r"(\d+)([A-Za-z]+)")


@dataclass(frozen=True)
class Cohort:
    """One cohort: the dose level given (1-based) and each patient's DLT outcome."""

    dose: int
    dlts: tuple[bool, ...]

    @property
    def n(self) -> int:
        return len(self.dlts)

    @property
    def n_dlt(self) -> int:
        return sum(self.dlts)

    def __str__(self) -> str:
        return f"{self.dose}" + "".join("T" if t else "N" for t in self.dlts)


@dataclass(frozen=True)
class Outcomes:
    """The outcomes of the trial so far, cohort by cohort, in the order treated."""

    cohorts: tuple[Cohort, ...] = ()

    def __str__(self) -> str:
        return " ".join(str(c) for c in self.cohorts)

    def __len__(self) -> int:
        return len(self.cohorts)

    @property
    def n_patients(self) -> int:
        return sum(c.n for c in self.cohorts)

    def then(self, cohort: Cohort) -> Outcomes:
        return Outcomes(self.cohorts + (cohort,))

    def check_doses(self, n_doses: int) -> Outcomes:
        """Raise if a cohort's dose level is outside 1..n_doses."""
        for i, c in enumerate(self.cohorts, start=1):
            if not 1 <= c.dose <= n_doses:
                raise DoseFindingError(
                    f"outcomes: cohort {i} ('{c}'): dose level {c.dose} is out of range "
                    f"1..{n_doses}"
                )
        return self

    def counts(self, n_doses: int) -> tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...]]:
        """Patients, DLTs and cohorts per dose (tuples of length n_doses)."""
        self.check_doses(n_doses)
        n = [0] * n_doses
        y = [0] * n_doses
        k = [0] * n_doses
        for c in self.cohorts:
            n[c.dose - 1] += c.n
            y[c.dose - 1] += c.n_dlt
            k[c.dose - 1] += 1
        return tuple(n), tuple(y), tuple(k)


def parse_outcomes(text: str | Outcomes, n_doses: int | None = None) -> Outcomes:
    """Parse ``"1NNN 2NTN"`` into :class:`Outcomes`; raise naming the bad cohort.

    >>> str(parse_outcomes("1NNN 2NTN"))
    '1NNN 2NTN'
    """
    if isinstance(text, Outcomes):
        out = text
    else:
        if not isinstance(text, str):
            raise DoseFindingError(f"outcomes: expected a string like '1NNN 2NTN', got {text!r}")
        cohorts: list[Cohort] = []
        for token_no, token in enumerate(text.split(), start=1):
            pos = 0
            while pos < len(token):
                m = _COHORT.match(token, pos)
                if m is None:
                    bad = token[pos]
                    what = (
                        "a dose level (a number) is missing before the letters"
                        if bad.isalpha()
                        else f"unexpected character {bad!r}"
                    )
                    raise DoseFindingError(
                        f"outcomes: '{token}' (item {token_no}), position {pos + 1}: {what}; "
                        "write each cohort as a dose level followed by T (DLT) or N (no DLT) "
                        "per patient, e.g. '1NNN 2NTN'"
                    )
                dose = int(m.group(1))
                letters = m.group(2).upper()
                for j, ch in enumerate(letters):
                    if ch not in "TN":
                        raise DoseFindingError(
                            f"outcomes: cohort '{m.group(0)}' (cohort {len(cohorts) + 1}): "
                            f"letter {m.group(2)[j]!r} at patient {j + 1} is not T (DLT) or "
                            "N (no DLT)"
                        )
                if dose < 1:
                    raise DoseFindingError(
                        f"outcomes: cohort '{m.group(0)}' (cohort {len(cohorts) + 1}): dose "
                        "levels start at 1"
                    )
                cohorts.append(Cohort(dose, tuple(ch == "T" for ch in letters)))
                pos = m.end()
        out = Outcomes(tuple(cohorts))
    if n_doses is not None:
        out.check_doses(n_doses)
    return out
