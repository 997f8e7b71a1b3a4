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
    assert not (tmp_path / "r.parquet").exists()
    sql = runner.invoke(main, ["cohort-sql", "NCT05331872", "--date", "2026-11-20"])
    assert sql.exit_code == 0 and "WITH screened AS" in sql.output
    assert "DATE '2008-11-20'" in sql.output  # 18th birthday cut-off for the screening date
