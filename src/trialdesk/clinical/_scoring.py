"""Shared pieces of the clinical scores: result objects, exact arithmetic, input handling."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, localcontext
from fractions import Fraction
from functools import lru_cache
from types import MappingProxyType
from typing import Any

from trialdesk.clinical.units import Quantity, as_quantity

PRECISION = 50  # significant digits for ln/log10 in Decimal


class ScoreInputError(ValueError):
    """An input a score cannot use (censored value, unknown category, bad sex ...)."""


@dataclass(frozen=True)
class UsedInput:
    """One input of a score: what was given, what the formula used, and why they differ."""

    name: str
    given: Any  # Quantity, category string or bool
    used: Any  # Decimal in ``unit`` for labs, the category or flag otherwise
    unit: str | None = None
    rule: str | None = None  # the bounding rule applied, if any

    def to_dict(self) -> dict[str, Any]:
        given = str(self.given) if isinstance(self.given, Quantity) else self.given
        used = str(self.used) if isinstance(self.used, Decimal) else self.used
        out: dict[str, Any] = {"given": given, "used": used}
        if self.unit is not None:
            out["unit"] = self.unit
        if self.rule:
            out["rule"] = self.rule
        return out

    def __str__(self) -> str:
        unit = f" {self.unit}" if self.unit and self.unit not in ("{INR}", "1") else ""
        text = f"{self.name} {self.used}{unit}"
        return f"{text} ({self.rule})" if self.rule else text


@dataclass(frozen=True)
class ScoreResult:
    """The result of a clinical score. Immutable; ``to_dict()`` gives the JSON form.

    ``value`` is the reported score (int for MELD-type scores and Child-Pugh, Decimal for
    ALBI); ``klass`` is a class (Child-Pugh A/B/C), ``grade`` a grade (ALBI 1-3); ``inputs``
    are the inputs after bounding; ``raw`` is the unrounded, unbounded formula value;
    ``points`` holds per-item points (Child-Pugh); ``reasons`` say which rules applied.
    """

    name: str
    value: int | Decimal
    version: str
    reference: str
    inputs: Mapping[str, UsedInput] = field(default_factory=dict, hash=False)
    klass: str | None = None
    grade: int | None = None
    raw: Decimal | None = None
    points: Mapping[str, int] | None = field(default=None, hash=False)
    reasons: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "inputs", MappingProxyType(dict(self.inputs)))
        if self.points is not None:
            object.__setattr__(self, "points", MappingProxyType(dict(self.points)))

    def to_dict(self) -> dict[str, Any]:
        score: int | float = self.value if isinstance(self.value, int) else float(self.value)
        out: dict[str, Any] = {"name": self.name, "score": score}
        if self.klass is not None:
            out["class"] = self.klass
        if self.grade is not None:
            out["grade"] = self.grade
        if self.points is not None:
            out["points"] = dict(self.points)
        out["inputs"] = {k: v.to_dict() for k, v in self.inputs.items()}
        if self.raw is not None:
            out["raw"] = str(self.raw)
        out["version"] = self.version
        out["reference"] = self.reference
        out["reasons"] = list(self.reasons)
        out["warnings"] = list(self.warnings)
        return out

    def summary(self) -> str:
        """A few readable lines: the score, class/grade, inputs after bounding, reference."""
        head = f"{self.name}: {self.value}"
        if self.klass is not None:
            head += f" (class {self.klass})"
        if self.grade is not None:
            head += f" (grade {self.grade})"
        lines = [head, "inputs after bounding:"]
        lines += [f"  {u}" for u in self.inputs.values()]
        if self.points is not None:
            lines.append("points: " + ", ".join(f"{k} {v}" for k, v in self.points.items()))
        lines += [f"note: {r}" for r in self.reasons]
        lines += [f"warning: {w}" for w in self.warnings]
        lines.append(f"version: {self.version}")
        lines.append(f"reference: {self.reference}")
        return "\n".join(lines)


def dec(fr: Fraction | int | Decimal) -> Decimal:
    """A Fraction as a Decimal with PRECISION significant digits."""
    if isinstance(fr, Decimal):
        return fr
    fr = Fraction(fr)
    with localcontext() as ctx:
        ctx.prec = PRECISION
        return Decimal(fr.numerator) / Decimal(fr.denominator)


@lru_cache(maxsize=8192)
def ln(x: Decimal) -> Decimal:
    """Natural log to PRECISION digits (cached: Decimal.ln costs ~0.1 ms; floors repeat 1)."""
    if x == 1:
        return Decimal(0)
    with localcontext() as ctx:
        ctx.prec = PRECISION
        return x.ln()


@lru_cache(maxsize=8192)
def log10(x: Decimal) -> Decimal:
    with localcontext() as ctx:
        ctx.prec = PRECISION
        return x.log10()


def round_half_up(x: Decimal, places: int = 0) -> Decimal:
    """Round half away from zero (the "round half up" of clinical sources, unlike round())."""
    with localcontext() as ctx:
        ctx.prec = PRECISION
        return x.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class Lab:
    """A lab input converted to the formula's unit, exactly."""

    name: str
    quantity: Quantity
    unit: str
    exact: Fraction


def lab(x: Any, analyte: str, unit: str, name: str | None = None) -> Lab:
    """Parse/convert one lab input; raises UnitError/ImplausibleValueError naming it."""
    q = as_quantity(x, analyte)
    return Lab(name or analyte, q, unit, q.to(unit).exact)


def bounded(
    item: Lab,
    *,
    floor: Fraction | None = None,
    cap: Fraction | None = None,
    cap_rule: str | None = None,
    force: Fraction | None = None,
    force_rule: str | None = None,
) -> tuple[Fraction, UsedInput]:
    """Apply floor / cap / forced value; refuse censored values the bounds do not settle."""
    x = item.exact
    q = item.quantity
    rule = None
    if force is not None:
        x, rule = force, force_rule
    else:
        if q.comparator in ("<", "<=") and not (floor is not None and x <= floor):
            raise ScoreInputError(
                f"{item.name} {q} is below a detection limit; the score needs a measured value"
            )
        if q.comparator in (">", ">=") and not (cap is not None and x >= cap):
            raise ScoreInputError(
                f"{item.name} {q} is above a reporting limit; the score needs a measured value"
            )
        if floor is not None and x < floor:
            x, rule = floor, f"below {dec_str(floor)}, set to {dec_str(floor)}"
        elif cap is not None and x > cap:
            x, rule = cap, cap_rule or f"above {dec_str(cap)}, set to {dec_str(cap)}"
    shown = q.value if rule is None and q.unit == item.unit else _plain(dec(x))
    return x, UsedInput(item.name, q, shown, item.unit, rule)


def dec_str(fr: Fraction) -> str:
    return str(_plain(dec(fr)))


def _plain(d: Decimal) -> Decimal:
    d = d.normalize()
    if d.as_tuple().exponent > 0:  # type: ignore[operator]
        d = d.quantize(Decimal(1))
    # keep at most 12 significant digits for display of converted values
    if len(d.as_tuple().digits) > 12:
        with localcontext() as ctx:
            ctx.prec = 12
            d = (+d).normalize()
    return d


def warnings_of(*labs: Lab) -> tuple[str, ...]:
    return tuple(w for item in labs for w in item.quantity.warnings)
