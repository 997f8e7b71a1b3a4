"""Measuring and printing for ``benchmarks/web.py``: latency quantiles per phase and kind,
gunicorn's CPU time, the write check against the database, the result table."""

from __future__ import annotations

import os
import statistics
from pathlib import Path

GOALS = {"p95_ms": 200.0, "errors": 0, "lost_writes": 0}


def server_cpu(pid: int) -> float:
    """CPU seconds (user + system) used so far by gunicorn's master and workers (Linux
    /proc); PostgreSQL's own processes are not counted."""
    tick = os.sysconf("SC_CLK_TCK")
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    total = 0.0
    for p in [str(pid), *children]:
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:  # a worker that just exited
            continue
        total += (int(fields[11]) + int(fields[12])) / tick  # utime, stime
    return total


def summary(stats, phase: str, seconds: float) -> dict:
    samples = [s for s in stats.samples if s[0] == phase]
    ms = [s[2] for s in samples]
    by_kind: dict[str, list[float]] = {}
    for _, kind, t, _ok in samples:
        by_kind.setdefault(kind, []).append(t)
    return {
        "requests": len(samples),
        "seconds": seconds,
        "max_ms": max(ms, default=float("nan")),
        "throughput_rps": len(samples) / seconds if seconds else 0.0,
        **quantiles(ms),
        "errors": sum(1 for s in samples if not s[3]),
        "error_samples": [e for e in stats.errors if e.startswith(phase + "/")][:5],
        "by_kind": {k: {"n": len(v), **quantiles(v)} for k, v in sorted(by_kind.items())},
    }


def quantiles(ms: list[float]) -> dict:
    if len(ms) < 2:
        v = ms[0] if ms else float("nan")
        return {"p50_ms": v, "p95_ms": v, "p99_ms": v}
    q = statistics.quantiles(ms, n=100, method="inclusive")
    return {"p50_ms": q[49], "p95_ms": q[94], "p99_ms": q[98]}


def check_writes(before: dict, after: dict, load: dict) -> dict:
    b, a, w = before["counts"], after["counts"], load["writes"]
    rows = {
        "queries created": (a["queries"] - b["queries"], w["open"]),
        "answers in history": (a["answered"] - b["answered"], w["answer"]),
        "closes in history": (a["closed"] - b["closed"], w["close"]),
        "audit-chain entries": (a["chain"] - b["chain"], sum(w.values())),
        "query ids found after posting": (len(load["expected"]), w["open"]),
    }
    wrong = {qid: (after["status"].get(qid), want) for qid, want in
             ((str(k), v) for k, v in load["expected"].items())
             if after["status"].get(qid) != want}  # fmt: skip
    lost = sum(abs(got - want) for got, want in rows.values()) + len(wrong)
    return {"rows": rows, "wrong_status": dict(list(wrong.items())[:5]), "lost_writes": lost}


def print_table(r: dict) -> None:
    mix, base = r["mix"], r["baseline"]

    def lat(x: dict) -> str:
        return f"{x['p50_ms']:.0f} / {x['p95_ms']:.0f} / {x['p99_ms']:.0f} ms"

    rows = [
        ("simulated users / think time / gunicorn workers",
         f"{r['users']} / {r['think_s']:g} s / {r['workers']}", f"{r['participants']} participants"),
        ("setup (migrate, import, demo, collectstatic)", f"{r['setup_seconds']:.0f} s", ""),
        ("login (not in the results) p50 / p95 / p99", lat(r["login"]), ""),
        (f"warm-up: {r['warmup']['requests']} page views (not in the results)",
         f"max {r['warmup']['max_ms']:.0f} ms", f"errors {r['warmup']['errors']}"),
        (f"mix: requests in {mix['seconds']:.0f} s", f"{mix['requests']:,}",
         f"{mix['throughput_rps']:.1f} req/s"),
        ("mix: p50 / p95 / p99", lat(mix), f"goal p95 < {GOALS['p95_ms']:.0f} ms"),
        ("mix: errors", str(mix["errors"]), "goal 0"),
        ("mix: gunicorn CPU per request (PostgreSQL not counted)",
         f"{mix['server_cpu_ms_per_request']:.0f} ms", f"{mix['server_cpu_s']:.0f} CPU s in all"),
    ]  # fmt: skip
    for kind, v in mix["by_kind"].items():
        rows.append((f"  {kind}", lat(v), f"n={v['n']:,}"))
    rows += [
        (f"baseline: GET / for {base['seconds']:.0f} s", f"{base['requests']:,}",
         f"{base['throughput_rps']:.1f} req/s"),
        ("baseline: p50 / p95 / p99", lat(base), f"errors {base['errors']}"),
        ("baseline: gunicorn CPU per request", f"{base['server_cpu_ms_per_request']:.0f} ms", ""),
        ("mix / baseline: p95, throughput", f"{r['ratio_p95']:.1f}x, {r['ratio_throughput']:.2f}x",
         "same users, same run"),
    ]  # fmt: skip
    for what, (got, want) in r["writes"]["rows"].items():
        where = "on the pages" if what.startswith("query ids") else "in the database"
        rows.append((f"writes: {what}", f"{got:,} {where}", f"{want:,} posted"))
    rows.append(("writes: lost (mismatches)", str(r["writes"]["lost_writes"]), "goal 0"))
    rows.append(("audit verify", " ".join(r["audit_verify"])[:60], ""))
    rows.append(("load average before/after (1, 5, 15 min)",
                 " ".join(map(str, r["load_average"])), ""))  # fmt: skip
    width = max(len(a) for a, _, _ in rows)
    for a, b, c in rows:
        print(f"{a:<{width}}  {b:<28}  {c}")
    for e in mix["error_samples"] + base["error_samples"]:
        print("error:", e)
    for qid, (got, want) in r["writes"]["wrong_status"].items():
        print(f"lost write: query {qid} is {got!r} in the database, {want!r} posted")
    print(
        "goals met: " + ", ".join(f"{k}={'yes' if v else 'NO'}" for k, v in r["goals_met"].items())
    )
