"""MELD (OPTN 2002-2016), MELD-Na (OPTN 2016) and MELD 3.0 (Kim 2021 / OPTN 2023).

All arithmetic is exact (rational inputs, 50-digit Decimal logarithms) and rounding is
half-up as the sources say, so a result never depends on floating point or on the unit the
labs were entered in. See docs/clinical-formulas.md for the formulas, bounds and rounding.
"""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from typing import Any

from trialdesk.clinical._scoring import (
    ScoreInputError,
    ScoreResult,
    UsedInput,
    bounded,
    dec,
    lab,
    ln,
    round_half_up,
    warnings_of,
)

__all__ = ["meld", "meld3", "meld_na"]

ONE = Fraction(1)
DIALYSIS_RULE = (
    "dialysis at least twice, or 24 h of CVVHD, in the week before the test: creatinine set to {}"
)

MELD_REFERENCE = (
    "OPTN Policy 9.1.D (MELD, 2002-January 2016); Kamath PS et al., Hepatology 2001;33:464-470; "
    "Wiesner R et al., Gastroenterology 2003;124:91-96"
)
MELD_NA_REFERENCE = (
    "OPTN Policy 9.1.D (MELD-Na, January 2016); Kim WR et al., N Engl J Med 2008;359:1018-1026"
)
MELD3_REFERENCE = (
    "Kim WR et al., MELD 3.0, Gastroenterology 2021;161:1887-1895; OPTN Policy 9.1.D (July 2023)"
)


def _meld_core(
    bilirubin: Any, inr: Any, creatinine: Any, dialysis: bool
) -> tuple[int, Decimal, dict[str, UsedInput], list[str], tuple[str, ...]]:
    """MELD(i) as OPTN computes it: (integer score capped at 40, raw 10x bracket, inputs...)."""
    bili = lab(bilirubin, "bilirubin", "mg/dL")
    inr_ = lab(inr, "inr", "{INR}", "INR")
    cr = lab(creatinine, "creatinine", "mg/dL")
    b, used_b = bounded(bili, floor=ONE)
    i, used_i = bounded(inr_, floor=ONE)
    four = Fraction(4)
    if dialysis:
        c, used_c = bounded(cr, force=four, force_rule=DIALYSIS_RULE.format("4.0"))
    else:
        c, used_c = bounded(cr, floor=ONE, cap=four, cap_rule="above 4.0, set to 4.0")
    bracket = (
        Decimal("0.957") * ln(dec(c))
        + Decimal("0.378") * ln(dec(b))
        + Decimal("1.120") * ln(dec(i))
        + Decimal("0.643")
    )
    # OPTN: "round to the tenth decimal place and multiply by 10" (half up).
    score = int(round_half_up(bracket, 1) * 10)
    reasons = [
        f"10 x bracket = {round_half_up(bracket * 10, 4)}; bracket rounded to the tenth "
        f"({round_half_up(bracket, 1)}) and multiplied by 10 = {score}"
    ]
    if score > 40:
        reasons.append(f"MELD {score} capped at 40")
        score = 40
    inputs = {"bilirubin": used_b, "inr": used_i, "creatinine": used_c}
    if dialysis:
        inputs["dialysis"] = UsedInput("dialysis", True, True)
    return score, bracket * 10, inputs, reasons, warnings_of(bili, inr_, cr)


def meld(bilirubin: Any, inr: Any, creatinine: Any, dialysis: bool = False) -> ScoreResult:
    """MELD, OPTN rules of 2002 to January 2016.

    MELD = 10 x [0.957 ln(Cr) + 0.378 ln(Bili) + 1.120 ln(INR) + 0.643], Cr and Bili in mg/dL.
    Values below 1.0 are set to 1.0; creatinine above 4.0, or any creatinine when the patient
    had dialysis at least twice (or 24 h of CVVHD) in the prior week, is set to 4.0. The
    bracket is rounded to the tenth (half up) and multiplied by 10; maximum 40 (minimum 6
    follows from the floors).

    Source: OPTN Policy 9.1.D; Kamath PS et al., Hepatology 2001;33:464;
    Wiesner R et al., Gastroenterology 2003;124:91.
    """
    score, raw, inputs, reasons, warnings = _meld_core(bilirubin, inr, creatinine, dialysis)
    return ScoreResult(
        name="MELD",
        value=score,
        version="OPTN 2002-2016",
        reference=MELD_REFERENCE,
        inputs=inputs,
        raw=round_half_up(raw, 10),
        reasons=tuple(reasons),
        warnings=warnings,
    )


def meld_na(
    bilirubin: Any, inr: Any, creatinine: Any, sodium: Any, dialysis: bool = False
) -> ScoreResult:
    """MELD-Na, OPTN policy of January 2016.

    MELD(i) is MELD as above (integer). If MELD(i) > 11:
    MELD = MELD(i) + 1.32 x (137 - Na) - [0.033 x MELD(i) x (137 - Na)], sodium in mmol/L
    bounded to 125..137, rounded to the nearest integer (half up), maximum 40.
    Otherwise MELD-Na = MELD(i). (Not the Biggins 2006 formula with 0.025 and 140.)

    Source: OPTN Policy 9.1.D (2016); Kim WR et al., N Engl J Med 2008;359:1018.
    """
    meld_i, _raw, inputs, reasons, warnings = _meld_core(bilirubin, inr, creatinine, dialysis)
    na = lab(sodium, "sodium", "mmol/L")
    n, used_n = bounded(
        na,
        floor=Fraction(125),
        cap=Fraction(137),
        cap_rule="above 137, set to 137",
    )
    inputs["sodium"] = used_n
    warnings = warnings + na.quantity.warnings
    if meld_i > 11:
        d = Decimal(137) - dec(n)
        raw = Decimal(meld_i) + Decimal("1.32") * d - Decimal("0.033") * Decimal(meld_i) * d
        value = int(round_half_up(raw))
        reasons.append(
            f"MELD(i) {meld_i} > 11: MELD-Na = {meld_i} + 1.32 x {d} - 0.033 x {meld_i} x {d}"
            f" = {round_half_up(raw, 4)}, rounded half up to {value}"
        )
        if value > 40:
            reasons.append(f"MELD-Na {value} capped at 40")
            value = 40
    else:
        raw = Decimal(meld_i)
        value = meld_i
        reasons.append(f"MELD(i) {meld_i} is not above 11: sodium is not applied")
    return ScoreResult(
        name="MELD-Na",
        value=value,
        version="OPTN 2016",
        reference=MELD_NA_REFERENCE,
        inputs=inputs,
        raw=round_half_up(raw, 10),
        reasons=tuple(reasons),
        warnings=warnings,
    )


_SEXES = {"female": True, "f": True, "woman": True, "male": False, "m": False, "man": False}


def meld3(
    bilirubin: Any,
    inr: Any,
    creatinine: Any,
    sodium: Any,
    albumin: Any,
    sex: str,
    dialysis: bool = False,
    age: int | None = None,
) -> ScoreResult:
    """MELD 3.0 (Kim et al. 2021), used by OPTN since July 2023.

    MELD 3.0 = 1.33 (female) + 4.56 ln(Bili) + 0.82 (137 - Na) - 0.24 (137 - Na) ln(Bili)
             + 9.09 ln(INR) + 11.14 ln(Cr) + 1.85 (3.5 - Alb) - 1.83 (3.5 - Alb) ln(Cr) + 6
    Bilirubin, INR and creatinine have a floor of 1.0; creatinine a cap of 3.0 (and is set to
    3.0 after dialysis twice / 24 h CVVHD in the prior week); sodium is bounded 125..137
    mmol/L and albumin 1.5..3.5 g/dL. Rounded to the nearest integer (half up), bounded 6..40.
    Candidates aged 12-17 get the 1.33 term whatever their sex (OPTN policy; pass ``age``).

    Because of the interaction terms the score is not monotone everywhere: it falls with
    sodium only while bilirubin < exp(0.82/0.24) = 30.4 mg/dL, and falls with albumin only
    while creatinine < exp(1.85/1.83) = 2.75 mg/dL.

    Source: Kim WR et al., Gastroenterology 2021;161:1887-1895; OPTN Policy 9.1.D (2023).
    """
    key = str(sex).strip().lower()
    if key not in _SEXES:
        raise ScoreInputError(f"sex {sex!r}: expected 'female' or 'male'")
    female = _SEXES[key]
    if age is not None and not (0 <= age <= 130):
        raise ScoreInputError(f"age {age!r} is not a possible age in years")
    bili = lab(bilirubin, "bilirubin", "mg/dL")
    inr_ = lab(inr, "inr", "{INR}", "INR")
    cr = lab(creatinine, "creatinine", "mg/dL")
    na = lab(sodium, "sodium", "mmol/L")
    alb = lab(albumin, "albumin", "g/dL")
    b, used_b = bounded(bili, floor=ONE)
    i, used_i = bounded(inr_, floor=ONE)
    three = Fraction(3)
    if dialysis:
        c, used_c = bounded(cr, force=three, force_rule=DIALYSIS_RULE.format("3.0"))
    else:
        c, used_c = bounded(cr, floor=ONE, cap=three, cap_rule="above 3.0, set to 3.0")
    n, used_n = bounded(na, floor=Fraction(125), cap=Fraction(137))
    a, used_a = bounded(alb, floor=Fraction(3, 2), cap=Fraction(7, 2))
    sex_term = female or (age is not None and 12 <= age <= 17)
    lb, lc = ln(dec(b)), ln(dec(c))
    dna = Decimal(137) - dec(n)
    dal = Decimal("3.5") - dec(a)
    raw = (
        (Decimal("1.33") if sex_term else Decimal(0))
        + Decimal("4.56") * lb
        + Decimal("0.82") * dna
        - Decimal("0.24") * dna * lb
        + Decimal("9.09") * ln(dec(i))
        + Decimal("11.14") * lc
        + Decimal("1.85") * dal
        - Decimal("1.83") * dal * lc
        + Decimal(6)
    )
    value = int(round_half_up(raw))
    reasons = [f"MELD 3.0 formula = {round_half_up(raw, 4)}, rounded half up to {value}"]
    if age is not None and 12 <= age <= 17 and not female:
        reasons.append(f"age {age} (12-17): the 1.33 term applies whatever the sex")
    if value > 40:
        reasons.append(f"MELD 3.0 {value} capped at 40")
        value = 40
    elif value < 6:
        reasons.append(f"MELD 3.0 {value} raised to the minimum of 6")
        value = 6
    inputs = {
        "bilirubin": used_b,
        "inr": used_i,
        "creatinine": used_c,
        "sodium": used_n,
        "albumin": used_a,
        "sex": UsedInput("sex", sex, "female" if female else "male"),
    }
    if dialysis:
        inputs["dialysis"] = UsedInput("dialysis", True, True)
    if age is not None:
        inputs["age"] = UsedInput("age", age, age, "a")
    return ScoreResult(
        name="MELD 3.0",
        value=value,
        version="Kim 2021 / OPTN 2023",
        reference=MELD3_REFERENCE,
        inputs=inputs,
        raw=round_half_up(raw, 10),
        reasons=tuple(reasons),
        warnings=warnings_of(bili, inr_, cr, na, alb),
    )
