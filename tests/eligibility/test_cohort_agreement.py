"""The compiled cohort path (Polars, DuckDB SQL, PostgreSQL SQL) agrees with the one-patient
path on every patient of random cohorts (hypothesis), including values on the cut-offs,
censored results, stale labs, unknown severities and incomplete histories."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import duckdb
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from trialdesk.eligibility import screen
from trialdesk.eligibility.cohort import cohort_columns, criterion_column, patient_from_row
from trialdesk.eligibility.synth import synthetic_cohort
from trialdesk.eligibility.vectorized import cohort_sql, screen_frame
from trialdesk.protocol import load_protocol
from trialdesk.protocol.rules import add_months

ROOT = Path(__file__).resolve().parents[2]
PROTOCOLS = [
    load_protocol(ROOT / "protocols" / n / "protocol.yaml") for n in ("NCT05227846", "NCT05331872")
]
D = date(2026, 11, 20)
TYPES = {
    "str": pl.String,
    "date": pl.Date,
    "float": pl.Float64,
    "int": pl.Int64,
    "bool": pl.Boolean,
}
COLUMNS: dict[str, str] = {}
for _p in PROTOCOLS:
    COLUMNS.update(cohort_columns(_p))
COLUMNS["patient_id"] = "int"
COLUMNS["bilirubin_cmp"] = "str"
COLUMNS["hbv_dna_detected"] = "bool"

# Values on and beside the cut-offs (cohort units: umol/L, g/L, 10*9/L ...)
LAB_VALUES = {
    "bilirubin": [169, 169.9999, 170, 170.0001, 34.2, 34.208, 34.2081, 51.312, 51.3121, 10],
    "albumin": [27.9999, 28, 35, 35.0001, 40],
    "inr": [1.69, 1.7, 2.3, 2.3001, 1.0],
    "creatinine": [80, 106, 127.2, 127.1999, 127.2001, 106.08, 106.0819, 106.082],
    "creatinine_uln": [106, 100, 90],
    "sodium": [124, 124.9999, 125, 136],
    "wbc": [0.9999, 1, 4.5],
    "hbv_dna": [10, 20, 1000],
}
# Plausible ranges for random values (impossible values are rejected at the input edge)
LAB_RANGES = {
    "bilirubin": (2, 800),
    "albumin": (10, 60),
    "inr": (0.8, 9),
    "creatinine": (20, 1500),
    "creatinine_uln": (50, 150),
    "sodium": (100, 170),
    "wbc": (0.1, 90),
    "hbv_dna": (5, 1e8),
}
OFFSETS = [
    -3,
    0,
    1,
    13,
    14,
    15,
    27,
    28,
    29,
    30,
    31,
    60,
    89,
    90,
    91,
    181,
    182,
    183,
    184,
    365,
    366,
    3000,
]


def _strategy(name: str, typ: str):
    if name == "birth_date":
        return st.one_of(
            st.none(),
            st.builds(
                lambda y, k: add_months(D, -12 * y) + timedelta(days=k),
                st.sampled_from([17, 18, 19, 50, 70, 71, 75, 76]),
                st.sampled_from([-1, 0, 1]),
            ),
        )
    if name == "age_years":
        return st.one_of(st.none(), st.sampled_from([17, 18, 50, 70, 71, 75, 76]))
    if name == "sex":
        return st.sampled_from([None, "male", "female"])
    if name.endswith("_cmp"):
        return st.sampled_from([None, None, "<", "<=", ">", ">="])
    if name.endswith("_severity"):
        return st.sampled_from([None, "none", "mild", "moderate", "severe"])
    if typ == "date":
        return st.one_of(st.none(), st.sampled_from(OFFSETS).map(lambda k: D - timedelta(days=k)))
    if typ == "bool":
        return st.sampled_from([None, True, False])
    if typ == "float":
        values = LAB_VALUES.get(name, [1.0, 50.0])
        lo, hi = LAB_RANGES.get(name, (1, 100))
        return st.one_of(
            st.none(), st.sampled_from(values), st.floats(lo, hi).map(lambda x: round(x, 4))
        )
    return st.none()


ROW = st.fixed_dictionaries({n: _strategy(n, t) for n, t in COLUMNS.items() if n != "patient_id"})


def _frame(rows: list[dict]) -> pl.DataFrame:
    data = [{"patient_id": i, **r} for i, r in enumerate(rows)]
    return pl.DataFrame(data, schema={n: TYPES[t] for n, t in COLUMNS.items()})


def _one_patient(frame: pl.DataFrame, protocol) -> list[dict]:
    out = []
    for row in frame.iter_rows(named=True):
        r = screen(protocol, patient_from_row(row, protocol), D)
        out.append({"overall": r.overall, **{criterion_column(c.id): c.status for c in r.criteria}})
    return out


def _compare(frame: pl.DataFrame) -> None:
    con = duckdb.connect()
    con.register("cohort", frame.to_arrow())
    for protocol in PROTOCOLS:
        expected = _one_patient(frame, protocol)
        got = screen_frame([protocol], frame, D).drop("patient_id", "n_unknown")
        got_rows = [{k: str(v) for k, v in r.items()} for r in got.iter_rows(named=True)]
        for i, (e, g) in enumerate(zip(expected, got_rows, strict=True)):
            assert e == g, (
                protocol.nct_id,
                frame.row(i, named=True),
                {k: (e[k], g[k]) for k in e if e[k] != g[k]},
            )
        sql = con.execute(cohort_sql(protocol, D, columns=frame.columns)).fetchall()
        names = [
            "patient_id",
            *[criterion_column(c.id) for c in protocol.criteria],
            "overall",
            "n_unknown",
        ]
        for e, s in zip(expected, sorted(sql), strict=True):
            srow = dict(zip(names, s, strict=True))
            assert e == {k: srow[k] for k in e}, (protocol.nct_id, e, srow)


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(st.lists(ROW, min_size=1, max_size=8))
def test_random_cohorts_agree(rows):
    _compare(_frame(rows))


def test_synthetic_cohort_agrees():
    frame = synthetic_cohort(400, seed=7, screening_date=D)
    _compare(frame)


@pytest.mark.postgres
def test_sql_runs_on_postgresql_and_agrees():
    import psycopg

    frame = synthetic_cohort(300, seed=11, screening_date=D)
    admin = psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True)
    if not admin.execute(
        "SELECT 1 FROM pg_database WHERE datname = 'trialdesk_eligibility'"
    ).fetchone():
        admin.execute("CREATE DATABASE trialdesk_eligibility")
    admin.close()
    pg_types = {
        pl.String: "TEXT",
        pl.Date: "DATE",
        pl.Float64: "DOUBLE PRECISION",
        pl.Int64: "BIGINT",
        pl.Boolean: "BOOLEAN",
    }
    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/trialdesk_eligibility") as con:
        con.execute("DROP TABLE IF EXISTS cohort_test")
        cols = ", ".join(f'"{n}" {pg_types[t]}' for n, t in frame.schema.items())
        con.execute(f"CREATE TEMPORARY TABLE cohort_test ({cols})")
        placeholders = ", ".join(["%s"] * frame.width)
        with con.cursor() as cur:
            cur.executemany(f"INSERT INTO cohort_test VALUES ({placeholders})", frame.rows())
        for protocol in PROTOCOLS:
            sql = cohort_sql(protocol, D, table="cohort_test", columns=frame.columns)
            rows = sorted(con.execute(sql).fetchall())
            polars_rows = screen_frame([protocol], frame, D).sort("patient_id")
            for got, want in zip(rows, polars_rows.iter_rows(), strict=True):
                assert tuple(str(x) for x in got) == tuple(str(x) for x in want), protocol.nct_id


def test_spark_dialect_quotes_and_date_differences():
    sql = cohort_sql(PROTOCOLS[0], D, dialect="spark")
    assert "`exc_4_2`" in sql and '"' not in sql
    assert "datediff(" in sql and "DOUBLE PRECISION" not in sql
    assert "datediff(" not in cohort_sql(PROTOCOLS[0], D)
