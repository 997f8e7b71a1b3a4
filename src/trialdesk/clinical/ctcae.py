"""CTCAE v5.0 grading of laboratory adverse events, and the clinical-term pick-list.

Source: National Cancer Institute, Common Terminology Criteria for Adverse Events (CTCAE)
v5.0, 27 November 2017 (the NCI spreadsheet is the authority).

Tables are data: ``data/ctcae_v5_lab_bands.csv`` has one row per band, written like the
spreadsheet (``"ULN<x<=3.0*ULN"``), and ``data/ctcae_v5_terms.yaml`` has each term's MedDRA
code, grade texts and the rule that picks its rows. Both are loaded and checked at import:
within a frame the bands must meet exactly (no overlap, no gap).

Rules (v5.0):

- ALT, AST, blood bilirubin: with a baseline above ULN ("abnormal baseline") the grade is
  taken relative to the baseline, otherwise relative to ULN.
- Creatinine: the higher of the ULN-based grade and (when a baseline is given) the
  baseline-based grade.
- INR: absolute bands; with ``on_anticoagulation=True`` relative to the baseline.
- Neutrophils, platelets, WBC, albumin, sodium: below LLN; a value at or above LLN is grade 0.
  Hyponatremia 125-129 mmol/L is grade 2 if asymptomatic, 3 if symptomatic: without
  ``symptomatic`` the result is grade 2 with ``possible_grades == (2, 3)``.
- Grade 0 when nothing is reportable. INR and albumin have no abnormal-baseline rule in v5;
  a cirrhosis protocol must state how it handles one.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from trialdesk.clinical.bands import BandError
from trialdesk.clinical.ctcae_tables import (
    CLINICAL_TERMS,
    LAB_TERMS,
    REFERENCE,
    VERSION,
    ClinicalTerm,
    LabBand,
    LabTerm,
)
from trialdesk.clinical.units import (
    Quantity,
    UnitError,
    as_quantity,
    censored_range,
)

__all__ = [
    "CLINICAL_TERMS",
    "LAB_TERMS",
    "VERSION",
    "ClinicalGrade",
    "ClinicalTerm",
    "GradeResult",
    "GradingError",
    "LabBand",
    "LabTerm",
    "check_units",
    "clinical_grade",
    "get_term",
    "grade",
    "pick_list",
]


class GradingError(ValueError):
    """A grading request that cannot be answered (unknown term, missing ULN, ...)."""


@dataclass(frozen=True)
class GradeResult:
    """A CTCAE grade with everything that produced it."""

    term: str
    meddra_code: str
    grade: int
    band: str | None  # the band that applied, e.g. "ULN<x<=3.0*ULN" (None for grade 0)
    text: str | None  # the CTCAE wording of that band
    frame: str | None  # which rows applied: uln, baseline_abnormal, baseline, absolute, ...
    unit: str
    value: Quantity
    uln: Quantity | None = None
    lln: Quantity | None = None
    baseline: Quantity | None = None
    reasons: tuple[str, ...] = ()
    possible_grades: tuple[int, ...] = ()
    warnings: tuple[str, ...] = ()
    version: str = "CTCAE v5.0"
    reference: str = ""

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "term": self.term,
            "meddra_code": self.meddra_code,
            "grade": self.grade,
            "band": self.band,
            "text": self.text,
            "frame": self.frame,
            "unit": self.unit,
            "value": str(self.value),
        }
        for name in ("uln", "lln", "baseline"):
            q = getattr(self, name)
            if q is not None:
                out[name] = str(q)
        out["possible_grades"] = list(self.possible_grades)
        out["reasons"] = list(self.reasons)
        out["warnings"] = list(self.warnings)
        out["version"] = self.version
        out["reference"] = self.reference
        return out

    def summary(self) -> str:
        lines = [f"{self.term} (MedDRA {self.meddra_code}): grade {self.grade}"]
        if self.band:
            lines.append(f"band: {self.band} ({self.unit}) -- CTCAE: {self.text}")
        refs = ", ".join(
            f"{n} {getattr(self, n)}" for n in ("uln", "lln", "baseline") if getattr(self, n)
        )
        lines.append(f"value: {self.value}" + (f"; {refs}" if refs else ""))
        if len(self.possible_grades) > 1:
            lines.append("possible grades: " + ", ".join(map(str, self.possible_grades)))
        lines += [f"note: {r}" for r in self.reasons]
        lines += [f"warning: {w}" for w in self.warnings]
        lines.append(f"version: {self.version}")
        lines.append(f"reference: {self.reference}")
        return "\n".join(lines)


_INDEX: dict[str, LabTerm | ClinicalTerm] = {}
for _t in (*LAB_TERMS.values(), *CLINICAL_TERMS.values()):
    for _name in (_t.term, _t.meddra, *_t.aliases):
        _INDEX[_name.strip().lower()] = _t


def get_term(name: str) -> LabTerm | ClinicalTerm:
    """A term by CTCAE name, alias (``"ALT increased"``) or MedDRA code; case-insensitive."""
    try:
        return _INDEX[str(name).strip().lower()]
    except KeyError:
        known = ", ".join([*LAB_TERMS, *CLINICAL_TERMS])
        raise GradingError(f"unknown CTCAE term {name!r}; known terms: {known}") from None


def pick_list() -> list[dict[str, Any]]:
    """The clinical terms with MedDRA codes and grade definitions (None: grade not available)."""
    return [
        {
            "term": t.term,
            "meddra_code": t.meddra,
            "soc": t.soc,
            "grades": dict(t.grades),
        }
        for t in CLINICAL_TERMS.values()
    ]


@dataclass(frozen=True)
class ClinicalGrade:
    term: str
    meddra_code: str
    grade: int
    text: str
    version: str = VERSION


def clinical_grade(term: str, grade_: int) -> ClinicalGrade:
    """Check that ``grade_`` is defined for a clinical term and return its CTCAE wording."""
    t = get_term(term)
    if not isinstance(t, ClinicalTerm):
        raise GradingError(f"{t.term} is a laboratory term: grade it from its value with grade()")
    if grade_ not in t.available_grades:
        allowed = ", ".join(map(str, t.available_grades))
        raise GradingError(f"{t.term}: grade {grade_!r} is not defined in CTCAE v5.0 ({allowed})")
    return ClinicalGrade(t.term, t.meddra, grade_, t.grades[grade_])


# --------------------------------------------------------------------------------------------
# Grading
# --------------------------------------------------------------------------------------------


def _q(x: Any, analyte: str, what: str, term: str) -> Quantity | None:
    if x is None:
        return None
    try:
        return as_quantity(x, analyte)
    except ValueError as exc:
        raise type(exc)(f"{term} {what}: {exc}") from None


def _refs(term: LabTerm, **qs: Quantity | None) -> dict[str, Fraction]:
    unit = term.unit
    return {
        {"uln": "ULN", "lln": "LLN", "baseline": "baseline"}[k]: q.to(unit).exact
        for k, q in qs.items()
        if q is not None
    }


def _match(
    term: LabTerm, frame: str, x: Fraction, refs: dict[str, Fraction], condition: str | None
) -> tuple[list[LabBand], list[str]]:
    """Bands containing x (any condition unless one is given) and references that were missing."""
    hits, missing = [], []
    for row in term.frames[frame]:
        if condition is not None and row.condition not in (None, condition):
            continue
        try:
            if row.band.contains(x, refs):
                hits.append(row)
        except BandError:
            missing.extend(sorted(r for r in row.band.references if r not in refs))
    return hits, sorted(set(missing))


def grade(
    term: str,
    value: Any,
    uln: Any = None,
    lln: Any = None,
    baseline: Any = None,
    *,
    symptomatic: bool | None = None,
    on_anticoagulation: bool = False,
) -> GradeResult:
    """The CTCAE v5.0 grade of a laboratory value.

    ``value``, ``uln``, ``lln`` and ``baseline`` are quantities or strings in any unit the
    units module knows for the term's analyte (INR may be a bare number). Returns a
    :class:`GradeResult` with the grade (0 when nothing is reportable), the band and CTCAE
    text that applied, the MedDRA code and the reasons.
    """
    t = get_term(term)
    if isinstance(t, ClinicalTerm):
        raise GradingError(
            f"{t.term} is a clinical term: it is graded by the investigator "
            "(see clinical_grade and pick_list)"
        )
    v = _q(value, t.analyte, "value", t.term)
    u = _q(uln, t.analyte, "ULN", t.term)
    lo = _q(lln, t.analyte, "LLN", t.term)
    b = _q(baseline, t.analyte, "baseline", t.term)
    assert v is not None
    if v.comparator:
        return _grade_censored(
            t, v, u, lo, b, symptomatic=symptomatic, on_anticoagulation=on_anticoagulation
        )
    unit = t.unit
    x = v.to(unit).exact
    refs = _refs(t, uln=u, lln=lo, baseline=b)
    reasons: list[str] = []
    warnings = tuple(w for q in (v, u, lo, b) if q is not None for w in q.warnings)

    def result(
        rows: list[LabBand], frame: str | None, possible: tuple[int, ...] = ()
    ) -> GradeResult:
        row = max(rows, key=lambda r: r.grade) if rows else None
        g = row.grade if row else 0
        return GradeResult(
            term=t.term,
            meddra_code=t.meddra,
            grade=g,
            band=row.band.text if row else None,
            text=row.text if row else None,
            frame=frame,
            unit=unit,
            value=v,
            uln=u,
            lln=lo,
            baseline=b,
            reasons=tuple(reasons),
            possible_grades=possible or (g,),
            warnings=warnings,
            reference=REFERENCE,
        )

    if t.rule == "baseline_abnormal_switch":
        if "ULN" not in refs:
            raise GradingError(f"{t.term}: grading needs the ULN (--uln)")
        if "baseline" in refs and refs["baseline"] > refs["ULN"]:
            frame = "baseline_abnormal"
            reasons.append(f"baseline {b} is above ULN {u}: graded against the baseline")
        else:
            frame = "uln"
            if b is not None:
                reasons.append(f"baseline {b} is within normal limits: graded against ULN")
            else:
                reasons.append("no baseline given: graded against ULN (baseline taken as normal)")
        hits, _ = _match(t, frame, x, refs, None)
        if not hits:
            reasons.append(f"{v} is in no grade band: not reportable (grade 0)")
        return result(hits, frame)

    if t.rule == "higher_of_uln_and_baseline":
        if "ULN" not in refs:
            raise GradingError(f"{t.term}: grading needs the ULN (--uln)")
        by_uln, _ = _match(t, "uln", x, refs, None)
        by_base: list[LabBand] = []
        if "baseline" in refs:
            by_base, _ = _match(t, "baseline", x, refs, None)
        g_uln = by_uln[0].grade if by_uln else 0
        g_base = by_base[0].grade if by_base else 0
        reasons.append(f"ULN-based grade {g_uln}")
        if "baseline" in refs:
            reasons.append(f"baseline-based grade {g_base} (baseline {b})")
            reasons.append("CTCAE v5.0: the higher of the two applies")
        if g_base > g_uln:
            return result(by_base, "baseline")
        if not by_uln:
            reasons.append(f"{v} is in no grade band: not reportable (grade 0)")
        return result(by_uln, "uln" if by_uln else None)

    if t.rule == "inr":
        if on_anticoagulation:
            if "baseline" not in refs:
                raise GradingError(f"{t.term}: on anticoagulation, grading needs the baseline INR")
            frame = "anticoagulated"
            reasons.append("on anticoagulation: graded against the baseline INR")
        else:
            frame = "absolute"
            if b is not None:
                reasons.append(
                    "CTCAE v5.0 has no abnormal-baseline rule for INR off anticoagulation: "
                    "baseline not used (the protocol must say how it handles one)"
                )
        hits, _ = _match(t, frame, x, refs, None)
        if not hits:
            reasons.append(f"{v} is in no grade band: not reportable (grade 0)")
        return result(hits, frame)

    # absolute bands below LLN (albumin, neutrophils, platelets, WBC, sodium)
    frame = "absolute"
    if b is not None:
        reasons.append(f"CTCAE v5.0 has no baseline rule for {t.term}: baseline not used")
    if "LLN" in refs and x >= refs["LLN"]:
        reasons.append(f"{v} is at or above LLN {lo}: not reportable (grade 0)")
        return result([], None)
    condition = None if symptomatic is None else ("symptomatic" if symptomatic else "asymptomatic")
    hits, missing = _match(t, frame, x, refs, condition)
    if not hits and missing:
        need = ", ".join(missing)
        raise GradingError(
            f"{t.term}: value {v} is above every fixed threshold; grading it needs the {need} "
            f"(--{missing[0].lower()}) to tell grade 0 from grade 1"
        )
    if not hits:
        reasons.append(f"{v} is in no grade band: not reportable (grade 0)")
        return result([], None)
    if len({h.grade for h in hits}) > 1:  # band depends on an unstated condition
        possible = tuple(sorted({h.grade for h in hits}))
        chosen = [min(hits, key=lambda h: h.grade)]
        conds = " / ".join(f"grade {h.grade} if {h.condition}" for h in hits if h.condition)
        reasons.append(
            f"{chosen[0].band.text}: {conds}; symptoms not stated, graded {chosen[0].grade} "
            f"(pass symptomatic=True/False to decide)"
        )
        return result(chosen, frame, possible)
    return result(hits, frame)


def _grade_censored(
    t: LabTerm,
    v: Quantity,
    u: Quantity | None,
    lo: Quantity | None,
    b: Quantity | None,
    **kw: Any,
) -> GradeResult:
    """Grade a censored value ("< 0.5 10*9/L"): certain only when both ends of the range
    it stands for (units.censored_range) have the same grade, as grades are monotone."""
    low, high = censored_range(v)
    ends = [grade(t.term, q, uln=u, lln=lo, baseline=b, **kw) for q in (low, high)]
    grades = sorted({e.grade for e in ends})
    if len(grades) > 1:
        raise GradingError(
            f"{t.term}: value {v} is censored and could be grade {grades[0]} to {grades[-1]}; "
            "grading needs a measured value"
        )
    r = ends[0]
    reason = f"{v} is censored: every value it can stand for ({low} to {high}) has grade {r.grade}"
    return GradeResult(
        term=r.term,
        meddra_code=r.meddra_code,
        grade=r.grade,
        band=r.band,
        text=r.text,
        frame=r.frame,
        unit=r.unit,
        value=v,
        uln=u,
        lln=lo,
        baseline=b,
        reasons=(reason, *r.reasons),
        possible_grades=tuple(sorted(set(ends[0].possible_grades) | set(ends[1].possible_grades))),
        warnings=r.warnings,
        reference=r.reference,
    )


def check_units() -> None:
    """Check that every lab term's band unit expresses its analyte (run by the test suite;
    not at import, because building the units registry takes about a second)."""
    from trialdesk.clinical.units import get_analyte, quantity

    for t in LAB_TERMS.values():
        an = get_analyte(t.analyte)
        try:
            quantity((an.impossible_below or 0) + 1, an.unit, an).to(t.unit)
        except UnitError as exc:
            raise BandError(
                f"CTCAE {t.term}: unit {t.unit!r} cannot express {an.name}: {exc}"
            ) from None
