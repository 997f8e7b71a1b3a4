"""Where the registry import's time goes: the same import with parts of it taken away.

    .venv/bin/python benchmarks/import_floors.py                       # 100,000 studies, 3 runs
    .venv/bin/python benchmarks/import_floors.py --pages /tmp/p100k --runs 5
    .venv/bin/python benchmarks/import_floors.py --smoke               # 2,000 studies, 1 run

``benchmarks/registry.py`` measures the import as shipped against its goal (>= 5,000
records/s on SQLite). This script answers the next question, how fast the import could be
with what it must do, by running the same ``import_paths`` over the same pages (each run a
fresh child process and a fresh, migrated SQLite database) in five modes:

- ``parse``: only the parse workers' part (read, validate with pydantic, build the rows) and
  the hand-over of the rows to this process; nothing is written (``parsing.parse_sources``);
- ``store``: the full import with both text indexes off (the FTS5 triggers dropped before
  it starts, ``TRIALDESK_TEXT_INDEX=0``): the rows, their secondary indexes and the commits;
- ``fts5``: ``store`` plus the FTS5 index (the Tantivy index off);
- ``tantivy``: ``store`` plus the Tantivy index (the FTS5 triggers dropped);
- ``full``: the import as shipped (both).

The modes run alternately, ``--runs`` times each; the table gives the median wall time,
records/s and CPU per study (the writing thread, the process's other threads, the parse
workers) and each mode's rate as a ratio to ``full`` in the same run. On 2 cores a rate of
5,000 records/s leaves 400 us of CPU per study in all.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve()
MODES = ("parse", "store", "fts5", "tantivy", "full")
#: The figures of a run that the table gives as medians.
MEDIANS = (
    "records", "seconds", "records_per_second", "writer_us", "other_threads_us", "workers_us",
)  # fmt: skip
#: Which text indexes each mode keeps (FTS5, Tantivy).
KEEPS = {
    "parse": (False, False),
    "store": (False, False),
    "fts5": (True, False),
    "tantivy": (False, True),
    "full": (True, True),
}


def _cpu(who: int) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def child(mode: str, pages: str) -> dict:
    """One run of ``mode`` in this (fresh) process."""
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from trialdesk.interop.sources import iter_sources
    from trialdesk.registry import importer, parsing

    call_command("migrate", interactive=False, verbosity=0)
    if not KEEPS[mode][0]:
        with connection.cursor() as cursor:
            for trigger in (
                "registry_trial_fts_ai",
                "registry_trial_fts_ad",
                "registry_trial_fts_au",
            ):
                cursor.execute(f"DROP TRIGGER IF EXISTS {trigger}")
    main0, proc0 = time.thread_time(), _cpu(resource.RUSAGE_SELF)
    started = time.perf_counter()
    if mode == "parse":
        sources = list(iter_sources([pages]))
        # As import_paths chooses them.
        workers = min(4, os.cpu_count() or 1) if len(sources) >= 4 else 0
        records, failed = 0, []
        for name, rows in parsing.parse_sources(sources, workers):
            if isinstance(rows, Exception):
                failed.append(name)
            else:
                records += len(rows)
        if failed:
            raise SystemExit(f"parse failed: {failed[:3]}")
    else:
        report = importer.import_paths([pages])
        if report.failures:
            raise SystemExit(f"import failed: {report.failures[:3]}")
        records = report.records
    seconds = time.perf_counter() - started
    main = time.thread_time() - main0
    proc = _cpu(resource.RUSAGE_SELF) - proc0
    per = 1e6 / records
    return {
        **_indexed(connection, mode),
        "mode": mode,
        "records": records,
        "seconds": seconds,
        "records_per_second": records / seconds,
        "writer_us": main * per,
        "other_threads_us": (proc - main) * per,
        "workers_us": _cpu(resource.RUSAGE_CHILDREN) * per,
    }


def _indexed(connection, mode: str) -> dict:
    """What the run left in each text index (the smoke test checks each mode did what it
    says): FTS5 documents, and whether the Tantivy index holds the database's state."""
    if mode == "parse":
        return {"fts5_documents": 0, "tantivy_current": False}
    from trialdesk.registry import textindex
    from trialdesk.registry.stamp import current_stamp

    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM registry_trial_fts_docsize")
        documents = cursor.fetchone()[0]
        index = textindex.for_connection(connection)
        current = index is not None and index.stamp() == current_stamp(cursor)
    return {"fts5_documents": documents, "tantivy_current": current}


def run_child(mode: str, pages: Path) -> dict:
    from registry import _run_child  # benchmarks/registry.py (on sys.path, see main)

    with tempfile.TemporaryDirectory(prefix="import-floors-") as var:
        index = "1" if KEEPS[mode][1] else "0"
        return _run_child([mode, str(pages)], Path(var), script=HERE, TRIALDESK_TEXT_INDEX=index)


def summarize(results: dict[str, list[dict]]) -> list[dict]:
    """Median per mode, and each mode's rate over ``full``'s (medians of the same run; None
    without ``full``)."""
    rows = []
    full = None
    if results.get("full"):
        full = statistics.median(r["records_per_second"] for r in results["full"])
    for mode, runs in results.items():
        med = {k: statistics.median(r[k] for r in runs) for k in runs[0] if k in MEDIANS}
        med["mode"] = mode
        med["runs"] = len(runs)
        med["ratio_to_full"] = med["records_per_second"] / full if full else None
        rows.append(med)
    return rows


def table(rows: list[dict], load: tuple[float, float]) -> str:
    head = (
        f"{'mode':<9} {'runs':>4} {'seconds':>8} {'records/s':>10} {'x full':>7} "
        f"{'writer us':>10} {'threads us':>11} {'workers us':>11}"
    )
    lines = [head, "-" * len(head)]
    for r in rows:
        ratio = "-" if r["ratio_to_full"] is None else f"{r['ratio_to_full']:.2f}"
        lines.append(
            f"{r['mode']:<9} {r['runs']:>4} {r['seconds']:>8.1f} {r['records_per_second']:>10,.0f} "
            f"{ratio:>7} {r['writer_us']:>10.0f} {r['other_threads_us']:>11.0f} "
            f"{r['workers_us']:>11.0f}"
        )
    lines.append(
        f"{rows[0]['records']:,} studies; medians; CPU per study; load average "
        f"{load[0]:.1f} at start, {load[1]:.1f} at end; goal 5,000 records/s = 400 us of "
        "CPU per study on 2 cores"
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--smoke", action="store_true", help="2,000 records, 1 run")
    parser.add_argument("--pages", help="reuse (or first write) the pages in DIR")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument(
        "--modes", default=",".join(MODES), help=f"comma-separated, of {', '.join(MODES)}"
    )
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(child(*args.child)))
        return 0
    sys.path.insert(0, str(HERE.parent))
    from registry import _pages_ready  # benchmarks/registry.py: the same page check
    from trialdesk.interop.synthetic import write_pages

    n, runs = (2_000, 1) if args.smoke else (args.records, args.runs)
    modes = [m for m in MODES if m in args.modes.split(",")]
    if unknown := set(args.modes.split(",")) - set(MODES):
        parser.error(f"--modes: unknown {', '.join(sorted(unknown))}")
    with tempfile.TemporaryDirectory(prefix="import-floors-pages-") as tmp:
        pages = Path(args.pages) if args.pages else Path(tmp)
        if not _pages_ready(pages, n, 0):
            write_pages(n, pages, seed=0, page_size=1000)
        load_start = os.getloadavg()[0]
        results: dict[str, list[dict]] = {mode: [] for mode in modes}
        for _ in range(runs):
            for mode in modes:
                results[mode].append(run_child(mode, pages))
        rows = summarize(results)
    load = (load_start, os.getloadavg()[0])
    if args.json:
        print(json.dumps({"rows": rows, "runs": results, "load": load}))
    else:
        print(table(rows, load))
    return 0


if __name__ == "__main__":
    sys.exit(main())
