"""Descriptive statistics and paired tests for the endpoints, with explicit "not estimable"
results for small or degenerate samples (never NaN, never a warning).

- Mean, sample SD (n - 1 denominator) and the two-sided 95% confidence interval of the mean
  from Student's t distribution: mean +/- t(0.975, n - 1) * SD / sqrt(n) (Altman DG,
  Practical Statistics for Medical Research, 1991, section 8.5). Needs n >= 2.
- Median and interquartile range: NumPy's ``percentile(method="linear")``, Hyndman & Fan
  (1996) definition 7, the default of R's ``quantile`` and of NumPy.
- Paired t-test: ``scipy.stats.ttest_1samp`` of the differences against 0 (the same as
  ``ttest_rel``); needs n >= 2 and differences that are not all equal.
- Wilcoxon signed-rank test: ``scipy.stats.wilcoxon`` on the differences, zero differences
  dropped first (Wilcoxon's original treatment, SciPy ``zero_method="wilcox"``); the exact
  null distribution when no absolute differences are tied and at most 50 remain, otherwise
  the normal approximation with the tie-corrected variance and no continuity correction
  (SciPy ``method="approx"``, ``correction=False``). Needs at least two non-zero
  differences (with one, the exact p is 1 whatever it is).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
from scipy import stats

__all__ = ["CONFIDENCE", "Summary", "TestResult", "describe", "paired_t", "signed_rank"]

CONFIDENCE = 0.95
EXACT_MAX_N = 50


@dataclass(frozen=True, slots=True)
class Summary:
    """n, mean, SD, 95% CI (t), median, quartiles, min and max of a sample. A statistic that
    the sample cannot give is None, and ``notes`` says why."""

    n: int
    mean: float | None
    sd: float | None
    ci_low: float | None
    ci_high: float | None
    median: float | None
    q1: float | None
    q3: float | None
    minimum: float | None
    maximum: float | None
    notes: tuple[str, ...] = ()

    @property
    def estimable(self) -> bool:
        return self.n > 0

    @property
    def iqr(self) -> float | None:
        return None if self.q1 is None or self.q3 is None else self.q3 - self.q1


@dataclass(frozen=True, slots=True)
class TestResult:
    """A test's statistic and two-sided p value, or None with the reason it is not estimable."""

    __test__ = False  # not a pytest test class

    name: str
    n: int
    statistic: float | None
    p_value: float | None
    method: str
    note: str = ""

    @property
    def estimable(self) -> bool:
        return self.p_value is not None


def _values(values: Iterable[float]) -> np.ndarray:
    arr = np.asarray([float(v) for v in values], dtype=float)
    if not np.all(np.isfinite(arr)):
        raise ValueError("values: every value must be a finite number (missing is left out)")
    return arr


def describe(values: Iterable[float]) -> Summary:
    """The summary of ``values`` (finite numbers; leave missing values out before)."""
    x = _values(values)
    n = int(x.size)
    if n == 0:
        return Summary(0, *([None] * 9), notes=("not estimable: no values",))
    q1, median, q3 = (float(q) for q in np.percentile(x, [25, 50, 75], method="linear"))
    mean = float(np.mean(x))
    if n == 1:
        note = "SD and 95% CI not estimable: n = 1"
        return Summary(1, mean, None, None, None, median, q1, q3, mean, mean, notes=(note,))
    sd = float(np.std(x, ddof=1))
    half = float(stats.t.ppf(0.5 + CONFIDENCE / 2, n - 1)) * sd / math.sqrt(n)
    return Summary(
        n, mean, sd, mean - half, mean + half, median, q1, q3, float(x.min()), float(x.max())
    )


def paired_t(differences: Iterable[float]) -> TestResult:
    """Paired t-test (H0: mean difference 0), from the within-participant differences."""
    d = _values(differences)
    method = "paired t-test (scipy.stats.ttest_1samp of the differences, two-sided)"
    if d.size < 2:
        return TestResult("paired t", int(d.size), None, None, method, "not estimable: n < 2")
    if np.all(d == d[0]):
        note = "not estimable: all differences are equal (no variance)"
        return TestResult("paired t", int(d.size), None, None, method, note)
    res = stats.ttest_1samp(d, 0.0)
    return TestResult("paired t", int(d.size), float(res.statistic), float(res.pvalue), method)


def signed_rank(differences: Iterable[float]) -> TestResult:
    """Wilcoxon signed-rank test (H0: differences symmetric about 0), zeros dropped."""
    d = _values(differences)
    nonzero = d[d != 0]
    m = int(nonzero.size)
    dropped = int(d.size) - m
    zeros = f"; {dropped} zero difference(s) dropped" if dropped else ""
    if m == 0:
        note = "not estimable: no non-zero differences" + zeros
        return TestResult("Wilcoxon signed-rank", int(d.size), None, None, "none", note)
    if m == 1:  # the exact p is 1 whatever the difference: no information, not a result
        note = "not estimable: one non-zero difference" + zeros
        return TestResult("Wilcoxon signed-rank", int(d.size), None, None, "none", note)
    ties = np.unique(np.abs(nonzero)).size < m
    exact = not ties and m <= EXACT_MAX_N
    how = "exact" if exact else "approx"
    method = (
        f"Wilcoxon signed-rank (scipy.stats.wilcoxon, zeros dropped, {how}"
        + ("" if exact else ", tie-corrected normal approximation without continuity correction")
        + ", two-sided)"
    )
    res = stats.wilcoxon(nonzero, method=how, correction=False)
    note = f"{m} non-zero difference(s){zeros}" + ("; ties present" if ties else "")
    return TestResult(
        "Wilcoxon signed-rank", int(d.size), float(res.statistic), float(res.pvalue), method, note
    )
