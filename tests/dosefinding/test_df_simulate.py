"""Vectorized simulation and exact operating characteristics, checked three ways:
against plain one-trial-at-a-time ports of the published algorithms on the same patients,
against closed forms, and exact enumeration against Monte Carlo."""

import numpy as np
import pytest

from trialdesk.dosefinding import (
    BOIN,
    DoseFindingError,
    StopAtN,
    ThreePlusThree,
    exact_oc,
    make_design,
    simulate,
)
from trialdesk.dosefinding.automaton import compiled
from trialdesk.dosefinding.reference import simulate_plain
from trialdesk.dosefinding.simulate import exact_distribution, run_trials, tolerances

TRUTH = (0.05, 0.12, 0.30, 0.45)


@pytest.mark.parametrize(
    "kind, design, kw, trials",
    [
        ("3+3", ThreePlusThree(doses=4), {}, 3000),
        ("boin", BOIN(doses=4, target=0.3), {"target": 0.3, "ncohort": 8, "cohortsize": 3}, 600),
        (
            "crm",
            make_design("crm", 4, target=0.3, skeleton=(0.1, 0.2, 0.3, 0.4)),
            {"skeleton": (0.1, 0.2, 0.3, 0.4), "target": 0.3, "ncohort": 8, "cohortsize": 3},
            150,
        ),
    ],
)
def test_same_patients_same_mtd_as_plain_reference(kind, design, kw, trials):
    u = tolerances(trials, 24, seed=11)
    ref = simulate_plain(kind, u, TRUTH, **kw)
    nodes = run_trials(design, TRUTH, u, 3, 24)
    assert np.array_equal(compiled(design, 3, 24).mtd[nodes], ref)


def _p_escalate_past_first(p):
    # Closed form for 3+3 (Storer 1989; Lin & Shih 2001): 0/3, or 1/3 then 0/3
    return (1 - p) ** 3 + 3 * p * (1 - p) ** 2 * (1 - p) ** 3


@pytest.mark.parametrize("p", [0.05, 0.2, 0.35, 0.6])
def test_3p3_escalation_probability_closed_form(p):
    design = ThreePlusThree(doses=2)
    truth = (p, 0.99)
    # Monte Carlo, within 4.5 standard errors
    trials = 20000
    nodes = run_trials(design, truth, tolerances(trials, 12, seed=3), 3, 12)
    est = (compiled(design, 3, 12).n[nodes][:, 1] > 0).mean()
    se = np.sqrt(_p_escalate_past_first(p) * (1 - _p_escalate_past_first(p)) / trials)
    assert abs(est - _p_escalate_past_first(p)) < 4.5 * se
    # and exactly, by enumerating the dose paths
    nodes, prob, auto = exact_distribution(design, truth, 3, 4)
    exact = prob[auto.n[nodes][:, 1] > 0].sum()
    assert abs(exact - _p_escalate_past_first(p)) < 1e-12


def test_exact_agrees_with_simulation_boin():
    design = BOIN(doses=4, target=0.3)
    ex = exact_oc(design, TRUTH, cohort_size=3, n_cohorts=5)
    mc = simulate(design, TRUTH, cohort_size=3, max_n=15, trials=40000, seed=7)
    for a, b, se in zip(ex.prob_select, mc.prob_select, mc.se_prob_select, strict=True):
        assert abs(a - b) < 4.5 * max(se, 1e-3)
    assert abs(ex.mean_n - mc.mean_n) < 0.01  # all 15 patients unless dose 1 is eliminated
    assert abs(sum(ex.prob_select) + ex.prob_no_mtd - 1) < 1e-12


def test_exact_oc_3p3_sums_and_sample_size():
    ex = exact_oc(ThreePlusThree(doses=4), TRUTH, 3, 8, target=0.3)
    assert abs(sum(ex.prob_select) + ex.prob_no_mtd - 1) < 1e-12
    assert 6 <= ex.mean_n <= 24
    assert ex.trials is None and ex.to_dict()["method"] == "exact"


def test_reproducible_for_a_seed_and_seed_matters():
    d = BOIN(doses=4, target=0.3)
    a = simulate(d, TRUTH, trials=3000, seed=5)
    b = simulate(d, TRUTH, trials=3000, seed=5)
    c = simulate(d, TRUTH, trials=3000, seed=6)
    assert a == b and a != c


def test_common_patients_make_identical_designs_identical():
    u = tolerances(5000, 24, seed=2)
    a = simulate(ThreePlusThree(doses=4), TRUTH, u=u, target=0.3)
    b = simulate(ThreePlusThree(doses=4) | StopAtN(24), TRUTH, u=u, target=0.3)
    assert np.allclose(a.prob_select, b.prob_select, atol=1e-12)
    assert abs(a.mean_n - b.mean_n) < 1e-9


def test_pct_above_true_mtd():
    # everything at dose 1 is "above" when no dose is below target
    r = exact_oc(ThreePlusThree(doses=2), (0.5, 0.6), 3, 4, target=0.3)
    assert r.true_mtd is None and abs(r.pct_above_mtd - 100.0) < 1e-9


@pytest.mark.parametrize(
    "truth, msg",
    [
        ((0.1, 0.2, 0.3), "expected 4 values"),
        ((0.1, 0.2, 0.3, 1.0), r"truth\[4\]: must be strictly between 0 and 1"),
        ((0.1, 0.2, 0.3, -0.1), r"truth\[4\]"),
        ((0.1, 0.3, 0.2, 0.4), "must not decrease"),
    ],
)
def test_bad_truth(truth, msg):
    with pytest.raises(DoseFindingError, match=msg):
        simulate(BOIN(doses=4, target=0.3), truth, trials=10)


def test_bad_sizes():
    with pytest.raises(DoseFindingError, match="max_n: must be a multiple"):
        simulate(BOIN(doses=4, target=0.3), TRUTH, cohort_size=3, max_n=20, trials=10)
    with pytest.raises(DoseFindingError, match="trials"):
        simulate(BOIN(doses=4, target=0.3), TRUTH, trials=0)


@pytest.mark.parametrize(
    "design",
    [ThreePlusThree(doses=4), BOIN(doses=4, target=0.3), make_design("crm", 4, target=0.3)],
)
def test_full_trial_simulation_agrees_with_exact_enumeration(design):
    # the whole trial (8 cohorts of 3): Monte Carlo within 4.5 SE of the exact answer
    ex = exact_oc(design, TRUTH, 3, 8, target=0.3)
    mc = simulate(design, TRUTH, 3, 24, trials=30000, seed=13, target=0.3)
    for a, b, se in zip(ex.prob_select, mc.prob_select, mc.se_prob_select, strict=True):
        assert abs(a - b) < 4.5 * max(se, 5e-4)
    assert abs(ex.mean_n - mc.mean_n) < 0.1
    assert abs(ex.pct_above_mtd - mc.pct_above_mtd) < 1.0


def test_3p3_without_deescalation_selection_closed_form():
    # Lin & Shih (2001), traditional 3+3 without de-escalation: with
    # e_i = (1-p_i)^3 + 3 p_i (1-p_i)^2 (1-p_i)^3 the probability of escalating past dose i,
    # P(MTD = i) = e_1 ... e_i (1 - e_{i+1}), P(MTD = K) = e_1 ... e_K, P(none) = 1 - e_1.
    truth = (0.1, 0.2, 0.35, 0.5)
    e = [_p_escalate_past_first(p) for p in truth]
    expect = []
    run = 1.0
    for i in range(4):
        run *= e[i]
        expect.append(run * (1 - e[i + 1]) if i < 3 else run)
    design = ThreePlusThree(doses=4, allow_deescalation=False, confirm_top_dose=False)
    ex = exact_oc(design, truth, 3, 8, target=0.3)
    assert np.allclose(ex.prob_select, expect, atol=1e-12)
    assert abs(ex.prob_no_mtd - (1 - e[0])) < 1e-12
