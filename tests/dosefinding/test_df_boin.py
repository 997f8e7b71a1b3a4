"""BOIN boundaries, decisions and MTD selection against the published values."""

import numpy as np
import pytest

from trialdesk.dosefinding import BOIN, DoseFindingError, TrialState, boin_lambdas, boundary_table
from trialdesk.dosefinding.boin import pava


@pytest.mark.parametrize(
    "target, lam_e, lam_d",
    [
        # Liu & Yuan (2015) JRSS-C 64:507, Table 1 / Yuan et al. (2016) CCR 22:4291, Table 1
        (0.20, 0.157, 0.238),
        (0.25, 0.197, 0.298),
        (0.30, 0.236, 0.358),
        (0.35, 0.276, 0.419),
        (0.40, 0.316, 0.479),
    ],
)
def test_published_lambdas(target, lam_e, lam_d):
    e, d = boin_lambdas(target)
    # the papers print 3 decimals (0.3585 appears as 0.358): agree within 0.001
    assert abs(e - lam_e) < 1e-3 and abs(d - lam_d) < 1e-3


def test_published_boundary_table_target_030():
    # Yuan et al. (2016) Clin Cancer Res 22:4291, Table 1 (target 0.3), identical to
    # BOIN::get.boundary(target = 0.3, ncohort = 4, cohortsize = 3)$full_boundary_tab
    esc = [0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2]
    de = [1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4, 5]
    eli = [None, None, 3, 3, 4, 4, 5, 5, 5, 6, 6, 7]
    rows = boundary_table(0.3, 12)
    assert [r["n"] for r in rows] == list(range(1, 13))
    assert [r["escalate_if_at_most"] for r in rows] == esc
    assert [r["deescalate_if_at_least"] for r in rows] == de
    assert [r["eliminate_if_at_least"] for r in rows] == eli


def test_published_boundary_table_target_030_cohorts_of_3_up_to_30():
    # BOIN package example get.boundary(target = 0.3, ncohort = 10, cohortsize = 3),
    # printed in Yan et al. (2020) J Stat Softw 94(13) and the BOIN tutorial
    rows = {r["n"]: r for r in boundary_table(0.3, 30)}
    ns = range(3, 31, 3)
    assert [rows[n]["escalate_if_at_most"] for n in ns] == [0, 1, 2, 2, 3, 4, 4, 5, 6, 7]
    assert [rows[n]["deescalate_if_at_least"] for n in ns] == [2, 3, 4, 5, 6, 7, 8, 9, 10, 11]
    assert [rows[n]["eliminate_if_at_least"] for n in ns] == [3, 4, 5, 7, 8, 9, 10, 11, 12, 14]


def test_deescalation_never_exceeds_elimination():
    for target in (0.1, 0.2, 0.3, 0.4):
        for r in boundary_table(target, 40):
            e = r["eliminate_if_at_least"]
            assert e is None or r["deescalate_if_at_least"] <= e


B = BOIN(doses=4, target=0.3)


@pytest.mark.parametrize(
    "outcomes, nxt, words",
    [
        ("", 1, "start at dose 1"),
        ("1NNN", 2, "escalate to dose 2"),
        ("1NNN 2NTN", 2, "stay at dose 2"),
        ("1NNN 2NTT", 1, "de-escalate to dose 1"),
        ("1NNN 2TTT", 1, "eliminated"),
        ("1NNN 2NNN 3NNN 4NNN", 4, "highest: stay"),
        ("1TTN", 1, "lowest: stay"),
    ],
)
def test_decisions(outcomes, nxt, words):
    d = B.next_dose(outcomes)
    assert d.next_dose == nxt, d.reason
    assert words in d.reason


def test_lowest_dose_eliminated_stops_without_mtd():
    d = B.next_dose("1TTT")
    assert d.stop and d.mtd is None and "eliminated" in d.reason


def test_eliminated_dose_is_never_re_entered():
    # dose 3 eliminated (3/3); back at dose 2 with 0/6 -> stay, not escalate
    d = B.next_dose("1NNN 2NNN 3TTT 2NNN")
    assert d.next_dose == 2 and "eliminated" in d.reason
    assert [s.admissible for s in d.summary] == [True, True, False, False]


def test_pava_matches_hand_computation():
    # (0.1, 0.3, 0.2) with equal weights pools the last two: (0.1, 0.25, 0.25)
    assert np.allclose(pava(np.array([0.1, 0.3, 0.2]), np.ones(3)), [0.1, 0.25, 0.25])


def test_select_mtd_published_example():
    # BOIN::select.mtd example (package documentation): target 0.3,
    # n = (3, 3, 15, 9, 0), y = (0, 0, 4, 4, 0) -> MTD = dose 3
    st = TrialState((3, 3, 15, 9, 0), (0, 0, 4, 4, 0), 4, (1, 1, 5, 3, 0))
    mtd, why = BOIN(doses=5, target=0.3).select_mtd(st)
    assert mtd == 3 and "isotonic" in why


def test_select_mtd_tie_rule():
    # doses 2 and 3 pool to the same estimate below target -> the higher one (dose 3);
    # above target -> the lower one.
    below = TrialState((3, 6, 6), (0, 2, 1), 3, (1, 2, 2))
    assert BOIN(doses=3, target=0.4).select_mtd(below)[0] == 3
    above = TrialState((3, 6, 6), (0, 2, 1), 3, (1, 2, 2))
    assert BOIN(doses=3, target=0.2).select_mtd(above)[0] == 2


@pytest.mark.parametrize(
    "kw, name",
    [
        ({"target": 1.2}, "target"),
        ({"target": 0.0}, "target"),
        ({"target": 0.3, "p_saf": 0.4}, "p_saf"),
        ({"target": 0.3, "p_tox": 0.2}, "p_tox"),
        ({"target": 0.8}, "p_tox"),
    ],
)
def test_bad_parameters_named(kw, name):
    with pytest.raises(DoseFindingError, match=name):
        BOIN(doses=4, **kw)
