"""3+3 decisions (Storer 1989; Lin & Shih 2001 A+B designs) with their reasons."""

import pytest

from trialdesk.dosefinding import DoseFindingError, ThreePlusThree

D = ThreePlusThree(doses=4)


@pytest.mark.parametrize(
    "outcomes, next_dose, mtd, words",
    [
        ("", 1, None, "start at the lowest dose"),
        ("1NNN", 2, None, "escalate to dose 2"),
        ("1NNN 2NTN", 2, None, "expand dose 2 to 6"),
        ("1NNN 2NTN 2NNN", 3, None, "1/6 DLTs at dose 2"),
        ("1NNN 2NTN 2NTN", 1, None, "de-escalate to dose 1"),
        ("1NNN 2TTN", 1, None, "de-escalate to dose 1"),
        ("1NNN 2TTN 1NNN", None, 1, "dose 1 is the MTD"),
        ("1NTN 1NNN 2TTN", None, 1, "dose 1 below (1/6) is the MTD"),
        ("1NNN 2NNN 3TTN 2NNN", None, 2, "dose 2 is the MTD"),
        ("1NNN 2NNN 3TTN 2NTT", 1, None, "de-escalate to dose 1"),
        ("1NNN 2NNN 3TTN 2NTT 1NNN", None, 1, "dose 1"),
        ("1TTN", None, None, "no MTD"),
        ("1NTN 1NTN", None, None, "no MTD"),
        ("1NNN 2NNN 3NNN 4NNN", 4, None, "confirm"),
        ("1NNN 2NNN 3NNN 4NNN 4NNT", None, 4, "dose 4 is the MTD"),
        ("1NNN 2NNN 3NNN 4NTN 4TNN", 3, None, "de-escalate to dose 3"),
        ("1NN", 1, None, "not complete"),
    ],
)
def test_classic_rule(outcomes, next_dose, mtd, words):
    d = D.next_dose(outcomes)
    assert d.next_dose == next_dose, d.reason
    assert d.mtd == mtd, d.reason
    assert words in d.reason


def test_summary_counts():
    d = D.next_dose("1NNN 2NTN")
    assert [(s.dose, s.n, s.dlt) for s in d.summary] == [(1, 3, 0), (2, 3, 1), (3, 0, 0), (4, 0, 0)]


def test_variant_without_deescalation_stops_at_once():
    # Lin & Shih (2001) A+B without de-escalation: too toxic at dose i -> MTD = dose i - 1
    d = ThreePlusThree(doses=4, allow_deescalation=False).next_dose("1NNN 2NNN 3TTN")
    assert d.stop and d.mtd == 2 and "without de-escalation" in d.reason
    d = ThreePlusThree(doses=4, allow_deescalation=False).next_dose("1TTN")
    assert d.stop and d.mtd is None


def test_variant_two_plus_four():
    # A+B with A = 2, B = 4: escalate on 0/2, expand on 1/2, escalate on <= 1/6
    d = ThreePlusThree(doses=3, a=2, b=4)
    assert d.next_dose("1NN").next_dose == 2
    assert d.next_dose("1NT").next_dose == 1
    assert d.next_dose("1NT 1NNNN").next_dose == 2


@pytest.mark.parametrize(
    "kw, name",
    [
        ({"doses": 0}, "doses"),
        ({"doses": 3, "a": 0}, "a"),
        ({"doses": 3, "expand_max": 9}, "expand_max"),
    ],
)
def test_bad_parameters(kw, name):
    with pytest.raises(DoseFindingError, match=name):
        ThreePlusThree(**kw)


def test_outcome_dose_out_of_range():
    with pytest.raises(DoseFindingError, match="out of range 1..4"):
        D.next_dose("1NNN 5NNN")
