"""Whole cohorts: the same rules compiled to Polars expressions or SQL over a cohort table.

A cohort table has one row per patient (Parquet or CSV); its columns are documented in
docs/protocol-format.md ("Cohort table") and listed by :func:`cohort_columns`. Each rule node
compiles to a nullable boolean (null = unknown); ``and``/``or``/``not`` are Kleene in both
Polars and SQL, so the compiled form and the one-patient path (:mod:`.evaluate`) agree on
every patient; :func:`patient_from_row` builds the one-patient view of a row for that check.

Exactness: lab values are read as decimals with 4 places (``SCALE``) and compared as
integers against the exact rational thresholds (``x >= k`` becomes ``round(x * 10^4) >=
ceil(k * 10^4)``), so a value on a cut-off stays on it, as in the one-patient path. Dates
compare as dates; calendar windows are computed once for the screening date.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from fractions import Fraction
from typing import Any

from trialdesk.eligibility.patient import Episode, LabResult, MedicationCourse, Patient
from trialdesk.protocol import _clinical, vocabulary
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
    Period,
    ScoreCompare,
    SexIs,
    add_months,
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
_SEV = vocabulary.SEVERITIES


class CompileError(ValueError):
    """A rule that the vectorized form cannot express (names the criterion)."""


def cohort_unit(analyte: str) -> str:
    return COHORT_UNITS.get(analyte) or _clinical.canonical_unit(analyte)


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
                labs, others = _clinical.SCORE_INPUTS[node.score]
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


# --------------------------------------------------------------------------------------------
# The compiler: one rule tree -> backend expressions (Polars or SQL)
# --------------------------------------------------------------------------------------------


def _ceil(k: Fraction) -> int:
    return math.ceil(k)


def _floor(k: Fraction) -> int:
    return math.floor(k)


@dataclass
class _Compiler:
    """Compiles rule nodes through a backend (see cohort_polars / cohort_sql)."""

    b: Any  # backend
    protocol: Protocol
    d: date

    def __post_init__(self) -> None:
        self.ws = Period(self.protocol.lab_window_days, "day").before(self.d)

    # -- helpers -------------------------------------------------------------------------
    def known(self, e: Any) -> Any:
        """A boolean with null read as false (for guards)."""
        return self.b.coalesce(e, self.b.lit(False))

    def int_cmp(self, v: Any, op: str, k: Fraction) -> Any:
        """Exact ``v op k`` for an integer expression ``v`` and a rational ``k``."""
        b = self.b
        if op == ">=":
            return b.cmp(v, ">=", b.lit(_ceil(k)))
        if op == ">":
            return b.cmp(v, ">", b.lit(_floor(k)))
        if op == "<=":
            return b.cmp(v, "<=", b.lit(_floor(k)))
        if op == "<":
            return b.cmp(v, "<", b.lit(_ceil(k)))
        if op in ("==", "!="):
            if k.denominator == 1:
                return b.cmp(v, op, b.lit(int(k)))
            return b.case([(b.is_null(v), None)], b.lit(op == "!="))
        raise CompileError(f"operator {op}")

    def lab_usable(self, analyte: str) -> Any:
        """True when the result is dated within the lab window (computed once per analyte)."""
        b = self.b
        when = b.col(f"{analyte}_date")
        return b.memo(
            f"usable_{analyte}",
            self.known(b.and_(b.cmp(when, "<=", b.lit(self.d)), b.cmp(when, ">=", b.lit(self.ws)))),
        )

    def lab_value(self, analyte: str) -> Any:
        """The usable value as an integer (x 10^4), null when missing or outside the window
        (computed once per analyte)."""
        b = self.b
        return b.memo(
            f"value_{analyte}",
            b.case([(self.lab_usable(analyte), b.scaled(b.col(analyte), SCALE))], None, typ="int"),
        )

    def cmp_column(self, analyte: str) -> Any | None:
        """The comparator column, or None when the cohort has none (no censored values)."""
        name = f"{analyte}_cmp"
        return self.b.col(name) if self.b.has(name) else None

    def censored_compare(
        self, v: Any, cmp_col: Any, op: str, k: Fraction, k_int_cmp: Any = None
    ) -> Any:
        """Interval comparison of a possibly censored value, as in evaluate._interval_compare.

        ``k`` is the scaled rational threshold (or ``k_int_cmp(op)`` builds the comparison
        when the threshold is itself a column expression).
        """
        b = self.b

        def c(o: str) -> Any:
            return k_int_cmp(o) if k_int_cmp is not None else self.int_cmp(v, o, k)

        if cmp_col is None:
            return c(op)

        lower = {  # comparator '<' / '<=': the value lies below v
            ("<", "<"): (c("<="), True),
            ("<=", "<"): (c("<"), True),
            ("<", "<="): (c("<="), True),
            ("<=", "<="): (c("<="), True),
            ("<", ">"): (c("<="), False),
            ("<=", ">"): (c("<="), False),
            ("<", ">="): (c("<="), False),
            ("<=", ">="): (c("<"), False),
        }
        upper = {
            (">", ">"): (c(">="), True),
            (">=", ">"): (c(">"), True),
            (">", ">="): (c(">="), True),
            (">=", ">="): (c(">="), True),
            (">", "<"): (c(">="), False),
            (">=", "<"): (c(">="), False),
            (">", "<="): (c(">="), False),
            (">=", "<="): (c(">"), False),
        }
        branches = [(b.is_null(cmp_col), c(op))]
        for comparator in ("<", "<=", ">", ">="):
            table = lower if comparator.startswith("<") else upper
            cond, value = table[(comparator, op)]
            branches.append(
                (
                    b.cmp(cmp_col, "==", b.lit(comparator)),
                    b.case([(self.known(cond), b.lit(value))], None),
                )
            )
        return b.case(branches, None)

    # -- nodes -----------------------------------------------------------------------------
    def compile(self, node: Node) -> Any:
        b = self.b
        if isinstance(node, And):
            return b.and_(*(self.compile(n) for n in node.items))
        if isinstance(node, Or):
            return b.or_(*(self.compile(n) for n in node.items))
        if isinstance(node, Not):
            return b.not_(self.compile(node.item))
        if isinstance(node, LabCompare):
            unit = cohort_unit(node.analyte)
            k = _clinical.in_unit(node.analyte, node.threshold, unit) * SCALE
            v = self.lab_value(node.analyte)  # null when missing or stale
            return self.censored_compare(v, self.cmp_column(node.analyte), node.op, k)
        if isinstance(node, LabUlnCompare):
            unit = cohort_unit(node.analyte)
            uln_col = b.col(f"{node.analyte}_uln")
            v = self.lab_value(node.analyte)
            cmp_col = self.cmp_column(node.analyte)
            p, q = node.factor.numerator, node.factor.denominator
            vq = b.mul(v, q)
            up = b.mul(b.scaled(uln_col, SCALE), p)
            with_col = self.censored_compare(
                vq, cmp_col, node.op, Fraction(0), lambda o: b.cmp(vq, o, up)
            )
            default = self.protocol.reference_ranges.get(node.analyte)
            if default is not None:
                k = _clinical.in_unit(node.analyte, default, unit) * SCALE * p
                otherwise = self.censored_compare(vq, cmp_col, node.op, k)
            else:
                otherwise = None
            return b.case([(b.is_not_null(uln_col), with_col)], otherwise)
        if isinstance(node, LabDetected):
            a = node.analyte
            det = b.col(f"{a}_detected")
            cmp_col = self.cmp_column(a)
            below = b.lit(False) if cmp_col is None else self.known(b.in_(cmp_col, ["<", "<="]))
            return b.case(
                [
                    (b.not_(self.lab_usable(a)), None),
                    (b.is_not_null(det), det),
                    (b.is_null(b.col(a)), None),
                ],
                b.not_(below),
            )
        if isinstance(node, AgeCompare):
            return self.age(node)
        if isinstance(node, SexIs):
            return b.cmp(b.col("sex"), "==", b.lit(node.sex))
        if isinstance(node, ScoreCompare):
            return self.score(node)
        if isinstance(node, HistoryTest):
            return self.history(node)
        if isinstance(node, MedicationFlag | MedicationDuration):
            return self.medication(node)
        raise CompileError(f"cannot compile {type(node).__name__}")  # pragma: no cover

    def age(self, node: AgeCompare) -> Any:
        b = self.b
        n = node.period.amount
        months = 12 if node.period.unit == "year" else 1

        def at_least(k: int) -> Any:  # completed units >= k  <=>  birth <= d - k units
            return b.cmp(b.col("birth_date"), "<=", b.lit(add_months(self.d, -months * k)))

        if node.op == ">=":
            from_birth = at_least(n)
        elif node.op == ">":
            from_birth = at_least(n + 1)
        elif node.op == "<":
            from_birth = b.not_(at_least(n))
        else:  # <=
            from_birth = b.not_(at_least(n + 1))
        if node.period.unit == "year":
            from_age = b.cmp(b.col("age_years"), node.op, b.lit(n))
            return b.case([(b.is_not_null(b.col("birth_date")), from_birth)], from_age)
        return from_birth

    # -- history ---------------------------------------------------------------------------
    def _episode(self, name: str, node: HistoryTest) -> Any:
        """Verdict of the one recorded episode of ``name`` (False when none)."""
        b = self.b
        info = vocabulary.concept(name)
        assert info is not None
        present = self.known(b.cmp(b.col(name), "==", b.lit(True)))
        start = b.col(f"{name}_start")
        started = self.known(b.or_(b.is_null(start), b.cmp(start, "<=", b.lit(self.d))))
        end = start if info.kind == "procedure" else b.col(f"{name}_end")
        if node.active:
            if info.kind == "procedure":
                t = b.cmp(end, ">=", b.lit(self.d))  # a procedure's day
                t = b.case([(b.is_null(start), None)], t)
            else:
                t = b.case([(b.is_null(end), True)], b.cmp(end, ">=", b.lit(self.d)))
        elif node.window is not None:
            ws = node.window.before(self.d)
            if info.kind == "procedure":
                t = b.cmp(start, ">=", b.lit(ws))
            else:
                t = b.case([(b.is_null(end), True)], b.cmp(end, ">=", b.lit(ws)))
        else:
            t = b.lit(True)
        if node.min_severity is not None:
            sev = b.col(f"{name}_severity")
            ok = b.in_(sev, list(_SEV[_SEV.index(node.min_severity) :]))
            # severity below the minimum: the episode does not count; unknown severity:
            # a yes becomes unknown
            t = b.case(
                [
                    (b.is_null(sev), b.case([(self.known(b.not_(t)), False)], None)),
                    (b.not_(ok), False),
                ],
                t,
            )
        return b.case([(b.not_(b.and_(present, started)), False)], t)

    def history(self, node: HistoryTest) -> Any:
        b = self.b
        names = vocabulary.expand(node.concept)
        info = vocabulary.concept(node.concept)
        combined = b.or_(*(self._episode(n, node) for n in names))
        if info is not None and info.absent_means_none:
            known_absent = b.lit(True)
        else:
            known_absent = b.or_(
                self.known(b.col("history_complete")),
                self.known(b.cmp(b.col(node.concept), "==", b.lit(False))),
            )
        return b.case(
            [(b.is_null(combined), None), (self.known(combined), True), (known_absent, False)], None
        )

    # -- medications -----------------------------------------------------------------------
    def medication(self, node: MedicationFlag | MedicationDuration) -> Any:
        b = self.b
        m = node.concept
        start, end = b.col(f"{m}_start"), b.col(f"{m}_end")
        has = self.known(
            b.and_(
                b.cmp(b.col(m), "==", b.lit(True)),
                b.or_(b.is_null(start), b.cmp(start, "<=", b.lit(self.d))),
            )
        )
        known_absent = b.or_(
            self.known(b.col("history_complete")), self.known(b.cmp(b.col(m), "==", b.lit(False)))
        )
        if isinstance(node, MedicationFlag):
            if node.attribute == "ever":
                hit = has
            else:
                hit = b.and_(
                    has, self.known(b.or_(b.is_null(end), b.cmp(end, ">=", b.lit(self.d))))
                )
            return b.case([(hit, True), (b.or_(has, known_absent), False)], None)
        limit_days = (self.d - node.period.before(self.d)).days
        if node.attribute == "since_start":
            days = b.days_between(b.lit(self.d), start)
        else:
            days = b.add(
                b.days_between(b.least(b.coalesce(end, b.lit(self.d)), b.lit(self.d)), start),
                b.lit(1),
            )
        cmp_days = b.cmp(days, node.op, b.lit(limit_days))
        zero = b.lit(
            0 < limit_days
            if node.op == "<"
            else 0 <= limit_days
            if node.op == "<="
            else 0 > limit_days
            if node.op == ">"
            else 0 >= limit_days
        )
        return b.case(
            [
                (has, b.case([(b.is_null(start), None)], cmp_days)),
                (known_absent, zero),
            ],
            None,
        )

    # -- scores ----------------------------------------------------------------------------
    def score(self, node: ScoreCompare) -> Any:
        b = self.b
        if node.score != "child_pugh":
            return b.score_fallback(node, self.protocol, self.d)
        table = _clinical.child_pugh_table(self.protocol.child_pugh_variant)
        points = []
        for item, analyte in (("bilirubin", "bilirubin"), ("albumin", "albumin"), ("inr", "inr")):
            unit, rows = table.labs[item]
            f = _clinical.factor(analyte, unit, cohort_unit(analyte))
            v = self.lab_value(analyte)
            branches = [(b.is_null(v), None)]
            if self.cmp_column(analyte) is not None:  # censored values: no points
                branches.append((b.is_not_null(self.cmp_column(analyte)), None))
            for p, band in rows:
                conds = []
                if band.lower is not None:
                    k = band.lower.coefficient * f * SCALE
                    conds.append(self.int_cmp(v, ">=" if band.lower.inclusive else ">", k))
                if band.upper is not None:
                    k = band.upper.coefficient * f * SCALE
                    conds.append(self.int_cmp(v, "<=" if band.upper.inclusive else "<", k))
                branches.append((self.known(b.and_(*conds)), b.lit(p)))
            points.append(b.case(branches, None, typ="int"))
        for item, concept, mapping in (
            ("ascites", "ascites", _clinical.ASCITES_CATEGORY),
            ("encephalopathy", "hepatic_encephalopathy", _clinical.ENCEPHALOPATHY_CATEGORY),
        ):
            cats = table.categories[item]
            pts = {s: cats[mapping[s]] for s in _SEV}
            present = self.known(b.cmp(b.col(concept), "==", b.lit(True)))
            start, end = b.col(f"{concept}_start"), b.col(f"{concept}_end")
            active = self.known(
                b.and_(
                    b.or_(b.is_null(start), b.cmp(start, "<=", b.lit(self.d))),
                    b.or_(b.is_null(end), b.cmp(end, ">=", b.lit(self.d))),
                )
            )
            sev = b.col(f"{concept}_severity")
            branches = [(b.not_(b.and_(present, active)), b.lit(pts["none"]))]
            branches += [(b.cmp(sev, "==", b.lit(s)), b.lit(pts[s])) for s in _SEV]
            points.append(b.case(branches, None, typ="int"))
        total = b.add(*points)
        if node.attribute == "class":
            klass = b.case(
                [
                    (
                        self.known(
                            b.and_(b.cmp(total, ">=", b.lit(lo)), b.cmp(total, "<=", b.lit(hi)))
                        ),
                        b.lit(name),
                    )
                    for name, lo, hi in table.classes
                ],
                None,
                typ="str",
            )
            return b.cmp(klass, node.op, b.lit(node.value))
        assert isinstance(node.value, Fraction)
        return self.int_cmp(total, node.op, node.value)
