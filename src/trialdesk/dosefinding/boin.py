"""Bayesian optimal interval (BOIN) design.

Liu S, Yuan Y (2015). Bayesian optimal interval designs for phase I clinical trials.
J R Stat Soc C 64:507-523. Yuan Y, Hess KR, Hilsenbeck SG, Gilbert MR (2016). Bayesian
optimal interval design: a simple and well-performing design for phase I oncology trials.
Clin Cancer Res 22:4291-4301. Boundaries, elimination and MTD selection follow the
authors' R package BOIN (``get.boundary``, ``get.oc``, ``select.mtd``, version 2.7).

Escalation boundary  lambda_e = log((1-phi1)/(1-phi)) / log(phi(1-phi1) / (phi1(1-phi)))
De-escalation        lambda_d = log((1-phi)/(1-phi2)) / log(phi2(1-phi) / (phi(1-phi2)))
with phi1 = 0.6 phi and phi2 = 1.4 phi by default. At the current dose with n patients and
y DLTs: escalate if y <= floor(lambda_e n); de-escalate if y >= ceil(lambda_d n); otherwise
stay. Doses j and above are eliminated when n_j >= 3 and Pr(p_j > phi | y_j, n_j) > 0.95
under a Beta(1, 1) prior; the de-escalation boundary never exceeds the elimination one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from scipy.stats import beta as beta_dist

from trialdesk.dosefinding.design import Design, check_int, check_prob
from trialdesk.dosefinding.errors import DoseFindingError
from trialdesk.dosefinding.state import Decision, TrialState, count_summary


def boin_lambdas(
    target: float, p_saf: float | None = None, p_tox: float | None = None
) -> tuple[float, float]:
    """(lambda_e, lambda_d) of Liu & Yuan (2015), eq. (2.2)."""
    phi = target
    p1 = 0.6 * phi if p_saf is None else p_saf
    p2 = 1.4 * phi if p_tox is None else p_tox
    lam_e = math.log((1 - p1) / (1 - phi)) / math.log(phi * (1 - p1) / (p1 * (1 - phi)))
    lam_d = math.log((1 - phi) / (1 - p2)) / math.log(p2 * (1 - phi) / (phi * (1 - p2)))
    return lam_e, lam_d


@lru_cache(maxsize=65536)
def _boundary_row(
    target: float, p_saf: float | None, p_tox: float | None, cutoff_eli: float, n: int
) -> tuple[int, int, int | None]:
    lam_e, lam_d = boin_lambdas(target, p_saf, p_tox)
    esc = math.floor(lam_e * n)
    de = math.ceil(lam_d * n)
    elim = None
    if n >= 3:
        for y in range(1, n + 1):
            if beta_dist.sf(target, y + 1, n - y + 1) > cutoff_eli:
                elim = y
                break
    if elim is not None and de > elim:
        de = elim
    return esc, de, elim


def boundary_table(
    target: float,
    max_n: int,
    p_saf: float | None = None,
    p_tox: float | None = None,
    cutoff_eli: float = 0.95,
) -> list[dict]:
    """Rows n = 1..max_n: escalate if DLTs <=, de-escalate if >=, eliminate if >= (or None).

    The same table as ``BOIN::get.boundary(...)$full_boundary_tab``.
    """
    BOIN(doses=1, target=target, p_saf=p_saf, p_tox=p_tox, cutoff_eli=cutoff_eli)  # validate
    check_int("max_n", max_n, 1, 1000)
    rows = []
    for n in range(1, max_n + 1):
        e, d, x = _boundary_row(target, p_saf, p_tox, cutoff_eli, n)
        rows.append(
            {
                "n": n,
                "escalate_if_at_most": e,
                "deescalate_if_at_least": d,
                "eliminate_if_at_least": x,
            }
        )
    return rows


def pava(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Weighted isotonic (non-decreasing) regression, pool-adjacent-violators.

    Same pooling order as the PAVA in ``BOIN::select.mtd`` (Barlow et al. 1972).
    """
    x = np.asarray(x, dtype=float).copy()
    w = np.asarray(w, dtype=float)
    n = len(x)
    if n <= 1:
        return x
    lvl = np.arange(n)
    while True:
        viol = np.diff(x) < 0
        if not viol.any():
            return x
        i = int(np.argmax(viol))
        l1, l2 = lvl[i], lvl[i + 1]
        sel = (lvl == l1) | (lvl == l2)
        x[sel] = np.sum(x[sel] * w[sel]) / np.sum(w[sel])
        lvl[sel] = l1


@dataclass(frozen=True)
class BOIN(Design):
    """BOIN with the authors' defaults (phi1 = 0.6 phi, phi2 = 1.4 phi, cutoff 0.95).

    ``n_earlystop``: stop when the current dose has this many patients (BOIN's second
    built-in stopping rule; None = off). ``extrasafe``/``offset``: the stricter stop for
    the lowest dose of the BOIN package.
    """

    doses: int
    target: float
    p_saf: float | None = None
    p_tox: float | None = None
    cutoff_eli: float = 0.95
    n_earlystop: int | None = None
    extrasafe: bool = False
    offset: float = 0.05
    name = "BOIN"
    reference = "Liu & Yuan (2015) JRSS-C 64:507; Yuan et al. (2016) Clin Cancer Res 22:4291"

    def __post_init__(self) -> None:
        check_int("doses", self.doses, 1)
        t = check_prob("target", self.target)
        p1 = 0.6 * t if self.p_saf is None else check_prob("p_saf (phi1)", self.p_saf)
        p2 = 1.4 * t if self.p_tox is None else check_prob("p_tox (phi2)", self.p_tox)
        if not p1 < t:
            raise DoseFindingError(f"p_saf (phi1): must be below the target {t}, got {p1}")
        if not p2 > t:
            raise DoseFindingError(f"p_tox (phi2): must be above the target {t}, got {p2}")
        if p2 >= 1:
            raise DoseFindingError(f"p_tox (phi2): must be below 1, got {p2} (1.4 x target)")
        check_prob("cutoff_eli", self.cutoff_eli)
        if self.n_earlystop is not None:
            check_int("n_earlystop", self.n_earlystop, 1)
        check_prob("offset", self.offset, 0.0, 0.5)

    @property
    def n_doses(self) -> int:
        return self.doses

    @property
    def lambdas(self) -> tuple[float, float]:
        return boin_lambdas(self.target, self.p_saf, self.p_tox)

    def describe(self) -> str:
        return f"BOIN (target {self.target:g})"

    def boundaries(self, n: int) -> tuple[int, int, int | None]:
        """(escalate if <=, de-escalate if >=, eliminate if >= or None) for n patients."""
        return _boundary_row(self.target, self.p_saf, self.p_tox, self.cutoff_eli, n)

    def eliminated_from(self, state: TrialState) -> int | None:
        """Lowest eliminated dose (1-based; it and all above are out), or None."""
        for j in range(state.n_doses):
            n = state.n[j]
            if n >= 3:
                elim = self.boundaries(n)[2]
                if elim is not None and state.y[j] >= elim:
                    return j + 1
        return None

    def _extrasafe_stop(self, state: TrialState) -> bool:
        n, y = state.n[0], state.y[0]
        return (
            self.extrasafe
            and n >= 3
            and beta_dist.sf(self.target, y + 1, n - y + 1) > self.cutoff_eli - self.offset
        )

    def decide(self, state: TrialState) -> Decision:
        if state.n_doses != self.doses:
            raise DoseFindingError(f"state has {state.n_doses} doses, design {self.doses}")
        elim = self.eliminated_from(state)
        notes = {} if elim is None else {j: "eliminated" for j in range(elim, self.doses + 1)}
        adm = [elim is None or j + 1 < elim for j in range(self.doses)]
        summary = count_summary(
            state,
            notes,
            [y / n if n else float("nan") for n, y in zip(state.n, state.y, strict=True)],
            adm,
        )
        if state.current is None:
            return Decision(1, "No patients yet: start at dose 1.", self.name, summary)
        if elim == 1:
            return Decision(
                None,
                f"Stop, no MTD: dose 1 is eliminated ({state.y[0]}/{state.n[0]} DLTs; "
                f"Pr(DLT rate > {self.target:g} | data) > {self.cutoff_eli:g}).",
                self.name,
                summary,
            )
        if self._extrasafe_stop(state):
            return Decision(
                None, "Stop, no MTD: dose 1 fails the extra-safe stopping rule.", self.name, summary
            )
        d = state.current
        n, y = state.n[d - 1], state.y[d - 1]
        esc, de, _ = self.boundaries(n)
        above_out = d == self.doses or (elim is not None and d + 1 >= elim)
        seen = f"{y}/{n} DLTs at dose {d}"
        if (
            self.n_earlystop is not None
            and n >= self.n_earlystop
            and ((esc < y < de) or (d == 1 and y >= de) or (above_out and y <= esc))
        ):
            mtd, why = self.select_mtd(state)
            return Decision(
                None,
                f"Stop: {n} patients at dose {d} reach n_earlystop = {self.n_earlystop}. {why}",
                self.name,
                summary,
                mtd=mtd,
            )
        if elim is not None and d >= elim:
            if d == 1:  # pragma: no cover - handled above
                raise AssertionError
            return Decision(
                d - 1,
                f"{seen}: Pr(DLT rate > {self.target:g}) > {self.cutoff_eli:g}, so dose {d} "
                f"and above are eliminated; de-escalate to dose {d - 1}.",
                self.name,
                summary,
            )
        if y <= esc:
            why = f"{seen} <= {esc} (escalation boundary {self.lambdas[0]:.4f} x {n})"
            if d == self.doses:
                return Decision(d, f"{why}, but dose {d} is the highest: stay.", self.name, summary)
            if above_out:
                return Decision(
                    d, f"{why}, but dose {d + 1} is eliminated: stay.", self.name, summary
                )
            return Decision(d + 1, f"{why}: escalate to dose {d + 1}.", self.name, summary)
        if y >= de:
            why = f"{seen} >= {de} (de-escalation boundary {self.lambdas[1]:.4f} x {n})"
            if d == 1:
                return Decision(1, f"{why}, but dose 1 is the lowest: stay.", self.name, summary)
            return Decision(d - 1, f"{why}: de-escalate to dose {d - 1}.", self.name, summary)
        return Decision(
            d,
            f"{seen} is between the boundaries ({esc} < DLTs < {de}): stay at dose {d}.",
            self.name,
            summary,
        )

    def select_mtd(self, state: TrialState) -> tuple[int | None, str]:
        """Isotonic-regression MTD with the published tie rule (``BOIN::select.mtd``).

        Among treated, non-eliminated doses, the isotonic estimate closest to the target;
        ties go to the higher dose below the target and to the lower dose above it.
        """
        elim = self.eliminated_from(state)
        if elim == 1 or self._extrasafe_stop(state):
            return None, "No MTD: the lowest dose is too toxic."
        idx = tuple(
            j for j in range(self.doses) if state.n[j] > 0 and (elim is None or j + 1 < elim)
        )
        if not idx:
            return None, "No MTD: no admissible dose has been given."
        k, est = _isotonic_choice(
            tuple(state.n[j] for j in idx), tuple(state.y[j] for j in idx), self.target
        )
        mtd = idx[k] + 1
        return mtd, (
            f"Dose {mtd} is the MTD: its isotonic DLT estimate {est:.3f} is the closest to "
            f"the target {self.target:g}."
        )


@lru_cache(maxsize=200_000)
def _isotonic_choice(n: tuple[int, ...], y: tuple[int, ...], target: float) -> tuple[int, float]:
    """Index (into the admissible doses) chosen by ``BOIN::select.mtd`` and its estimate.

    phat = (y + 0.05) / (n + 0.1), weights 1 / var, PAVA, then + index x 1e-10 so that
    pooled ties go to the higher dose below the target and the lower dose above it.
    """
    phat = [(yy + 0.05) / (nn + 0.1) for nn, yy in zip(n, y, strict=True)]
    w = [
        ((nn + 0.1) ** 2 * (nn + 0.1 + 1)) / ((yy + 0.05) * (nn - yy + 0.05))
        for nn, yy in zip(n, y, strict=True)
    ]
    iso = _pava_list(phat, w)
    iso = [v + (i + 1) * 1e-10 for i, v in enumerate(iso)]
    k = min(range(len(iso)), key=lambda i: (abs(iso[i] - target), i))
    return k, iso[k]


def _pava_list(x: list[float], w: list[float]) -> list[float]:
    """Pure-Python PAVA with the same pooling order as :func:`pava` (fast for few doses)."""
    x = list(x)
    lvl = list(range(len(x)))
    while True:
        i = next((i for i in range(len(x) - 1) if x[i + 1] < x[i]), None)
        if i is None:
            return x
        a, b = lvl[i], lvl[i + 1]
        sel = [j for j in range(len(x)) if lvl[j] == a or lvl[j] == b]
        m = sum(x[j] * w[j] for j in sel) / sum(w[j] for j in sel)
        for j in sel:
            x[j] = m
            lvl[j] = a
