"""Simulated dose-finding trials per second: vectorized engine vs one trial at a time.

Setting of issue 5: 4 doses, cohorts of 3, at most 24 patients, true DLT probabilities
0.05, 0.12, 0.30, 0.45 (target 0.3). For each design the script times

* plain: the procedural one-trial-at-a-time simulators of trialdesk.dosefinding.reference
  (3+3 textbook loop; line-by-line port of BOIN::get.oc; CRM with numerical integration at
  every step, as dfcrm does), run in the same process on the same machine;
* vectorized, cold: a fresh design (its automaton built during the run, included);
* vectorized, warm: the same design again (the automaton of reachable states is reused),
  median of several runs.

Usage: python benchmarks/dosefinding.py [--smoke] [--trials N] [--repeats R]
"""

from __future__ import annotations

import argparse
import statistics
import time

from trialdesk.dosefinding import BOIN, ThreePlusThree, make_design, simulate
from trialdesk.dosefinding import automaton as _automaton
from trialdesk.dosefinding.reference import simulate_plain
from trialdesk.dosefinding.simulate import tolerances

TRUTH = (0.05, 0.12, 0.30, 0.45)
SKELETON = (0.10, 0.20, 0.30, 0.40)
GOALS = {"3+3": 2_000_000, "BOIN": 1_000_000, "CRM": 100_000}


def designs():
    return {
        "3+3": (lambda: ThreePlusThree(doses=4), "3+3", {}),
        "BOIN": (
            lambda: BOIN(doses=4, target=0.3),
            "boin",
            {"target": 0.3, "ncohort": 8, "cohortsize": 3},
        ),
        "CRM": (
            lambda: make_design("crm", 4, target=0.3, skeleton=SKELETON),
            "crm",
            {"skeleton": SKELETON, "target": 0.3, "ncohort": 8, "cohortsize": 3},
        ),
    }


def rate(n: int, seconds: float) -> float:
    return n / seconds if seconds > 0 else float("inf")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--smoke", action="store_true", help="tiny run (for CI)")
    ap.add_argument("--trials", type=int, default=1_000_000)
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    trials = 20_000 if args.smoke else args.trials
    repeats = 2 if args.smoke else args.repeats
    plain_n = (
        {"3+3": 200, "BOIN": 50, "CRM": 10}
        if args.smoke
        else {"3+3": 20_000, "BOIN": 3_000, "CRM": 400}
    )

    print(f"4 doses, cohort 3, max n 24, truth {TRUTH}; vectorized runs of {trials:,} trials")
    head = (
        f"{'design':<6} {'plain/s':>10} {'cold/s':>12} {'warm/s (median)':>16} "
        f"{'x plain':>9} {'goal/s':>11} {'met':>4}"
    )
    print(head)
    print("-" * len(head))
    for name, (make, kind, kw) in designs().items():
        u = tolerances(plain_n[name], 24, seed=99)
        t0 = time.perf_counter()
        simulate_plain(kind, u, TRUTH, **kw)
        plain = rate(plain_n[name], time.perf_counter() - t0)

        _automaton._CACHE.clear()
        design = make()
        t0 = time.perf_counter()
        simulate(design, TRUTH, 3, 24, trials=trials, seed=1)
        cold = rate(trials, time.perf_counter() - t0)
        warm_runs = []
        for r in range(repeats):
            t0 = time.perf_counter()
            simulate(design, TRUTH, 3, 24, trials=trials, seed=2 + r)
            warm_runs.append(rate(trials, time.perf_counter() - t0))
        warm = statistics.median(warm_runs)
        goal = GOALS[name]
        print(
            f"{name:<6} {plain:>10,.0f} {cold:>12,.0f} {warm:>16,.0f} {warm / plain:>9,.0f} "
            f"{goal:>11,} {'yes' if warm >= goal else 'NO':>4}"
        )
    print("cold = first run of a fresh design (builds its automaton); warm = reuse.")


if __name__ == "__main__":
    main()
