"""Plain one-trial-at-a-time simulators, written procedurally from the published algorithms.

They are the baseline of ``benchmarks/dosefinding.py`` and an independent check of the
vectorized engine: given the same latent tolerances they must select the same MTD in
every trial. They share no decision code with the design classes.

* 3+3: the textbook rule (Storer 1989; Lin & Shih 2001), top dose confirmed with 6.
* BOIN: a line-by-line port of ``BOIN::get.oc`` and ``BOIN::select.mtd`` (version 2.7).
* CRM: dfcrm-style posterior mean (numerical integration at every step, no caching),
  no dose skipping, start at dose 1, final MTD = estimate closest to the target.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.stats import beta as beta_dist


def three_plus_three_trial(u: np.ndarray, p: tuple[float, ...]) -> tuple[int, list, list]:
    """One 3+3 trial; returns (0-based MTD or -1, n per dose, DLTs per dose)."""
    k = len(p)
    n, y = [0] * k, [0] * k
    d, pt = 0, 0
    while True:
        tox = int(sum(1 for v in u[pt : pt + 3] if v < p[d]))
        pt += 3
        n[d] += 3
        y[d] += tox
        ok = (n[d] == 3 and y[d] == 0) or (n[d] >= 6 and y[d] <= 1)
        expand = n[d] == 3 and y[d] == 1
        if expand:
            continue
        if ok:
            if d == k - 1:
                if n[d] == 3:
                    continue  # confirm the top dose with 6
                return d, n, y
            if n[d + 1] > 0:
                return d, n, y
            d += 1
            continue
        # too toxic
        if d == 0:
            return -1, n, y
        if n[d - 1] >= 6:
            return d - 1, n, y
        d -= 1


def _pava(x: list[float], w: list[float]) -> list[float]:
    x = list(x)
    lv = list(range(len(x)))
    while True:
        viol = [i for i in range(len(x) - 1) if x[i + 1] < x[i]]
        if not viol:
            return x
        i = viol[0]
        a, b = lv[i], lv[i + 1]
        sel = [j for j in range(len(x)) if lv[j] in (a, b)]
        m = sum(x[j] * w[j] for j in sel) / sum(w[j] for j in sel)
        for j in sel:
            x[j] = m
            lv[j] = a


def boin_boundaries(target: float, npts: int, cutoff_eli: float = 0.95) -> list[tuple]:
    """Port of ``BOIN::get.boundary``: (b.e, b.d, elim) for n = 1..npts (index n - 1)."""
    p_saf, p_tox = 0.6 * target, 1.4 * target
    lam1 = math.log((1 - p_saf) / (1 - target)) / math.log(
        target * (1 - p_saf) / (p_saf * (1 - target))
    )
    lam2 = math.log((1 - target) / (1 - p_tox)) / math.log(
        p_tox * (1 - target) / (target * (1 - p_tox))
    )
    rows = []
    for nd in range(1, npts + 1):
        b_e, b_d = math.floor(lam1 * nd), math.ceil(lam2 * nd)
        elim = None
        if nd >= 3:
            for t in range(1, nd + 1):
                if 1 - beta_dist.cdf(target, t + 1, nd - t + 1) > cutoff_eli:
                    elim = t
                    break
        if elim is not None and b_d > elim:
            b_d = elim
        rows.append((b_e, b_d, elim))
    return rows


def boin_trial(
    u: np.ndarray,
    p: tuple[float, ...],
    target: float,
    ncohort: int,
    cohortsize: int,
    cutoff_eli: float = 0.95,
    table: list[tuple] | None = None,
) -> tuple[int, list, list]:
    """One trial of ``BOIN::get.oc`` (no titration, no early stop); MTD 0-based or -1.

    ``table`` is ``boin_boundaries(...)``, computed once per simulation as get.oc does.
    """
    k = len(p)
    table = table or boin_boundaries(target, ncohort * cohortsize, cutoff_eli)
    y, n, elimi = [0] * k, [0] * k, [0] * k
    d, pt = 0, 0
    for _ in range(ncohort):
        y[d] += int(sum(1 for v in u[pt : pt + cohortsize] if v < p[d]))
        n[d] += cohortsize
        pt += cohortsize
        b_e, b_d, elim = table[n[d] - 1]
        if elim is not None and y[d] >= elim:
            for j in range(d, k):
                elimi[j] = 1
            if d == 0:
                return -1, n, y
        if y[d] <= b_e and d != k - 1:
            if elimi[d + 1] == 0:
                d += 1
        elif y[d] >= b_d and d != 0:
            d -= 1
    # select.mtd
    el = [0] * k
    for i in range(k):
        if n[i] >= 3 and 1 - beta_dist.cdf(target, y[i] + 1, n[i] - y[i] + 1) > cutoff_eli:
            for j in range(i, k):
                el[j] = 1
            break
    if el[0] == 1:
        return -1, n, y
    adm = [i for i in range(k) if n[i] > 0 and el[i] == 0]
    if not adm:
        return -1, n, y
    ph = [(y[i] + 0.05) / (n[i] + 0.1) for i in adm]
    var = [
        (y[i] + 0.05) * (n[i] - y[i] + 0.05) / ((n[i] + 0.1) ** 2 * (n[i] + 0.1 + 1)) for i in adm
    ]
    ph = _pava(ph, [1 / v for v in var])
    ph = [v + (j + 1) * 1e-10 for j, v in enumerate(ph)]
    best = min(range(len(ph)), key=lambda j: (abs(ph[j] - target), j))
    return adm[best], n, y


def crm_posterior_mean(skeleton, model, a0, n, y, sd=math.sqrt(1.34)) -> float:
    """Posterior mean of beta by the trapezoidal rule on [-10, 10] (401 points)."""
    b = np.linspace(-10, 10, 401)
    s = np.asarray(skeleton)
    with np.errstate(over="ignore"):
        if model == "empiric":
            pk = s[:, None] ** np.exp(b)[None, :]
        else:
            x = np.log(s / (1 - s)) - a0
            pk = 1 / (1 + np.exp(-(a0 + np.exp(b)[None, :] * x[:, None])))
    pk = np.clip(pk, 1e-300, 1 - 1e-16)
    ll = np.asarray(y) @ np.log(pk) + (np.asarray(n) - np.asarray(y)) @ np.log1p(-pk)
    lw = np.exp(ll - ll.max() - 0.5 * (b / sd) ** 2)
    return float((lw * b).sum() / lw.sum())


def crm_trial(
    u: np.ndarray,
    p: tuple[float, ...],
    skeleton,
    target: float,
    ncohort: int,
    cohortsize: int,
    model: str = "empiric",
    a0: float = 3.0,
) -> tuple[int, list, list]:
    k = len(p)
    s = np.asarray(skeleton)
    n, y = [0] * k, [0] * k
    d, pt, top = 0, 0, 0
    est = None
    for _ in range(ncohort):
        y[d] += int(sum(1 for v in u[pt : pt + cohortsize] if v < p[d]))
        n[d] += cohortsize
        pt += cohortsize
        top = max(top, d)
        m = crm_posterior_mean(s, model, a0, n, y)
        if model == "empiric":
            est = s ** math.exp(m)
        else:
            est = 1 / (1 + np.exp(-(a0 + math.exp(m) * (np.log(s / (1 - s)) - a0))))
        nxt = int(np.argmin(np.abs(est - target)))
        d = min(nxt, top + 1)
    return int(np.argmin(np.abs(est - target))), n, y


def simulate_plain(kind: str, u: np.ndarray, p, **kw) -> np.ndarray:
    """MTD (0-based, -1 none) of each trial, one trial at a time."""
    out = np.empty(len(u), dtype=np.int64)
    if kind == "boin":
        kw = {
            **kw,
            "table": boin_boundaries(
                kw["target"], kw["ncohort"] * kw["cohortsize"], kw.get("cutoff_eli", 0.95)
            ),
        }
    for i in range(len(u)):
        if kind == "3+3":
            out[i] = three_plus_three_trial(u[i], p)[0]
        elif kind == "boin":
            out[i] = boin_trial(u[i], p, **kw)[0]
        elif kind == "crm":
            out[i] = crm_trial(u[i], p, **kw)[0]
        else:
            raise ValueError(kind)
    return out
