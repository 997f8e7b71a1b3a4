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
# A MELD / MELD-Na / MELD 3.0 / ALBI value computed in double precision that lies within NEAR_TIE (in units
# of its rounding step) of a rounding or grade boundary is not trusted: the Polars path computes
# it exactly through trialdesk.clinical.scores, the SQL form reads it as unknown. Double-precision
# error here is below 1e-12 (see docs/eligibility.md, "Derived scores").
NEAR_TIE = 1e-9
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
    def key(self, name: str) -> str:
        """Name of a computed-once helper: helpers are shared by the protocols screened in one
        pass, and lab usability depends on the protocol's lab window."""
        return f"{name}_{self.protocol.lab_window_days}d"

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
            self.key(f"usable_{analyte}"),
            self.known(b.and_(b.cmp(when, "<=", b.lit(self.d)), b.cmp(when, ">=", b.lit(self.ws)))),
        )

    def lab_value(self, analyte: str) -> Any:
        """The usable value as an integer (x 10^4), null when missing or outside the window
        (computed once per analyte)."""
        b = self.b
        return b.memo(
            self.key(f"value_{analyte}"),
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
        if node.score in ("meld", "meld_na", "meld3", "albi"):
            return self.derived_score(node)
        if node.score != "child_pugh":  # pragma: no cover - the rule language has no other
            raise CompileError(f"cannot compile score {node.score}")
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

    # -- MELD, MELD-Na, MELD 3.0, ALBI -----------------------------------------------------
    # The formulas, bounds and rounding are those of trialdesk.clinical.meld / .albi (the one
    # home of the formulas; docs/clinical-formulas.md), restated here as column arithmetic:
    #   MELD (OPTN Policy 9.1.D, 2002-2016; Kamath PS et al., Hepatology 2001;33:464-470;
    #   Wiesner R et al., Gastroenterology 2003;124:91-96):
    #     10 x [0.957 ln(Cr) + 0.378 ln(Bili) + 1.120 ln(INR) + 0.643], mg/dL; values below 1.0
    #     set to 1.0, creatinine above 4.0 set to 4.0; the bracket rounded half up to the tenth
    #     and multiplied by 10; maximum 40.
    #   MELD-Na (OPTN Policy 9.1.D, 2016; Kim WR et al., N Engl J Med 2008;359:1018-1026):
    #     MELD(i) > 11: MELD(i) + 1.32 (137 - Na) - 0.033 MELD(i) (137 - Na), Na bounded to
    #     125..137 mmol/L, rounded half up, maximum 40; otherwise MELD(i).
    #   MELD 3.0 (Kim WR et al., Gastroenterology 2021;161:1887-1895; OPTN Policy 9.1.D, 2023):
    #     1.33 (female, or aged 12-17) + 4.56 ln(Bili) + 0.82 (137 - Na) - 0.24 (137 - Na) ln(Bili)
    #     + 9.09 ln(INR) + 11.14 ln(Cr) + 1.85 (3.5 - Alb) - 1.83 (3.5 - Alb) ln(Cr) + 6;
    #     Bili, INR, Cr floor 1.0, Cr cap 3.0, Na 125..137 mmol/L, Alb 1.5..3.5 g/dL; rounded
    #     half up, bounded 6..40.
    #   ALBI (Johnson PJ et al., J Clin Oncol 2015;33:550-558):
    #     0.66 log10(bilirubin umol/L) - 0.085 albumin g/L; grade 1 <= -2.60 < grade 2 <= -1.39
    #     < grade 3 on the unrounded value; the score rounded half away from zero to 2 places.
    # The one-patient path never sets ``dialysis`` (the rule language has no dialysis input),
    # so neither does this.
    # Exactness: bounds are compared as integers against exact rationals (as lab comparisons
    # are); MELD-Na's sodium step and ALBI with a bilirubin that is a power of ten (the only
    # case where ALBI is rational and can sit exactly on a boundary) and MELD 3.0 with
    # bilirubin, INR and creatinine all at the 1.0 floor (the only case where it is rational)
    # are integer arithmetic;
    # otherwise the logarithms are taken in double precision and a value within NEAR_TIE of a
    # boundary is computed exactly (Polars) or read as unknown (SQL). Away from those, the
    # double result rounds the same way as the 50-digit Decimal one.

    def _bound(self, analyte: str, value: Fraction, unit: str) -> Fraction:
        """A bound given in the formula's unit, as a scaled value in the cohort unit."""
        assert unit == _clinical.canonical_unit(analyte), (analyte, unit)
        return _clinical.in_unit(analyte, value, cohort_unit(analyte)) * SCALE

    def score_input(
        self, analyte: str, floor: Fraction | None = None, cap: Fraction | None = None
    ) -> tuple[Any, Any]:
        """(scaled value, usable) of one score input. A censored value is usable only when a
        bound settles it (``<`` at or below the floor, ``>`` at or above the cap), as in
        ``trialdesk.clinical._scoring.bounded``; ``floor`` and ``cap`` are scaled cohort values."""
        b = self.b
        v = self.lab_value(analyte)
        checks = [b.is_not_null(v)]
        cmp_col = self.cmp_column(analyte)
        if cmp_col is not None:
            below = self.int_cmp(v, "<=", floor) if floor is not None else b.lit(False)
            above = self.int_cmp(v, ">=", cap) if cap is not None else b.lit(False)
            checks.append(
                b.case(
                    [
                        (b.is_null(cmp_col), True),
                        (self.known(b.in_(cmp_col, ["<", "<="])), below),
                        (self.known(b.in_(cmp_col, [">", ">="])), above),
                    ],
                    False,
                )
            )
        return v, self.known(b.and_(*checks))

    def ln_bounded(
        self, analyte: str, v: Any, unit: str, floor: Fraction, cap: Fraction | None = None
    ) -> Any:
        """ln of the value in ``unit`` after the floor (and cap), as a float expression."""
        b = self.b
        f = 1 / self._bound(analyte, Fraction(1), unit)  # scaled cohort value -> ``unit``
        branches = [
            (
                self.known(self.int_cmp(v, "<=", self._bound(analyte, floor, unit))),
                b.flit(math.log(floor)),
            ),
        ]
        if cap is not None:
            branches.append(
                (
                    self.known(self.int_cmp(v, ">=", self._bound(analyte, cap, unit))),
                    b.flit(math.log(cap)),
                )
            )
        return b.case(branches, b.ln(b.mul(b.to_float(v), b.flit(float(f)))), typ="float")

    def round_half_up(self, x: Any) -> tuple[Any, Any]:
        """(floor(x + 1/2) as an integer, x within NEAR_TIE of a half) for a float x >= 0."""
        b = self.b
        t = b.add(x, b.flit(0.5))
        n = b.floor_int(t)
        frac = b.sub(t, b.to_float(n))
        near = b.or_(b.cmp(frac, "<", b.flit(NEAR_TIE)), b.cmp(frac, ">", b.flit(1 - NEAR_TIE)))
        return n, near

    def meld_i(self) -> tuple[Any, Any, Any]:
        """(MELD(i) capped at 40, near a rounding boundary, inputs usable).

        MELD = 10 x [0.957 ln(Cr) + 0.378 ln(Bili) + 1.120 ln(INR) + 0.643], as
        ``trialdesk.clinical.meld.meld``. Source: OPTN Policy 9.1.D; Kamath PS et al.,
        Hepatology 2001;33:464-470; Wiesner R et al., Gastroenterology 2003;124:91-96."""
        b = self.b
        one, four = Fraction(1), Fraction(4)
        bili, ok_b = self.score_input("bilirubin", floor=self._bound("bilirubin", one, "mg/dL"))
        inr, ok_i = self.score_input("inr", floor=self._bound("inr", one, "{INR}"))
        cr, ok_c = self.score_input(
            "creatinine",
            floor=self._bound("creatinine", one, "mg/dL"),
            cap=self._bound("creatinine", four, "mg/dL"),
        )
        ten_bracket = b.add(
            b.mul(self.ln_bounded("creatinine", cr, "mg/dL", one, four), b.flit(9.57)),
            b.mul(self.ln_bounded("bilirubin", bili, "mg/dL", one), b.flit(3.78)),
            b.mul(self.ln_bounded("inr", inr, "{INR}", one), b.flit(11.2)),
            b.flit(6.43),
        )
        ten_bracket = b.memo(self.key("meld_10_bracket"), ten_bracket)
        # round(bracket, 1) x 10 == round(10 x bracket) (half up); above 40.5 the cap decides
        n, near = self.round_half_up(ten_bracket)
        near = b.memo(
            self.key("meld_near"), self.known(b.and_(near, b.cmp(ten_bracket, "<", b.flit(40.25))))
        )
        score = b.case([(self.known(b.cmp(n, ">", b.lit(40))), 40)], n, typ="int")
        score = b.memo(self.key("meld_i"), score)
        return score, near, b.memo(self.key("meld_ok"), b.and_(ok_b, ok_i, ok_c))

    def meld_na(self) -> tuple[Any, Any, Any]:
        """(MELD-Na, near a rounding boundary of MELD(i), inputs usable), as
        ``trialdesk.clinical.meld.meld_na``. Source: OPTN Policy 9.1.D (2016); Kim WR et al.,
        N Engl J Med 2008;359:1018-1026."""
        b = self.b
        m, near, ok_m = self.meld_i()
        na_c, ok_n = self.clamped_input("sodium", Fraction(125), Fraction(137), "mmol/L")
        hi_i = int(self._bound("sodium", Fraction(137), "mmol/L"))
        # (137 - Na) x 10^4 = D; 10^7 x [m + 1.32 (137 - Na) - 0.033 m (137 - Na)]
        #   = 10^7 m + 1320 D - 33 m D   (an integer, > 0 since m <= 40)
        d = b.sub(b.lit(hi_i), na_c)
        raw = b.sub(b.add(b.mul(m, 10**7), b.mul(d, 1320)), b.mul(b.mul(m, d), 33))
        rounded = b.floor_div(b.add(raw, b.lit(5 * 10**6)), 10**7)
        capped = b.case([(self.known(b.cmp(rounded, ">", b.lit(40))), 40)], rounded, typ="int")
        value = b.case([(self.known(b.cmp(m, ">", b.lit(11))), capped)], m, typ="int")
        return value, near, b.and_(ok_m, ok_n)

    def meld3(self) -> tuple[Any, Any, Any, dict[str, Any]]:
        """(MELD 3.0, near a rounding boundary, inputs usable, the sex/age fields the exact
        path needs), as ``trialdesk.clinical.meld.meld3``. Source: Kim WR et al.,
        Gastroenterology 2021;161:1887-1895; OPTN Policy 9.1.D (2023)."""
        b = self.b
        one, three = Fraction(1), Fraction(3)
        bili, ok_b = self.score_input("bilirubin", floor=self._bound("bilirubin", one, "mg/dL"))
        inr, ok_i = self.score_input("inr", floor=self._bound("inr", one, "{INR}"))
        cr, ok_c = self.score_input(
            "creatinine",
            floor=self._bound("creatinine", one, "mg/dL"),
            cap=self._bound("creatinine", three, "mg/dL"),
        )
        na_c, ok_n = self.clamped_input("sodium", Fraction(125), Fraction(137), "mmol/L")
        alb_c, ok_a = self.clamped_input("albumin", Fraction(3, 2), Fraction(7, 2), "g/dL")
        na_hi = int(self._bound("sodium", Fraction(137), "mmol/L"))
        alb_hi = int(self._bound("albumin", Fraction(7, 2), "g/dL"))
        # sex as trialdesk.clinical.meld accepts it; age 0..130 or unknown; 12-17 -> 1.33 term
        sex = b.lower_trim(b.col("sex"))
        female = self.known(b.in_(sex, ["female", "f", "woman"]))
        male = self.known(b.in_(sex, ["male", "m", "man"]))

        def age(op: str, n: int) -> Any:
            return self.age(AgeCompare("age", op, Period(n, "year")))

        age_bad = self.known(b.not_(b.and_(age(">=", 0), age("<=", 130))))
        teen = b.memo(self.key("meld3_teen"), self.known(b.and_(age(">=", 12), age("<=", 17))))
        sex_term = b.memo(self.key("meld3_sex_term"), b.or_(female, teen))
        ok = b.memo(
            self.key("meld3_ok"),
            b.and_(ok_b, ok_i, ok_c, ok_n, ok_a, b.or_(female, male), b.not_(age_bad)),
        )
        d_na = b.sub(b.lit(na_hi), na_c)  # (137 - Na) x 10^4
        d_alb = b.sub(b.lit(alb_hi), alb_c)  # (3.5 - Alb g/dL) x 10^5
        lb = self.ln_bounded("bilirubin", bili, "mg/dL", one)
        li = self.ln_bounded("inr", inr, "{INR}", one)
        lc = self.ln_bounded("creatinine", cr, "mg/dL", one, three)
        # All three logarithms 0 (values at or below 1.0): the formula is rational, and
        # 10^7 x MELD 3.0 = 13300000 female + 820 (137 - Na) 10^4 + 185 (3.5 - Alb) 10^5 + 6 10^7
        at_floor = b.memo(
            self.key("meld3_exact"),
            self.known(
                b.and_(
                    self.int_cmp(bili, "<=", self._bound("bilirubin", one, "mg/dL")),
                    self.int_cmp(inr, "<=", self._bound("inr", one, "{INR}")),
                    self.int_cmp(cr, "<=", self._bound("creatinine", one, "mg/dL")),
                )
            ),
        )
        exact = b.add(
            b.case([(sex_term, 13_300_000)], 0, typ="int"),
            b.mul(d_na, 820),
            b.mul(d_alb, 185),
            b.lit(60_000_000),
        )
        exact_v = b.floor_div(b.add(exact, b.lit(5_000_000)), 10**7)
        dna, dal = b.mul(b.to_float(d_na), b.flit(1e-4)), b.mul(b.to_float(d_alb), b.flit(1e-5))
        x = b.add(
            b.case([(sex_term, b.flit(1.33))], b.flit(0.0), typ="float"),
            b.mul(lb, b.flit(4.56)),
            b.mul(dna, b.flit(0.82)),
            b.mul(b.mul(dna, lb), b.flit(-0.24)),
            b.mul(li, b.flit(9.09)),
            b.mul(lc, b.flit(11.14)),
            b.mul(dal, b.flit(1.85)),
            b.mul(b.mul(dal, lc), b.flit(-1.83)),
            b.flit(6.0),
        )
        x = b.memo(self.key("meld3_raw"), x)
        n, near = self.round_half_up(x)
        # below 5.75 or above 40.25 the bounds 6..40 decide whatever the rounding
        near = b.and_(
            b.not_(at_floor),
            near,
            b.cmp(x, ">", b.flit(5.75)),
            b.cmp(x, "<", b.flit(40.25)),
        )
        value = b.case([(at_floor, exact_v)], n, typ="int")
        value = b.case(
            [
                (self.known(b.cmp(value, ">", b.lit(40))), 40),
                (self.known(b.cmp(value, "<", b.lit(6))), 6),
            ],
            value,
            typ="int",
        )
        return value, near, ok, {"female": female, "teen": teen}

    def clamped_input(self, analyte: str, lo: Fraction, hi: Fraction, unit: str) -> tuple[Any, Any]:
        """(scaled value bounded to lo..hi, usable) for a score input with both bounds."""
        b = self.b
        lo_k, hi_k = self._bound(analyte, lo, unit), self._bound(analyte, hi, unit)
        assert lo_k.denominator == 1 and hi_k.denominator == 1, (analyte, lo_k, hi_k)
        v, ok = self.score_input(analyte, floor=lo_k, cap=hi_k)
        clamped = b.case(
            [
                (self.known(b.cmp(v, "<", b.lit(int(lo_k)))), int(lo_k)),
                (self.known(b.cmp(v, ">", b.lit(int(hi_k)))), int(hi_k)),
            ],
            v,
            typ="int",
        )
        return b.memo(self.key(f"clamped_{analyte}_{lo}_{hi}"), clamped), ok

    def albi(self, attribute: str) -> tuple[Any, Any, Any]:
        """(grade, or score in hundredths; near a boundary; inputs usable), as
        ``trialdesk.clinical.albi.albi``. Source: Johnson PJ et al., J Clin Oncol
        2015;33:550-558."""
        b = self.b
        bili, ok_b = self.score_input("bilirubin")
        alb, ok_a = self.score_input("albumin")
        assert cohort_unit("bilirubin") == "umol/L" and cohort_unit("albumin") == "g/L"
        ok = b.and_(ok_b, ok_a, self.known(b.cmp(bili, ">", b.lit(0))))
        # Exact when bilirubin is a power of ten (log10 an integer L): 10^7 x ALBI
        # = 6600000 L - 85 x albumin(g/L x 10^4)
        powers = [10**k for k in range(16)]
        is_pow = self.known(b.in_(bili, powers))
        log_b = b.case(
            [(self.known(b.cmp(bili, "==", b.lit(p))), k - 4) for k, p in enumerate(powers)],
            None,
            typ="int",
        )
        is_pow = b.memo(self.key("albi_exact"), is_pow)
        exact = b.memo(self.key("albi_1e7"), b.sub(b.mul(log_b, 6600000), b.mul(alb, 85)))
        # Otherwise in double precision: 100 x ALBI
        x = b.sub(
            b.sub(b.mul(b.log10(b.to_float(bili)), b.flit(66.0)), b.flit(264.0)),
            b.mul(b.to_float(alb), b.flit(0.00085)),
        )
        x = b.memo(
            self.key("albi_100"),
            b.case([(self.known(b.cmp(bili, ">", b.lit(0))), x)], None, typ="float"),
        )
        if attribute == "grade":
            g1, g2 = -26_000_000, -13_900_000
            exact_v = b.case(
                [
                    (self.known(b.cmp(exact, "<=", b.lit(g1))), 1),
                    (self.known(b.cmp(exact, "<=", b.lit(g2))), 2),
                ],
                3,
                typ="int",
            )
            float_v = b.case(
                [
                    (self.known(b.cmp(x, "<=", b.flit(-260.0))), 1),
                    (self.known(b.cmp(x, "<=", b.flit(-139.0))), 2),
                ],
                3,
                typ="int",
            )
            near = b.or_(
                *(
                    b.and_(
                        b.cmp(x, ">", b.flit(edge - NEAR_TIE)),
                        b.cmp(x, "<", b.flit(edge + NEAR_TIE)),
                    )
                    for edge in (-260.0, -139.0)
                )
            )
        else:  # hundredths, half away from zero
            pos = self.known(b.cmp(exact, ">=", b.lit(0)))
            up = b.floor_div(b.add(exact, b.lit(50_000)), 100_000)
            down = b.floor_div(b.add(b.mul(exact, -1), b.lit(50_000)), 100_000)
            exact_v = b.case([(pos, up)], b.mul(down, -1), typ="int")
            fpos = self.known(b.cmp(x, ">=", b.flit(0.0)))
            n, near = self.round_half_up(b.case([(fpos, x)], b.mul(x, b.flit(-1.0)), typ="float"))
            float_v = b.case([(fpos, n)], b.mul(n, -1), typ="int")
        value = b.case([(is_pow, exact_v)], float_v, typ="int")
        return value, b.and_(b.not_(is_pow), near), ok

    def derived_score(self, node: ScoreCompare) -> Any:
        """MELD, MELD-Na or ALBI compared with a number (see the comment above)."""
        b = self.b
        scale = 1
        if node.score == "meld":
            value, near, ok = self.meld_i()
            labs = ("bilirubin", "inr", "creatinine")
        elif node.score == "meld_na":
            value, near, ok = self.meld_na()
            labs = ("bilirubin", "inr", "creatinine", "sodium")
        elif node.score == "meld3":
            value, near, ok, others = self.meld3()
            labs = ("bilirubin", "inr", "creatinine", "sodium", "albumin")
        else:
            value, near, ok = self.albi(node.attribute)
            labs = ("bilirubin", "albumin")
            scale = 100 if node.attribute != "grade" else 1
        fields = {a: self.lab_value(a) for a in labs}
        if node.score == "meld3":
            fields.update(others)
        exact = b.exact_score(_exact_score(node.score, node.attribute, labs), near, fields)
        score = b.memo(
            self.key(f"score_{node.score}_{node.attribute}"),
            b.case([(b.not_(self.known(ok)), None), (self.known(near), exact)], value, typ="int"),
        )
        assert isinstance(node.value, Fraction)
        return self.int_cmp(score, node.op, node.value * scale)


def _exact_score(name: str, attribute: str, labs: tuple[str, ...]) -> Any:
    """Row -> the score as the compiled form represents it (an integer; ALBI's score in
    hundredths), computed exactly by trialdesk.clinical.scores from the scaled lab values.

    Only rows whose inputs are usable reach it; a censored value usable there is settled by
    a bound, so its number alone gives the same score."""
    fn = {"meld": _clinical.meld, "meld_na": _clinical.meld_na, "albi": _clinical.albi}.get(name)

    def run(row: dict[str, Any]) -> int | None:
        try:
            qs = [_clinical.quantity(a, Fraction(row[a], SCALE), cohort_unit(a)) for a in labs]
            if name == "meld3":
                # only the rows with a usable sex and age get here; MELD 3.0 uses the age
                # only to give 12-17-year-olds the 1.33 term, so 15 stands for "12-17"
                sex = "female" if row["female"] else "male"
                result = _clinical.meld3(*qs, sex, 15 if row["teen"] else None)
            else:
                assert fn is not None
                result = fn(*qs)
        except _clinical.score_error_types():
            return None
        if attribute == "grade":
            return result.grade
        return int(result.value * 100) if name == "albi" else int(result.value)

    return run
