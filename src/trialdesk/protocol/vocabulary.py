"""The names eligibility rules may use: labs, scores, demographics and clinical concepts.

Labs are the analytes of :mod:`trialdesk.clinical.units` (by their registry name, e.g.
``bilirubin``, ``creatinine``, ``hbv_dna``); scores are those of
:mod:`trialdesk.clinical.scores` that :mod:`trialdesk.protocol.clinical_adapter` exposes;
clinical concepts (conditions, procedures, events, medications) and the codes that map
patient records to them are the data file ``data/concepts.yaml``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

CALL_KINDS = ("condition", "procedure", "event", "medication")
MEDICATION_ATTRIBUTES = {
    "active": "boolean",
    "ever": "boolean",
    "duration": "period",
    "since_start": "period",
}
SEVERITIES = ("none", "mild", "moderate", "severe")
SEXES = ("male", "female")

# score -> {attribute: number | category}; the first attribute is the default (``meld``).
SCORES: dict[str, dict[str, str]] = {
    "child_pugh": {"score": "number", "class": "category"},
    "meld": {"value": "number"},
    "meld_na": {"value": "number"},
    "meld3": {"value": "number"},
    "albi": {"score": "number", "grade": "number"},
}
SCORE_CATEGORIES = {("child_pugh", "class"): ("A", "B", "C")}

CONCEPTS_FILE = Path(__file__).with_name("data") / "concepts.yaml"


@dataclass(frozen=True)
class Concept:
    """A clinical concept rules can name, with the codes that stand for it."""

    name: str
    kind: str
    label: str
    codes: tuple[tuple[str, str], ...]  # (system key, code or prefix*)
    severity: bool = False
    absent_means_none: bool = False
    includes: tuple[str, ...] = ()


@lru_cache(maxsize=1)
def _load() -> tuple[dict[str, Concept], dict[str, str]]:
    data = yaml.safe_load(CONCEPTS_FILE.read_text(encoding="utf-8"))
    systems = dict(data["systems"])
    concepts: dict[str, Concept] = {}
    for name, spec in data["concepts"].items():
        if spec["kind"] not in CALL_KINDS:
            raise ValueError(f"{CONCEPTS_FILE}: concept {name}: unknown kind {spec['kind']!r}")
        codes = []
        for system, values in (spec.get("codes") or {}).items():
            if system not in systems:
                raise ValueError(f"{CONCEPTS_FILE}: concept {name}: unknown system {system!r}")
            codes.extend((system, str(v)) for v in values)
        concepts[name] = Concept(
            name=name,
            kind=spec["kind"],
            label=spec.get("label", name),
            codes=tuple(codes),
            severity=bool(spec.get("severity", False)),
            absent_means_none=bool(spec.get("absent_means_none", False)),
            includes=tuple(spec.get("includes") or ()),
        )
    for c in concepts.values():
        for narrower in c.includes:
            if narrower not in concepts or concepts[narrower].kind != c.kind:
                raise ValueError(
                    f"{CONCEPTS_FILE}: concept {c.name}: includes unknown {c.kind} {narrower!r}"
                )
    return concepts, systems


def concepts() -> dict[str, Concept]:
    """Every concept by name."""
    return _load()[0]


def systems() -> dict[str, str]:
    """Code system keys (SNOMED, ICD10CM, ...) -> FHIR system URI."""
    return _load()[1]


def concept(name: str) -> Concept | None:
    return concepts().get(name)


@lru_cache(maxsize=256)
def expand(name: str) -> tuple[str, ...]:
    """``name`` and every concept it includes, transitively (sorted, ``name`` first)."""
    seen = [name]
    for item in seen:
        for narrower in concepts()[item].includes:
            if narrower not in seen:
                seen.append(narrower)
    return (name, *sorted(seen[1:]))


def concept_names(kind: str | None = None) -> list[str]:
    return sorted(n for n, c in concepts().items() if kind is None or c.kind == kind)


def lab_name(name: str) -> str | None:
    """``name`` if it is an analyte of the units registry (exact registry name), else None."""
    from trialdesk.clinical.units import ANALYTES

    return name if name in ANALYTES else None


def lab_names() -> list[str]:
    from trialdesk.clinical.units import ANALYTES

    return sorted(ANALYTES)


def all_names() -> list[str]:
    return ["age", "sex", *lab_names(), *SCORES, *CALL_KINDS]
