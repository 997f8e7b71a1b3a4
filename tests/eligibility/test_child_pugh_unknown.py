"""Child-Pugh with unknown items: the total is a range, and a rule is decided only when the
whole range decides it (one-patient path, prescreener answers, Polars and SQL agree).

Points are Pugh 1973 (Pugh RNH et al., Br J Surg 1973;60:646-649; the default table in
trialdesk/clinical/data/child_pugh.yaml): bilirubin <2 / 2-3 / >3 mg/dL, albumin >3.5 /
2.8-3.5 / <2.8 g/dL, INR <1.7 / 1.7-2.3 / >2.3, ascites none / mild / moderate-severe,
encephalopathy none / grade 1-2 / grade 3-4 score 1 / 2 / 3; class A 5-6, B 7-9, C 10-15.
"""

from __future__ import annotations

import itertools
from datetime import date
from pathlib import Path

import duckdb
import polars as pl
import pytest

from trialdesk.clinical.child_pugh import child_pugh, child_pugh_range
from trialdesk.clinical.units import parse_quantity
from trialdesk.eligibility import screen
from trialdesk.eligibility.cohort import cohort_columns, criterion_column, patient_from_row
from trialdesk.eligibility.patient import Episode, LabResult, Patient
from trialdesk.eligibility.questions import patient_from_answers, questions_for
from trialdesk.eligibility.vectorized import cohort_sql, screen_frame
from trialdesk.protocol import load_protocol

ROOT = Path(__file__).resolve().parents[2]
LIVER = load_protocol(ROOT / "protocols" / "NCT05227846" / "protocol.yaml")
D = date(2026, 11, 20)


def q(text: str, analyte: str):
    return parse_quantity(text, analyte)


# -- the range itself (hand-computed from the Pugh 1973 points above) -----------------------


def test_every_item_known_gives_the_score():
    # bilirubin 2.5 mg/dL (2) + albumin 3.0 g/dL (2) + INR 2.0 (2) + no ascites (1)
    # + encephalopathy grade 1-2 (2) = 9, class B
    args = (q("2.5 mg/dL", "bilirubin"), q("3.0 g/dL", "albumin"), q("2.0", "inr"))
    r = child_pugh_range(*args, "none", "grade-1-2")
    assert (r.low, r.high, r.classes, r.unknown) == (9, 9, ("B",), ())
    assert child_pugh(*args, "none", "grade-1-2").value == 9


def test_unknown_ascites_is_a_range_not_none():
    # 1 + 1 + 1 + encephalopathy none (1) = 4, ascites unknown: 1..3 -> 5..7, class A or B
    labs = (q("1.0 mg/dL", "bilirubin"), q("4.0 g/dL", "albumin"), q("1.0", "inr"))
    r = child_pugh_range(*labs, None, "none")
    assert (r.low, r.high, r.classes, r.unknown) == (5, 7, ("A", "B"), ("ascites",))
    assert r.points["ascites"] == (1, 3)
    # both unknown: 3 + 2..6 = 5..9
    both = child_pugh_range(*labs, None, None)
    assert (both.low, both.high, both.unknown) == (5, 9, ("ascites", "encephalopathy"))
    # a missing lab spans its points too: albumin unknown, the rest 1 point each -> 5..7
    no_albumin = child_pugh_range(labs[0], None, labs[2], "none", "none")
    assert (no_albumin.low, no_albumin.high, no_albumin.unknown) == (5, 7, ("albumin",))


@pytest.mark.parametrize(
    ("text", "points"),
    [
        ("< 2 mg/dL", (1, 1)),  # below 2: only the <2 band
        ("<= 2 mg/dL", (1, 2)),  # 2 itself is 2-3 mg/dL
        ("> 3 mg/dL", (3, 3)),
        (">= 3 mg/dL", (2, 3)),
        ("< 2.5 mg/dL", (1, 2)),
    ],
)
def test_censored_bilirubin_spans_the_bands_it_reaches(text, points):
    r = child_pugh_range(
        q(text, "bilirubin"), q("4.0 g/dL", "albumin"), q("1.0", "inr"), "none", "none"
    )
    assert r.points["bilirubin"] == points
    assert (r.low, r.high) == (4 + points[0], 4 + points[1])


# -- screening: "I don't know" stays unknown through to the criterion -------------------------


def _answers(**extra: str) -> dict[str, str]:
    base = {
        "lab_bilirubin": "1.0",
        "lab_bilirubin_unit": "mg/dL",
        "lab_albumin": "4.0",
        "lab_albumin_unit": "g/dL",
        "lab_inr": "1.0",
        "history_hepatic_encephalopathy": "no",
        "history_ascites": "no",
    }
    base.update(extra)
    return {k: v for k, v in base.items() if v is not None}


def _inc4(answers: dict[str, str]):
    questions = questions_for(LIVER)
    patient = patient_from_answers(questions, answers, D)
    result = screen(LIVER, patient, D)
    return next(c for c in result.criteria if c.id == "inc-4")


def test_prescreener_dont_know_keeps_child_pugh_unknown():
    # inclusion 4: Child-Pugh 7 to 12. Everything known: 5 -> not met.
    assert _inc4(_answers()).status == "NOT_MET"
    # ascites "I don't know": 5..7, which may be 7 -> unknown (was "not met, score 5")
    unknown = _inc4(_answers(history_ascites=""))
    assert unknown.status == "UNKNOWN"
    assert unknown.values["child_pugh.score"] == "5 to 7"
    # encephalopathy "I don't know" as well: 5..9 -> unknown
    assert _inc4(_answers(history_ascites="", history_hepatic_encephalopathy="")).status == (
        "UNKNOWN"
    )
    # ascites present now, severity not known: any of its points (1..3), the rest 4 -> 5..7
    assert _inc4(_answers(history_ascites="now")).status == "UNKNOWN"


def test_a_range_inside_the_cut_offs_decides():
    # bilirubin 2.5 mg/dL (2), albumin 3.0 g/dL (2), INR 2.0 (2), encephalopathy none (1),
    # ascites unknown (1..3): 8..10, all within 7..12 -> met though ascites is unknown
    answers = _answers(lab_bilirubin="2.5", lab_albumin="3.0", lab_inr="2.0", history_ascites="")
    c = _inc4(answers)
    assert c.status == "MET" and c.values["child_pugh.score"] == "8 to 10"
    # bilirubin 4 (3), albumin 2.5 (3), INR 2.5 (3), encephalopathy none (1) + ascites
    # 1..3 = 11..13: 13 is above 12 -> unknown
    high = _answers(lab_bilirubin="4", lab_albumin="2.5", lab_inr="2.5", history_ascites="")
    assert _inc4(high).status == "UNKNOWN"


def test_records_keep_the_absent_means_none_rule_but_not_a_declared_unknown():
    labs = (
        LabResult("bilirubin", q("1.0 mg/dL", "bilirubin"), D),
        LabResult("albumin", q("4.0 g/dL", "albumin"), D),
        LabResult("inr", q("1.0", "inr"), D),
    )
    record = Patient(labs=labs)  # a record that does not mention ascites or HE: none
    assert next(c for c in screen(LIVER, record, D).criteria if c.id == "inc-4").status == (
        "NOT_MET"
    )
    declared = Patient(labs=labs, unknown=frozenset({"ascites"}))
    c = next(c for c in screen(LIVER, declared, D).criteria if c.id == "inc-4")
    assert c.status == "UNKNOWN"
    mild = Patient(labs=labs, episodes=(Episode("ascites", D, None, True, "mild"),))
    # 1 + 1 + 1 + mild ascites 2 + HE none 1 = 6 -> not met
    assert next(c for c in screen(LIVER, mild, D).criteria if c.id == "inc-4").status == ("NOT_MET")


# -- the compiled forms agree with the one-patient path on ranges ---------------------------

RULES = [
    "child_pugh.score between 7 and 12",
    "child_pugh.score >= 7",
    "child_pugh.score < 6",
    "child_pugh.score == 7",
    "child_pugh.score != 9",
    'child_pugh.class == "B"',
    'child_pugh.class != "A"',
]
CP_PROTOCOL = load_protocol(
    {
        "version": 1,
        "trial": {
            "nct_id": "NCT99999902",
            "title": "Child-Pugh ranges test protocol",
            "revision": {"number": "1", "date": "2026-12-04", "source": "tests"},
        },
        "eligibility": {
            "lab_window_days": 28,
            "inclusion": [
                {"id": f"inc-{i}", "number": i, "text": rule, "rule": rule}
                for i, rule in enumerate(RULES, start=1)
            ],
            "exclusion": [],
        },
    },
    name="child-pugh-test",
)
TYPES = {
    "str": pl.String,
    "date": pl.Date,
    "float": pl.Float64,
    "int": pl.Int64,
    "bool": pl.Boolean,
}
# cohort units: bilirubin umol/L (2 mg/dL = 34.2079, 3 mg/dL = 51.3119), albumin g/L, INR
LABS = {
    "bilirubin": [
        None,
        (20, None),
        (40, None),
        (60, None),
        (34.2, "<"),
        (51.3119, "<="),
        (34.2079, ">"),
        (51.312, ">="),
    ],
    "albumin": [None, (40, None), (30, None), (20, None), (28, "<"), (35, ">"), (28, ">=")],
    "inr": [None, (1.0, None), (2.0, None), (2.5, None), (1.7, "<"), (2.3, ">=")],
}
CATEGORY = [(None, None), (False, None), (True, None), (True, "mild"), (True, "severe")]


def _rows() -> list[dict]:
    columns = cohort_columns(CP_PROTOCOL)
    rows = []
    combos = itertools.product(LABS["bilirubin"], LABS["albumin"], LABS["inr"], CATEGORY, CATEGORY)
    for i, (bili, alb, inr, asc, he) in enumerate(combos):
        if i % 3:  # every third combination keeps the test quick (about 1,400 rows)
            continue
        row: dict = {n: None for n in columns}
        row["patient_id"] = str(i)
        for analyte, value in (("bilirubin", bili), ("albumin", alb), ("inr", inr)):
            if value is not None:
                row[analyte], row[f"{analyte}_cmp"] = value
                row[f"{analyte}_date"] = D
        for concept, (flag, severity) in (("ascites", asc), ("hepatic_encephalopathy", he)):
            row[concept] = flag
            row[f"{concept}_severity"] = severity
            if flag:
                row[f"{concept}_start"] = date(2026, 10, 1)
        rows.append(row)
    return rows


def test_polars_and_sql_agree_with_the_one_patient_path_on_ranges():
    columns = cohort_columns(CP_PROTOCOL)
    frame = pl.DataFrame(_rows(), schema={n: TYPES[t] for n, t in columns.items()})
    expected = []
    for row in frame.iter_rows(named=True):
        r = screen(CP_PROTOCOL, patient_from_row(row, CP_PROTOCOL), D)
        expected.append({criterion_column(c.id): c.status for c in r.criteria})
    statuses = {s for e in expected for s in e.values()}
    assert statuses == {"MET", "NOT_MET", "UNKNOWN"}  # the grid reaches every outcome
    got = screen_frame([CP_PROTOCOL], frame, D)
    names = [criterion_column(c.id) for c in CP_PROTOCOL.criteria]
    for i, row in enumerate(got.select(names).iter_rows(named=True)):
        assert {k: str(v) for k, v in row.items()} == expected[i], frame.row(i, named=True)
    con = duckdb.connect()
    con.register("cohort", frame.to_arrow())
    sql = con.execute(cohort_sql(CP_PROTOCOL, D, columns=frame.columns)).fetchall()
    by_id = {r[0]: dict(zip(names, r[1 : 1 + len(names)], strict=True)) for r in sql}
    for i, row in enumerate(frame.iter_rows(named=True)):
        assert by_id[row["patient_id"]] == expected[i], row
