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


# --------------------------------------------------------------------------------------------
# Scores (trialdesk.clinical.scores); severities use the concept scale none < mild < moderate
# < severe, mapped to the Child-Pugh categories here (hepatic encephalopathy: mild = West Haven
# grade 1, moderate = grade 2, severe = grade 3-4).
# --------------------------------------------------------------------------------------------

ASCITES_CATEGORY = {
    "none": "none",
    "mild": "mild",
    "moderate": "moderate-severe",
    "severe": "moderate-severe",
}
ENCEPHALOPATHY_CATEGORY = {
    "none": "none",
    "mild": "grade-1-2",
    "moderate": "grade-1-2",
    "severe": "grade-3-4",
}


def child_pugh_table(variant: str | None = None) -> Any:
    """The Child-Pugh points table (bands as data) of ``variant`` (default table if None)."""
    from trialdesk.clinical import scores

    name = variant or "default"
    if name not in scores.CHILD_PUGH_TABLES:
        raise ValueError(
            f"unknown Child-Pugh variant {name!r} (known: {', '.join(scores.CHILD_PUGH_TABLES)})"
        )
    return scores.CHILD_PUGH_TABLES[name]


def child_pugh(
    bilirubin: units.Quantity,
    albumin: units.Quantity,
    inr: units.Quantity,
    ascites: str,
    encephalopathy: str,
    variant: str | None = None,
) -> Any:
    """Child-Turcotte-Pugh via :func:`trialdesk.clinical.scores.child_pugh`."""
    from trialdesk.clinical import scores

    return scores.child_pugh(
        bilirubin,
        albumin,
        inr,
        ASCITES_CATEGORY[ascites],
        ENCEPHALOPATHY_CATEGORY[encephalopathy],
        table=child_pugh_table(variant),
    )


def child_pugh_range(
    bilirubin: units.Quantity | None,
    albumin: units.Quantity | None,
    inr: units.Quantity | None,
    ascites: str | None,
    encephalopathy: str | None,
    variant: str | None = None,
) -> Any:
    """Child-Pugh totals with unknown items (None) via
    :func:`trialdesk.clinical.child_pugh.child_pugh_range`."""
    from trialdesk.clinical.child_pugh import child_pugh_range as totals

    return totals(
        bilirubin,
        albumin,
        inr,
        None if ascites is None else ASCITES_CATEGORY[ascites],
        None if encephalopathy is None else ENCEPHALOPATHY_CATEGORY[encephalopathy],
        table=child_pugh_table(variant),
    )


def meld(bilirubin: units.Quantity, inr: units.Quantity, creatinine: units.Quantity) -> Any:
    from trialdesk.clinical import scores

    return scores.meld(bilirubin, inr, creatinine)


def meld_na(
    bilirubin: units.Quantity,
    inr: units.Quantity,
    creatinine: units.Quantity,
    sodium: units.Quantity,
) -> Any:
    from trialdesk.clinical import scores

    return scores.meld_na(bilirubin, inr, creatinine, sodium)


def meld3(
    bilirubin: units.Quantity,
    inr: units.Quantity,
    creatinine: units.Quantity,
    sodium: units.Quantity,
    albumin: units.Quantity,
    sex: str,
    age: int | None,
) -> Any:
    from trialdesk.clinical import scores

    return scores.meld3(bilirubin, inr, creatinine, sodium, albumin, sex, age=age)


def albi(bilirubin: units.Quantity, albumin: units.Quantity) -> Any:
    from trialdesk.clinical import scores

    return scores.albi(bilirubin, albumin)


# What each score needs: lab analytes, and other inputs (sex, age, ascites, encephalopathy).
SCORE_INPUTS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "child_pugh": (("bilirubin", "albumin", "inr"), ("ascites", "hepatic_encephalopathy")),
    "meld": (("bilirubin", "inr", "creatinine"), ()),
    "meld_na": (("bilirubin", "inr", "creatinine", "sodium"), ()),
    "meld3": (("bilirubin", "inr", "creatinine", "sodium", "albumin"), ("sex", "age")),
    "albi": (("bilirubin", "albumin"), ()),
}


def score_error_types() -> tuple[type[BaseException], ...]:
    from trialdesk.clinical import scores

    return (scores.ScoreInputError, units.UnitError, units.ImplausibleValueError)
