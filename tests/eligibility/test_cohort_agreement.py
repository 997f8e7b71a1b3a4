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
from trialdesk.eligibility.cohort import (
    COHORT_UNITS,
    cohort_columns,
    criterion_column,
    patient_from_row,
)
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


def _compare(frame: pl.DataFrame, protocols=PROTOCOLS) -> None:
    con = duckdb.connect()
    con.register("cohort", frame.to_arrow())
    for protocol in protocols:
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


# --------------------------------------------------------------------------------------------
# MELD, MELD-Na and ALBI (vectorized in Polars, in SQL): a small protocol written for the test
# --------------------------------------------------------------------------------------------

SCORE_RULES = [
    "meld >= 15",
    "meld <= 6",
    "meld >= 40",
    "meld between 10 and 20",
    "meld == 22",
    "meld_na >= 12",
    "meld_na between 15 and 30",
    "meld_na < 40",
    "meld_na == 25",
    "albi.grade == 1",
    "albi.grade >= 2",
    "albi.grade > 2",
    "albi.score >= 0",
    "albi.score < 0.07",
    "meld > 20 or albi.grade == 3",
    "meld3 >= 7",
    "meld3 between 15 and 25",
    "meld3 <= 6",
    "meld3 >= 40",
]
SCORE_PROTOCOL = load_protocol(
    {
        "version": 1,
        "trial": {
            "nct_id": "NCT99999901",
            "title": "Derived scores test protocol",
            "revision": {"number": "1", "date": "2026-11-23", "source": "tests"},
        },
        "eligibility": {
            "lab_window_days": 28,
            "inclusion": [
                {"id": f"inc-{i}", "number": i, "text": rule, "rule": rule}
                for i, rule in enumerate(SCORE_RULES, start=1)
            ],
            "exclusion": [
                {"id": "exc-1", "number": 1, "text": "x", "rule": "meld_na > 30 and not meld > 35"}
            ],
        },
    },
    name="score-test",
)
SCORE_COLUMNS = dict(cohort_columns(SCORE_PROTOCOL))
SCORE_COLUMNS["patient_id"] = "int"
# Cohort units (umol/L, g/L, mmol/L): 1 mg/dL bilirubin = 17.10396 umol/L, 1 mg/dL creatinine
# = 88.40170 umol/L, 4 mg/dL creatinine = 353.60679 umol/L; bilirubin 10, 100, 1000 umol/L with
# an odd whole albumin (g/L) put ALBI exactly on a rounding half (e.g. 10 and 41: -2.825).
SCORE_VALUES = {
    "bilirubin": [1, 10, 17.1039, 17.104, 20, 34.2, 100, 1000, 171.0396, 500, 900],
    "inr": [0.8, 0.9999, 1.0, 1.0001, 1.5, 2.3, 4.0],
    "creatinine": [50, 88.4016, 88.4017, 100, 200, 353.6067, 353.6068, 400, 900],
    "sodium": [120, 124.9999, 125, 125.0001, 130, 136.9993, 136.9999, 137, 137.0001, 145],
    "albumin": [14.9999, 15, 25, 28, 29, 32.3004, 35, 35.0001, 41, 45, 23.5294],
}
# MELD 3.0: sex (as the score accepts it, or not) and ages around 12-17 and 0..130
SEXES = [None, "male", "female", "F", " Male ", "other"]
AGES = [-1, 0, 11, 12, 17, 18, 50, 130, 131]
SCORE_RANGES = {
    "bilirubin": (2, 900),
    "inr": (0.8, 9),
    "creatinine": (20, 1500),
    "sodium": (100, 170),
    "albumin": (10, 60),
}


def _score_strategy(name: str, typ: str):
    if name == "sex":
        return st.sampled_from(SEXES)
    if name == "age_years":
        return st.one_of(st.none(), st.sampled_from(AGES))
    if name == "birth_date":
        return st.one_of(
            st.none(),
            st.builds(
                lambda y, k: add_months(D, -12 * y) + timedelta(days=k),
                st.sampled_from(AGES),
                st.sampled_from([-1, 0, 1]),
            ),
        )
    if name.endswith("_cmp"):
        return st.sampled_from([None, None, None, "<", "<=", ">", ">="])
    if typ == "date":
        return st.one_of(st.none(), st.sampled_from([0, 0, 0, 27, 28, 29, -1])).map(
            lambda k: None if k is None else D - timedelta(days=k)
        )
    if typ == "float":
        lo, hi = SCORE_RANGES[name]
        return st.one_of(
            st.none(),
            st.sampled_from(SCORE_VALUES[name]),
            st.sampled_from(SCORE_VALUES[name]),
            st.floats(lo, hi).map(lambda x: round(x, 4)),
        )
    return st.sampled_from([None, True, False])


SCORE_ROW = st.fixed_dictionaries(
    {n: _score_strategy(n, t) for n, t in SCORE_COLUMNS.items() if n != "patient_id"}
)


def _score_frame(rows: list[dict]) -> pl.DataFrame:
    data = [{"patient_id": i, **r} for i, r in enumerate(rows)]
    return pl.DataFrame(data, schema={n: TYPES[t] for n, t in SCORE_COLUMNS.items()})


def _boundary_rows(n: int, seed: int) -> list[dict]:
    """Rows built from the boundary values (measured, dated on the screening date), plus
    some censored ones."""
    import random

    rnd = random.Random(seed)
    rows = []
    for _ in range(n):
        row: dict = {}
        for a, values in SCORE_VALUES.items():
            row[a] = rnd.choice(values)
            row[f"{a}_date"] = D
            row[f"{a}_cmp"] = rnd.choice([None] * 8 + ["<", ">"])
        row["sex"] = rnd.choice(SEXES)
        row["age_years"] = rnd.choice([None, *AGES])
        row["birth_date"] = None
        if rnd.random() < 0.5:
            row["birth_date"] = add_months(D, -12 * rnd.choice(AGES)) + timedelta(
                days=rnd.choice([-1, 0, 1])
            )
        rows.append(row)
    return rows


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(st.lists(SCORE_ROW, min_size=1, max_size=10))
def test_random_cohorts_agree_on_meld_meld_na_albi(rows):
    _compare(_score_frame(rows), [SCORE_PROTOCOL])


def test_boundary_cohort_agrees_on_meld_meld_na_albi():
    _compare(_score_frame(_boundary_rows(600, seed=3)), [SCORE_PROTOCOL])


def _scores_of(frame: pl.DataFrame) -> pl.DataFrame:
    """The compiled score columns (the Polars helper columns) of a frame."""
    from trialdesk.eligibility.vectorized import polars_criteria

    helpers: dict = {}
    polars_criteria(SCORE_PROTOCOL, D, dict(frame.schema), helpers)
    for helper in helpers.values():  # in order: a helper may use an earlier one
        frame = frame.with_columns(helper)
    return frame.select([n for n in helpers if n.startswith("__td_score_")])


def test_compiled_scores_equal_the_clinical_scores():
    """The score values themselves (not only the rule verdicts) equal trialdesk.clinical.scores
    on boundary rows: floors at 1.0, the creatinine cap at 4.0, sodium bounds, ALBI halves."""
    from trialdesk.clinical import scores, units

    rows = [
        {**r, **{f"{a}_cmp": None for a in SCORE_VALUES}, "sex": "male", "birth_date": None}
        for r in _boundary_rows(400, seed=5)
    ]
    # MELD 3.0 exactly 6.5 (male, floors, Na 136.9993, albumin 32.3004 g/L) -> 7; as a girl
    # of 15 -> 7.83 -> 8
    tie = {"bilirubin": 10, "inr": 1.0, "creatinine": 80, "sodium": 136.9993, "albumin": 32.3004}
    rows.append({**rows[0], **tie, "age_years": 50})
    rows.append({**rows[0], **tie, "age_years": 15})
    frame = _score_frame(rows)
    got = _scores_of(frame)
    assert set(got.columns) == {
        "__td_score_meld_value_28d",
        "__td_score_meld_na_value_28d",
        "__td_score_meld3_value_28d",
        "__td_score_albi_grade_28d",
        "__td_score_albi_score_28d",
    }
    assert got.get_column("__td_score_meld3_value_28d").to_list()[-2:] == [7, 8]
    hits = {"floor": 0, "cap": 0, "na_low": 0, "na_high": 0, "albi_half": 0, "teen": 0}
    for row, s in zip(frame.iter_rows(named=True), got.iter_rows(named=True), strict=True):
        q = {a: units.quantity(str(row[a]), COHORT_UNITS[a], a) for a in SCORE_VALUES}
        age = row["age_years"]
        if age is not None and not 0 <= age <= 130:
            assert s["__td_score_meld3_value_28d"] is None, row
        else:
            want_3 = scores.meld3(
                q["bilirubin"],
                q["inr"],
                q["creatinine"],
                q["sodium"],
                q["albumin"],
                "male",
                age=age,
            )
            assert s["__td_score_meld3_value_28d"] == want_3.value, row
            hits["teen"] += age is not None and 12 <= age <= 17
        want_meld = scores.meld(q["bilirubin"], q["inr"], q["creatinine"])
        want_na = scores.meld_na(q["bilirubin"], q["inr"], q["creatinine"], q["sodium"])
        want_albi = scores.albi(q["bilirubin"], q["albumin"])
        assert s["__td_score_meld_value_28d"] == want_meld.value, row
        assert s["__td_score_meld_na_value_28d"] == want_na.value, row
        assert s["__td_score_albi_grade_28d"] == want_albi.grade, row
        assert s["__td_score_albi_score_28d"] == int(want_albi.value * 100), row
        hits["floor"] += row["creatinine"] == 88.4016 and row["inr"] == 0.9999
        hits["cap"] += row["creatinine"] == 353.6068
        hits["na_low"] += row["sodium"] == 124.9999
        hits["na_high"] += row["sodium"] == 137.0001
        hits["albi_half"] += row["bilirubin"] in (10, 100, 1000) and row["albumin"] in (29, 41)
    assert all(hits.values()), hits  # the boundary values were exercised


def test_near_ties_are_computed_exactly_in_polars_and_unknown_in_sql(monkeypatch):
    """With a wide NEAR_TIE band most rows take the exact path (trialdesk.clinical.scores) in
    Polars, and still agree with the one-patient path; SQL reads those rows as unknown."""
    from trialdesk.eligibility import cohort_scores

    frame = _score_frame(_boundary_rows(300, seed=9))
    baseline = screen_frame([SCORE_PROTOCOL], frame, D)
    sql_text = cohort_sql(SCORE_PROTOCOL, D, columns=frame.columns)
    monkeypatch.setattr(cohort_scores, "NEAR_TIE", 0.3)
    _ = _scores_of(frame)  # compiles with the wide band
    wide = screen_frame([SCORE_PROTOCOL], frame, D)
    assert wide.equals(baseline)
    expected = _one_patient(frame, SCORE_PROTOCOL)
    con = duckdb.connect()
    con.register("cohort", frame.to_arrow())
    wide_sql = cohort_sql(SCORE_PROTOCOL, D, columns=frame.columns)
    assert wide_sql != sql_text
    rows = sorted(con.execute(wide_sql).fetchall())
    names = ["patient_id", *[criterion_column(c.id) for c in SCORE_PROTOCOL.criteria]]
    unknown = 0
    for e, r in zip(expected, rows, strict=True):
        for name, value in zip(names[1:], r[1:], strict=False):
            assert value in (e[name], "UNKNOWN"), (name, e, r)
            unknown += value == "UNKNOWN" != e[name]
    assert unknown > 0  # the band was wide enough to matter


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


@pytest.mark.postgres
def test_score_sql_runs_on_postgresql_and_agrees():
    """MELD, MELD-Na and ALBI in SQL on PostgreSQL: the same verdicts as the one-patient path
    on the boundary cohort (floors, caps, sodium bounds, exact ALBI halves, censored values)."""
    import psycopg

    frame = _score_frame(_boundary_rows(500, seed=13))
    expected = _one_patient(frame, SCORE_PROTOCOL)
    pg_types = {pl.String: "TEXT", pl.Date: "DATE", pl.Float64: "DOUBLE PRECISION"}
    pg_types.update({pl.Int64: "BIGINT", pl.Boolean: "BOOLEAN"})
    admin = psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True)
    if not admin.execute(
        "SELECT 1 FROM pg_database WHERE datname = 'trialdesk_eligibility'"
    ).fetchone():
        admin.execute("CREATE DATABASE trialdesk_eligibility")
    admin.close()
    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/trialdesk_eligibility") as con:
        cols = ", ".join(f'"{n}" {pg_types[t]}' for n, t in frame.schema.items())
        con.execute(f"CREATE TEMPORARY TABLE score_cohort ({cols})")
        placeholders = ", ".join(["%s"] * frame.width)
        with con.cursor() as cur:
            cur.executemany(f"INSERT INTO score_cohort VALUES ({placeholders})", frame.rows())
        sql = cohort_sql(SCORE_PROTOCOL, D, table="score_cohort", columns=frame.columns)
        rows = sorted(con.execute(sql).fetchall())
    names = [
        "patient_id",
        *[criterion_column(c.id) for c in SCORE_PROTOCOL.criteria],
        "overall",
        "n_unknown",
    ]
    for e, r in zip(expected, rows, strict=True):
        srow = dict(zip(names, r, strict=True))
        assert e == {k: srow[k] for k in e}, (e, srow)


def test_spark_dialect_quotes_and_date_differences():
    sql = cohort_sql(PROTOCOLS[0], D, dialect="spark")
    assert "`exc_4_2`" in sql and '"' not in sql
    assert "datediff(" in sql and "DOUBLE PRECISION" not in sql
    assert "datediff(" not in cohort_sql(PROTOCOLS[0], D)
