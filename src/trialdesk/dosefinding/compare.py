"""Design comparison grid: designs x scenarios x sample sizes, on common simulated patients.

Within one (scenario, sample size) cell every design is simulated on the *same* patients:
latent tolerances u[trial, patient] drawn from a seed derived from (seed, scenario,
sample size), so a patient toxic at dose k under one design is toxic at dose k under every
design (O'Quigley, Paoletti & Maccario 2002). Differences between designs are then paired
and their Monte Carlo error is much smaller than that of independent runs; the grid reports
the paired standard error of each design's difference from the first design.

Cells run on any ``concurrent.futures.Executor``-like object (``submit(fn, *args)``
returning a future with ``.result()``): a ``ProcessPoolExecutor`` on one machine, or a
``dask.distributed.Client`` / Ray's executor on a cluster, unchanged. Workers regenerate the
tolerances from the cell's seed, so no large arrays travel.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from trialdesk.dosefinding.automaton import compiled
from trialdesk.dosefinding.design import Design, check_int, check_prob, check_probs
from trialdesk.dosefinding.errors import DoseFindingError
from trialdesk.dosefinding.simulate import run_trials, simulate, true_mtd


@dataclass(frozen=True)
class Scenario:
    name: str
    truth: tuple[float, ...]
    target: float


def cell_tolerances(seed: int, scenario_index: int, max_n: int, trials: int) -> np.ndarray:
    rng = np.random.default_rng([seed, scenario_index, max_n])
    return rng.random((trials, max_n), dtype=np.float32)


def run_cell(
    design: Design,
    scenario: Scenario,
    scenario_index: int,
    max_n: int,
    cohort_size: int,
    trials: int,
    seed: int,
) -> dict:
    """One design in one cell: its operating characteristics and per-trial correctness."""
    u = cell_tolerances(seed, scenario_index, max_n, trials)
    oc = simulate(design, scenario.truth, cohort_size, max_n, u=u, target=scenario.target)
    nodes = run_trials(design, scenario.truth, u, cohort_size, max_n)
    tm = true_mtd(scenario.truth, scenario.target)
    sel = compiled(design, cohort_size, max_n).mtd[nodes]
    correct = sel == (-1 if tm is None else tm - 1)
    return {"oc": oc.to_dict(), "correct_bits": np.packbits(correct), "trials": trials}


def compare_designs(
    designs: Mapping[str, Design],
    scenarios: Sequence[Scenario],
    sample_sizes: Sequence[int],
    trials: int = 10_000,
    seed: int = 1,
    cohort_size: int = 3,
    executor=None,
) -> list[dict]:
    """Rows: one per (scenario, sample size, design), with paired differences vs the first.

    ``executor``: None runs in this process; otherwise anything with ``submit``.
    """
    if not designs:
        raise DoseFindingError("designs: give at least one design")
    if not scenarios:
        raise DoseFindingError("scenarios: give at least one scenario")
    check_int("trials", trials, 1, 10_000_000)
    names = list(designs)
    k = {d.n_doses for d in designs.values()}
    if len(k) != 1:
        raise DoseFindingError(f"designs: all designs must have the same number of doses, got {k}")
    n_doses = k.pop()
    for s in scenarios:
        check_probs(f"scenario {s.name!r} truth", s.truth, n=n_doses, nondecreasing=True)
        check_prob(f"scenario {s.name!r} target", s.target)
    for n in sample_sizes:
        check_int("sample size", n, cohort_size)
        if n % cohort_size:
            raise DoseFindingError(
                f"sample size: {n} is not a multiple of the cohort size {cohort_size}"
            )
    jobs = []
    for si, sc in enumerate(scenarios):
        for n in sample_sizes:
            for name in names:
                args = (designs[name], sc, si, n, cohort_size, trials, seed)
                fut = run_cell(*args) if executor is None else executor.submit(run_cell, *args)
                jobs.append((sc, n, name, fut))
    results = {}
    for sc, n, name, fut in jobs:
        results[(sc.name, n, name)] = fut if executor is None else fut.result()
    rows = []
    for sc in scenarios:
        for n in sample_sizes:
            ref = np.unpackbits(results[(sc.name, n, names[0])]["correct_bits"])[:trials]
            for name in names:
                r = results[(sc.name, n, name)]
                cor = np.unpackbits(r["correct_bits"])[:trials].astype(float)
                diff = cor - ref
                rows.append(
                    {
                        "scenario": sc.name,
                        "truth": list(sc.truth),
                        "target": sc.target,
                        "max_n": n,
                        "design": name,
                        "prob_correct": float(cor.mean()),
                        "diff_vs_first": float(diff.mean()),
                        "se_diff_paired": float(diff.std(ddof=1) / np.sqrt(trials))
                        if trials > 1
                        else float("nan"),
                        "se_diff_if_independent": float(
                            np.sqrt((cor.var(ddof=1) + ref.var(ddof=1)) / trials)
                        )
                        if trials > 1
                        else float("nan"),
                        **{
                            key: r["oc"][key]
                            for key in (
                                "prob_select",
                                "prob_no_mtd",
                                "mean_n",
                                "mean_dlt",
                                "pct_above_mtd",
                                "mean_n_per_dose",
                                "true_mtd",
                            )
                        },
                    }
                )
    return rows


def plot_grid(rows: list[dict], path) -> None:
    """Probability of selecting the true MTD: one panel per scenario, bars by design/N."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    scen = list(dict.fromkeys(r["scenario"] for r in rows))
    designs = list(dict.fromkeys(r["design"] for r in rows))
    sizes = list(dict.fromkeys(r["max_n"] for r in rows))
    fig, axes = plt.subplots(1, len(scen), figsize=(4.2 * len(scen), 3.8), squeeze=False)
    width = 0.8 / len(designs)
    for ax, s in zip(axes[0], scen, strict=True):
        for i, d in enumerate(designs):
            vals = [
                next(
                    r["prob_correct"]
                    for r in rows
                    if r["scenario"] == s and r["design"] == d and r["max_n"] == n
                )
                for n in sizes
            ]
            xs = [j + (i - (len(designs) - 1) / 2) * width for j in range(len(sizes))]
            ax.bar(xs, vals, width, label=d)
        truth = next(r["truth"] for r in rows if r["scenario"] == s)
        ax.set_title(f"{s}\ntruth {', '.join(f'{p:g}' for p in truth)}", fontsize=9)
        ax.set_xticks(range(len(sizes)))
        ax.set_xticklabels([f"N = {n}" for n in sizes])
        ax.set_ylim(0, 1)
        ax.set_ylabel("P(select true MTD)")
    axes[0][0].legend(fontsize=8)
    fig.suptitle("Design comparison on common simulated patients")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
