"""The cohort compiler: one rule tree -> backend expressions (Polars or SQL).

:class:`CohortCompiler` turns each rule node into a nullable boolean expression of a backend
(:mod:`.vectorized`) over a cohort table (:mod:`.cohort`): lab comparisons (exact, as scaled
integers, censored values as intervals), age, sex, history and medications; the score nodes
(Child-Pugh, MELD, MELD-Na, MELD 3.0, ALBI) come from :mod:`.cohort_scores`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from fractions import Fraction
from typing import Any

from trialdesk.eligibility.cohort import SCALE, CompileError, cohort_unit
from trialdesk.eligibility.cohort_scores import CohortScoreCompiler
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
    Period,
    ScoreCompare,
    SexIs,
    add_months,
)

_SEV = vocabulary.SEVERITIES


def _ceil(k: Fraction) -> int:
    return math.ceil(k)


def _floor(k: Fraction) -> int:
    return math.floor(k)


@dataclass
class CohortCompiler(CohortScoreCompiler):
    """Compiles rule nodes through a backend (:mod:`.vectorized`: Polars or SQL); the score
    nodes are compiled by :class:`~.cohort_scores.CohortScoreCompiler`."""

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
            k = clinical_adapter.in_unit(node.analyte, node.threshold, unit) * SCALE
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
                k = clinical_adapter.in_unit(node.analyte, default, unit) * SCALE * p
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
