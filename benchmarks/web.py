"""Web benchmark: the staff pages and the public registry under gunicorn on PostgreSQL.

    .venv/bin/python benchmarks/web.py                  # 50 users, 60 s (+ a 15 s baseline)
    .venv/bin/python benchmarks/web.py --smoke          # 4 users, 4 s, a quick check
    .venv/bin/python benchmarks/web.py --users 20 --duration 30 --think 0 --json

Steps (docs/conduct.md, "Benchmark"):

1. a fresh PostgreSQL database of its own (``trialdesk_bench_web_<pid>`` on the server of
   ``--pg``, dropped afterwards unless ``--keep``), migrated, the seed listings imported
   (``trialdesk registry import protocols``), ``trialdesk demo`` run (its printed passwords
   are the users' logins), ``collectstatic``;
2. gunicorn (``trialdesk.web.wsgi``, ``--workers``, sync workers) with the production
   settings (``trialdesk.web.settings_production``) on 127.0.0.1 at a free port; always
   stopped at the end;
3. N simulated users (``benchmarks/web_users.py``) log in through the login form (not timed);
4. baseline, measured the same way in the same run: the same N users, the same think time,
   GET the public home page (two COUNT queries: the floor of Django + gunicorn + PostgreSQL
   on this machine) for ``--baseline-duration`` s;
5. the mix for ``--duration`` s: dashboards, participant, visit and history pages, public
   search and listings, and real form posts with CSRF (monitors open and close data queries,
   coordinators and investigators answer them);
6. afterwards the database is counted: the queries created, answered and closed and the
   audit-chain entries must equal the successful posts, each query of the run must have the
   status of its last successful post (no lost writes), and ``trialdesk audit verify`` must
   pass.

Printed: throughput, p50/p95/p99 latency (overall and per kind of request), errors (with
the first few), the write check, the baseline and the ratio, and the machine's load average.
Goals (issue 11): p95 < 200 ms, no errors, no lost writes. The machine's other load is
printed with the results: this benchmark is meaningful only on a quiet machine.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import web_users
from web_report import GOALS, check_writes, print_table, server_cpu, summary

HERE = Path(__file__).resolve()
REPO = HERE.parents[1]
DEMO_LINE = re.compile(r"^\s+(demo-[\w-]+)\s+(\S+)\s+\S")


# ----------------------------------------------------------------------------- children


def _django() -> None:
    import django

    django.setup()


def child_info() -> dict:
    """What the users need (participants, their visits) and the counts before the run."""
    _django()
    from trialdesk.conduct.models import Participant

    participants = []
    qs = Participant.objects.select_related("study", "site").prefetch_related("visits")
    for p in qs.order_by("pk"):
        participants.append({
            "pk": p.pk, "site": p.site.code, "nct_id": p.study.nct_id,
            "visits": sorted(v.code for v in p.visits.all()),
        })  # fmt: skip
    return {"participants": participants, "counts": _counts()}


def _counts() -> dict:
    from trialdesk.conduct.models import AuditChainEntry, DataQuery

    history = DataQuery.history.all()
    return {
        "queries": DataQuery.objects.count(),
        "answered": history.filter(history_change_reason__startswith="answered:").count(),
        "closed": history.filter(history_change_reason__startswith="closed:").count(),
        "chain": AuditChainEntry.objects.count(),
    }


def child_count(ids: str) -> dict:
    _django()
    from trialdesk.conduct.models import DataQuery

    wanted = [int(i) for i in ids.split(",") if i]
    status = dict(DataQuery.objects.filter(pk__in=wanted).values_list("pk", "status"))
    return {"counts": _counts(), "status": {str(k): v for k, v in status.items()}}


# ----------------------------------------------------------------------------- parent


def _env(db_url: str, var: Path) -> dict:
    env = dict(os.environ)
    env.update(
        DATABASE_URL=db_url,
        TRIALDESK_VAR=str(var),
        DJANGO_SETTINGS_MODULE="trialdesk.web.settings_production",
        TRIALDESK_ALLOWED_HOSTS="127.0.0.1",
        TRIALDESK_SECRET_KEY=secrets.token_urlsafe(50),
        PYTHONPATH=os.pathsep.join([str(REPO / "src"), env.get("PYTHONPATH", "")]).rstrip(":"),
    )
    return env


def _run(cmd: list[str], env: dict, step: str) -> str:
    proc = subprocess.run(cmd, env=env, cwd=REPO, capture_output=True, text=True, timeout=900)
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout[-3000:] + proc.stderr[-3000:])
        raise SystemExit(f"benchmark step {step!r} failed (exit {proc.returncode})")
    return proc.stdout


def _child(args: list[str], env: dict) -> dict:
    out = _run([sys.executable, str(HERE), "--child", *args], env, args[0])
    return json.loads(out.strip().splitlines()[-1])


def _admin(pg: str):  # noqa: ANN202
    import psycopg

    return psycopg.connect(f"{pg.rstrip('/')}/postgres", autocommit=True)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start_server(env: dict, workers: int, log: Path) -> tuple[subprocess.Popen, str]:
    import httpx

    port = _free_port()
    cmd = [sys.executable, "-m", "gunicorn", "trialdesk.web.wsgi:application",
           "--bind", f"127.0.0.1:{port}", "--workers", str(workers), "--timeout", "60",
           "--error-logfile", str(log)]  # fmt: skip
    server = subprocess.Popen(cmd, env=env, cwd=REPO, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, start_new_session=True)  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    for _ in range(240):  # up to 60 s
        if server.poll() is not None:
            break
        try:
            r = httpx.get(base + "/", headers={"X-Forwarded-Proto": "https"}, timeout=5)
            if r.status_code == 200:
                return server, base
        except httpx.HTTPError:
            pass
        time.sleep(0.25)
    _stop_server(server)
    tail = log.read_text(errors="replace")[-3000:] if log.exists() else ""
    raise SystemExit(f"gunicorn did not answer on {base}:\n{tail}")


def _stop_server(server: subprocess.Popen) -> None:
    if server.poll() is None:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(timeout=10)


def _load(args, base: str, site: dict, cpu) -> dict:  # noqa: ANN001
    stats, board = web_users.Stats(), web_users.Board()
    users = web_users.make_users(args.users, base, stats, board, site)
    try:
        failed = []
        web_users.run_threads(users, lambda u: u.login() or failed.append(u.n))
        if failed:
            raise SystemExit(f"{len(failed)} simulated users could not log in: "
                             + "; ".join(stats.errors[:3]))  # fmt: skip
        logins = summary(stats, "login", 1.0)
        started = time.monotonic()
        web_users.run_threads(
            users,
            lambda u: u.run("warm-up", started + 120, 0.0, actions=args.warmup, views_only=True),
        )
        warmup = summary(stats, "warm-up", time.monotonic() - started)
        phases = {}
        for phase, seconds, only in (("baseline", args.baseline_duration, "/"),
                                     ("mix", args.duration, None)):  # fmt: skip
            started, cpu_before = time.monotonic(), cpu()
            deadline = started + seconds
            web_users.run_threads(users, lambda u: u.run(phase, deadline, args.think, only))  # noqa: B023
            phases[phase] = summary(stats, phase, time.monotonic() - started)
            used = cpu() - cpu_before
            phases[phase]["server_cpu_s"] = used
            phases[phase]["server_cpu_ms_per_request"] = (
                1000 * used / max(1, phases[phase]["requests"])
            )
    finally:
        for u in users:
            u.close()
    return {
        "login": logins,
        "warmup": warmup,
        **phases,
        "writes": stats.writes,
        "expected": board.expected,
    }


def run_once(args) -> dict:

    tmp = Path(tempfile.mkdtemp(prefix="trialdesk-bench-web-"))
    name = args.db or f"trialdesk_bench_web_{os.getpid()}"
    with _admin(args.pg) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        admin.execute(f'CREATE DATABASE "{name}"')
    env = _env(f"{args.pg.rstrip('/')}/{name}", tmp / "var")
    cli = [sys.executable, "-m", "trialdesk.cli"]
    try:
        t = time.perf_counter()
        _run([*cli, "migrate", "--quiet"], env, "migrate")
        _run([*cli, "registry", "import", "protocols"], env, "registry import")
        demo = _run([*cli, "demo"], env, "demo")
        _run([sys.executable, "-m", "django", "collectstatic", "--noinput", "-v0"], env, "static")
        setup_s = time.perf_counter() - t
        passwords = dict(m.groups() for m in map(DEMO_LINE.match, demo.splitlines()) if m)
        missing = sorted(set(web_users.LOGIN_OF.values()) - set(passwords))
        if missing:
            raise SystemExit(f"trialdesk demo printed no password for {', '.join(missing)}")
        info = _child(["info"], env)
        site = {"participants": info["participants"], "passwords": passwords}
        server, base = _start_server(env, args.workers, tmp / "gunicorn.log")
        load_before = os.getloadavg()
        try:
            load = _load(args, base, site, lambda: server_cpu(server.pid))
        finally:
            _stop_server(server)
        load_after = os.getloadavg()
        ids = ",".join(str(k) for k in load["expected"])
        after = _child(["count", ids], env)
        verify = subprocess.run([*cli, "audit", "verify"], env=env, cwd=REPO,
                                capture_output=True, text=True, timeout=600)  # fmt: skip
    finally:
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)
            with _admin(args.pg) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        else:
            print(f"kept {tmp} and database {name}", file=sys.stderr)
    writes = check_writes(info, after, load)
    mix, base_ = load["mix"], load["baseline"]
    return {
        "users": args.users, "duration_s": args.duration, "think_s": args.think,
        "workers": args.workers, "participants": len(info["participants"]),
        "setup_seconds": setup_s, "login": load["login"], "warmup": load["warmup"],
        "baseline": base_, "mix": mix,
        "ratio_p95": mix["p95_ms"] / base_["p95_ms"],
        "ratio_throughput": mix["throughput_rps"] / base_["throughput_rps"],
        "writes": writes,
        "audit_verify": (verify.stdout + verify.stderr).strip().splitlines()[-1:],
        "audit_verify_ok": verify.returncode == 0,
        "load_average": [round(x, 2) for x in load_before + load_after],
        "goals_met": {
            "p95_ms": mix["p95_ms"] < GOALS["p95_ms"],
            "errors": mix["errors"] + base_["errors"] + load["warmup"]["errors"] == 0,
            "lost_writes": writes["lost_writes"] == 0 and verify.returncode == 0,
        },
    }  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of the mix")
    parser.add_argument("--baseline-duration", type=float, default=15.0)
    parser.add_argument("--think", type=float, default=1.0,
                        help="mean think time between a user's actions, s (0: none)")  # fmt: skip
    parser.add_argument("--warmup", type=int, default=4,
                        help="page views per user before the measured phases")  # fmt: skip
    parser.add_argument("--workers", type=int, default=2 * (os.cpu_count() or 1) + 1)
    parser.add_argument("--smoke", action="store_true", help="4 users, 4 s (+ 2 s baseline)")
    parser.add_argument("--pg", default="postgres://postgres@127.0.0.1:5432",
                        help="the PostgreSQL server (a database is created on it)")  # fmt: skip
    parser.add_argument("--db", help="database name (default trialdesk_bench_web_<pid>)")
    parser.add_argument("--keep", action="store_true", help="keep the database and folder")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.child:
        sys.path.insert(0, str(REPO / "src"))
        step = args.child[0]
        out = child_info() if step == "info" else child_count(args.child[1:][0] if
                                                              args.child[1:] else "")  # fmt: skip
        print(json.dumps(out))
        return 0
    if args.smoke:
        args.users, args.duration, args.baseline_duration, args.think = 4, 4.0, 2.0, 0.2
        args.workers = min(args.workers, 2)
    host = re.match(
        r"postgres(?:ql)?://(?:[^/@]*@)?(?:127\.0\.0\.1|localhost)(?::\d+)?/?$", args.pg
    )
    if host is None:
        raise SystemExit(f"--pg {args.pg!r}: only a server on 127.0.0.1 (loopback)")
    if args.db is not None and not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", args.db):
        raise SystemExit(f"--db {args.db!r}: lower-case letters, digits and _ only")
    for name, value in (("--users", args.users), ("--duration", args.duration),
                        ("--workers", args.workers)):  # fmt: skip
        if value <= 0:
            raise SystemExit(f"{name} must be > 0, not {value}")
    result = run_once(args)

    if args.json:
        print(json.dumps(result))
    else:
        print_table(result)
    met = result["goals_met"]
    # A smoke run checks the script, not the speed: only errors and lost writes fail it.
    return 0 if all(met.values()) or (args.smoke and met["errors"] and met["lost_writes"]) else 1


if __name__ == "__main__":
    sys.exit(main())
