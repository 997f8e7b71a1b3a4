"""Composable rules shared by every design (after the R escalation package's behaviours)."""

import pytest

from trialdesk.dosefinding import (
    BOIN,
    CRM,
    DontSkipDoses,
    DoseFindingError,
    MaxCohortsPerDose,
    StopAtN,
    StopWhenTooToxic,
    ThreePlusThree,
)


def test_stop_at_n_selects_the_inner_designs_mtd():
    d = BOIN(doses=4, target=0.3) | StopAtN(6)
    dec = d.next_dose("1NNN 2NTN")
    assert dec.stop and dec.mtd == 2 and "maximum of 6" in dec.reason
    assert dec.rule == "stop at N"
    assert not (BOIN(doses=4, target=0.3) | StopAtN(7)).next_dose("1NNN 2NTN").stop


def test_stop_when_lowest_dose_too_toxic_for_any_design():
    # Pr(p > 0.3 | 2 of 3, Beta(1, 1) prior) = Beta(3, 2) survival at 0.3 = 0.9163 > 0.9
    for base in (BOIN(doses=3, target=0.3), CRM(skeleton=(0.1, 0.2, 0.3), target=0.3)):
        assert not base.next_dose("1TTN").stop
        d = (base | StopWhenTooToxic(target=0.3, confidence=0.9)).next_dose("1TTN")
        assert d.stop and d.mtd is None and "too toxic" in d.reason
        assert d.rule == "stop when too toxic"
        assert not (base | StopWhenTooToxic(target=0.3, confidence=0.92)).next_dose("1TTN").stop
    d = (ThreePlusThree(doses=3) | StopWhenTooToxic(target=0.3)).next_dose("1TTN")
    assert d.stop and d.mtd is None


def test_dont_skip_caps_at_highest_tried_plus_one():
    crm = CRM(skeleton=(0.01, 0.02, 0.03, 0.25), target=0.25)
    assert crm.next_dose("1NNN").next_dose == 4
    d = (crm | DontSkipDoses()).next_dose("1NNN")
    assert d.next_dose == 2 and "Capped at dose 2" in d.reason


def test_dont_skip_when_deescalating():
    crm = CRM(skeleton=(0.1, 0.2, 0.3, 0.4), target=0.1)
    dec = (crm | DontSkipDoses(when_deescalating=True)).next_dose("1NNN 2NNN 3NNN 4TTT")
    assert dec.next_dose == 3


def test_max_cohorts_per_dose():
    d = BOIN(doses=3, target=0.3) | MaxCohortsPerDose(2)
    assert not d.next_dose("1NNN 2NTN").stop  # stay at dose 2, which has 1 cohort
    dec = d.next_dose("1NNN 2NTN 2NNT")  # 2/6: stay at dose 2, which has 2 cohorts
    assert dec.stop and dec.mtd == 2
    dec = d.next_dose("1NTN 1NNN 2TTN")
    assert dec.stop and "already has 2 cohorts" in dec.reason


def test_rules_compose_in_order():
    d = ThreePlusThree(doses=4) | StopAtN(9) | DontSkipDoses()
    assert "stop at n = 9" in d.describe() and "don't skip" in d.describe()
    assert d.next_dose("1NNN 2NNN 3NNN").stop


@pytest.mark.parametrize(
    "make, name",
    [
        (lambda: StopAtN(0), "StopAtN.n"),
        (lambda: StopWhenTooToxic(1.3), "target"),
        (lambda: MaxCohortsPerDose(0), "cohorts"),
    ],
)
def test_bad_rule_parameters(make, name):
    with pytest.raises(DoseFindingError, match=name):
        make()


def test_wrapping_something_else_is_an_error():
    with pytest.raises(DoseFindingError, match="Rule"):
        BOIN(doses=3, target=0.3) | 5  # type: ignore[operator]
