"""Benchmark: whole-cohort prescreening against both seed protocols.

    .venv/bin/python benchmarks/prescreen.py                 # 10,000,000 patients
    .venv/bin/python benchmarks/prescreen.py --n 200000 --repeat 1   # quick look
    .venv/bin/python benchmarks/prescreen.py --smoke         # 20,000 patients, 1 run (CI)

1. Writes a synthetic cirrhosis cohort once (cached under --dir; the file name carries the
   cohort file layout, ``LAYOUT``, so a cohort written in an older layout is not reused):
   Parquet as trialdesk.eligibility.cohort.cohort_parquet_options says (lz4, version-2
   pages, RLE booleans, other columns dictionary-encoded), a row group per million rows.
2. Screens it against NCT05227846 and NCT05331872 in one pass (trialdesk.eligibility.
   vectorized.prescreen_file: read, evaluate every criterion, write the result Parquet),
   --repeat times, each in a fresh child process that reports its own wall time and peak
   memory (ru_maxrss). End to end = reading the cohort to the closed result file.
3. Baseline measured in the same run: the one-patient path (cohort row -> Patient ->
   screen, both protocols) in a plain loop over --baseline patients of the same cohort.

Prints patients/s for both, the ratio, and the goals (<= 10 s end to end, <= 8 GB peak,
>= 100x the one-patient loop). Medians over the repeats.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NCT_IDS = ("NCT05227846", "NCT05331872")
SCREENING_DATE = date(2026, 11, 20)
LAYOUT = "rle-bool"  # change when synth or cohort_parquet_options change the file
#: The --smoke size: checks the script end to end in a few seconds, not the speed.
SMOKE_N, SMOKE_BASELINE = 20_000, 200


def _protocols():
    from trialdesk.protocol import load_protocol

    return [load_protocol(ROOT / "protocols" / n / "protocol.yaml") for n in NCT_IDS]


def child_screen(cohort: str, out: str) -> None:
    """Run in a fresh process: one end-to-end prescreen; print JSON timing and memory."""
    import resource

    from trialdesk.eligibility.vectorized import prescreen_file

    protocols = _protocols()
    started, cpu = time.perf_counter(), time.process_time()
    summary = prescreen_file(protocols, cohort, out, SCREENING_DATE)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # kB on Linux
    print(
        json.dumps(
            {
                "seconds": seconds,
                "cpu": cpu,
                "rows": summary["rows"],
                "peak_bytes": peak,
                "counts": summary["counts"],
            }
        )
    )


def child_generate(cohort: str, n: int) -> None:
    from trialdesk.eligibility.synth import write_synthetic_cohort

    started = time.perf_counter()
    write_synthetic_cohort(cohort, n, seed=2026, screening_date=SCREENING_DATE)
    print(json.dumps({"seconds": time.perf_counter() - started}))


def baseline(cohort: str, n: int) -> float:
    """One-patient path in a loop: patients per second (both protocols per patient)."""
    import pyarrow.parquet as pq

    from trialdesk.eligibility import screen
    from trialdesk.eligibility.cohort import patient_from_row

    protocols = _protocols()
    first = next(pq.ParquetFile(cohort).iter_batches(batch_size=n)).to_pylist()
    started = time.perf_counter()
    for row in first:
        for p in protocols:
            screen(p, patient_from_row(row, p), SCREENING_DATE)
    return len(first) / (time.perf_counter() - started)


def _run(args: list[str]) -> dict:
    proc = subprocess.run(
        [sys.executable, __file__, *args], capture_output=True, text=True, cwd=ROOT
    )
    if proc.returncode != 0:
        raise SystemExit(f"child failed: {proc.stderr}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--baseline", type=int, default=2000, help="patients for the one-patient loop"
    )
    parser.add_argument(
        "--smoke",
        action="store_true",
        help=f"{SMOKE_N:,} patients, 1 run, {SMOKE_BASELINE} in the loop, a temporary --dir",
    )
    parser.add_argument(
        "--dir", help="cohort cache (default $TMPDIR/trialdesk_bench; --smoke: a temporary one)"
    )
    parser.add_argument(
        "--child-screen", nargs=2, metavar=("COHORT", "OUT"), help=argparse.SUPPRESS
    )
    parser.add_argument(
        "--child-generate", nargs=2, metavar=("COHORT", "N"), help=argparse.SUPPRESS
    )
    args = parser.parse_args()
    if args.child_screen:
        child_screen(*args.child_screen)
        return
    if args.child_generate:
        child_generate(args.child_generate[0], int(args.child_generate[1]))
        return
    if args.smoke:
        args.n, args.repeat, args.baseline = SMOKE_N, 1, SMOKE_BASELINE
        if args.dir is None:
            with tempfile.TemporaryDirectory(prefix="trialdesk_bench_smoke") as folder:
                args.dir = folder
                bench(args)
            return
    if args.dir is None:
        args.dir = os.environ.get("TMPDIR", "/tmp") + "/trialdesk_bench"
    bench(args)


def bench(args: argparse.Namespace) -> None:
    """Generate (or reuse) the cohort, screen it ``args.repeat`` times, print the table."""
    folder = Path(args.dir)
    folder.mkdir(parents=True, exist_ok=True)
    cohort = folder / f"cohort_{args.n}.{LAYOUT}.parquet"
    out = folder / f"result_{args.n}.parquet"
    if not cohort.exists():
        gen = _run(["--child-generate", str(cohort), str(args.n)])
        print(f"generated {args.n:,} synthetic patients in {gen['seconds']:.1f} s -> {cohort}")
    size = cohort.stat().st_size
    runs = [_run(["--child-screen", str(cohort), str(out)]) for _ in range(args.repeat)]
    seconds = statistics.median(r["seconds"] for r in runs)
    peak = statistics.median(r["peak_bytes"] for r in runs)
    vec_rate = args.n / seconds
    one_rate = baseline(str(cohort), args.baseline)
    ratio = vec_rate / one_rate
    print()
    print(
        f"cohort: {args.n:,} patients, {size / 1e9:.2f} GB Parquet; protocols "
        f"{', '.join(NCT_IDS)} (one pass); {os.cpu_count()} CPUs; "
        f"load average {os.getloadavg()[0]:.1f}"
    )
    print(f"{'path':<34}{'seconds':>10}{'patients/s':>16}{'peak memory':>14}")
    print(
        f"{'vectorized (Polars), end to end':<34}{seconds:>10.2f}{vec_rate:>16,.0f}"
        f"{peak / 1e9:>11.2f} GB"
    )
    print(
        f"{'one-patient path in a loop':<34}{args.baseline / one_rate:>10.2f}"
        f"{one_rate:>16,.0f}{'':>14}"
    )
    times = ", ".join(f"{r['seconds']:.2f} (CPU {r['cpu']:.2f})" for r in runs)
    print(
        f"runs, wall s (CPU s, all threads): {times}; ratio vectorized / one-patient: {ratio:,.0f}x"
    )
    goals = [
        ("end to end <= 10 s", seconds <= 10),
        ("peak memory <= 8 GB", peak <= 8e9),
        (">= 100x one-patient loop", ratio >= 100),
    ]
    print("goals: " + "; ".join(f"{g}: {'met' if ok else 'NOT met'}" for g, ok in goals))
    for nct, counts in runs[-1]["counts"].items():
        print(f"  {nct}: " + ", ".join(f"{k} {v:,}" for k, v in sorted(counts.items())))


if __name__ == "__main__":
    main()
