"""Operating characteristics: vectorized simulation and exact enumeration.

Patients are latent tolerances (O'Quigley, Paoletti & Maccario 2002, "Non-parametric optimal
design in dose finding studies", Biostatistics 3:51-56): patient i of a simulated trial has u_i ~ Uniform(0, 1)
and has a DLT at dose k iff u_i < p_k. Designs simulated with the same tolerances are
compared on the same patients. All trials advance together, one cohort at a time, through
the design's compiled automaton (:mod:`trialdesk.dosefinding.automaton`); Python never loops
over trials.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass

import numpy as np
from scipy.stats import binom

from trialdesk.dosefinding.automaton import compiled
from trialdesk.dosefinding.design import Design, check_int, check_prob, check_probs
from trialdesk.dosefinding.errors import DoseFindingError

CHUNK = 200_000


@dataclass(frozen=True)
class OperatingCharacteristics:
    """Per-dose and overall results (probabilities as fractions, not percent)."""

    design: str
    truth: tuple[float, ...]
    target: float | None
    true_mtd: int | None
    cohort_size: int
    max_n: int
    trials: int | None  # None = exact enumeration
    prob_select: list[float]
    prob_no_mtd: float
    mean_n_per_dose: list[float]
    mean_dlt_per_dose: list[float]
    mean_n: float
    mean_dlt: float
    pct_above_mtd: float
    se_prob_select: list[float] | None = None

    def to_dict(self) -> dict:
        d = asdict(self)
        d["truth"] = list(self.truth)
        d["method"] = "exact" if self.trials is None else "simulation"
        return d


def true_mtd(truth: tuple[float, ...], target: float | None) -> int | None:
    """Highest dose (1-based) whose true DLT probability is <= target; None if none."""
    if target is None:
        return None
    ok = [k + 1 for k, p in enumerate(truth) if p <= target + 1e-12]
    return ok[-1] if ok else None


def _check(design: Design, truth, cohort_size: int, max_n: int, target) -> tuple:
    truth = check_probs("truth", truth, n=design.n_doses, nondecreasing=True)
    check_int("cohort_size", cohort_size, 1, 100)
    check_int("max_n", max_n, 1, 10_000)
    if target is None:
        target = getattr(getattr(design, "base", lambda: design)(), "target", None)
    if target is not None:
        target = check_prob("target", target)
    return truth, target


def _summarise(design: Design, truth, target, cohort_size, max_n, trials, w, nn, yy, mtd):
    """Weighted summary over final states: w weights, nn/yy (S, K), mtd (S,) 0-based/-1."""
    k = len(truth)
    w = w / w.sum()
    sel = np.array([w[mtd == j].sum() for j in range(k)])
    mn = (w[:, None] * nn).sum(axis=0)
    my = (w[:, None] * yy).sum(axis=0)
    tm = true_mtd(truth, target)
    if target is None:
        above = float("nan")
    else:
        first_above = 0 if tm is None else tm
        above = 100.0 * mn[first_above:].sum() / mn.sum() if mn.sum() > 0 else 0.0
    se = None
    if trials is not None:
        se = [float(np.sqrt(p * (1 - p) / trials)) for p in sel]
    return OperatingCharacteristics(
        design=design.describe(),
        truth=tuple(truth),
        target=target,
        true_mtd=tm,
        cohort_size=cohort_size,
        max_n=max_n,
        trials=trials,
        prob_select=[float(p) for p in sel],
        prob_no_mtd=float(w[mtd < 0].sum()),
        mean_n_per_dose=[float(v) for v in mn],
        mean_dlt_per_dose=[float(v) for v in my],
        mean_n=float(mn.sum()),
        mean_dlt=float(my.sum()),
        pct_above_mtd=float(above),
        se_prob_select=se,
    )


def tolerances(trials: int, max_n: int, seed: int | None) -> np.ndarray:
    """Latent tolerances u[trial, patient] ~ U(0, 1) (patients in order of enrolment)."""
    return np.random.default_rng(seed).random((trials, max_n), dtype=np.float32)


def run_trials(
    design: Design,
    truth,
    u: np.ndarray | None,
    cohort_size: int,
    max_n: int,
    trials: int | None = None,
    rng: np.random.Generator | None = None,
) -> np.ndarray:
    """Final automaton node of each trial.

    With ``u`` (trials x max_n latent tolerances) patient j of trial t has tolerance u[t, j];
    otherwise tolerances are drawn from ``rng`` cohort by cohort, only for trials still
    running. Trials that have stopped are dropped from the working arrays.
    """
    auto = compiled(design, cohort_size, max_n)
    if u is not None:
        trials = u.shape[0]
        ucols = np.ascontiguousarray(u[:, :max_n].T)  # patient-major: one row per patient
    p_ext = np.append(np.asarray(truth, dtype=np.float32), np.float32(-1.0))
    out = np.full(trials, auto.root, dtype=np.int32)
    idx = np.arange(trials)
    cur = out.copy()
    c = cohort_size
    for j in range(auto.max_cohorts):
        d = auto.dose[cur]
        live = d >= 0
        n_live = int(np.count_nonzero(live))
        if n_live == 0:
            break
        if n_live < 0.75 * len(cur):  # drop finished trials once enough have finished
            out[idx[~live]] = cur[~live]
            idx, cur, d = idx[live], cur[live], d[live]
        pt = p_ext[d]  # finished trials (d = -1) get p = -1: no DLTs, node unchanged
        if u is not None:
            block = ucols[j * c : (j + 1) * c][:, idx]
        else:
            block = rng.random((c, len(idx)), np.float32)
        k = (block < pt).sum(axis=0, dtype=np.int32)
        cur = auto.step(cur, k)
    out[idx] = cur
    return out


def simulate(
    design: Design,
    truth,
    cohort_size: int = 3,
    max_n: int = 24,
    trials: int = 10_000,
    seed: int | None = 1,
    target: float | None = None,
    u: np.ndarray | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> OperatingCharacteristics:
    """Simulate ``trials`` trials of ``design`` under the true DLT curve ``truth``.

    Reproducible for a seed. ``u`` (trials x max_n tolerances) overrides the seed so that
    several designs can be run on the same patients. ``target`` defines the true MTD for
    ``pct_above_mtd`` (defaults to the design's own target, if it has one).
    """
    truth, target = _check(design, truth, cohort_size, max_n, target)
    if u is None:
        check_int("trials", trials, 1, 100_000_000)
    else:
        u = np.asarray(u, dtype=np.float32)
        if u.ndim != 2 or u.shape[1] < max_n:
            raise DoseFindingError(f"u: expected shape (trials, >= {max_n}), got {u.shape}")
        trials = u.shape[0]
    auto = compiled(design, cohort_size, max_n)
    rng = np.random.default_rng(seed)
    done = 0
    finals = []
    while done < trials:
        m = min(CHUNK, trials - done)
        uu = u[done : done + m] if u is not None else None
        finals.append(run_trials(design, truth, uu, cohort_size, max_n, m, rng))
        done += m
        if progress is not None:
            progress(done, trials)
    final = np.concatenate(finals)
    counts = np.bincount(final, minlength=len(auto))
    idx = np.nonzero(counts)[0]
    if (auto.dose[idx] >= 0).any():
        raise AssertionError("a simulated trial did not finish within max_n")  # pragma: no cover
    return _summarise(
        design,
        truth,
        target,
        cohort_size,
        max_n,
        trials,
        counts[idx].astype(float),
        auto.n[idx].astype(float),
        auto.y[idx].astype(float),
        auto.mtd[idx],
    )


def exact_distribution(design: Design, truth, cohort_size: int = 3, n_cohorts: int = 8):
    """Final automaton nodes after at most ``n_cohorts`` cohorts and their exact probabilities.

    Returns (nodes, probabilities, automaton); sums every dose path's binomial probability
    under ``truth`` (as the R escalation package's dose-path probabilities), merging paths
    that reach the same state.
    """
    check_int("n_cohorts", n_cohorts, 1, 40)
    max_n = cohort_size * n_cohorts
    truth, _ = _check(design, truth, cohort_size, max_n, None)
    auto = compiled(design, cohort_size, max_n)
    c = cohort_size
    pmf = binom.pmf(np.arange(c + 1)[None, :], c, np.asarray(truth)[:, None])  # (K, c+1)
    nodes = np.array([auto.root], dtype=np.int64)
    prob = np.array([1.0])
    for _ in range(n_cohorts):
        d = auto.dose[nodes]
        live = d >= 0
        if not live.any():
            break
        ln, lp, ld = nodes[live], prob[live], d[live]
        kids, kp = [nodes[~live]], [prob[~live]]
        for k in range(c + 1):
            kids.append(auto.step(ln.astype(np.int32), np.full(len(ln), k)).astype(np.int64))
            kp.append(lp * pmf[ld, k])
        allk, allp = np.concatenate(kids), np.concatenate(kp)
        nodes, inv = np.unique(allk, return_inverse=True)
        prob = np.bincount(inv, weights=allp)
    return nodes, prob, auto


def exact_oc(
    design: Design, truth, cohort_size: int = 3, n_cohorts: int = 8, target: float | None = None
) -> OperatingCharacteristics:
    """Exact operating characteristics for at most ``n_cohorts`` cohorts (no Monte Carlo)."""
    max_n = cohort_size * n_cohorts
    truth, target = _check(design, truth, cohort_size, max_n, target)
    nodes, prob, auto = exact_distribution(design, truth, cohort_size, n_cohorts)
    if (auto.dose[nodes] >= 0).any():
        raise AssertionError("exact enumeration did not reach the end")  # pragma: no cover
    return _summarise(
        design,
        truth,
        target,
        cohort_size,
        max_n,
        None,
        prob,
        auto.n[nodes].astype(float),
        auto.y[nodes].astype(float),
        auto.mtd[nodes],
    )
