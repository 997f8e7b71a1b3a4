"""`trialdesk cohort-synth`, `prescreen` (Parquet and CSV) and `cohort-sql`."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import polars as pl
from click.testing import CliRunner

from trialdesk.cli import main
from trialdesk.eligibility.synth import synthetic_cohort
from trialdesk.eligibility.vectorized import screen_frame
from trialdesk.protocol import load_protocol

ROOT = Path(__file__).resolve().parents[2]
D = date(2026, 11, 20)


def test_synth_prescreen_parquet_and_csv(tmp_path, monkeypatch):
    monkeypatch.setenv("TRIALDESK_PROTOCOLS", str(ROOT / "protocols"))
    runner = CliRunner()
    for suffix in ("parquet", "csv"):
        cohort = tmp_path / f"cohort.{suffix}"
        made = runner.invoke(
            main, ["cohort-synth", "300", str(cohort), "--seed", "3", "--date", D.isoformat()]
        )
        assert made.exit_code == 0, made.output
        out = tmp_path / f"result_{suffix}.parquet"
        res = runner.invoke(
            main,
            [
                "prescreen",
                "NCT05227846",
                str(cohort),
                "--out",
                str(out),
                "--date",
                D.isoformat(),
                "--json",
            ],
        )
        assert res.exit_code == 0, res.output
        summary = json.loads(res.output)
        assert summary["patients"] == 300 and sum(summary["overall"].values()) == 300
        result = pl.read_parquet(out)
        assert result.height == 300
        assert set(result["overall"].cast(pl.String)) <= {"ELIGIBLE", "INELIGIBLE", "INCOMPLETE"}
        assert not (tmp_path / f"result_{suffix}.parquet.partial").exists()
    # the file results equal the in-memory screening of the same cohort
    protocol = load_protocol(ROOT / "protocols/NCT05227846/protocol.yaml")
    expected = screen_frame([protocol], synthetic_cohort(300, seed=3, screening_date=D), D)
    got = pl.read_parquet(tmp_path / "result_parquet.parquet")
    assert got["overall"].cast(pl.String).to_list() == expected["overall"].cast(pl.String).to_list()
    assert got["exc_9"].cast(pl.String).to_list() == expected["exc_9"].cast(pl.String).to_list()
    csv_result = pl.read_parquet(tmp_path / "result_csv.parquet")
    assert (
        csv_result["overall"].cast(pl.String).to_list() == got["overall"].cast(pl.String).to_list()
    )


def test_prescreen_errors_and_sql(tmp_path, monkeypatch):
    monkeypatch.setenv("TRIALDESK_PROTOCOLS", str(ROOT / "protocols"))
    runner = CliRunner()
    bad = tmp_path / "cohort.txt"
    bad.write_text("x")
    res = runner.invoke(
        main, ["prescreen", "NCT05227846", str(bad), "--out", str(tmp_path / "r.parquet")]
    )
    assert res.exit_code != 0 and ".parquet or .csv" in res.output
    # the file is named once ("Error: cohort.txt: cohort.txt: ..." before the issue-15 pass)
    assert res.output.count(str(bad)) == 1, res.output
    assert not (tmp_path / "r.parquet").exists()
    sql = runner.invoke(main, ["cohort-sql", "NCT05331872", "--date", "2026-11-20"])
    assert sql.exit_code == 0 and "WITH screened AS" in sql.output
    assert "DATE '2008-11-20'" in sql.output  # 18th birthday cut-off for the screening date


def test_parquet_progress_moves_per_batch(tmp_path):
    """A Parquet cohort reports progress per streaming batch (here one per row group), with
    increasing counts; the file and the tallies equal the in-memory screening of the same
    rows, in order."""
    from trialdesk.eligibility.synth import write_synthetic_cohort
    from trialdesk.eligibility.vectorized import prescreen_file

    protocols = [
        load_protocol(ROOT / "protocols" / n / "protocol.yaml")
        for n in ("NCT05227846", "NCT05331872")
    ]
    cohort = write_synthetic_cohort(
        tmp_path / "cohort.parquet", 3000, seed=5, screening_date=D, batch_rows=500
    )
    calls: list[tuple[int, int]] = []
    out = tmp_path / "result.parquet"
    summary = prescreen_file(protocols, cohort, out, D, progress=lambda *a: calls.append(a))
    done = [d for d, _ in calls]
    assert len(calls) > 2 and {t for _, t in calls} == {3000}
    assert done[0] == 0 and done[-1] == 3000 and done == sorted(set(done))
    expected = screen_frame(protocols, pl.read_parquet(cohort), D, prefix=True)
    got = pl.read_parquet(out)
    assert got.equals(expected)
    for p in protocols:
        counts = expected[f"{p.nct_id}_overall"].cast(pl.String).value_counts()
        assert summary["counts"][p.nct_id] == dict(counts.iter_rows())


def test_prescreen_cli_prints_at_most_eleven_progress_lines(tmp_path, monkeypatch):
    monkeypatch.setenv("TRIALDESK_PROTOCOLS", str(ROOT / "protocols"))
    from trialdesk.eligibility.synth import write_synthetic_cohort

    cohort = write_synthetic_cohort(
        tmp_path / "cohort.parquet", 4000, seed=2, screening_date=D, batch_rows=100
    )
    res = CliRunner().invoke(
        main,
        ["prescreen", "NCT05331872", str(cohort), "--out", str(tmp_path / "r.parquet")],
        catch_exceptions=False,
    )
    assert res.exit_code == 0, res.output
    lines = [x for x in res.output.splitlines() if x.endswith(" patients")]
    counts = [int(x.split("/")[0]) for x in lines]
    assert 2 < len(lines) <= 11 and counts == sorted(counts) and counts[-1] == 4000


def test_parquet_cohort_without_any_needed_column(tmp_path):
    """Every criterion unknown (or decided by attestations alone), one row per patient."""
    from trialdesk.eligibility.vectorized import prescreen_file

    protocol = load_protocol(ROOT / "protocols/NCT05331872/protocol.yaml")
    cohort = tmp_path / "cohort.parquet"
    pl.DataFrame({"unrelated": range(7)}).write_parquet(cohort)
    summary = prescreen_file([protocol], cohort, tmp_path / "r.parquet", D)
    assert summary["rows"] == 7 and summary["counts"][protocol.nct_id] == {"INCOMPLETE": 7}
    assert pl.read_parquet(tmp_path / "r.parquet").height == 7


def test_prescreen_binary_or_zip_cohort_is_a_clear_error(tmp_path, monkeypatch):
    import zipfile

    monkeypatch.setenv("TRIALDESK_PROTOCOLS", str(ROOT / "protocols"))
    binary_csv = tmp_path / "cohort.csv"
    binary_csv.write_bytes(bytes(range(256)) * 8)
    zipped = tmp_path / "cohort.parquet"
    with zipfile.ZipFile(zipped, "w") as zf:
        zf.writestr("cohort.csv", "patient_id\nP-1\n")
    out = tmp_path / "out.parquet"
    for path, what in (
        (binary_csv, "not a readable cohort table (ComputeError"),
        (zipped, ""),  # polars' own words: "Parquet magic bytes not found ..."
    ):
        result = CliRunner().invoke(
            main, ["prescreen", "NCT05227846", str(path), "--out", str(out)]
        )
        assert result.exit_code == 1, result.output
        assert result.output.startswith(f"Error: {path}: {what}")
        assert "Traceback" not in result.output and "Parquet" in result.output
        assert not out.exists()
