"""The cohort compiler's score nodes: Child-Pugh, MELD, MELD-Na, MELD 3.0 and ALBI as column
arithmetic (docs/eligibility.md, "Derived scores in the compiled form").

:class:`CohortScoreCompiler` is mixed into :class:`~.cohort_compile.CohortCompiler`, which supplies
the backend ``b``, ``protocol``, the screening date ``d`` and the helpers ``key``, ``known``,
``int_cmp``, ``lab_value``, ``cmp_column`` and ``age``. Rows whose double-precision score
lies within ``NEAR_TIE`` of a boundary are computed exactly by :func:`_exact_score`
(Polars) or read as unknown (SQL).
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Any

from trialdesk.eligibility.cohort import SCALE, CompileError, cohort_unit
from trialdesk.eligibility.evaluate import compare
from trialdesk.protocol import clinical_adapter, vocabulary
from trialdesk.protocol.rules import AgeCompare, Period, ScoreCompare

# A MELD / MELD-Na / MELD 3.0 / ALBI value computed in double precision that lies within NEAR_TIE (in units
# of its rounding step) of a rounding or grade boundary is not trusted: the Polars path computes
# it exactly through trialdesk.clinical.scores, the SQL form reads it as unknown. Double-precision
# error here is below 1e-12 (see docs/eligibility.md, "Derived scores").
NEAR_TIE = 1e-9
_SEV = vocabulary.SEVERITIES


class CohortScoreCompiler:
    """Score nodes of the cohort compiler (a mixin of ``cohort_compile.CohortCompiler``)."""

    def score(self, node: ScoreCompare) -> Any:
        if node.score in ("meld", "meld_na", "meld3", "albi"):
            return self.derived_score(node)
        if node.score != "child_pugh":  # pragma: no cover - the rule language has no other
            raise CompileError(f"cannot compile score {node.score}")
        return self.child_pugh(node)

    def child_pugh(self, node: ScoreCompare) -> Any:
        """Child-Pugh as the one-patient path reads it (``evaluate._child_pugh_compare``):
        each item's lowest and highest possible points (an unknown lab or category spans its
        whole scale, a censored lab the bands its interval reaches, as
        ``trialdesk.clinical.child_pugh.censored_points``), and the rule decided only when
        every total from the lowest to the highest sum decides it the same way."""
        b = self.b
        table = clinical_adapter.child_pugh_table(self.protocol.child_pugh_variant)
        lows, highs = [], []
        for item, analyte in (("bilirubin", "bilirubin"), ("albumin", "albumin"), ("inr", "inr")):
            unit, rows = table.labs[item]
            f = clinical_adapter.factor(analyte, unit, cohort_unit(analyte))
            v = self.lab_value(analyte)
            scale = sorted({p for p, _ in rows})
            lo: list[tuple[Any, Any]] = [(b.is_null(v), b.lit(scale[0]))]
            hi: list[tuple[Any, Any]] = [(b.is_null(v), b.lit(scale[-1]))]
            cmp_col = self.cmp_column(analyte)
            if cmp_col is not None:
                for comparator in ("<", "<=", ">", ">="):
                    is_c = b.cmp(cmp_col, "==", b.lit(comparator))
                    for order, out in ((1, lo), (-1, hi)):  # lowest points first / highest
                        for p, band in sorted(rows, key=lambda r: order * r[0]):
                            reach = self._reaches(v, band, comparator, f)
                            out.append((self.known(b.and_(is_c, reach)), b.lit(p)))
            for p, band in rows:
                conds = []
                if band.lower is not None:
                    k = band.lower.coefficient * f * SCALE
                    conds.append(self.int_cmp(v, ">=" if band.lower.inclusive else ">", k))
                if band.upper is not None:
                    k = band.upper.coefficient * f * SCALE
                    conds.append(self.int_cmp(v, "<=" if band.upper.inclusive else "<", k))
                inside = self.known(b.and_(*conds))
                lo.append((inside, b.lit(p)))
                hi.append((inside, b.lit(p)))
            lows.append(b.case(lo, None, typ="int"))
            highs.append(b.case(hi, None, typ="int"))
        for item, concept, mapping in (
            ("ascites", "ascites", clinical_adapter.ASCITES_CATEGORY),
            ("encephalopathy", "hepatic_encephalopathy", clinical_adapter.ENCEPHALOPATHY_CATEGORY),
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
            scale = sorted(set(cats.values()))  # severity not recorded: any of the points
            lows.append(b.case(branches, b.lit(scale[0]), typ="int"))
            highs.append(b.case(branches, b.lit(scale[-1]), typ="int"))
        low, high = b.add(*lows), b.add(*highs)
        # the totals (5..15) that satisfy the rule, as runs of consecutive totals
        runs: list[list[int]] = []
        for t in range(5, 16):
            value: Any = table.klass(t) if node.attribute == "class" else Fraction(t)
            if compare(value, node.op, node.value):
                if runs and runs[-1][1] == t - 1:
                    runs[-1][1] = t
                else:
                    runs.append([t, t])
        every = b.or_(
            b.lit(False),
            *(b.and_(b.cmp(low, ">=", b.lit(a)), b.cmp(high, "<=", b.lit(z))) for a, z in runs),
        )
        none = b.and_(
            b.lit(True),
            *(b.or_(b.cmp(high, "<", b.lit(a)), b.cmp(low, ">", b.lit(z))) for a, z in runs),
        )
        return b.case([(self.known(every), True), (self.known(none), False)], None)

    def _reaches(self, v: Any, band: Any, comparator: str, f: Fraction) -> Any:
        """Does a censored value (``comparator v``) reach ``band``? As
        ``trialdesk.clinical.child_pugh._reaches``: below v, the band's lower bound must lie
        under v (or on it, both ends included); above v, its upper bound over v."""
        closed = comparator in ("<=", ">=")
        if comparator in ("<", "<="):
            bound, op = band.lower, ">="
        else:
            bound, op = band.upper, "<="
        if bound is None:
            return self.b.lit(True)
        strict = op[0]
        return self.int_cmp(
            v, op if (closed and bound.inclusive) else strict, bound.coefficient * f * SCALE
        )

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
        assert unit == clinical_adapter.canonical_unit(analyte), (analyte, unit)
        return clinical_adapter.in_unit(analyte, value, cohort_unit(analyte)) * SCALE

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

    def _meld_labs(self, creatinine_cap: Fraction) -> tuple[tuple[Any, Any], ...]:
        """Bilirubin, INR and creatinine as the MELD formulas read them: each floored at 1
        (mg/dL, INR), creatinine capped at ``creatinine_cap`` mg/dL (4 for MELD(i), 3 for
        MELD 3.0); (value, usable) each."""
        one = Fraction(1)
        return (
            self.score_input("bilirubin", floor=self._bound("bilirubin", one, "mg/dL")),
            self.score_input("inr", floor=self._bound("inr", one, "{INR}")),
            self.score_input(
                "creatinine",
                floor=self._bound("creatinine", one, "mg/dL"),
                cap=self._bound("creatinine", creatinine_cap, "mg/dL"),
            ),
        )

    def meld_i(self) -> tuple[Any, Any, Any]:
        """(MELD(i) capped at 40, near a rounding boundary, inputs usable).

        MELD = 10 x [0.957 ln(Cr) + 0.378 ln(Bili) + 1.120 ln(INR) + 0.643], as
        ``trialdesk.clinical.meld.meld``. Source: OPTN Policy 9.1.D; Kamath PS et al.,
        Hepatology 2001;33:464-470; Wiesner R et al., Gastroenterology 2003;124:91-96."""
        b = self.b
        one, four = Fraction(1), Fraction(4)
        (bili, ok_b), (inr, ok_i), (cr, ok_c) = self._meld_labs(creatinine_cap=four)
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
        (bili, ok_b), (inr, ok_i), (cr, ok_c) = self._meld_labs(creatinine_cap=three)
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
    fn = {
        "meld": clinical_adapter.meld,
        "meld_na": clinical_adapter.meld_na,
        "albi": clinical_adapter.albi,
    }.get(name)

    def run(row: dict[str, Any]) -> int | None:
        try:
            qs = [
                clinical_adapter.quantity(a, Fraction(row[a], SCALE), cohort_unit(a)) for a in labs
            ]
            if name == "meld3":
                # only the rows with a usable sex and age get here; MELD 3.0 uses the age
                # only to give 12-17-year-olds the 1.33 term, so 15 stands for "12-17"
                sex = "female" if row["female"] else "male"
                result = clinical_adapter.meld3(*qs, sex, 15 if row["teen"] else None)
            else:
                assert fn is not None
                result = fn(*qs)
        except clinical_adapter.score_error_types():
            return None
        if attribute == "grade":
            return result.grade
        return int(result.value * 100) if name == "albi" else int(result.value)

    return run
