"""Each benchmark script still runs end to end, at smoke size (the real runs stay out of CI).

A smoke run checks the script, not the speed: it must exit 0 and print its result table.
"""

import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent / "benchmarks"


def _run(args, tmp_path):
    proc = subprocess.run(
        [sys.executable, *args],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    return proc.stdout


@pytest.mark.slow
def test_dosefinding_benchmark_smoke(tmp_path):
    out = _run([str(BENCH / "dosefinding.py"), "--smoke"], tmp_path)
    for design in ("3+3", "BOIN", "CRM"):
        assert design in out


@pytest.mark.slow
def test_registry_benchmark_smoke(tmp_path):
    out = _run([str(BENCH / "registry.py"), "--smoke"], tmp_path)
    assert "p95" in out and "rec/s" in out


@pytest.mark.slow
@pytest.mark.postgres
@pytest.mark.postgres_only
def test_registry_benchmark_smoke_on_postgresql(tmp_path):
    """The PostgreSQL run: fresh databases on the server of DATABASE_URL, COPY against
    executemany, and the databases dropped afterwards."""
    import json
    import os
    from urllib.parse import urlsplit

    import psycopg

    server = urlsplit(os.environ["DATABASE_URL"])._replace(path="/postgres").geturl()
    out = _run([str(BENCH / "registry.py"), "--smoke", "--json", "--database-url", server,
                "--compare-executemany"], tmp_path)  # fmt: skip
    result = json.loads(out.strip().splitlines()[-1])
    assert result["database"] == "postgresql" and result["import"]["copy"]
    assert result["import"]["records"] == result["import_executemany"]["records"] == 2000
    assert not result["import_executemany"]["copy"]
    assert result["search"]["p95_ms"] > 0
    # Only this run's databases are checked: the server is shared, and another benchmark
    # running at the same time has a database of its own there.
    made = result["databases_made"]
    assert len(made) == 3 and all("_bench_" in name for name in made), made
    with psycopg.connect(server) as conn:
        left = conn.execute("SELECT datname FROM pg_database WHERE datname = ANY(%s)", [made])
        assert left.fetchall() == []


@pytest.mark.slow
def test_prescreen_benchmark_smoke(tmp_path):
    out = _run([str(BENCH / "prescreen.py"), "--smoke"], tmp_path)
    assert "cohort: 20,000 patients" in out and "patients/s" in out
    # Both seed protocols screened, with their counts.
    for nct in ("NCT05227846", "NCT05331872"):
        assert f"  {nct}: " in out


@pytest.mark.slow
def test_import_floors_benchmark_smoke(tmp_path):
    import json

    out = _run([str(BENCH / "import_floors.py"), "--smoke", "--json"], tmp_path)
    result = json.loads(out.strip().splitlines()[-1])
    runs = {mode: found[0] for mode, found in result["runs"].items()}
    assert [row["mode"] for row in result["rows"]] == list(runs)
    assert all(run["records"] == 2000 for run in runs.values())
    # Each mode kept exactly the text indexes it names.
    indexed = {m: (r["fts5_documents"] == 2000, r["tantivy_current"]) for m, r in runs.items()}
    assert indexed == {
        "parse": (False, False),
        "store": (False, False),
        "fts5": (True, False),
        "tantivy": (False, True),
        "full": (True, True),
    }
    assert [r["fts5_documents"] for r in runs.values()] == [0, 0, 2000, 0, 2000]


@pytest.mark.slow
@pytest.mark.postgres
def test_web_benchmark_smoke(tmp_path):
    """gunicorn on a database of its own on the PostgreSQL server, 4 users for 4 s: no
    errors, the posts' rows all in the database, the audit chain intact (exit 0 says so)."""
    import json

    out = _run([str(BENCH / "web.py"), "--smoke", "--json"], tmp_path)
    result = json.loads(out.strip().splitlines()[-1])
    assert result["mix"]["requests"] > 0 and result["baseline"]["requests"] > 0
    assert result["mix"]["errors"] == 0, result["mix"]["error_samples"]
    assert result["writes"]["lost_writes"] == 0, result["writes"]
    assert result["audit_verify_ok"], result["audit_verify"]
    assert {"participant", "dashboard"} <= set(result["mix"]["by_kind"])


@pytest.mark.slow
def test_analysis_benchmark_smoke(tmp_path):
    out = _run([str(BENCH / "analysis.py"), "--smoke"], tmp_path)
    assert "trial: 60 participants" in out and "endpoints (nearest)" in out
    assert "full analysis" in out
