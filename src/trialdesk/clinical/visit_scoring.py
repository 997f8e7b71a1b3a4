"""The liver scores shown at a visit: MELD, MELD-Na, MELD 3.0 and Child-Turcotte-Pugh.

Each score is computed by the existing functions of :mod:`trialdesk.clinical.scores`
(:func:`~trialdesk.clinical.meld.meld` OPTN 2002-2016, :func:`~trialdesk.clinical.meld.meld_na`
OPTN 2016, :func:`~trialdesk.clinical.meld.meld3` Kim 2021 / OPTN 2023,
:func:`~trialdesk.clinical.child_pugh.child_pugh` Pugh 1973; formulas and sources in
docs/clinical-formulas.md); nothing is re-computed here. A score whose inputs are not all
recorded, or that cannot use them (e.g. a censored value across a cut-off), is "unknown"
with the reason naming what is missing: never 0.

Hepatic encephalopathy may be given as a West Haven grade 0-4 (Vilstrup H et al.,
Hepatology 2014;60:715-735): 0 = none, 1-2 and 3-4 are the two Child-Pugh categories.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from trialdesk.clinical.scores import (
    DEFAULT,
    ScoreInputError,
    ScoreResult,
    child_pugh,
    meld,
    meld3,
    meld_na,
)
from trialdesk.clinical.units import get_analyte

__all__ = ["ScoreOutcome", "VisitScores", "encephalopathy_category", "visit_scores"]

_WEST_HAVEN = {0: "none", 1: "grade-1-2", 2: "grade-1-2", 3: "grade-3-4", 4: "grade-3-4"}


def encephalopathy_category(value: int | str | None) -> str | None:
    """A West Haven grade (0-4) as a Child-Pugh category; a category string passes through."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise ValueError(f"encephalopathy {value!r}: give a West Haven grade 0-4 or a category")
    if isinstance(value, int) or (isinstance(value, str) and value.strip().isdigit()):
        g = int(value)
        if g not in _WEST_HAVEN:
            raise ValueError(f"encephalopathy grade {g}: West Haven grades are 0 to 4")
        return _WEST_HAVEN[g]
    return str(value)


@dataclass(frozen=True)
class ScoreOutcome:
    """One score at a visit: computed (``value`` and the full ``result``) or unknown."""

    name: str
    value: int | Decimal | None
    klass: str | None
    status: str  # "computed" | "unknown"
    reasons: tuple[str, ...]
    result: ScoreResult | None = None

    @property
    def known(self) -> bool:
        return self.status == "computed"

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "status": self.status}
        out["value"] = None if self.value is None else int(self.value)
        if self.klass is not None:
            out["class"] = self.klass
        out["reasons"] = list(self.reasons)
        if self.result is not None:
            out["version"] = self.result.version
            out["reference"] = self.result.reference
        return out


@dataclass(frozen=True)
class VisitScores:
    meld: ScoreOutcome
    meld_na: ScoreOutcome
    meld3: ScoreOutcome
    child_pugh: ScoreOutcome

    def __iter__(self):  # noqa: ANN204 - iterate the four outcomes in display order
        return iter((self.meld, self.meld_na, self.meld3, self.child_pugh))

    def to_dict(self) -> dict[str, Any]:
        return {o.name: o.to_dict() for o in self}


def _unknown(name: str, *reasons: str) -> ScoreOutcome:
    return ScoreOutcome(name, None, None, "unknown", tuple(reasons))


def _score(name: str, needs: dict[str, Any], compute: Callable[[], ScoreResult]) -> ScoreOutcome:
    missing = [k for k, v in needs.items() if v is None]
    if missing:
        return _unknown(name, f"not recorded at this visit: {', '.join(missing)}")
    try:
        result = compute()
    except ScoreInputError as exc:
        return _unknown(name, f"cannot be computed: {exc}")
    return ScoreOutcome(name, result.value, result.klass, "computed", result.reasons, result)


def visit_scores(
    labs: Mapping[str, Any],
    ascites: str | None,
    encephalopathy: int | str | None,
    *,
    sex: str | None = None,
    dialysis: bool | None = False,
    age: int | None = None,
    child_pugh_variant: str | None = None,
    cholestatic: bool = False,
) -> VisitScores:
    """MELD, MELD-Na, MELD 3.0 and Child-Pugh from one visit's labs and clinical grades.

    ``labs`` maps analyte (name or alias) -> value (a Quantity, a string such as
    ``"2.0 mg/dL"`` in any unit :mod:`trialdesk.clinical.units` knows, or a number for
    INR); None or absent = not recorded. ``ascites``: none / mild / moderate-severe (or an
    alias); ``encephalopathy``: a West Haven grade 0-4 or a Child-Pugh category.
    ``dialysis``: dialysis at least twice (or 24 h of CVVHD) in the week before, None = not
    recorded (the MELD scores are then unknown). ``sex`` is needed by MELD 3.0 only.
    A value in a unit that cannot express its analyte raises ``ValueError``.
    """
    values: dict[str, Any] = {}
    for name, value in labs.items():
        values[get_analyte(name).name] = value
    bili, inr, cr = values.get("bilirubin"), values.get("inr"), values.get("creatinine")
    na, alb = values.get("sodium"), values.get("albumin")
    dia = {"dialysis status": dialysis}
    core = {"bilirubin": bili, "INR": inr, "creatinine": cr, **dia}
    he = encephalopathy_category(encephalopathy)
    table = child_pugh_variant or DEFAULT
    return VisitScores(
        meld=_score("MELD", core, lambda: meld(bili, inr, cr, bool(dialysis))),
        meld_na=_score(
            "MELD-Na",
            {**core, "sodium": na},
            lambda: meld_na(bili, inr, cr, na, bool(dialysis)),
        ),
        meld3=_score(
            "MELD 3.0",
            {**core, "sodium": na, "albumin": alb, "sex": sex},
            lambda: meld3(bili, inr, cr, na, alb, str(sex), bool(dialysis), age),
        ),
        child_pugh=_score(
            "Child-Pugh",
            {
                "bilirubin": bili,
                "albumin": alb,
                "INR": inr,
                "ascites": ascites or None,
                "encephalopathy": he,
            },
            lambda: child_pugh(
                bili, alb, inr, str(ascites), str(he), cholestatic=cholestatic, table=table
            ),
        ),
    )
