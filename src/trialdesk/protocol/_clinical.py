"""The one adapter between the rule language / screening and :mod:`trialdesk.clinical`.

Every unit conversion and every score the eligibility code needs goes through these few
functions, which call :mod:`trialdesk.clinical.units` and :mod:`trialdesk.clinical.scores`;
nothing here converts or scores by itself.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from trialdesk.clinical import units


def canonical_unit(analyte: str) -> str:
    """The analyte's canonical UCUM unit (the unit rules are compared in)."""
    return units.get_analyte(analyte).unit


def to_canonical(analyte: str, number: Fraction, unit: str | None) -> tuple[Fraction, str]:
    """A rule constant ``number unit`` as an exact value in the analyte's canonical unit.

    A missing unit is allowed only for unitless analytes (INR). Raises ``ValueError``
    (:class:`~trialdesk.clinical.units.UnitError`) when the unit cannot express the analyte.
    """
    an = units.get_analyte(analyte)
    if unit is None:
        number = _plain_number(number)
        q = units.as_quantity(number, an)
    else:
        q = units.quantity(number, unit, an)
    return units.convert(q, an.unit).exact, an.unit


def _plain_number(x: Fraction) -> Any:
    """An int for whole fractions (so messages read '170', not 'Fraction(170, 1)')."""
    return x.numerator if isinstance(x, Fraction) and x.denominator == 1 else x


def quantity(
    analyte: str, value: Any, unit: str | None, comparator: str | None = None
) -> units.Quantity:
    """A checked lab quantity (UnitError / ImplausibleValueError on bad input)."""
    an = units.get_analyte(analyte)
    if unit is None or unit == "":
        q = units.as_quantity(value if not isinstance(value, str) else value, an)
        if comparator:
            q = units.quantity(q.exact, q.unit, an, comparator=comparator)
        return q
    return units.quantity(value, unit, an, comparator=comparator)


def parse_quantity(analyte: str, text: str) -> units.Quantity:
    """``"2.0 mg/dL"``, ``"< 20 IU/mL"`` as a checked quantity of ``analyte``."""
    return units.parse_quantity(text, analyte)


def canonical(q: units.Quantity) -> Fraction:
    """The exact value of a lab quantity in its analyte's canonical unit."""
    assert q.analyte is not None
    return units.convert(q, units.get_analyte(q.analyte).unit).exact


def in_unit(analyte: str, value: Fraction, unit: str) -> Fraction:
    """An exact canonical value of ``analyte`` expressed in ``unit`` (exactly)."""
    an = units.get_analyte(analyte)
    return units.convert(units.quantity(value, an.unit, an), unit).exact


def factor(analyte: str, from_unit: str, to_unit: str) -> Fraction:
    """Exact factor f with ``x [from_unit] == x * f [to_unit]`` for ``analyte``."""
    an = units.get_analyte(analyte)
    return units.convert(units.quantity(1, from_unit, an), to_unit).exact


def analyte_for_loinc(code: str) -> str | None:
    """The analyte a LOINC code measures, or None for a code the registry does not map."""
    try:
        return units.analyte_for_loinc(code).name
    except units.UnitError:
        return None


def label(analyte: str) -> str:
    return units.get_analyte(analyte).label


UnitError = units.UnitError
ImplausibleValueError = units.ImplausibleValueError
