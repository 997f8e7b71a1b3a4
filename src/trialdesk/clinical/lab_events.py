"""Abnormal lab results -> proposed, graded adverse events for the coordinator to review.

Each result of an analyte that has a CTCAE laboratory term is graded by
:func:`trialdesk.clinical.ctcae.grade` (NCI CTCAE v5.0, 27 November 2017; the bands are the
data tables of that module, never re-implemented here). A grade of 1 or more becomes a
:class:`ProposedAdverseEvent`; grade 0 proposes nothing. A result that cannot be graded
because a reference is missing (a ULN or LLN the band needs) or because it is censored
across a grade boundary is proposed with ``grade=None`` and ``status="ungradable"`` and the
reason, so that missing never passes for normal. The coordinator confirms or dismisses each
proposal (with a reason); nothing is recorded here.

Analytes with no CTCAE laboratory term in trialdesk's tables (e.g. hemoglobin: "Anemia" is
not in them yet) propose nothing; :func:`lab_terms_for` says which terms an analyte has.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from trialdesk.clinical.ctcae import LAB_TERMS, GradeResult, GradingError, grade
from trialdesk.clinical.units import Quantity, as_quantity, get_analyte

__all__ = [
    "ProposedAdverseEvent",
    "lab_terms_for",
    "propose_lab_adverse_events",
]


@dataclass(frozen=True)
class ProposedAdverseEvent:
    """A graded adverse event proposed from a lab result (or an ungradable one, grade None)."""

    term: str
    grade: int | None
    analyte: str
    value: Quantity
    reason: str
    meddra_code: str = ""
    status: str = "proposed"  # "proposed" (grade >= 1) | "ungradable" (grade None)
    band: str | None = None
    possible_grades: tuple[int, ...] = ()
    grading: GradeResult | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "term": self.term,
            "grade": self.grade,
            "analyte": self.analyte,
            "value": str(self.value),
            "reason": self.reason,
            "meddra_code": self.meddra_code,
            "status": self.status,
            "band": self.band,
            "possible_grades": list(self.possible_grades),
        }


def lab_terms_for(analyte: str) -> tuple[str, ...]:
    """The CTCAE laboratory terms graded from ``analyte`` (may be empty)."""
    name = get_analyte(analyte).name
    return tuple(t.term for t in LAB_TERMS.values() if t.analyte == name)


def _ref(ranges: Mapping[str, Any] | None, analyte: str, key: str) -> Any:
    if not ranges:
        return None
    entry = ranges.get(analyte)
    if entry is None:
        return None
    if isinstance(entry, Mapping):
        return entry.get(key)
    return getattr(entry, key, None)


def _canonical_keys(mapping: Mapping[str, Any] | None, what: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, value in (mapping or {}).items():
        try:
            out[get_analyte(name).name] = value
        except ValueError as exc:
            raise ValueError(f"{what}: {exc}") from None
    return out


def propose_lab_adverse_events(
    results: Mapping[str, Any],
    reference_ranges: Mapping[str, Any] | None,
    *,
    baselines: Mapping[str, Any] | None = None,
    symptomatic: Mapping[str, bool] | None = None,
) -> tuple[ProposedAdverseEvent, ...]:
    """Graded adverse events proposed by one set of lab results.

    ``results`` maps analyte -> value (a :class:`~trialdesk.clinical.units.Quantity` or a
    string such as ``"45 umol/L"``; INR may be a number). ``reference_ranges`` maps analyte
    -> the site's range, a mapping or object with ``uln`` and/or ``lln``. ``baselines`` maps
    analyte -> the participant's baseline value (CTCAE v5.0 grades ALT, AST and bilirubin
    against an abnormal baseline, and creatinine against the baseline too).
    ``symptomatic`` maps a CTCAE term (e.g. "Hyponatremia") to the symptom status it needs.
    A value in a unit that cannot express its analyte raises ``ValueError`` naming it.
    """
    values = _canonical_keys(results, "results")
    ranges = _canonical_keys(reference_ranges, "reference_ranges")
    bases = _canonical_keys(baselines, "baselines")
    proposals: list[ProposedAdverseEvent] = []
    for analyte, raw in values.items():
        if raw is None:
            continue
        value = as_quantity(raw, analyte)
        for term_name in lab_terms_for(analyte):
            term = LAB_TERMS[term_name]
            try:
                result = grade(
                    term_name,
                    value,
                    uln=_ref(ranges, analyte, "uln"),
                    lln=_ref(ranges, analyte, "lln"),
                    baseline=bases.get(analyte),
                    symptomatic=(symptomatic or {}).get(term_name),
                )
            except GradingError as exc:
                proposals.append(
                    ProposedAdverseEvent(
                        term=term_name,
                        grade=None,
                        analyte=analyte,
                        value=value,
                        reason=f"{analyte} {value}: cannot be graded: {exc}",
                        meddra_code=term.meddra,
                        status="ungradable",
                    )
                )
                continue
            if result.grade < 1:
                continue
            why = [f"{analyte} {value} is {result.version} grade {result.grade}"]
            if result.band:
                why.append(f"band {result.band} ({result.unit}): {result.text}")
            refs = ", ".join(
                f"{n.upper() if n != 'baseline' else n} {getattr(result, n)}"
                for n in ("uln", "lln", "baseline")
                if getattr(result, n) is not None
            )
            if refs:
                why.append(refs)
            why.extend(result.reasons)
            proposals.append(
                ProposedAdverseEvent(
                    term=term_name,
                    grade=result.grade,
                    analyte=analyte,
                    value=value,
                    reason="; ".join(why),
                    meddra_code=result.meddra_code,
                    band=result.band,
                    possible_grades=result.possible_grades,
                    grading=result,
                )
            )
    return tuple(proposals)
