"""ALBI (albumin-bilirubin) score and grade.

Source: Johnson PJ, Berhane S, Kagebayashi C, et al. Assessment of liver function in patients
with hepatocellular carcinoma: a new evidence-based approach - the ALBI grade.
J Clin Oncol 2015;33:550-558.
"""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from typing import Any

from trialdesk.clinical._scoring import (
    ScoreInputError,
    ScoreResult,
    UsedInput,
    dec,
    lab,
    log10,
    round_half_up,
)
from trialdesk.clinical.bands import Band, check_partition

__all__ = ["ALBI_GRADES", "albi"]

ALBI_REFERENCE = "Johnson PJ et al., J Clin Oncol 2015;33:550-558"

# Grade bands on the unrounded score, as published: grade 1 <= -2.60 < grade 2 <= -1.39 < grade 3.
ALBI_GRADES: tuple[tuple[int, Band], ...] = (
    (1, Band.parse("x<=-2.60")),
    (2, Band.parse("-2.60<x<=-1.39")),
    (3, Band.parse("x>-1.39")),
)
check_partition([b for _, b in ALBI_GRADES], "ALBI grades", complete=True)


def albi(bilirubin: Any, albumin: Any) -> ScoreResult:
    """ALBI = 0.66 x log10(bilirubin, umol/L) - 0.085 x albumin (g/L).

    Grade 1: score <= -2.60; grade 2: -2.60 < score <= -1.39; grade 3: score > -1.39.
    The grade is taken from the unrounded score; the reported value is rounded half up
    (away from zero) to 2 decimals, and ``raw`` keeps 10.

    Source: Johnson PJ et al., J Clin Oncol 2015;33:550-558.
    """
    bili = lab(bilirubin, "bilirubin", "umol/L")
    alb = lab(albumin, "albumin", "g/L")
    for item in (bili, alb):
        if item.quantity.comparator:
            raise ScoreInputError(f"{item.name} {item.quantity} is censored; ALBI needs a value")
    if bili.exact <= 0:
        raise ScoreInputError(f"bilirubin {bili.quantity}: ALBI needs a value above 0")
    raw = Decimal("0.66") * log10(dec(bili.exact)) - Decimal("0.085") * dec(alb.exact)
    exact_raw = Fraction(raw)
    grade, band = next((g, b) for g, b in ALBI_GRADES if b.contains(exact_raw))
    value = round_half_up(raw, 2)
    return ScoreResult(
        name="ALBI",
        value=value,
        version="Johnson 2015",
        reference=ALBI_REFERENCE,
        inputs={
            "bilirubin": UsedInput("bilirubin", bili.quantity, _show(bili.exact), "umol/L"),
            "albumin": UsedInput("albumin", alb.quantity, _show(alb.exact), "g/L"),
        },
        grade=grade,
        raw=round_half_up(raw, 10),
        reasons=(
            f"ALBI = 0.66 x log10({_show(bili.exact)}) - 0.085 x {_show(alb.exact)} "
            f"= {round_half_up(raw, 6)}; {band.text} -> grade {grade}",
        ),
        warnings=bili.quantity.warnings + alb.quantity.warnings,
    )


def _show(fr: Fraction) -> Decimal:
    d = round_half_up(dec(fr), 6).normalize()
    return d.quantize(Decimal(1)) if d.as_tuple().exponent > 0 else d  # type: ignore[operator]
