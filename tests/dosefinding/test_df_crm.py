"""CRM (O'Quigley, Pepe & Fisher 1990) against Cheung (2011) and independent integration."""

import math

import numpy as np
import pytest
from scipy.integrate import quad

from trialdesk.dosefinding import CRM, DoseFindingError, TrialState, make_design
from trialdesk.dosefinding.skeleton import getprior

SKEL = (0.05, 0.12, 0.25, 0.40, 0.55)  # Cheung (2011), Table 3.1 skeleton


def test_cheung_table_3_1_dose_labels():
    # Cheung (2011) Table 3.1, p.19: logistic model, a0 = 3 -> x = logit(s) - 3
    crm = CRM(skeleton=SKEL, target=0.25, model="logistic", a0=3)
    assert np.allclose(crm.dose_labels, [-5.94, -4.99, -4.10, -3.41, -2.80], atol=0.005)
    crm0 = CRM(skeleton=SKEL, target=0.25, model="logistic", a0=0)
    assert np.allclose(crm0.dose_labels, [-2.94, -1.99, -1.10, -0.41, 0.20], atol=0.005)


def test_cheung_logistic_example_p21():
    # Cheung (2011) p.21 (dfcrm::crm(prior = SKEL, target = 0.25, tox = c(0,0,1,0,0),
    # level = c(3,5,5,3,4), model = "logistic", intcpt = 3)), as quoted in the trialr test
    # suite (tests/testthat/test_stan_crm.R): beta_hat = 0.28, recommended dose 4,
    # plug-in DLT probabilities 0.01, 0.03, 0.08, 0.18, 0.33.
    crm = CRM(skeleton=SKEL, target=0.25, model="logistic", a0=3)
    d = crm.next_dose("3N 5N 5T 3N 4N")
    assert d.next_dose == 4
    assert round(d.details["beta_mean"], 2) == 0.28
    assert [round(p, 2) for p in d.details["prob_tox"]] == [0.01, 0.03, 0.08, 0.18, 0.33]


def _quad_posterior(crm: CRM, n, y):
    x = crm.dose_labels
    s2 = crm.prior_sd**2

    def lik(b):
        with np.errstate(over="ignore"):
            if crm.model == "empiric":
                p = x ** math.exp(b)
            else:
                p = 1 / (1 + np.exp(-(crm.a0 + math.exp(b) * x)))
        p = np.clip(p, 1e-300, 1 - 1e-16)
        return math.exp(-b * b / 2 / s2 + float(np.sum(y * np.log(p) + (n - y) * np.log1p(-p))))

    pts = np.linspace(-10, 10, 81)
    z = sum(
        quad(lik, a, b, epsabs=0, epsrel=1e-12)[0] for a, b in zip(pts[:-1], pts[1:], strict=False)
    )
    m = (
        sum(
            quad(lambda t: t * lik(t), a, b, epsabs=0, epsrel=1e-12)[0]
            for a, b in zip(pts[:-1], pts[1:], strict=False)
        )
        / z
    )
    return m


@pytest.mark.parametrize("model", ["empiric", "logistic"])
def test_posterior_mean_agrees_with_adaptive_quadrature(model):
    crm = CRM(skeleton=SKEL, target=0.25, model=model)
    rng = np.random.default_rng(5)
    for _ in range(3):
        n = rng.integers(0, 4, 5) * 3
        n[0] += 3
        y = np.array([rng.integers(0, k + 1) for k in n])
        m, _ = crm.posterior(n[None, :], y[None, :])
        assert abs(m[0] - _quad_posterior(crm, n, y)) < 1e-8


def test_cheung_sequence_estimate_by_estimate_is_consistent():
    # the same example patient by patient: every step uses only the counts so far, and the
    # final step equals the full-data fit
    crm = CRM(skeleton=SKEL, target=0.25, model="logistic", a0=3)
    seq = ["3N", "5N", "5T", "3N", "4N"]
    est = [crm.next_dose(" ".join(seq[: i + 1])).details["beta_mean"] for i in range(5)]
    assert est[0] > 0 and est[1] > est[0] and est[2] < est[1]  # DLT lowers beta
    assert round(est[-1], 2) == 0.28


def test_no_skipping_by_default_and_allowed_on_request():
    skel = (0.02, 0.05, 0.10, 0.25)
    safe = make_design("crm", 4, target=0.25, skeleton=skel)
    d = safe.next_dose("1NNN")
    assert d.next_dose == 2 and "never skipped" in d.reason
    assert (
        make_design("crm", 4, target=0.25, skeleton=skel, skip_doses=True)
        .next_dose("1NNN")
        .next_dose
        > 2
    )
    assert safe.next_dose("").next_dose == 1


def test_getprior_has_the_indifference_interval_property():
    # Lee & Cheung (2009) Clin Trials 6:227: adjacent doses swap at target +/- halfwidth:
    # for the beta where dose k sits at target - delta, dose k+1 sits at target + delta
    # (empiric model p = s ** exp(beta)); and the prior MTD nu has skeleton value = target.
    skel = getprior(0.05, 0.25, 3, 5)
    assert skel[2] == 0.25
    for k in range(4):
        b = math.log(math.log(0.20) / math.log(skel[k]))
        assert abs(skel[k + 1] ** math.exp(b) - 0.30) < 1e-9


@pytest.mark.parametrize(
    "kw, name",
    [
        ({"skeleton": (0.1, 0.3, 0.2)}, "strictly increasing"),
        ({"skeleton": (0.1, 1.2)}, r"skeleton\[2\]"),
        ({"target": 1.5}, "target"),
        ({"model": "probit"}, "model"),
        ({"prior_sd": 0}, "prior_sd"),
    ],
)
def test_bad_parameters_named(kw, name):
    args = {"skeleton": SKEL, "target": 0.25, **kw}
    with pytest.raises(DoseFindingError, match=name):
        CRM(**args)


def test_state_dose_count_mismatch():
    with pytest.raises(DoseFindingError, match="doses"):
        CRM(skeleton=SKEL, target=0.25).decide(TrialState.empty(3))


def test_cheung_trial_dose_by_dose_and_estimate_by_estimate():
    # Cheung (2011) ch. 3 example (skeleton 0.05..0.55, target 0.25, logistic, a0 = 3):
    # patients at levels 3, 5, 5, 3, 4 with outcomes N N T N N, each dose the CRM's own
    # recommendation. Reference values: dfcrm::crm (R integrate(), method = "bayes"),
    # transcribed from cran/dfcrm R/dfcrm.R and run in R 4.2.2 — beta_hat, posterior
    # variance, and the recommended dose after each patient. The final row is Cheung's
    # p. 21 result (beta_hat = 0.28, next dose 4).
    ref = [
        (0.598699, 0.823450, 5),
        (0.934874, 0.589818, 5),
        (0.043501, 0.205387, 3),
        (0.181631, 0.122523, 4),
        (0.279461, 0.090703, 4),
    ]
    crm = CRM(skeleton=SKEL, target=0.25, model="logistic", a0=3)
    seq = ["3N", "5N", "5T", "3N", "4N"]
    for i, (beta, var, dose) in enumerate(ref):
        d = crm.next_dose(" ".join(seq[: i + 1]))
        assert abs(d.details["beta_mean"] - beta) < 5e-6
        assert abs(d.details["beta_var"] - var) < 5e-6
        assert d.next_dose == dose
        if i + 1 < len(seq):  # the next patient got the recommended dose
            assert int(seq[i + 1][0]) == dose
