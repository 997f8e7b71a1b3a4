"""Child-Turcotte-Pugh and ALBI: reference cases, every cut-off, properties."""

from decimal import Decimal, getcontext
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trialdesk.clinical.bands import Band, BandError
from trialdesk.clinical.scores import (
    ALBI_GRADES,
    CHILD_PUGH_TABLES,
    ScoreInputError,
    albi,
    child_pugh,
    load_child_pugh_tables,
)
from trialdesk.clinical.units import UnitError, quantity

getcontext().prec = 40
D = Decimal


def _oracle_points(bili, alb, inr, ascites, enceph, cholestatic=False):
    """Pugh 1973 table as in docs/clinical-formulas.md, written as plain comparisons."""
    bili, alb, inr = D(str(bili)), D(str(alb)), D(str(inr))
    lo, hi = (D(4), D(10)) if cholestatic else (D(2), D(3))
    p = 1 if bili < lo else 2 if bili <= hi else 3
    p += 1 if alb > D("3.5") else 2 if alb >= D("2.8") else 3
    p += 1 if inr < D("1.7") else 2 if inr <= D("2.3") else 3
    p += {"none": 1, "mild": 2, "moderate-severe": 3}[ascites]
    p += {"none": 1, "grade-1-2": 2, "grade-3-4": 3}[enceph]
    return p, "A" if p <= 6 else "B" if p <= 9 else "C"


CASES = [
    # (bilirubin mg/dL, albumin g/dL, INR, ascites, encephalopathy, total, class)
    # Pugh 1973: every item at 1 point -> 5, class A
    ("1.0", "4.0", "1.1", "none", "none", 5, "A"),
    # compensated cirrhosis: bilirubin 2.5 (2), albumin 3.2 (2) -> 7, class B
    ("2.5", "3.2", "1.2", "none", "none", 7, "B"),
    # decompensated: 3.5 (3), 2.5 (3), 2.5 (3), moderate-severe (3), grade 3-4 (3) -> 15, C
    ("3.5", "2.5", "2.5", "moderate-severe", "grade-3-4", 15, "C"),
    # NCT05227846 admits CTP 7-12: a typical entrant, 2+2+2+2+1 = 9, class B
    ("2.0", "3.0", "1.8", "mild", "none", 9, "B"),
    # class C at 10: 3+2+2+2+1
    ("4.1", "3.0", "2.0", "mild", "none", 10, "C"),
    # class A at 6: 2+1+1+1+1
    ("2.0", "3.6", "1.0", "none", "none", 6, "A"),
]


@pytest.mark.parametrize(("bili", "alb", "inr", "asc", "enc", "total", "klass"), CASES)
def test_child_pugh_reference_cases(bili, alb, inr, asc, enc, total, klass):
    r = child_pugh(f"{bili} mg/dL", f"{alb} g/dL", inr, asc, enc)
    assert (r.value, r.klass) == (total, klass) == _oracle_points(bili, alb, inr, asc, enc)
    assert sum(r.points.values()) == r.value
    assert "Pugh" in r.reference


@pytest.mark.parametrize(
    ("item", "value", "points"),
    [
        # bilirubin < 2 / 2-3 / > 3 mg/dL (Pugh 1973)
        ("bilirubin", "1.99 mg/dL", 1),
        ("bilirubin", "2 mg/dL", 2),
        ("bilirubin", "3 mg/dL", 2),
        ("bilirubin", "3.01 mg/dL", 3),
        # albumin > 3.5 / 2.8-3.5 / < 2.8 g/dL
        ("albumin", "3.51 g/dL", 1),
        ("albumin", "3.5 g/dL", 2),
        ("albumin", "2.8 g/dL", 2),
        ("albumin", "2.79 g/dL", 3),
        ("albumin", "35 g/L", 2),
        ("albumin", "28 g/L", 2),
        # INR < 1.7 / 1.7-2.3 / > 2.3
        ("inr", "1.69", 1),
        ("inr", "1.7", 2),
        ("inr", "2.3", 2),
        ("inr", "2.31", 3),
    ],
)
def test_child_pugh_cut_offs(item, value, points):
    args = {"bilirubin": "1 mg/dL", "albumin": "4 g/dL", "inr": "1.0"}
    args[item] = value
    r = child_pugh(args["bilirubin"], args["albumin"], args["inr"], "none", "none")
    assert r.points[item] == points


@pytest.mark.parametrize(
    ("value", "points"),
    [("3.99 mg/dL", 1), ("4 mg/dL", 2), ("10 mg/dL", 2), ("10.01 mg/dL", 3)],
)
def test_child_pugh_cholestatic_cut_offs(value, points):
    # PBC/PSC variant: < 4 / 4-10 / > 10 mg/dL
    r = child_pugh(value, "4 g/dL", "1.0", "none", "none", cholestatic=True)
    assert r.points["bilirubin"] == points
    assert "cholestatic" in r.version


def test_child_pugh_cut_off_in_other_unit_stays_on_cut_off():
    # 2 mg/dL expressed exactly in umol/L still scores 2 points (exact conversion)
    on_cut = quantity(2, "mg/dL", "bilirubin").to("umol/L")
    assert child_pugh(on_cut, "4 g/dL", "1.0", "none", "none").points["bilirubin"] == 2
    # 34.2 umol/L (the rounded textbook figure) is 1.9995 mg/dL, under the cut-off
    assert child_pugh("34.2 umol/L", "4 g/dL", "1.0", "none", "none").points["bilirubin"] == 1


def test_child_pugh_variants_and_pt():
    assert set(CHILD_PUGH_TABLES) >= {"pugh-1973", "inr-2.2", "albumin-3.0", "default"}
    r = child_pugh("1 mg/dL", "4 g/dL", "2.25", "none", "none", table="inr-2.2")
    assert r.points["inr"] == 3
    r = child_pugh("1 mg/dL", "2.9 g/dL", "1.0", "none", "none", table="albumin-3.0")
    assert r.points["albumin"] == 3
    r = child_pugh("1 mg/dL", "4 g/dL", None, "none", "none", pt_prolongation="5 s")
    assert r.points["pt_prolongation"] == 2
    with pytest.raises(ScoreInputError, match="exactly one"):
        child_pugh("1 mg/dL", "4 g/dL", None, "none", "none")
    with pytest.raises(ScoreInputError, match="ascites 'lots'"):
        child_pugh("1 mg/dL", "4 g/dL", "1.0", "lots", "none")
    with pytest.raises(ScoreInputError, match="table 'nope'"):
        child_pugh("1 mg/dL", "4 g/dL", "1.0", "none", "none", table="nope")
    with pytest.raises(UnitError, match="albumin 4 U/L"):
        child_pugh("1 mg/dL", "4 U/L", "1.0", "none", "none")
    assert child_pugh("1 mg/dL", "4 g/dL", "1.0", "Moderate", "grade 1-2").value == 5 + 2 + 1


def test_child_pugh_censored_values():
    r = child_pugh("< 1 mg/dL", "4 g/dL", "1.0", "none", "none")
    assert r.points["bilirubin"] == 1 and any("censored" in x for x in r.reasons)
    assert child_pugh("< 2 mg/dL", "4 g/dL", "1.0", "none", "none").points["bilirubin"] == 1
    with pytest.raises(ScoreInputError, match="could score 1 or 2 points"):
        child_pugh("< 2.5 mg/dL", "4 g/dL", "1.0", "none", "none")


def test_child_pugh_table_file_is_checked(tmp_path):
    bad = tmp_path / "cp.yaml"
    bad.write_text(
        """
variants:
  broken:
    reference: test
    items:
      bilirubin: {unit: mg/dL, bands: {1: "x<2", 2: "2<x<=3", 3: "x>3"}}
      albumin: {unit: g/dL, bands: {1: "x>3.5", 2: "2.8<=x<=3.5", 3: "x<2.8"}}
      inr: {unit: "{INR}", bands: {1: "x<1.7", 2: "1.7<=x<=2.3", 3: "x>2.3"}}
      ascites: {categories: {none: 1, mild: 2, moderate-severe: 3}}
      encephalopathy: {categories: {none: 1, grade-1-2: 2, grade-3-4: 3}}
    classes: {A: [5, 6], B: [7, 9], C: [10, 15]}
"""
    )
    with pytest.raises(BandError, match="broken.bilirubin.*do not meet"):
        load_child_pugh_tables(bad)  # bilirubin exactly 2 would fall in no band


# ---- ALBI -------------------------------------------------------------------------------


def _oracle_albi(bili_umol, alb_gl):
    return D("0.66") * D(str(bili_umol)).log10() - D("0.085") * D(str(alb_gl))


@pytest.mark.parametrize(
    ("bili", "alb", "grade"),
    [
        # Johnson 2015 formula, values computed independently by _oracle_albi:
        ("10 umol/L", "45 g/L", 1),  # 0.66 - 3.825 = -3.165
        ("20 umol/L", "40 g/L", 2),  # 0.8587 - 3.4 = -2.541
        ("17 umol/L", "35 g/L", 2),  # -2.1629
        ("50 umol/L", "28 g/L", 3),  # 1.1213 - 2.38 = -1.259
        ("1 mg/dL", "3.5 g/dL", 2),  # 17.104 umol/L, 35 g/L -> -2.161
        ("5 umol/L", "42 g/L", 1),  # 0.4613 - 3.57 = -3.109
    ],
)
def test_albi_reference_cases(bili, alb, grade):
    r = albi(bili, alb)
    b = quantity(*bili.split(" ", 1), "bilirubin").to("umol/L").exact
    a = quantity(*alb.split(" ", 1), "albumin").to("g/L").exact
    expected = _oracle_albi(D(b.numerator) / D(b.denominator), D(a.numerator) / D(a.denominator))
    assert r.grade == grade
    assert abs(r.raw - expected) < D("1e-9")
    assert r.value == expected.quantize(D("0.01"), rounding="ROUND_HALF_UP")


def test_albi_grade_cut_offs_exact():
    # Johnson 2015: grade 1 <= -2.60 < grade 2 <= -1.39 < grade 3
    def grade_of(x):
        return next(g for g, band in ALBI_GRADES if band.contains(Fraction(x)))

    assert grade_of("-2.60") == 1
    assert grade_of("-2.5999999") == 2
    assert grade_of("-1.39") == 2
    assert grade_of("-1.3899999") == 3


def test_albi_errors():
    with pytest.raises(ScoreInputError, match="above 0"):
        albi("0 umol/L", "40 g/L")
    with pytest.raises(UnitError):
        albi("20 U/L", "40 g/L")


# ---- properties -------------------------------------------------------------------------

bili_s = st.decimals(min_value=D("0.2"), max_value=D("30"), places=2)
alb_s = st.decimals(min_value=D("1.0"), max_value=D("5.5"), places=2)
inr_s = st.decimals(min_value=D("0.8"), max_value=D("5"), places=2)
delta = st.decimals(min_value=D("0.01"), max_value=D("3"), places=2)


def _cp(b, a, i):
    return child_pugh(f"{b} mg/dL", f"{a} g/dL", i, "mild", "none").value


@settings(max_examples=50, deadline=None)
@given(bili_s, alb_s, inr_s, delta)
def test_property_child_pugh_monotone(b, a, i, d):
    base = _cp(b, a, i)
    assert _cp(b + d, a, i) >= base
    assert _cp(b, a, i + d) >= base
    assert _cp(b, a + d, i) <= base


@settings(max_examples=50, deadline=None)
@given(bili_s, alb_s, delta)
def test_property_albi_monotone(b, a, d):
    base = albi(f"{b} mg/dL", f"{a} g/dL").raw
    assert albi(f"{b + d} mg/dL", f"{a} g/dL").raw > base
    assert albi(f"{b} mg/dL", f"{a + d} g/dL").raw < base


@settings(max_examples=50, deadline=None)
@given(bili_s, alb_s, inr_s)
def test_property_unit_choice_child_pugh_albi(b, a, i):
    bq = quantity(b, "mg/dL", "bilirubin")
    aq = quantity(a, "g/dL", "albumin")
    for bx, ax in ((bq.to("umol/L"), aq.to("g/L")), (bq.to("mmol/L"), aq.to("mg/mL"))):
        r1 = child_pugh(bq, aq, i, "none", "grade-1-2")
        r2 = child_pugh(bx, ax, i, "none", "grade-1-2")
        assert (r1.value, r1.klass, dict(r1.points)) == (r2.value, r2.klass, dict(r2.points))
        s1, s2 = albi(bq, aq), albi(bx, ax)
        assert (s1.raw, s1.grade, s1.value) == (s2.raw, s2.grade, s2.value)


def test_band_parser():
    b = Band.parse("1.5*ULN < x <= 3.0*ULN")
    uln = {"ULN": Fraction(40)}
    assert not b.contains(Fraction(60), uln)  # 1.5 x ULN itself is excluded
    assert b.contains(Fraction(61), uln) and b.contains(Fraction(120), uln)
    assert not b.contains(Fraction(121), uln)
    assert Band.parse("LLN > x >= 1.5").contains(Fraction(2), {"LLN": Fraction(3)})
    with pytest.raises(BandError, match="not of the form"):
        Band.parse("x ~ 3")
