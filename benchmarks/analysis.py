"""The whole analysis of a large trial (pure core, no database): endpoints and safety tables.

A synthetic trial of N dosed participants over 4 dose levels (fixed seed), each with the
eight scheduled visits (MELD, MELD-Na, MELD 3.0 and Child-Pugh points at each, a few visits
out of window or missed) and 0-5 adverse events. The script times

* endpoints: ``endpoint_table`` (4 scores x 3 time points, overall and by dose level) under
  each window rule;
* safety: overview, by term, by attribution, SAE listing, DLTs, deaths, participant flow.

Goal: the full analysis of 1,000 participants in under 2 s (a DSMB report page renders it on
request). Usage: python benchmarks/analysis.py [--smoke] [--participants N]
"""

from __future__ import annotations

import argparse
import random
import time
from datetime import UTC, date, datetime, timedelta

from trialdesk.analysis.dataset import DoseLevelInfo
from trialdesk.analysis.endpoints import WINDOW_RULES, endpoint_table
from trialdesk.analysis.flow import participant_flow
from trialdesk.analysis.safety import (
    ae_overview,
    by_relatedness,
    by_term,
    deaths,
    dlt_table,
    sae_listing,
)
from trialdesk.analysis.synthetic import (
    SCHEDULE,
    adverse_event,
    dataset,
    dose,
    participant,
    visit,
)

GOAL_SECONDS = {1000: 2.0}
LEVELS = tuple(DoseLevelInfo(f"DL{i}", f"level {i}", i, None, 5e5 * i) for i in range(1, 5))
TERMS = ("Fever", "Nausea", "Ascites", "Fatigue", "Infusion related reaction", "Anemia")


def build(n: int, seed: int = 12):
    rng = random.Random(seed)
    ps, doses, visits, aes = [], [], [], []
    for i in range(n):
        sid = f"P{i + 1:04d}"
        level = LEVELS[i % 4].id
        day1 = date(2025, 1, 1) + timedelta(days=i % 300)
        ps.append(
            participant(
                sid, cohort=i // 3 + 1, dose_level=level, screened_on=day1 - timedelta(days=7)
            )
        )
        doses.append(dose(sid, day1, dose_level=level))
        meld = rng.randint(10, 25)
        for plan in SCHEDULE[1:]:
            if plan.code != "D1" and rng.random() < 0.05:
                continue  # missed
            shift = rng.choice((0, 0, 0, 0, 0, 0, 0, 0, 0, plan.window_after + 3))
            meld = max(6, meld + rng.randint(-2, 1))
            visits.append(
                visit(
                    sid,
                    plan.code,
                    day1 + timedelta(days=plan.target_day - 1 + shift),
                    meld=meld,
                    meld_na=meld + 2,
                    meld3=meld + 3,
                    ctp_points=rng.randint(5, 12),
                    window_status="late" if shift else "in_window",
                )  # fmt: skip
            )
        for _ in range(rng.randint(0, 5)):
            aes.append(
                adverse_event(
                    sid,
                    rng.choice(TERMS),
                    rng.randint(1, 4),
                    day1 + timedelta(days=rng.randint(0, 200)),
                    dose_level=level,
                    related=rng.choice(("related", "possibly", "unlikely", "unrelated")),
                    serious=rng.random() < 0.1,
                )  # fmt: skip
            )
    return dataset(
        participants=ps, doses=doses, visits=visits, adverse_events=aes, dose_levels=LEVELS,
        data_cut=datetime(2026, 6, 30, tzinfo=UTC),
    )  # fmt: skip


def timed(fn):  # noqa: ANN001, ANN201
    t = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--smoke", action="store_true", help="tiny run (for CI)")
    ap.add_argument("--participants", type=int, default=1000)
    args = ap.parse_args()
    n = 60 if args.smoke else args.participants
    ds, t_build = timed(lambda: build(n))
    print(f"trial: {n:,} participants, {len(ds.visits):,} visits, "
          f"{len(ds.adverse_events):,} adverse events (built in {t_build:.2f} s)")  # fmt: skip
    rows = []
    total = 0.0
    for rule in WINDOW_RULES:
        out, t = timed(lambda rule=rule: endpoint_table(ds, window_rule=rule, by="dose_level"))
        rows.append((f"endpoints ({rule})", len(out), t))
        if rule == "include":
            total += t
    safety = {
        "AE overview": lambda: ae_overview(ds).rows,
        "by term": lambda: by_term(ds).rows,
        "by attribution": lambda: by_relatedness(ds).rows,
        "SAE listing": lambda: sae_listing(ds),
        "DLTs per cohort": lambda: dlt_table(ds),
        "deaths": lambda: deaths(ds),
        "participant flow": lambda: participant_flow(ds).stages,
    }
    for name, fn in safety.items():
        out, t = timed(fn)
        rows.append((name, len(out), t))
        total += t
    print(f"{'table':<24}{'rows':>8}{'seconds':>10}")
    for name, count, t in rows:
        print(f"{name:<24}{count:>8}{t:>10.3f}")
    goal = GOAL_SECONDS.get(n)
    verdict = ""
    if goal is not None:
        verdict = f" (goal < {goal:.1f} s: {'met' if total < goal else 'NOT met'})"
    print(f"full analysis (endpoints under the default rule + safety): {total:.2f} s{verdict}")


if __name__ == "__main__":
    main()
