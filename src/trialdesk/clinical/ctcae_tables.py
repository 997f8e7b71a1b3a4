"""CTCAE v5.0 tables: loading and checking data/ctcae_v5_lab_bands.csv and ctcae_v5_terms.yaml.

Part of :mod:`trialdesk.clinical.ctcae` (which re-exports the public names). At import the
CSV bands are parsed, grouped by term and frame, and checked: every term's frames match its
rule, one unit per frame, and within a frame (per symptom condition) consecutive bands meet
exactly, with no overlap and no gap.

Source: National Cancer Institute, Common Terminology Criteria for Adverse Events (CTCAE)
v5.0, 27 November 2017.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from dataclasses import dataclass, field
from importlib import resources
from types import MappingProxyType
from typing import Any

import yaml

from trialdesk.clinical.bands import Band, BandError, check_partition
from trialdesk.clinical.units import normalize_unit

__all__ = [
    "CLINICAL_TERMS",
    "LAB_TERMS",
    "REFERENCE",
    "VERSION",
    "ClinicalTerm",
    "LabBand",
    "LabTerm",
]


@dataclass(frozen=True)
class LabBand:
    """One row of the CSV: a band of a lab term for one grade."""

    term: str
    frame: str
    condition: str | None
    grade: int
    band: Band
    unit: str
    text: str


@dataclass(frozen=True)
class LabTerm:
    term: str
    meddra: str
    soc: str
    analyte: str
    direction: str  # "increased" | "decreased"
    rule: str
    grades: Any = field(hash=False)  # {grade: text or None}
    frames: Any = field(hash=False)  # {frame: (LabBand, ...)}
    aliases: tuple[str, ...] = ()
    clinical_grades: tuple[int, ...] = ()

    @property
    def unit(self) -> str:
        return next(iter(self.frames.values()))[0].unit


@dataclass(frozen=True)
class ClinicalTerm:
    term: str
    meddra: str
    soc: str
    grades: Any = field(hash=False)  # {grade: text or None}
    aliases: tuple[str, ...] = ()
    checked: tuple[str, ...] = ()

    @property
    def available_grades(self) -> tuple[int, ...]:
        return tuple(g for g, text in self.grades.items() if text)


# --------------------------------------------------------------------------------------------
# Loading and checking the data files
# --------------------------------------------------------------------------------------------

_RULE_FRAMES = {
    "baseline_abnormal_switch": {"uln", "baseline_abnormal"},
    "higher_of_uln_and_baseline": {"uln", "baseline"},
    "absolute": {"absolute"},
    "inr": {"absolute", "anticoagulated"},
}


def _read(name: str) -> str:
    return resources.files("trialdesk.clinical").joinpath(f"data/{name}").read_text()


def _load() -> tuple[dict[str, LabTerm], dict[str, ClinicalTerm], str, str]:
    meta = yaml.safe_load(_read("ctcae_v5_terms.yaml"))
    where_csv = "trialdesk/clinical/data/ctcae_v5_lab_bands.csv"
    text = "\n".join(ln for ln in _read("ctcae_v5_lab_bands.csv").splitlines() if ln[:1] != "#")
    rows: dict[str, dict[str, list[LabBand]]] = defaultdict(lambda: defaultdict(list))
    for i, row in enumerate(csv.DictReader(io.StringIO(text)), start=2):
        try:
            band = LabBand(
                term=row["term"],
                frame=row["frame"],
                condition=row["condition"] or None,
                grade=int(row["grade"]),
                band=Band.parse(row["band"]),
                unit=normalize_unit(row["unit"]),
                text=row["text"],
            )
        except (KeyError, ValueError) as exc:
            raise BandError(f"{where_csv} data row {i}: {exc}") from None
        rows[band.term][band.frame].append(band)
    lab_terms: dict[str, LabTerm] = {}
    for spec in meta["lab_terms"]:
        term = spec["term"]
        frames = rows.pop(term, None)
        if not frames:
            raise BandError(f"{where_csv}: no bands for {term!r}")
        need = _RULE_FRAMES.get(spec["rule"])
        if need is None or set(frames) != need:
            raise BandError(
                f"{where_csv}: {term!r} rule {spec['rule']!r} needs frames {need}, "
                f"data has {set(frames)}"
            )
        for frame, bands in frames.items():
            units = {b.unit for b in bands}
            if len(units) != 1:
                raise BandError(f"{where_csv}: {term} / {frame} mixes units {units}")
            conditions = {b.condition for b in bands if b.condition}
            for cond in conditions or {None}:
                chosen = [b.band for b in bands if b.condition in (None, cond)]
                label = f"{term} / {frame}" + (f" / {cond}" if cond else "")
                check_partition(chosen, f"{where_csv}: {label}")
        lab_terms[term] = LabTerm(
            term=term,
            meddra=str(spec["meddra"]),
            soc=spec["soc"],
            analyte=spec["analyte"],
            direction=spec["direction"],
            rule=spec["rule"],
            grades=MappingProxyType({int(k): v for k, v in spec["grades"].items()}),
            frames=MappingProxyType({k: tuple(v) for k, v in frames.items()}),
            aliases=tuple(spec.get("aliases") or ()),
            clinical_grades=tuple(spec.get("clinical_grades") or ()),
        )
    if rows:
        raise BandError(f"{where_csv}: bands for terms not in the term list: {sorted(rows)}")
    clinical = {
        spec["term"]: ClinicalTerm(
            term=spec["term"],
            meddra=str(spec["meddra"]),
            soc=spec["soc"],
            grades=MappingProxyType({int(k): v for k, v in spec["grades"].items()}),
            aliases=tuple(spec.get("aliases") or ()),
            checked=tuple(spec.get("checked") or ()),
        )
        for spec in meta["clinical_terms"]
    }
    return lab_terms, clinical, meta["version"], meta["reference"]


LAB_TERMS, CLINICAL_TERMS, VERSION, REFERENCE = _load()
