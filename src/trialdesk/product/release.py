"""Lot release: a lot's test results against the protocol's release specification.

``evaluate_release(spec, results, volume_ml=..., weight_kg=...)`` returns a
:class:`ReleaseVerdict` with one :class:`ItemVerdict` per line of the specification
(:class:`~trialdesk.protocol.cellproduct.ReleaseSpec`), each with the value in the
specification's unit, the limit, pass / fail / unknown and the reason. A lot is releasable
only when every item passes: a missing result, a result beyond a detection limit that cannot
show the limit is met (``< 1 EU/mL`` against ``<= 0.5 EU/mL``) or a failed item each keep it
from release.

Sources, as the protocols cite them:

- identity: the ISCT minimal criteria for multipotent mesenchymal stromal cells (Dominici M,
  Le Blanc K, Mueller I, et al. Cytotherapy 2006;8(4):315-317): CD105, CD73, CD90 >= 95%;
  CD45, CD34, CD14 or CD11b, CD79a or CD19, HLA-DR <= 2% of the cells;
- endotoxin: USP <85> Bacterial Endotoxins Test -- the endotoxin limit of a parenteral product
  is K/M with K = 5 EU/kg (any route but intrathecal, 0.2 EU/kg there) and M the maximum dose
  per kg given in one hour. trialdesk computes the dose's endotoxin per kg,
  ``EU/mL x volume (mL) / body weight (kg)``, for the whole dose unit and compares it with
  the ``per_kg_of`` item's limit (5 EU/kg in both protocols): the whole dose counted as given
  in one hour, the stricter reading when an infusion runs longer;
- sterility (USP <71>, 21 CFR 610.12), mycoplasma (USP <63>): qualitative, the accepted
  results listed in the specification.

The per-kilogram item needs the dose's volume and the participant's weight; without them it
is reported as pending (``passed=None``) and left out of the lot's verdict: release the lot,
then check each dose (:attr:`ReleaseVerdict.dose_passed`) when it is prepared.

Units are :mod:`trialdesk.clinical.units`' (pint, exact fractions); bad input -- a test the
specification does not know, a unit that cannot express the limit, a percentage outside
0-100, a negative count -- raises :class:`ReleaseError` naming the test.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Any

from trialdesk.clinical import units
from trialdesk.protocol.cellproduct import (
    ReleaseSpec,
    SpecItem,
    display_unit,
    parse_spec_quantity,
)

__all__ = [
    "ItemVerdict",
    "ReleaseError",
    "ReleaseVerdict",
    "endotoxin_per_kg",
    "evaluate_release",
]


class ReleaseError(ValueError):
    """Release results that cannot be judged; the message names the test."""


@dataclass(frozen=True)
class ItemVerdict:
    """One specification line: ``passed`` is True, False, or None (no result / undecidable /
    pending a dose)."""

    name: str
    value: str | None
    unit: str | None
    limit_text: str
    passed: bool | None
    reason: str
    per_dose: bool = False


@dataclass(frozen=True)
class ReleaseVerdict:
    """The lot's verdict: ``passed`` when every lot item passed (per-dose items aside)."""

    passed: bool
    items: tuple[ItemVerdict, ...]

    @property
    def failed(self) -> tuple[ItemVerdict, ...]:
        return tuple(i for i in self.items if i.passed is False)

    @property
    def missing(self) -> tuple[ItemVerdict, ...]:
        return tuple(i for i in self.items if i.passed is None and not i.per_dose)

    @property
    def dose_passed(self) -> bool:
        """True when the lot passed and every per-dose item was computed and passed."""
        return self.passed and all(i.passed is True for i in self.items if i.per_dose)

    @property
    def reasons(self) -> tuple[str, ...]:
        return tuple(f"{i.name}: {i.reason}" for i in self.items if i.passed is not True)


# ---------------------------------------------------------------------------- quantities


def _result_quantity(item: SpecItem, test: str, raw: Any) -> units.Quantity:
    assert item.limit is not None
    if isinstance(raw, units.Quantity):
        text = f"{raw.comparator or ''} {raw.value} {raw.unit}"
    elif isinstance(raw, str):
        text = raw
    else:
        raise ReleaseError(
            f"release result {test}: give a value with its unit as text, e.g. "
            f"'{item.limit.value} {item.unit}', not {raw!r}"
        )
    try:
        q = parse_spec_quantity(text)
        converted = units.convert(q, item.limit.unit)
    except ValueError as exc:
        raise ReleaseError(
            f"release result {test} {text!r}: {exc} (the specification is in {item.unit})"
        ) from None
    if converted.exact < 0:
        raise ReleaseError(f"release result {test} {text!r}: cannot be negative")
    if item.limit.unit == "%" and converted.exact > 100:
        raise ReleaseError(f"release result {test} {text!r}: a percentage cannot exceed 100 %")
    return converted


def _judge(item: SpecItem, q: units.Quantity) -> bool | None:
    """Three-valued comparison of a (possibly censored) result with the item's limit: True
    when every value the result admits meets the limit, False when none does, else None."""
    assert item.limit is not None and item.comparator is not None
    limit = item.limit.exact
    # The interval the result admits: [low, high], each end open or closed; high None = no end.
    low, low_open, high, high_open = q.exact, False, q.exact, False
    if q.comparator in ("<", "<="):
        low, high_open = Fraction(0), q.comparator == "<"
    elif q.comparator in (">", ">="):
        high, low_open = None, q.comparator == ">"
    cmp = item.comparator
    if cmp in ("<=", "<"):
        if high is not None and (high < limit or (high == limit and (cmp == "<=" or high_open))):
            return True
        if low > limit or (low == limit and (cmp == "<" or low_open)):
            return False
        return None
    if low > limit or (low == limit and (cmp == ">=" or low_open)):
        return True
    if high is not None and (high < limit or (high == limit and (cmp == ">" or high_open))):
        return False
    return None


def _show(q: units.Quantity) -> str:
    prefix = f"{q.comparator} " if q.comparator else ""
    return f"{prefix}{q.value:f}"


# ---------------------------------------------------------------------------- evaluation


def endotoxin_per_kg(per_ml: units.Quantity, volume_ml: Decimal, weight_kg: Decimal) -> Fraction:
    """Endotoxin the dose gives per kg: ``EU/mL x volume (mL) / weight (kg)`` (USP <85>).

    >>> endotoxin_per_kg(parse_spec_quantity("0.5 EU/mL"), Decimal(100), Decimal(50))
    Fraction(1, 1)
    """
    return per_ml.to("{EU}/mL").exact * Fraction(volume_ml) / Fraction(weight_kg)


def evaluate_release(
    spec: ReleaseSpec,
    results: Mapping[str, Any],
    *,
    volume_ml: Decimal | int | str | None = None,
    weight_kg: Decimal | int | str | None = None,
) -> ReleaseVerdict:
    """Judge ``results`` (test name -> ``"97.2 %"``, ``"0.1 EU/mL"``, ``"no growth"`` or a
    :class:`~trialdesk.clinical.units.Quantity`) against ``spec``.

    With ``volume_ml`` and ``weight_kg`` (one dose unit for one participant) the per-kilogram
    items are computed too.
    """
    if not isinstance(results, Mapping):
        raise ReleaseError(
            f"release results: expected a mapping of test name to result, got {results!r}"
        )
    known = {t.casefold(): t for t in spec.test_names}
    given: dict[str, Any] = {}
    for name, value in results.items():
        key = str(name).strip().casefold()
        if key not in known:
            raise ReleaseError(
                f"release results: unknown test {name!r} (the specification's tests: "
                f"{', '.join(spec.test_names)})"
            )
        if known[key] in given:
            raise ReleaseError(f"release results: test {known[key]!r} given twice")
        if value is not None and not (isinstance(value, str) and not value.strip()):
            given[known[key]] = value
    volume = _positive(volume_ml, "volume_ml", "ml")
    weight = _positive(weight_kg, "weight_kg", "kg")
    if (volume is None) != (weight is None):
        raise ReleaseError("release: the per-kg items need both volume_ml and weight_kg")
    quantities: dict[str, units.Quantity] = {}
    verdicts: list[ItemVerdict] = []
    for item in spec.items:
        if item.kind == "dose_per_kg":
            continue
        verdicts.append(_evaluate_item(item, given, quantities))
    by_name = {v.name: v for v in verdicts}
    out: list[ItemVerdict] = []
    for item in spec.items:
        if item.kind == "dose_per_kg":
            out.append(_evaluate_per_kg(item, quantities, by_name, volume, weight))
        else:
            out.append(by_name[item.name])
    lot_items = [v for v in out if not v.per_dose]
    return ReleaseVerdict(passed=all(v.passed is True for v in lot_items), items=tuple(out))


def _positive(value: Any, what: str, unit: str) -> Decimal | None:
    if value is None:
        return None
    try:
        number = Decimal(str(value))
    except ArithmeticError:
        raise ReleaseError(f"release: {what} {value!r} is not a number of {unit}") from None
    if not number.is_finite() or number <= 0:
        raise ReleaseError(f"release: {what} must be a positive number of {unit}, got {value!r}")
    return number


def _evaluate_item(
    item: SpecItem, given: dict[str, Any], quantities: dict[str, units.Quantity]
) -> ItemVerdict:
    present = [t for t in item.tests if t in given]
    if not present:
        which = " or ".join(item.tests)
        return ItemVerdict(
            item.name, None, item.unit, item.limit_text, None,
            f"no result for {which}: not releasable until it is tested",
        )  # fmt: skip
    if item.kind == "result":
        shown, ok = [], True
        for test in present:
            raw = given[test]
            if not isinstance(raw, str):
                raise ReleaseError(f"release result {test}: expected text such as "
                                   f"{item.accept[0]!r}, got {raw!r}")  # fmt: skip
            shown.append(raw.strip())
            ok = ok and raw.strip().casefold() in item.accept
        value = "; ".join(shown)
        reason = (
            f"{value}: accepted"
            if ok
            else f"{value!r} is not an accepted result ({item.limit_text})"
        )
        return ItemVerdict(item.name, value, None, item.limit_text, ok, reason)
    parts, decisions = [], []
    for test in present:
        q = _result_quantity(item, test, given[test])
        quantities[test] = q
        decision = _judge(item, q)
        decisions.append(decision)
        label = f"{test} " if len(item.tests) > 1 else ""
        parts.append(f"{label}{_show(q)}")
    value = "; ".join(parts)
    if all(d is True for d in decisions):
        passed: bool | None = True
        reason = f"{value} {item.unit} meets {item.limit_text}"
    elif any(d is False for d in decisions):
        passed = False
        reason = f"{value} {item.unit} does not meet {item.limit_text}"
    else:
        passed = None
        reason = (
            f"{value} {item.unit}: the result's detection limit cannot show {item.limit_text}; "
            "retest with a more sensitive method"
        )
    return ItemVerdict(item.name, value, item.unit, item.limit_text, passed, reason)


def _evaluate_per_kg(
    item: SpecItem,
    quantities: dict[str, units.Quantity],
    by_name: dict[str, ItemVerdict],
    volume: Decimal | None,
    weight: Decimal | None,
) -> ItemVerdict:
    assert item.per_kg_of is not None and item.limit is not None
    base = next((q for t, q in quantities.items() if t == item.per_kg_of), None)
    if volume is None or weight is None:
        return ItemVerdict(
            item.name, None, item.unit, item.limit_text, None,
            f"computed for each dose: {item.per_kg_of} per mL x the dose's volume / the "
            "participant's weight",
            per_dose=True,
        )  # fmt: skip
    if base is None:
        return ItemVerdict(
            item.name, None, item.unit, item.limit_text, None,
            f"no {item.per_kg_of} result to compute it from", per_dose=True,
        )  # fmt: skip
    per_ml_unit = item.limit.unit.rsplit("/", 1)[0] + "/mL"
    per_ml = units.convert(base, per_ml_unit)
    per_kg = per_ml.exact * Fraction(volume) / Fraction(weight)
    q = units.quantity(per_kg, item.limit.unit, comparator=base.comparator)
    decision = _judge(item, q)
    shown = _show(q)
    formula = f"{_show(per_ml)} {display_unit(per_ml_unit)} x {volume} mL / {weight} kg"
    if decision is True:
        reason = f"{formula} = {shown} {item.unit}, meets {item.limit_text}"
    elif decision is False:
        reason = f"{formula} = {shown} {item.unit}, exceeds {item.limit_text}"
    else:
        reason = (
            f"{formula} = {shown} {item.unit}: the detection limit cannot show {item.limit_text}"
        )
    return ItemVerdict(
        item.name, shown, item.unit, item.limit_text, decision, reason, per_dose=True
    )
