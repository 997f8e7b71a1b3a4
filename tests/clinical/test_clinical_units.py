"""Tests for trialdesk.clinical.units: parsing, conversion, analyte checks."""

from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trialdesk.clinical.units import (
    ANALYTES,
    ImplausibleValueError,
    Quantity,
    UnitError,
    analyte_for_loinc,
    as_quantity,
    censored_range,
    convert,
    from_log10,
    get_analyte,
    log10,
    normalize_unit,
    parse_quantity,
    quantity,
    to,
)


def test_bilirubin_mass_to_molar_uses_molar_mass():
    # 1 mg/dL = 10 mg/L = 10/584.66 mmol/L = 17.104 umol/L (molar mass 584.66 g/mol;
    # docs/clinical-formulas.md, shared reference "Units").
    q = to(parse_quantity("1 mg/dL", "bilirubin"), "umol/L")
    assert q.exact == Fraction(10000) / Fraction("584.66")
    assert round(float(q), 3) == 17.104
    assert q.unit == "umol/L" and q.analyte == "bilirubin"


def test_creatinine_mass_to_molar_uses_molar_mass():
    # 1 mg/dL creatinine = 10000/113.12 umol/L = 88.40 umol/L (113.12 g/mol).
    q = parse_quantity("1.0 mg/dL", "creatinine").to("umol/L")
    assert q.exact == Fraction(10000) / Fraction("113.12")
    assert round(float(q), 2) == 88.40


def test_round_trip_is_exact():
    q = parse_quantity("2.0 mg/dL", "bilirubin")
    back = q.to("umol/L").to("mg/dL")
    assert back.exact == Fraction(2)
    assert back == quantity(2, "mg/dL", "bilirubin")


@pytest.mark.parametrize(
    ("text", "analyte", "unit", "expected"),
    [
        ("3.1 g/dL", "albumin", "g/L", Fraction(31)),  # g/L = g/dL x 10
        ("31 g/L", "albumin", "g/dL", Fraction("3.1")),
        ("131 meq/L", "sodium", "mmol/L", Fraction(131)),  # monovalent: 1 meq = 1 mmol
        ("131 mEq/L", "sodium", "mmol/L", Fraction(131)),
        ("4.5 10*9/L", "wbc", "10*3/uL", Fraction("4.5")),  # 10^9/L = 10^3/uL
        ("4.5 10*9/L", "wbc", "/uL", Fraction(4500)),
        ("4500 /uL", "wbc", "10*9/L", Fraction("4.5")),
        ("4500 /mm3", "wbc", "10*9/L", Fraction("4.5")),  # mm3 = uL
        ("150 x10^9/L", "platelets", "10*3/uL", Fraction(150)),
        ("150 ×10^9/L", "platelets", "10*9/L", Fraction(150)),
        ("150 K/µL", "platelets", "10*9/L", Fraction(150)),
        ("1.2 10^9/L", "neutrophils", "/uL", Fraction(1200)),
        ("4.5 G/L", "wbc", "/uL", Fraction(4500)),
        ("60 U/L", "alt", "ukat/L", Fraction(1, 1)),  # 1 U = 1 umol/min = 1/60 ukat
        ("60 IU/L", "ast", "U/L", Fraction(60)),  # lab 'IU/L' for enzymes means U/L
        ("2000 IU/mL", "hbv_dna", "[iU]/mL", Fraction(2000)),
        ("2 [iU]/mL", "hbv_dna", "[IU]/L", Fraction(2000)),
        ("13.5 s", "prothrombin_time", "s", Fraction("13.5")),
        ("2.5 10*6/kg", "cell_dose", "10*6/kg", Fraction("2.5")),
        ("85 %", "viability", "%", Fraction(85)),
        ("14 g/dL", "hemoglobin", "g/L", Fraction(140)),
        ("100 µmol/L", "creatinine", "umol/L", Fraction(100)),
        ("100 μmol/L", "bilirubin", "mmol/L", Fraction(1, 10)),
    ],
)
def test_conversions(text, analyte, unit, expected):
    assert parse_quantity(text, analyte).to(unit).exact == expected


@pytest.mark.parametrize("text", ["1.5", "1.5 {INR}", "1.5 INR", "1.5 1"])
def test_inr_is_unitless(text):
    q = parse_quantity(text, "inr")
    assert q.exact == Fraction(3, 2)
    assert q.unit == "{INR}"


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("µmol/L", "umol/L"),
        ("x10^9/L", "10*9/L"),
        ("x 10^9 /L", "10*9/L"),
        ("10E9/L", "10*9/L"),
        ("K/uL", "10*3/uL"),
        ("mEq/L", "meq/L"),
        ("IU/mL", "[IU]/mL"),
        ("[iU]/mL", "[iU]/mL"),
        ("cells/uL", "{cells}/uL"),
        ("sec", "s"),
        ("mIU/mL", "m[IU]/mL"),
        ("mcg/L", "ug/L"),
        ("G/L", "10*9/L"),
        ("mg/dL", "mg/dL"),
    ],
)
def test_normalize_unit(raw, code):
    assert normalize_unit(raw) == code


def test_comparator_and_log10_for_hbv_dna():
    below = parse_quantity("< 20 IU/mL", "hbv_dna")
    assert below.comparator == "<" and below.exact == 20
    assert str(below) == "< 20 [IU]/mL"
    q = parse_quantity("3 log10 IU/mL", "hbv_dna")
    assert q.exact == 1000
    assert log10(parse_quantity("100000 IU/mL", "hbv_dna")) == 5
    assert from_log10(Decimal("2"), "IU/mL", "hbv_dna").exact == 100
    assert parse_quantity("≤ 10 IU/mL", "hbv_dna").comparator == "<="


@pytest.mark.parametrize(
    ("text", "analyte", "needles"),
    [
        ("1.2 U/L", "creatinine", ["creatinine", "1.2", "U/L"]),
        ("5 IU/mL", "wbc", ["wbc", "5", "[IU]/mL"]),
        ("2 mg/dL", "inr", ["inr", "2", "mg/dL"]),
        ("3 g/dL", "sodium", ["sodium", "3", "g/dL"]),  # sodium has no molar mass declared
        ("2 furlongs", "bilirubin", ["bilirubin", "2", "furlongs"]),
        ("1.0 mg/dL", "alt", ["alt", "1.0", "mg/dL"]),
        ("2.0", "bilirubin", ["bilirubin", "2.0", "no unit"]),
    ],
)
def test_unit_errors_name_analyte_value_unit(text, analyte, needles):
    with pytest.raises(UnitError) as info:
        parse_quantity(text, analyte)
    assert isinstance(info.value, ValueError)
    for needle in needles:
        assert needle in str(info.value)


@pytest.mark.parametrize(
    ("text", "analyte", "needles"),
    [
        ("-1 mg/dL", "bilirubin", ["bilirubin", "-1", "mg/dL"]),
        ("-0.5 mg/dL", "creatinine", ["creatinine", "-0.5", "mg/dL"]),
        ("0", "inr", ["inr", "0"]),
        ("500 mg/dL", "bilirubin", ["bilirubin", "500", "mg/dL"]),
        ("20 g/dL", "albumin", ["albumin", "20", "g/dL"]),
        ("40 mmol/L", "sodium", ["sodium", "40", "mmol/L"]),
        ("101 %", "viability", ["viability", "101", "%"]),
        ("nan mg/dL", "bilirubin", ["bilirubin", "nan"]),
    ],
)
def test_impossible_values_raise(text, analyte, needles):
    with pytest.raises(ImplausibleValueError) as info:
        parse_quantity(text, analyte)
    assert isinstance(info.value, ValueError)
    for needle in needles:
        assert needle in str(info.value)


def test_impossible_is_checked_in_canonical_unit():
    # 100 mg/dL is the ceiling for bilirubin; 1800 umol/L = 105 mg/dL is above it.
    with pytest.raises(ImplausibleValueError, match="1800 umol/L"):
        parse_quantity("1800 umol/L", "bilirubin")
    assert not parse_quantity("1700 umol/L", "bilirubin").warnings == ()  # extreme, possible


def test_extreme_values_pass_with_warning():
    q = parse_quantity("45 mg/dL", "bilirubin")
    assert q.extreme and "extreme" in q.warnings[0] and "45 mg/dL" in q.warnings[0]
    assert q.to("umol/L").extreme  # the flag travels with conversions
    assert parse_quantity("108 mmol/L", "sodium").extreme
    assert not parse_quantity("135 mmol/L", "sodium").extreme
    assert quantity(45, "mg/dL", "bilirubin").to_dict()["warnings"]


def test_no_analyte_quantities():
    q = quantity("2.5", "mg/dL")
    assert q.analyte is None and q.value == Decimal("2.5")
    assert q.to("g/L").exact == Fraction(1, 40)
    with pytest.raises(UnitError, match="molar mass"):
        q.to("umol/L")
    with pytest.raises(ImplausibleValueError, match="negative"):
        quantity(-1, "mg/dL")


def test_as_quantity_inputs():
    assert as_quantity("2 mg/dL", "bilirubin").exact == 2
    assert as_quantity(1.3, "inr").exact == Fraction("1.3")  # float via its shortest repr
    assert as_quantity(34, "bilirubin", default_unit="umol/L").unit == "umol/L"
    with pytest.raises(UnitError, match="bilirubin 2.0 has no unit"):
        as_quantity(2.0, "bilirubin")
    with pytest.raises(UnitError, match="expected creatinine"):
        as_quantity(quantity(2, "mg/dL", "bilirubin"), "creatinine")
    # a quantity without analyte is checked as the analyte asked for
    with pytest.raises(UnitError):
        as_quantity(quantity(2, "U/L"), "creatinine")
    assert as_quantity(quantity(2, "mg/dL"), "creatinine").analyte == "creatinine"


def test_registry_lookup():
    assert get_analyte("Total Bilirubin").name == "bilirubin"
    assert get_analyte("ANC").name == "neutrophils"
    assert analyte_for_loinc("2160-0").name == "creatinine"  # LOINC creatinine mass/vol
    assert analyte_for_loinc("1975-2").name == "bilirubin"
    assert analyte_for_loinc("6301-6").name == "inr"
    with pytest.raises(UnitError, match="unknown analyte 'bogus'"):
        get_analyte("bogus")
    # every canonical unit parses and every analyte accepts its own unit
    for an in ANALYTES.values():
        quantity((an.impossible_below or 0) + 1, an.unit, an)


def test_convert_refuses_other_analyte_and_keeps_comparator():
    q = parse_quantity("< 0.2 mg/dL", "bilirubin")
    assert convert(q, "umol/L").comparator == "<"
    with pytest.raises(UnitError):
        convert(q, "mg/dL", "creatinine")


def test_quantity_is_frozen_and_hashable():
    q = quantity(1, "mg/dL", "bilirubin")
    with pytest.raises(AttributeError):
        q.value = Decimal(2)  # type: ignore[misc]
    assert {q: 1}[quantity("1", "mg/dL", "bilirubin")] == 1
    assert isinstance(q, Quantity) and Quantity(Decimal("1.5"), "mg/dL").exact == Fraction(3, 2)


_decimals = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("60"), places=2)


@settings(max_examples=60, deadline=None)
@given(_decimals, st.sampled_from(["umol/L", "mmol/L", "mg/L", "g/L", "ug/mL"]))
def test_property_bilirubin_round_trip(value, unit):
    q = quantity(value, "mg/dL", "bilirubin")
    assert q.to(unit).to("mg/dL").exact == q.exact


@settings(max_examples=60, deadline=None)
@given(
    st.decimals(min_value=Decimal("0.1"), max_value=Decimal("900"), places=1),
    st.sampled_from(["10*9/L", "10*3/uL", "/uL", "/mm3", "10*6/mL", "/L"]),
)
def test_property_count_round_trip(value, unit):
    q = quantity(value, "10*9/L", "platelets")
    assert q.to(unit).to("x10^9/L").exact == q.exact


def test_censored_range():
    lo, hi = censored_range(parse_quantity("< 20 IU/mL", "hbv_dna"))
    assert lo.exact == 0 and 0 < 20 - hi.exact <= Fraction(20, 10**9)
    assert lo.comparator is None and hi.unit == "[IU]/mL"
    lo, hi = censored_range(parse_quantity(">= 5 mg/dL", "bilirubin"))
    assert lo.exact == 5 and hi.exact == 100  # the analyte's ceiling of possible values
    lo, hi = censored_range(parse_quantity("> 100 umol/L", "bilirubin"))
    assert hi.to("mg/dL").exact == 100  # ceiling converted into the quantity's unit
    lo, _ = censored_range(parse_quantity("< 1.0", "inr"))
    assert lo.exact > 0  # INR 0 is impossible, so the range starts just above it
    q = parse_quantity("2 mg/dL", "bilirubin")
    assert censored_range(q) == (q, q)
    assert str(lo).endswith("{INR}") and "E" not in str(lo)
