"""Whole cohorts: the cohort table's schema, and a row as a one-patient :class:`Patient`.

A cohort table has one row per patient (Parquet or CSV); its columns are documented in
docs/protocol-format.md ("Cohort table") and listed by :func:`cohort_columns`. The same rules
compile to Polars expressions or SQL over such a table: the compiler is
:mod:`.cohort_compile` (rule nodes) and :mod:`.cohort_scores` (Child-Pugh, MELD, MELD-Na,
MELD 3.0, ALBI), its backends and drivers :mod:`.vectorized`. Each rule node compiles to a
nullable boolean (null = unknown); ``and``/``or``/``not`` are Kleene in both Polars and SQL,
so the compiled form and the one-patient path (:mod:`.evaluate`) agree on every patient;
:func:`patient_from_row` builds the one-patient view of a row for that check.

Exactness: lab values are read as decimals with 4 places (``SCALE``) and compared as
integers against the exact rational thresholds (``x >= k`` becomes ``round(x * 10^4) >=
ceil(k * 10^4)``), so a value on a cut-off stays on it, as in the one-patient path. Dates
compare as dates; calendar windows are computed once for the screening date.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from trialdesk.eligibility.patient import Episode, LabResult, MedicationCourse, Patient
from trialdesk.protocol import clinical_adapter, vocabulary
from trialdesk.protocol.loader import Protocol
from trialdesk.protocol.rules import (
    AgeCompare,
    And,
    HistoryTest,
    LabCompare,
    LabDetected,
    LabUlnCompare,
    MedicationDuration,
    MedicationFlag,
    Node,
    Not,
    Or,
    ScoreCompare,
    SexIs,
)

__all__ = [
    "COHORT_UNITS",
    "SCALE",
    "CompileError",
    "attestation_column",
    "cohort_columns",
    "cohort_parquet_options",
    "criterion_column",
    "patient_from_row",
]

SCALE = 10_000  # lab values are decimals with 4 places
# Unit of each lab column in a cohort table (others: the analyte's canonical unit).
COHORT_UNITS = {
    "bilirubin": "umol/L",
    "creatinine": "umol/L",
    "albumin": "g/L",
    "inr": "{INR}",
    "sodium": "mmol/L",
    "wbc": "10*9/L",
    "neutrophils": "10*9/L",
    "platelets": "10*9/L",
    "alt": "U/L",
    "ast": "U/L",
    "hbv_dna": "[IU]/mL",
    "hemoglobin": "g/dL",
}


class CompileError(ValueError):
    """A rule that the vectorized form cannot express (names the criterion)."""


def cohort_unit(analyte: str) -> str:
    return COHORT_UNITS.get(analyte) or clinical_adapter.canonical_unit(analyte)


def criterion_column(criterion_id: str) -> str:
    """Output column of a criterion: ``exc-4.1`` -> ``exc_4_1``."""
    return criterion_id.replace("-", "_").replace(".", "_")


def attestation_column(criterion_id: str) -> str:
    """Input column holding an investigator's answer: ``attest_inc_1``."""
    return "attest_" + criterion_column(criterion_id)


# --------------------------------------------------------------------------------------------
# Which columns a protocol reads
# --------------------------------------------------------------------------------------------


def _walk(node: Node) -> list[Node]:
    if isinstance(node, And | Or):
        return [node, *(n for item in node.items for n in _walk(item))]
    if isinstance(node, Not):
        return [node, *_walk(node.item)]
    return [node]


def cohort_columns(protocol: Protocol) -> dict[str, str]:
    """Column name -> type (``str``, ``date``, ``float``, ``int``, ``bool``) the protocol reads."""
    cols: dict[str, str] = {"patient_id": "str", "history_complete": "bool"}

    def lab(analyte: str, uln: bool = False) -> None:
        cols[analyte] = "float"
        cols[f"{analyte}_date"] = "date"
        cols[f"{analyte}_cmp"] = "str"
        if uln:
            cols[f"{analyte}_uln"] = "float"

    def concept(name: str) -> None:
        for n in vocabulary.expand(name):
            info = vocabulary.concept(n)
            assert info is not None
            cols[n] = "bool"
            cols[f"{n}_start"] = "date"
            if info.kind != "procedure":
                cols[f"{n}_end"] = "date"
            if info.severity:
                cols[f"{n}_severity"] = "str"

    for c in protocol.criteria:
        if c.rule is None:
            cols[attestation_column(c.id)] = "bool"
            continue
        for node in _walk(c.rule):
            if isinstance(node, LabCompare):
                lab(node.analyte)
            elif isinstance(node, LabUlnCompare):
                lab(node.analyte, uln=True)
            elif isinstance(node, LabDetected):
                lab(node.analyte)
                cols[f"{node.analyte}_detected"] = "bool"
            elif isinstance(node, AgeCompare):
                cols["birth_date"] = "date"
                cols["age_years"] = "int"
            elif isinstance(node, SexIs):
                cols["sex"] = "str"
            elif isinstance(node, ScoreCompare):
                labs, others = clinical_adapter.SCORE_INPUTS[node.score]
                for a in labs:
                    lab(a)
                for o in others:
                    if o in ("ascites", "hepatic_encephalopathy"):
                        concept(o)
                    elif o == "sex":
                        cols["sex"] = "str"
                    elif o == "age":
                        cols["birth_date"] = "date"
                        cols["age_years"] = "int"
            elif isinstance(node, HistoryTest):
                concept(node.concept)
            elif isinstance(node, MedicationFlag | MedicationDuration):
                cols[node.concept] = "bool"
                cols[f"{node.concept}_start"] = "date"
                cols[f"{node.concept}_end"] = "date"
    return cols


def cohort_parquet_options(schema: Any) -> dict[str, Any]:
    """pyarrow ``ParquetWriter`` options for a cohort file (docs/protocol-format.md, "Cohort
    table"): lz4, version-2 data pages, boolean columns RLE-encoded and every other column
    dictionary-encoded.

    The encoding changes no value, only the decoding cost: most cohort columns are sparse
    tri-state booleans, and Polars decodes RLE booleans about 2.5x faster than the default
    bit-packed (PLAIN) ones (46 boolean columns x 10M rows: ~2.0 instead of ~5.1 CPU-s,
    measured for docs/eligibility.md). ``schema``: the Arrow schema of the table.
    """
    import pyarrow as pa

    bools = [f.name for f in schema if pa.types.is_boolean(f.type)]
    return {
        "compression": "lz4",
        "data_page_version": "2.0",
        "use_dictionary": [f.name for f in schema if not pa.types.is_boolean(f.type)],
        "column_encoding": dict.fromkeys(bools, "RLE"),
    }


# --------------------------------------------------------------------------------------------
# A row as a one-patient Patient (for the agreement check and for spot checks)
# --------------------------------------------------------------------------------------------


def _dec(x: Any) -> Decimal:
    return Decimal(repr(float(x))).quantize(Decimal(1) / SCALE)


def patient_from_row(row: dict[str, Any], protocol: Protocol | None = None) -> Patient:
    """The one-patient view of a cohort row (same semantics as the compiled form)."""
    from trialdesk.clinical import units

    labs: list[LabResult] = []
    analytes = {k for k in row if k in units.ANALYTES}
    analytes |= {
        k[: -len("_detected")]
        for k in row
        if k.endswith("_detected") and k[: -len("_detected")] in units.ANALYTES
    }
    for a in sorted(analytes):
        value, detected = row.get(a), row.get(f"{a}_detected")
        if value is None and detected is None:
            continue
        unit = cohort_unit(a)
        q = None
        if value is not None:
            q = units.quantity(_dec(value), unit, a, comparator=row.get(f"{a}_cmp") or None)
        uln = row.get(f"{a}_uln")
        labs.append(
            LabResult(
                a,
                q,
                row.get(f"{a}_date"),
                units.quantity(_dec(uln), unit, a) if uln is not None else None,
                detected,
                f"row.{a}",
            )
        )
    episodes: list[Episode] = []
    meds: list[MedicationCourse] = []
    absent: set[str] = set()
    for name, info in vocabulary.concepts().items():
        flag = row.get(name)
        if flag is None:
            continue
        if flag is False:
            absent.add(name)
            continue
        start = row.get(f"{name}_start")
        if info.kind == "medication":
            meds.append(MedicationCourse(name, start, row.get(f"{name}_end"), f"row.{name}"))
        elif info.kind == "procedure":
            episodes.append(Episode(name, start, start, False, None, f"row.{name}"))
        else:
            end = row.get(f"{name}_end")
            episodes.append(
                Episode(
                    name,
                    start,
                    end,
                    end is None,
                    row.get(f"{name}_severity") if info.severity else None,
                    f"row.{name}",
                )
            )
    attestations = {}
    if protocol is not None:
        for c in protocol.criteria:
            answer = row.get(attestation_column(c.id))
            if answer is not None:
                attestations[c.id] = bool(answer)
    return Patient(
        id=str(row.get("patient_id", "row")),
        birth_date=row.get("birth_date"),
        age_years=row.get("age_years"),
        sex=row.get("sex"),
        labs=tuple(labs),
        episodes=tuple(episodes),
        medications=tuple(meds),
        absent=frozenset(absent),
        history_complete=bool(row.get("history_complete") or False),
        attestations=attestations,
    )
