"""Baseline characteristics on a fixed synthetic trial, computed by hand."""

from __future__ import annotations

import math
from datetime import date

import pytest
from scipy import stats

from trialdesk.analysis.baseline import baseline_characteristics
from trialdesk.analysis.synthetic import dataset, dose, participant, visit


def trial():
    """P01 male, born 1970-06-15, screened 2026-01-01: 55; P02 female born 1986-01-01: 40;
    P03 male born 1965-01-02: 60 (a day short of 61). DL1: P01, P02; DL2: P03 (no D1 visit).
    S-1: a screen failure (not in the table)."""
    ps = [
        participant("P01"),
        participant("P02", sex="female", birth_date=date(1986, 1, 1)),
        participant("P03", dose_level="DL2", cohort=2, birth_date=date(1965, 1, 2)),
        participant("S-1", status="screen_failed"),
    ]
    doses = [dose("P01", date(2026, 1, 5)), dose("P02", date(2026, 1, 6)),
             dose("P03", date(2026, 2, 1), dose_level="DL2")]  # fmt: skip
    vs = [
        visit("P01", "D1", date(2026, 1, 5), meld=15, ctp_points=8, ctp_class="B"),
        visit("P02", "D1", date(2026, 1, 6), meld=18, ctp_points=10, ctp_class="C"),
    ]
    return dataset(participants=ps, doses=doses, visits=vs)


def test_baseline_by_hand():
    everyone, dl1, dl2 = baseline_characteristics(trial())
    assert [c.group.id for c in (everyone, dl1, dl2)] == ["All", "DL1", "DL2"]
    assert everyone.group.subject_ids == ("P01", "P02", "P03")
    ages = everyone.age.summary
    assert (ages.n, ages.mean, ages.median) == (3, pytest.approx((55 + 40 + 60) / 3), 55.0)
    # deviations from 51.667: 3.333, -11.667, 8.333 -> SS 11.111 + 136.111 + 69.444 = 216.667
    assert ages.sd == pytest.approx(math.sqrt(216.6667 / 2), rel=1e-5)
    assert ages.ci_low == pytest.approx(
        stats.t.interval(0.95, 2, loc=155 / 3, scale=stats.sem([55, 40, 60]))[0]
    )
    assert [(c.value, c.subject_ids, c.percent) for c in everyone.sex] == [
        ("female", ("P02",), pytest.approx(100 / 3)),
        ("male", ("P01", "P03"), pytest.approx(200 / 3)),
    ]
    assert [(c.value, c.n) for c in everyone.country] == [("Viet Nam", 3)]
    meld = everyone.score("meld")
    assert (meld.name, meld.summary.n, meld.summary.mean, meld.missing) == (
        "MELD",
        2,
        16.5,
        ("P03",),
    )
    assert dl1.score("MELD").summary.sd == pytest.approx(math.sqrt(4.5))  # 15, 18
    assert dl2.score("meld").summary.n == 0 and dl2.score("meld").summary.mean is None
    assert [(c.value, c.subject_ids) for c in everyone.child_pugh_class] == [
        ("A", ()), ("B", ("P01",)), ("C", ("P02",)), ("unknown", ("P03",)),
    ]  # fmt: skip
    assert everyone.score("Child-Pugh points").summary.median == 9.0
    with pytest.raises(KeyError, match="albi"):
        everyone.score("albi")
