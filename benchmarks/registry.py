"""Registry benchmark: import N synthetic studies into a fresh database, then search.

    .venv/bin/python benchmarks/registry.py                 # 500,000 studies, SQLite
    .venv/bin/python benchmarks/registry.py --smoke         # 2,000 studies, a quick check
    .venv/bin/python benchmarks/registry.py --records 50000 --runs 5 --json
    .venv/bin/python benchmarks/registry.py --database-url postgres://postgres@127.0.0.1:5432/postgres

Steps (each database step runs in its own child process, with a temporary ``TRIALDESK_VAR``
and ``DJANGO_SETTINGS_MODULE=trialdesk.web.settings``). The store is SQLite (no
``DATABASE_URL``) unless ``--database-url`` names a PostgreSQL server: then the children
use two fresh databases made there for this run, ``<name>_bench_<pid>`` and
``<name>_bench_<pid>_base`` (the URL's database is only connected to, to create and at the
end drop them); the import uses COPY for new trials (``registry/pgcopy.py``), and with
``--compare-executemany`` the same import is run once more with COPY off, as a baseline:

1. generate N studies with ``trialdesk.interop.synthetic.write_pages`` (pages of 1,000);
2. import them with ``trialdesk.registry.importer.import_paths`` into a fresh, migrated
   database: records/s over the whole import, and peak memory (``ru_maxrss``) of the
   importing process and of its largest parse worker;
3. baseline import, measured in the same run: the first B studies (default 2,000) stored
   row by row with the ORM (``Trial.save()``, one ``TrialCondition`` / ``TrialIntervention``
   / ``TrialLocation.save()`` each, autocommit), validated by the same ``load_studies``,
   with the Tantivy text index off (``TRIALDESK_TEXT_INDEX=0``: each save would otherwise
   commit the index once, which is a cost of this baseline, not of the importer; off, the
   baseline measures what it measured before the index existed);
4. search latency p50/p95/p99 over a fixed, seeded mix of queries (text, status, age,
   distance, and combinations) through ``trialdesk.registry.search.search``, after one
   warm-up pass; each query repeated ``--runs`` times; whether the Tantivy text index was
   current (so ranked queries used it) and its size on disk are reported;
5. baseline search, measured in the same run: a naive ORM search (``icontains`` on title,
   conditions and interventions, status/age filters on the ORM, distance in Python over the
   candidates' sites) for a subset of the same queries.

Goals (docs/benchmarks-registry.md): import >= 5,000 records/s, search p95 <= 30 ms at
500,000 records, peak memory <= 2 GB. The machine's other load is printed with the results.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve()
GOALS = {"import_rps": 5000.0, "search_p95_ms": 30.0, "peak_mb": 2048.0}


# ----------------------------------------------------------------------------- query mix


def query_mix(seed: int = 2026) -> list[tuple[str, dict]]:
    """A fixed list of (kind, SearchQuery kwargs): text, filters and distance, mixed."""
    from trialdesk.interop import synthetic_vocab as vocab
    from trialdesk.interop.synthetic import load_cities

    rng = random.Random(seed)
    conditions = sorted({c for names, _, _ in vocab.AREAS.values() for c in names})
    drugs = sorted({name for pool in vocab.INTERVENTIONS.values() for _, name in pool})
    cities = sorted(load_cities(), key=lambda c: -c.weight)[:60]
    words = ["cancer", "cirrhosis", "diabetes", "stem cells", "vaccine", "heart failure",
             "lymphoma", "depression", "asthma", "mesenchymal", "CAR T", "obesity"]  # fmt: skip
    statuses = [("RECRUITING",), ("RECRUITING", "NOT_YET_RECRUITING"), ("COMPLETED",)]
    out: list[tuple[str, dict]] = []

    def text():
        x = rng.random()
        if x < 0.4:
            return rng.choice(conditions)
        if x < 0.7:
            return rng.choice(words)
        return rng.choice(drugs)

    def place():
        c = rng.choice(cities)
        return (c.lat, c.lon), rng.choice((25, 50, 100, 250, 500))

    for _ in range(12):
        out.append(("text", {"text": text()}))
        out.append(("text+status", {"text": text(), "statuses": rng.choice(statuses)}))
        out.append(
            (
                "text+status+age",
                {
                    "text": text(),
                    "statuses": rng.choice(statuses),
                    "age": rng.choice((8, 35, 52, 71)),
                },
            )
        )
        near, km = place()
        out.append(
            (
                "text+status+age+distance",
                {
                    "text": text(),
                    "statuses": ("RECRUITING",),
                    "age": rng.choice((35, 52, 71)),
                    "near": near,
                    "within_km": km,
                },
            )
        )
        near, km = place()
        out.append(("status+age+distance", {"statuses": ("RECRUITING",), "age": rng.choice((8, 45, 70)),
                                             "near": near, "within_km": km}))  # fmt: skip
    return out


# ----------------------------------------------------------------------------- children


def _django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "trialdesk.web.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)


def _maxrss_mb(who: int) -> float:
    return resource.getrusage(who).ru_maxrss / 1024  # Linux: kilobytes


def child_import(pages: str, profile: str | None, copy: bool = True) -> dict:
    _django()
    from trialdesk.registry import pgcopy
    from trialdesk.registry.importer import import_paths

    pgcopy.ENABLED = copy

    rss_before = _maxrss_mb(resource.RUSAGE_SELF)
    started = time.perf_counter()
    if profile:
        import cProfile

        profiler = cProfile.Profile()
        report = profiler.runcall(import_paths, [pages])
        profiler.dump_stats(profile)
    else:
        report = import_paths([pages])
    seconds = time.perf_counter() - started
    from django.db import connection

    return {
        "database": connection.vendor,
        "copy": pgcopy.usable(connection.vendor),
        "records": report.records,
        "failures": report.failures[:3],
        "seconds": seconds,
        "records_per_second": report.records / seconds if seconds else 0.0,
        "peak_mb_importer": _maxrss_mb(resource.RUSAGE_SELF),
        "peak_mb_after_setup": rss_before,
        "peak_mb_largest_worker": _maxrss_mb(resource.RUSAGE_CHILDREN),
    }


def child_baseline_import(pages: str, limit: int) -> dict:
    """Row-by-row ORM saves, autocommit: what a first, naive importer would do."""
    _django()
    from trialdesk.interop.ctgov import dump_study, iter_sources, load_studies
    from trialdesk.registry.models import (
        Trial,
        TrialCondition,
        TrialIntervention,
        TrialLocation,
        phase_mask,
    )

    started = time.perf_counter()
    done = 0
    for source in iter_sources([pages]):
        for study in load_studies(source.read(), source.name):
            if done >= limit:
                break
            ps = study.protocol_section
            elig = ps.eligibility_module
            trial = Trial(
                nct_id=study.nct_id,
                brief_title=study.brief_title or "",
                official_title=study.official_title or "",
                overall_status=study.overall_status.value if study.overall_status else "",
                phases=",".join(p.value for p in study.phases),
                phase_mask=phase_mask([p.value for p in study.phases]),
                study_type=study.study_type.value if study.study_type else "",
                sex=study.sex.value if study.sex else "",
                min_age_days=math.floor(study.min_age_days) if study.min_age_days else None,
                max_age_days=math.floor(study.max_age_days) if study.max_age_days else None,
                healthy_volunteers=elig.healthy_volunteers if elig else None,
                lead_sponsor=study.lead_sponsor_name or "",
                conditions_text="\n".join(study.conditions),
                criteria_text=study.eligibility_criteria or "",
                record=dump_study(study),
                record_hash="-",
                source=source.name,
            )
            trial.save()
            for i, name in enumerate(study.conditions):
                TrialCondition(trial=trial, position=i, name=name).save()
            arms = ps.arms_interventions_module
            for i, item in enumerate((arms.interventions or []) if arms else []):
                TrialIntervention(
                    trial=trial,
                    position=i,
                    type=item.type.value if item.type else "",
                    name=item.name or "",
                ).save()
            for i, loc in enumerate(study.locations):
                point = loc.geo_point
                TrialLocation(
                    trial=trial, position=i, facility=loc.facility or "", city=loc.city or "",
                    state=loc.state or "", country=loc.country or "",
                    status=loc.status.value if loc.status else "",
                    lat=point.lat if point else None, lon=point.lon if point else None,
                ).save()  # fmt: skip
            done += 1
        if done >= limit:
            break
    seconds = time.perf_counter() - started
    return {"records": done, "seconds": seconds, "records_per_second": done / seconds}


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    k = (len(ordered) - 1) * q
    lo, hi = math.floor(k), math.ceil(k)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def child_search(runs: int, baseline_queries: int) -> dict:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "trialdesk.web.settings")
    import django

    django.setup()
    from trialdesk.registry.search import SearchQuery, search

    mix = query_mix()
    for _, kwargs in mix:  # warm-up: page cache, statement cache
        search(SearchQuery(**kwargs))
    from django.db import connection

    from trialdesk.registry import textindex
    from trialdesk.registry.stamp import current_stamp

    text_index = textindex.for_connection(connection)
    with connection.cursor() as cursor:
        current = text_index is not None and text_index.stamp() == current_stamp(cursor)
    size = sum(f.stat().st_size for f in text_index.path.iterdir()) if text_index else 0
    latencies: list[float] = []
    by_kind: dict[str, list[float]] = {}
    totals: dict[str, list[int]] = {}
    for _ in range(runs):
        for kind, kwargs in mix:
            query = SearchQuery(**kwargs)
            t = time.perf_counter()
            page = search(query)
            ms = (time.perf_counter() - t) * 1000
            latencies.append(ms)
            by_kind.setdefault(kind, []).append(ms)
            totals.setdefault(kind, []).append(page.total)
    result = {
        "queries": len(mix),
        "runs": runs,
        "text_index_current": current,
        "text_index_mb": size / 1e6,
        "p50_ms": _percentile(latencies, 0.50),
        "p95_ms": _percentile(latencies, 0.95),
        "p99_ms": _percentile(latencies, 0.99),
        "max_ms": max(latencies),
        "by_kind": {
            kind: {
                "p50_ms": _percentile(v, 0.5),
                "p95_ms": _percentile(v, 0.95),
                "median_total": statistics.median(totals[kind]),
            }
            for kind, v in by_kind.items()
        },
    }
    # baseline: naive ORM search on a subset of the same queries, same page size
    subset = [m for i, m in enumerate(mix) if i % max(1, len(mix) // baseline_queries) == 0]
    subset = subset[:baseline_queries]
    base_ms = []
    fast_ms = []
    for _, kwargs in subset:
        t = time.perf_counter()
        _naive_search(**kwargs)
        base_ms.append((time.perf_counter() - t) * 1000)
        t = time.perf_counter()
        search(SearchQuery(**kwargs))
        fast_ms.append((time.perf_counter() - t) * 1000)
    result["baseline"] = {
        "queries": len(subset),
        "p50_ms": statistics.median(base_ms),
        "same_queries_fast_p50_ms": statistics.median(fast_ms),
    }
    return result


def _naive_search(text="", statuses=(), age=None, near=None, within_km=None, per_page=20):
    """What a first version would do: icontains on the ORM, distance in Python."""
    from django.db.models import Q

    from trialdesk.registry.geo import haversine_km
    from trialdesk.registry.models import Trial, TrialLocation

    qs = Trial.objects.all()
    for word in text.split():
        qs = qs.filter(
            Q(brief_title__icontains=word)
            | Q(conditions_text__icontains=word)
            | Q(interventions_text__icontains=word)
        )
    if statuses:
        qs = qs.filter(overall_status__in=statuses)
    if age is not None:
        days = age * 365.25
        qs = qs.filter(Q(min_age_days__isnull=True) | Q(min_age_days__lte=days))
        qs = qs.filter(Q(max_age_days__isnull=True) | Q(max_age_days__gte=days))
    if near is None:
        return list(qs.order_by("nct_id")[:per_page]), qs.count()
    ids = list(qs.values_list("id", flat=True))
    keep = set()
    for chunk in range(0, len(ids), 900):
        for trial_id, lat, lon in TrialLocation.objects.filter(
            trial_id__in=ids[chunk : chunk + 900]
        ).values_list("trial_id", "lat", "lon"):
            if lat is not None and haversine_km(near[0], near[1], lat, lon) <= within_km:
                keep.add(trial_id)
    hits = list(Trial.objects.filter(id__in=list(keep)[:5000]).order_by("nct_id")[:per_page])
    return hits, len(keep)


# ----------------------------------------------------------------------------- parent


def _run_child(
    args: list[str],
    var: Path,
    options: list[str] = (),
    script: Path = HERE,
    database_url: str | None = None,
    **extra_env: str,
) -> dict:
    """Run ``script --child ARGS`` on the registry in ``var`` (SQLite) or at ``database_url``
    (PostgreSQL); its last line as JSON. (``benchmarks/import_floors.py`` runs its own
    children through this too.)"""
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    if database_url:
        env["DATABASE_URL"] = database_url
    env.update(extra_env)
    env["TRIALDESK_VAR"] = str(var)
    env["DJANGO_SETTINGS_MODULE"] = "trialdesk.web.settings"
    proc = subprocess.run(
        [sys.executable, str(script), *options, "--child", *args],
        env=env,
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr)
        raise SystemExit(f"benchmark step {args[0]} failed (exit {proc.returncode})")
    return json.loads(proc.stdout.strip().splitlines()[-1])


class BenchDatabases:
    """Fresh PostgreSQL databases for one run, made on the server ``url`` names and dropped
    at the end (``with``); ``url_for(suffix)`` is the URL of ``<name>_bench_<pid><suffix>``."""

    def __init__(self, url: str, suffixes: tuple[str, ...]) -> None:
        from urllib.parse import urlsplit

        parts = urlsplit(url)
        if parts.scheme not in ("postgres", "postgresql", "pgsql"):
            raise SystemExit(f"--database-url: {url!r} is not a PostgreSQL URL (postgres://...)")
        self.parts = parts
        base = parts.path.lstrip("/") or "postgres"
        self.names = {s: f"{base}_bench_{os.getpid()}{s}" for s in suffixes}

    def url_for(self, suffix: str) -> str:
        return self.parts._replace(path="/" + self.names[suffix]).geturl()

    def _admin(self):
        import psycopg

        return psycopg.connect(self.parts.geturl(), autocommit=True)

    def __enter__(self) -> BenchDatabases:
        with self._admin() as conn:
            for name in self.names.values():
                conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
                conn.execute(f'CREATE DATABASE "{name}"')
        return self

    def __exit__(self, *exc) -> None:
        with self._admin() as conn:
            for name in self.names.values():
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _pages_ready(pages: Path, n: int, seed: int) -> bool:
    """True if ``pages`` holds the pages ``write_pages(n, pages, seed)`` writes: the right
    number of files, ``totalCount`` n, and the first study of the first page as generated."""
    from trialdesk.interop.synthetic import generate_studies

    files = sorted(pages.glob("page-*.json")) if pages.is_dir() else []
    if not files or len(files) != (n + 999) // 1000:
        if files:
            raise SystemExit(f"{pages}: holds {len(files)} page files, not the {n:,} studies asked")
        return False
    first = json.loads(files[0].read_text(encoding="utf-8"))
    expected = next(generate_studies(1, seed=seed))
    if first.get("totalCount") != n or first["studies"][0] != expected:
        raise SystemExit(f"{pages}: holds pages of another --records/--seed; use an empty folder")
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=500_000)
    parser.add_argument("--smoke", action="store_true", help="2,000 records, 1 search run")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--runs", type=int, default=3, help="repetitions of the query mix")
    parser.add_argument("--baseline-records", type=int, default=2000)
    parser.add_argument("--baseline-queries", type=int, default=10)
    parser.add_argument("--profile", metavar="FILE", help="cProfile the import into FILE")
    parser.add_argument(
        "--pages",
        metavar="DIR",
        help="reuse the pages in DIR if it holds exactly the N studies of this seed (written "
        "there first if DIR is empty); generation is then not timed",
    )
    parser.add_argument(
        "--database-url",
        metavar="URL",
        help="measure PostgreSQL: the server of this postgres:// URL (fresh databases are "
        "made there for the run and dropped at the end)",
    )
    parser.add_argument(
        "--compare-executemany",
        action="store_true",
        help="PostgreSQL: import once more with COPY off (executemany), as a baseline",
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.child:
        step = args.child[0]
        if step == "import":
            out = child_import(args.child[1], args.profile, copy=args.child[2:] != ["no-copy"])
        elif step == "baseline-import":
            out = child_baseline_import(args.child[1], int(args.child[2]))
        else:
            out = child_search(int(args.child[1]), int(args.child[2]))
        print(json.dumps(out))
        return 0

    sys.path.insert(0, str(HERE.parents[1] / "src"))
    from trialdesk.interop.synthetic import write_pages

    n = 2000 if args.smoke else args.records
    runs = 1 if args.smoke else args.runs
    base_n = min(args.baseline_records, n, 200 if args.smoke else n)
    if args.compare_executemany and not args.database_url:
        raise SystemExit("--compare-executemany: only with --database-url (COPY is PostgreSQL's)")
    tmp = Path(tempfile.mkdtemp(prefix="trialdesk-bench-registry-"))
    stack = contextlib.ExitStack()
    databases: list[str] = []
    try:
        url = base_url = executemany_url = None
        if args.database_url:
            suffixes = ("", "_base", *(("_em",) if args.compare_executemany else ()))
            dbs = stack.enter_context(BenchDatabases(args.database_url, suffixes))
            databases = list(dbs.names.values())
            url, base_url = dbs.url_for(""), dbs.url_for("_base")
            executemany_url = dbs.url_for("_em") if args.compare_executemany else None
        pages = Path(args.pages) if args.pages else tmp / "pages"
        gen_s = None
        if not _pages_ready(pages, n, args.seed):
            t = time.perf_counter()
            write_pages(n, pages, seed=args.seed, page_size=1000)
            gen_s = time.perf_counter() - t
        load_before = os.getloadavg()
        profile = ["--profile", str(Path(args.profile).resolve())] if args.profile else []
        imp = _run_child(["import", str(pages)], tmp / "var", profile, database_url=url)
        executemany = None
        if executemany_url:
            executemany = _run_child(["import", str(pages), "no-copy"], tmp / "var-em",
                                     database_url=executemany_url)  # fmt: skip
        base = _run_child(["baseline-import", str(pages), str(base_n)], tmp / "var-baseline",
                          database_url=base_url, TRIALDESK_TEXT_INDEX="0")  # fmt: skip
        srch = _run_child(["search", str(runs), str(args.baseline_queries)], tmp / "var",
                          database_url=url)  # fmt: skip
        load_after = os.getloadavg()
    finally:
        stack.close()
        if args.keep:
            print(f"kept {tmp}", file=sys.stderr)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    result = {
        "records": n,
        "database": imp["database"],
        "databases_made": databases,
        "import_executemany": executemany,
        "generate_pages_seconds": gen_s,
        "import": imp,
        "baseline_import": base,
        "import_speedup": imp["records_per_second"] / base["records_per_second"],
        "search": srch,
        "search_speedup_p50": srch["baseline"]["p50_ms"]
        / srch["baseline"]["same_queries_fast_p50_ms"],
        "load_average": [round(x, 2) for x in load_before + load_after],
        "goals_met": {
            "import_rps": imp["records_per_second"] >= GOALS["import_rps"],
            "search_p95_ms": srch["p95_ms"] <= GOALS["search_p95_ms"],
            "peak_mb": max(imp["peak_mb_importer"], imp["peak_mb_largest_worker"])
            <= GOALS["peak_mb"],
        },
    }
    if args.json:
        print(json.dumps(result))
        return 0
    _print_table(result)
    return 0


def _print_table(r: dict) -> None:
    imp, base, s = r["import"], r["baseline_import"], r["search"]
    store = {"sqlite": "SQLite", "postgresql": "PostgreSQL, COPY" if imp["copy"]
             else "PostgreSQL"}[r["database"]]  # fmt: skip
    rows = [
        ("records", f"{r['records']:,}", ""),
        ("generate + write pages",
         f"{r['records'] / r['generate_pages_seconds']:,.0f} rec/s" if r["generate_pages_seconds"]
         else "reused --pages", ""),
        (f"import (import_paths, {store})", f"{imp['records_per_second']:,.0f} rec/s",
         f"goal >= {GOALS['import_rps']:,.0f}"),
        ("  import wall time", f"{imp['seconds']:.1f} s", f"{imp['records']:,} records"),
        ("  peak RSS importer / largest worker", f"{imp['peak_mb_importer']:,.0f} / "
         f"{imp['peak_mb_largest_worker']:,.0f} MB", f"goal <= {GOALS['peak_mb']:,.0f}"),
        *(
            [("  same import with executemany (no COPY)",
              f"{em['records_per_second']:,.0f} rec/s",
              f"COPY {imp['records_per_second'] / em['records_per_second']:.2f}x")]
            if (em := r["import_executemany"]) else []
        ),
        (f"baseline: row-by-row ORM save() ({base['records']:,} rec)",
         f"{base['records_per_second']:,.0f} rec/s", "same run"),
        ("  import speed-up over baseline", f"{r['import_speedup']:.1f}x", ""),
        (f"search p50 / p95 / p99 ({s['queries']} queries x {s['runs']})",
         f"{s['p50_ms']:.1f} / {s['p95_ms']:.1f} / {s['p99_ms']:.1f} ms",
         f"goal p95 <= {GOALS['search_p95_ms']:.0f}"),
    ]  # fmt: skip
    for kind, v in s["by_kind"].items():
        rows.append((f"  {kind}", f"p50 {v['p50_ms']:.1f} / p95 {v['p95_ms']:.1f} ms",
                     f"median total {v['median_total']:,.0f}"))  # fmt: skip
    b = s["baseline"]
    rows.append(
        (f"baseline: naive ORM icontains search ({b['queries']} queries)",
         f"p50 {b['p50_ms']:.1f} ms vs {b['same_queries_fast_p50_ms']:.1f} ms", "same queries")
    )  # fmt: skip
    rows.append(("  search speed-up over baseline (p50)", f"{r['search_speedup_p50']:.1f}x", ""))
    if r["database"] == "sqlite":
        rows.append(("text index (Tantivy) after the import",
                     ("current" if s["text_index_current"] else "NOT current (FTS5 answered)")
                     + f", {s['text_index_mb']:,.0f} MB", ""))  # fmt: skip
    else:
        rows.append(("text search", "tsvector (GIN), no Tantivy on PostgreSQL", ""))
    rows.append(
        ("load average before/after (1, 5, 15 min)", " ".join(map(str, r["load_average"])), "")
    )
    width = max(len(a) for a, _, _ in rows)
    for a, b_, c in rows:
        print(f"{a:<{width}}  {b_:<28}  {c}")
    print(
        "goals met: " + ", ".join(f"{k}={'yes' if v else 'NO'}" for k, v in r["goals_met"].items())
    )


if __name__ == "__main__":
    sys.exit(main())
