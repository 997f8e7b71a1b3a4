"""The analyte registry: what trialdesk measures, in which canonical unit, and what is possible.

Part of :mod:`trialdesk.clinical.units` (which re-exports everything here); kept apart so the
table reads on its own. Ranges are in the canonical unit. Sources: LOINC (loinc.org) for the
codes; molar masses as in docs/clinical-formulas.md (bilirubin 584.66 g/mol, creatinine
113.12 g/mol); plausibility limits are deliberately wide (a value outside them cannot be a
real measurement) and the extreme thresholds only raise a warning.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

__all__ = [
    "ANALYTES",
    "Analyte",
    "ImplausibleValueError",
    "UnitError",
    "analyte_for_loinc",
    "get_analyte",
]


class UnitError(ValueError):
    """A unit that is unknown, not UCUM, or cannot express the analyte."""


class ImplausibleValueError(ValueError):
    """A value that cannot be a real measurement (negative, not a number, impossibly large)."""


# --------------------------------------------------------------------------------------------
# Analyte registry
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Analyte:
    """A measured thing: its canonical UCUM unit, what is possible and what is extreme.

    Ranges are in the canonical unit. ``impossible_below``/``impossible_above`` bound what a
    real measurement can be (outside -> :class:`ImplausibleValueError`; a bound of ``None`` means
    none); ``extreme_below``/``extreme_above`` mark possible but extreme values (a warning).
    ``molar_mass`` (g/mol) allows mass <-> substance concentration. ``unit_aliases`` maps
    spellings that mean something else for this analyte (IU/L is U/L for ALT).
    """

    name: str
    label: str
    unit: str
    loinc: tuple[str, ...] = ()
    molar_mass: Decimal | None = None
    impossible_below: Decimal | None = Decimal(0)
    impossible_above: Decimal | None = None
    extreme_below: Decimal | None = None
    extreme_above: Decimal | None = None
    below_inclusive: bool = False  # True: the impossible_below value itself is impossible
    aliases: tuple[str, ...] = ()
    unit_aliases: tuple[tuple[str, str], ...] = ()
    log_scale: bool = False  # values may be given as log10 of the canonical unit

    def __str__(self) -> str:
        return self.name


def _d(x: str | None) -> Decimal | None:
    return None if x is None else Decimal(x)


_IU_AS_U = (("[IU]/L", "U/L"), ("[iU]/L", "U/L"), ("[IU]/mL", "U/mL"), ("[iU]/mL", "U/mL"))

_ANALYTE_LIST: tuple[Analyte, ...] = (
    Analyte(
        "bilirubin",
        "Bilirubin (total)",
        "mg/dL",
        loinc=("1975-2", "14631-6", "42719-5"),
        molar_mass=Decimal("584.66"),
        impossible_above=_d("100"),
        extreme_above=_d("40"),
        aliases=("total bilirubin", "bili", "tbil", "blood bilirubin"),
    ),
    Analyte(
        "creatinine",
        "Creatinine",
        "mg/dL",
        loinc=("2160-0", "14682-9", "38483-4"),
        molar_mass=Decimal("113.12"),
        impossible_above=_d("50"),
        extreme_below=_d("0.2"),
        extreme_above=_d("15"),
        aliases=("cr", "creat", "serum creatinine"),
    ),
    Analyte(
        "albumin",
        "Albumin",
        "g/dL",
        loinc=("1751-7", "61151-7"),
        impossible_below=_d("0.3"),
        below_inclusive=False,
        impossible_above=_d("10"),
        extreme_below=_d("1.5"),
        extreme_above=_d("6"),
        aliases=("alb", "serum albumin"),
    ),
    Analyte(
        "sodium",
        "Sodium",
        "mmol/L",
        loinc=("2951-2", "2947-0"),
        impossible_below=_d("80"),
        impossible_above=_d("220"),
        extreme_below=_d("110"),
        extreme_above=_d("165"),
        aliases=("na", "serum sodium"),
    ),
    Analyte(
        "inr",
        "INR",
        "{INR}",
        loinc=("6301-6", "34714-6"),
        impossible_below=_d("0"),
        below_inclusive=True,
        impossible_above=_d("50"),
        extreme_below=_d("0.6"),
        extreme_above=_d("8"),
        aliases=("international normalized ratio",),
    ),
    Analyte(
        "alt",
        "ALT",
        "U/L",
        loinc=("1742-6", "1743-4", "76625-3"),
        impossible_above=_d("100000"),
        extreme_above=_d("5000"),
        aliases=("alanine aminotransferase", "sgpt", "alat"),
        unit_aliases=_IU_AS_U,
    ),
    Analyte(
        "ast",
        "AST",
        "U/L",
        loinc=("1920-8", "30239-8"),
        impossible_above=_d("100000"),
        extreme_above=_d("5000"),
        aliases=("aspartate aminotransferase", "sgot", "asat"),
        unit_aliases=_IU_AS_U,
    ),
    Analyte(
        "wbc",
        "White blood cells",
        "10*9/L",
        loinc=("6690-2", "26464-8"),
        impossible_above=_d("1000"),
        extreme_below=_d("0.5"),
        extreme_above=_d("100"),
        aliases=("white blood cells", "leukocytes", "white blood cell count"),
    ),
    Analyte(
        "neutrophils",
        "Neutrophils (absolute)",
        "10*9/L",
        loinc=("751-8", "26499-4", "753-4"),
        impossible_above=_d("500"),
        extreme_above=_d("50"),
        aliases=("anc", "absolute neutrophil count", "neutrophil count"),
    ),
    Analyte(
        "platelets",
        "Platelets",
        "10*9/L",
        loinc=("777-3", "26515-7"),
        impossible_above=_d("10000"),
        extreme_below=_d("5"),
        extreme_above=_d("1500"),
        aliases=("plt", "platelet count"),
    ),
    Analyte(
        "hemoglobin",
        "Hemoglobin",
        "g/dL",
        loinc=("718-7",),
        impossible_below=_d("1"),
        impossible_above=_d("30"),
        extreme_below=_d("5"),
        extreme_above=_d("22"),
        aliases=("hb", "hgb", "haemoglobin"),
    ),
    Analyte(
        "prothrombin_time",
        "Prothrombin time",
        "s",
        loinc=("5902-2",),
        impossible_below=_d("5"),
        impossible_above=_d("500"),
        extreme_above=_d("100"),
        aliases=("pt", "prothrombin time"),
    ),
    Analyte(
        "pt_prolongation",
        "Prothrombin time prolongation over control",
        "s",
        impossible_below=_d("-10"),
        impossible_above=_d("300"),
        extreme_above=_d("60"),
        aliases=("pt over control", "pt prolongation"),
    ),
    Analyte(
        "hbv_dna",
        "HBV DNA",
        "[IU]/mL",
        loinc=("29615-2", "42595-9"),
        impossible_above=_d("1e12"),
        extreme_above=_d("1e9"),
        aliases=("hbv dna", "hbv viral load"),
        log_scale=True,
    ),
    Analyte(
        "cell_count",
        "Cell count",
        "10*6",
        aliases=("cells",),
    ),
    Analyte(
        "cell_dose",
        "Cell dose per body weight",
        "10*6/kg",
        extreme_above=_d("1000"),
        aliases=("dose per kg",),
    ),
    Analyte(
        "cell_concentration",
        "Cell concentration",
        "10*6/mL",
        aliases=("cell density",),
    ),
    Analyte(
        "viability",
        "Cell viability",
        "%",
        impossible_above=_d("100"),
        aliases=("cell viability",),
    ),
    Analyte(
        "endotoxin",
        "Endotoxin",
        "{EU}/mL",
        aliases=("bacterial endotoxin",),
    ),
)


def _key(name: str) -> str:
    return re.sub(r"[\s\-_]+", " ", name.strip().lower())


ANALYTES: dict[str, Analyte] = {a.name: a for a in _ANALYTE_LIST}
_BY_KEY: dict[str, Analyte] = {}
for _a in _ANALYTE_LIST:
    for _n in (_a.name, _a.label, *_a.aliases):
        _BY_KEY[_key(_n)] = _a
_BY_LOINC: dict[str, Analyte] = {code: a for a in _ANALYTE_LIST for code in a.loinc}


def get_analyte(name: str | Analyte) -> Analyte:
    """The registered analyte called ``name`` (name, label or alias; case-insensitive)."""
    if isinstance(name, Analyte):
        return name
    try:
        return _BY_KEY[_key(name)]
    except KeyError:
        known = ", ".join(sorted(ANALYTES))
        raise UnitError(f"unknown analyte {name!r}; known analytes: {known}") from None


def analyte_for_loinc(code: str) -> Analyte:
    """The analyte a LOINC code measures (only codes listed in the registry)."""
    try:
        return _BY_LOINC[code.strip()]
    except KeyError:
        raise UnitError(f"LOINC code {code!r} is not mapped to an analyte") from None
