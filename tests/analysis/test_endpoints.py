"""Change from baseline: a fixed synthetic trial with the expected tables computed by hand
(the arithmetic is written beside each number), the tests' p values checked against SciPy /
the t and normal distributions computed independently here, each window rule, the missing
data reasons, and the small samples that are "not estimable"."""

from __future__ import annotations

import math
import warnings
from datetime import date, timedelta

import numpy as np
import pytest
from scipy import stats

from trialdesk.analysis.endpoints import change_from_baseline, endpoint_table
from trialdesk.analysis.stats import describe, paired_t, signed_rank
from trialdesk.analysis.synthetic import dataset, dose, participant, visit

DAY1 = {
    "P01": date(2026, 1, 5),
    "P02": date(2026, 1, 10),
    "P03": date(2026, 1, 15),
    "P04": date(2026, 2, 1),
    "P05": date(2027, 1, 10),
}
LEVEL = {"P01": "DL1", "P02": "DL1", "P03": "DL1", "P04": "DL2", "P05": "DL2"}


def on(sid: str, study_day: int) -> date:
    """The date of study day ``study_day`` (day 1 = infusion, no day 0)."""
    return DAY1[sid] + timedelta(days=study_day - 1)


def trial():
    """Five dosed participants (data cut 2027-06-30, the builder's default):

    sid  level baseline D1   M3 (study day, MELD)        M6                end
    P01  DL1   15            day 91, 12  (in window)     day 181, 11        M12 missed
    P02  DL1   18            day 110, 17 (late)          day 181, unknown
    P03  DL1   20            none (D28 done on day 65,   -                  died day 150
                             MELD 19, late)
    P04  DL2   12            day 91, 12                  -                  withdrawn day 120
    P05  DL2   16            day 91, 13                  (window open at the cut)
    """
    sids = sorted(DAY1)
    ps = [
        participant(s, dose_level=LEVEL[s], cohort=1 if LEVEL[s] == "DL1" else 2)
        for s in sids
        if s not in ("P03", "P04")
    ]
    ps.append(participant("P03", end_status="died", end_date=on("P03", 150)))
    ps.append(
        participant(
            "P04", dose_level="DL2", cohort=2, end_status="withdrawn", end_date=on("P04", 120)
        )  # fmt: skip
    )
    doses = [dose(s, DAY1[s], dose_level=LEVEL[s]) for s in sids]
    base = {"P01": 15, "P02": 18, "P03": 20, "P04": 12, "P05": 16}
    vs = [visit(s, "D1", DAY1[s], meld=base[s], ctp_points=8) for s in sids]
    vs += [
        visit("P01", "M3", on("P01", 91), meld=12, ctp_points=7),
        visit("P02", "M3", on("P02", 110), meld=17, window_status="late", ctp_points=8),
        visit("P03", "D28", on("P03", 65), meld=19, window_status="late"),
        visit("P04", "M3", on("P04", 91), meld=12, ctp_points=8),
        visit("P05", "M3", on("P05", 91), meld=13, ctp_points=6),
        visit("P01", "M6", on("P01", 181), meld=11),
        visit("P02", "M6", on("P02", 181), meld=None),
    ]
    return dataset(participants=ps, doses=doses, visits=vs)


T3 = stats.t.ppf(0.975, 3)  # 3.182446305284263 (t table, 3 df)


def test_month_3_include_rule_by_hand():
    r = change_from_baseline(trial(), "meld", "M3")
    assert (r.baseline_code, r.window_rule, r.group) == ("D1", "include", "All")
    assert r.expected == ("P01", "P02", "P03", "P04", "P05")
    # changes: P01 12-15 = -3, P02 17-18 = -1 (late, used), P04 12-12 = 0, P05 13-16 = -3
    assert [(o.subject_id, o.change) for o in r.observations] == [
        ("P01", -3.0), ("P02", -1.0), ("P04", 0.0), ("P05", -3.0),
    ]  # fmt: skip
    assert r.out_of_window == ("P02",)
    assert [(m.subject_id, m.reason) for m in r.missing] == [("P03", "missed")]
    c = r.change
    assert c.n == 4
    assert c.mean == pytest.approx(-1.75)  # -7 / 4
    # deviations -1.25, 0.75, 1.75, -1.25; squares 1.5625 + 0.5625 + 3.0625 + 1.5625 = 6.75
    assert c.sd == pytest.approx(1.5)  # sqrt(6.75 / 3)
    # 95% CI: -1.75 +/- 3.182446 * 1.5 / 2 = -1.75 +/- 2.386835
    assert c.ci_low == pytest.approx(-1.75 - T3 * 0.75) == pytest.approx(-4.136834729)
    assert c.ci_high == pytest.approx(0.636834729)
    # sorted -3, -3, -1, 0; linear quantiles at positions 0.75, 1.5, 2.25
    assert (c.q1, c.median, c.q3) == (-3.0, -2.0, -0.75)
    assert c.iqr == 2.25 and (c.minimum, c.maximum) == (-3.0, 0.0)
    # paired t: t = -1.75 / 0.75 = -2.3333, 3 df
    assert r.t_test.statistic == pytest.approx(-7 / 3)
    assert r.t_test.p_value == pytest.approx(2 * stats.t.cdf(-7 / 3, 3))
    assert r.t_test.p_value == pytest.approx(
        stats.ttest_rel([12, 17, 12, 13], [15, 18, 12, 16]).pvalue
    )
    # Wilcoxon: zero (P04) dropped; |d| = 3, 1, 3 -> ranks 2.5, 1, 2.5; W+ = 0, W- = 6
    # tie-corrected normal approximation: mean 3*4/4 = 3, var 3*4*7/24 - (2^3-2)/48 = 3.375
    w = r.wilcoxon
    assert w.statistic == 0.0 and "approx" in w.method and "1 zero" in w.note
    assert w.p_value == pytest.approx(2 * stats.norm.cdf((0 - 3) / math.sqrt(3.375)))
    # baseline and month-3 values of the same four
    assert r.baseline_summary.mean == pytest.approx((15 + 18 + 12 + 16) / 4)
    assert r.value_summary.mean == pytest.approx((12 + 17 + 12 + 13) / 4)


def test_month_3_exclude_and_nearest_rules():
    ds = trial()
    ex = change_from_baseline(ds, "meld", "M3", window_rule="exclude")
    assert ex.observed == ("P01", "P04", "P05")
    assert ex.missing_by_reason() == {"out of window": ("P02",), "missed": ("P03",)}
    # changes -3, 0, -3: mean -2; deviations -1, 2, -1 -> SD sqrt(6 / 2) = sqrt(3)
    assert ex.change.mean == pytest.approx(-2.0) and ex.change.sd == pytest.approx(math.sqrt(3))
    # nearest: analysis window of M3 = (59.5, 136] (midpoints 28|91 and 91|181); P03's late
    # D28 on day 65 is the nearest visit to day 91 in it: 19 - 20 = -1
    near = change_from_baseline(ds, "meld", "M3", window_rule="nearest")
    assert near.observed == ("P01", "P02", "P03", "P04", "P05") and near.missing == ()
    p03 = next(o for o in near.observations if o.subject_id == "P03")
    assert (p03.visit_code, p03.study_day, p03.change) == ("D28", 65, -1.0)
    assert near.out_of_window == ("P02", "P03")
    assert near.change.mean == pytest.approx((-3 - 1 - 1 + 0 - 3) / 5)


def test_month_6_missing_reasons_and_n_of_one():
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no RuntimeWarning, no NaN
        r = change_from_baseline(trial(), "meld", "M6")
    assert r.observed == ("P01",)
    assert r.missing_by_reason() == {
        "score unknown": ("P02",),  # M6 done, MELD not computable
        "died": ("P03",),  # died day 150, before the M6 window closed (day 195)
        "withdrawn": ("P04",),  # withdrawn day 120
        "not yet due": ("P05",),  # 2027-01-10 + 194 days = 2027-07-23, after the cut
    }
    c = r.change
    assert (c.n, c.mean, c.median, c.sd, c.ci_low, c.ci_high) == (1, -4.0, -4.0, None, None, None)
    assert "n = 1" in c.notes[0]
    assert not r.t_test.estimable and r.t_test.note == "not estimable: n < 2"
    # one non-zero difference: the exact p would be 1 whatever it is -> not estimable
    assert not r.wilcoxon.estimable and "one non-zero difference" in r.wilcoxon.note
    m12 = change_from_baseline(trial(), "meld", "M12")
    assert m12.change.n == 0 and m12.change.mean is None and not m12.wilcoxon.estimable
    assert m12.missing_by_reason()["missed"] == ("P01", "P02")  # windows closed before the cut


def test_by_dose_level_and_cohort():
    rows = endpoint_table(trial(), ("meld",), ("M3",), by="dose_level")
    assert [(r.group, r.observed) for r in rows] == [
        ("All", ("P01", "P02", "P04", "P05")),
        ("DL1", ("P01", "P02")),
        ("DL2", ("P04", "P05")),
    ]
    dl1, dl2 = rows[1].change, rows[2].change
    assert dl1.mean == pytest.approx(-2.0) and dl1.sd == pytest.approx(math.sqrt(2))
    # DL2: 0 and -3: mean -1.5, SD sqrt((1.5^2 + 1.5^2) / 1) = 2.12132
    assert dl2.mean == pytest.approx(-1.5) and dl2.sd == pytest.approx(math.sqrt(4.5))
    t1 = stats.t.ppf(0.975, 1)  # 12.7062
    assert dl2.ci_low == pytest.approx(-1.5 - t1 * math.sqrt(4.5) / math.sqrt(2))
    by_cohort = endpoint_table(trial(), ("meld",), ("M3",), by="cohort")
    assert [r.group for r in by_cohort] == ["All", "cohort 1", "cohort 2"]
    assert by_cohort[2].observed == ("P04", "P05")
    full = endpoint_table(trial())
    assert len(full) == 4 * 3 and {r.score for r in full} == {
        "meld",
        "meld_na",
        "meld3",
        "ctp_points",
    }
    ctp = next(r for r in full if r.score == "ctp_points" and r.time_point == "M3")
    assert [o.change for o in ctp.observations] == [-1.0, 0.0, 0.0, -2.0]
    meld_na = next(r for r in full if r.score == "meld_na" and r.time_point == "M3")
    assert meld_na.observed == () and {m.reason for m in meld_na.missing} == {"no baseline"}


def test_bad_arguments_name_the_parameter():
    ds = trial()
    with pytest.raises(ValueError, match="window_rule 'latest'"):
        change_from_baseline(ds, window_rule="latest")
    with pytest.raises(ValueError, match="score 'albi'"):
        change_from_baseline(ds, "albi")
    with pytest.raises(ValueError, match="time point 'M24' is not a visit"):
        change_from_baseline(ds, time_point="M24")
    with pytest.raises(ValueError, match="not after the baseline"):
        change_from_baseline(ds, time_point="SCR")
    with pytest.raises(KeyError, match="DL7"):
        change_from_baseline(ds, group="DL7")
    with pytest.raises(ValueError, match="by 'site'"):
        endpoint_table(ds, by="site")


def test_statistics_agree_with_numpy_and_scipy_on_a_larger_sample():
    rng = np.random.default_rng(20261204)
    d = np.round(rng.normal(-1.2, 2.5, 23), 0)  # integer changes: zeros and ties occur
    s = describe(d)
    assert s.mean == pytest.approx(d.mean()) and s.sd == pytest.approx(d.std(ddof=1))
    lo, hi = stats.t.interval(0.95, len(d) - 1, loc=d.mean(), scale=stats.sem(d))
    assert (s.ci_low, s.ci_high) == (pytest.approx(lo), pytest.approx(hi))
    assert s.median == pytest.approx(np.median(d))
    assert s.q1 == pytest.approx(np.quantile(d, 0.25)) and s.q3 == pytest.approx(
        np.quantile(d, 0.75)
    )
    t = paired_t(d)
    assert t.p_value == pytest.approx(stats.ttest_1samp(d, 0).pvalue)
    w = signed_rank(d)
    ref = stats.wilcoxon(d, zero_method="wilcox", correction=False, method="approx")
    assert (w.statistic, w.p_value) == (pytest.approx(ref.statistic), pytest.approx(ref.pvalue))
    # no ties, no zeros: the exact distribution (n = 6: W- = 1 + 2 = 3, P(W <= 3) = 5/64)
    e = signed_rank([-1.0, -2.0, 3.0, 4.0, 5.0, 6.0])
    assert e.statistic == 3.0 and e.p_value == pytest.approx(2 * 5 / 64)


def test_degenerate_samples_are_not_estimable_without_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        empty = describe([])
        assert empty.n == 0 and empty.mean is None and empty.notes == ("not estimable: no values",)
        same = [-2.0, -2.0, -2.0]
        s = describe(same)
        assert (s.mean, s.sd, s.ci_low, s.ci_high) == (-2.0, 0.0, -2.0, -2.0)
        t = paired_t(same)
        assert t.p_value is None and "all differences are equal" in t.note
        w = signed_rank(same)  # ties only: approximation, W+ = 0
        assert w.estimable and w.statistic == 0.0
        assert not signed_rank([0.0, -3.0]).estimable  # one non-zero difference
        two = signed_rank([-1.0, -3.0])  # exact: P(W+ = 0) = 1/4, two-sided 1/2
        assert two.p_value == pytest.approx(0.5)
        zeros = signed_rank([0.0, 0.0])
        assert not zeros.estimable and "no non-zero differences" in zeros.note
        assert not paired_t([0.0, 0.0]).estimable
    with pytest.raises(ValueError, match="finite"):
        describe([1.0, float("nan")])


def test_values_by_visit_for_the_plot():
    from trialdesk.analysis.endpoints import values_by_visit

    rows = {r.code: r for r in values_by_visit(trial(), "meld")}
    assert list(rows) == ["D1", "D7", "D14", "D28", "M3", "M6", "M12"]  # from baseline on
    assert [x for *_, x in rows["D1"].values] == [15.0, 18.0, 20.0, 12.0, 16.0]
    assert rows["D1"].summary.mean == pytest.approx(81 / 5)
    # include: M3 by code (P02's late visit too); P03 has none
    assert [(s, d, x) for s, d, x in rows["M3"].values] == [
        ("P01", 91, 12.0), ("P02", 110, 17.0), ("P04", 91, 12.0), ("P05", 91, 13.0),
    ]  # fmt: skip
    assert rows["M3"].summary.mean == pytest.approx(54 / 4)
    assert rows["D28"].values == (("P03", 65, 19.0),)
    assert rows["M6"].values == (("P01", 181, 11.0),)  # P02's M6 score unknown: left out
    assert rows["M12"].values == () and rows["M12"].summary.n == 0
    near = {r.code: r for r in values_by_visit(trial(), "meld", window_rule="nearest")}
    assert near["D28"].values == () and ("P03", 65, 19.0) in near["M3"].values
    dl2 = {r.code: r for r in values_by_visit(trial(), "meld", group="DL2")}
    assert [s for s, *_ in dl2["M3"].values] == ["P04", "P05"]
