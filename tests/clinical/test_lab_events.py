"""Abnormal labs -> proposed CTCAE v5.0-graded adverse events (grading by clinical.ctcae)."""

from __future__ import annotations

import pytest

from trialdesk.clinical import lab_terms_for, propose_lab_adverse_events

RANGES = {
    "alt": {"uln": "40 U/L"},
    "bilirubin": {"uln": "1.2 mg/dL"},
    "sodium": {"lln": "135 mmol/L"},
    "platelets": {"lln": "150 10*9/L"},
    "albumin": {"lln": "3.5 g/dL"},
}


def _by_term(props):
    return {p.term: p for p in props}


def test_grades_hand_checked():
    props = _by_term(
        propose_lab_adverse_events(
            {
                "alt": "200 U/L",  # 5.0 x ULN: >3.0-5.0 x ULN -> grade 2
                "bilirubin": "51.3 umol/L",  # 3.0 mg/dL = 2.5 x ULN: >1.5-3.0 x ULN -> grade 2
                "sodium": "127 mmol/L",  # 125-129: grade 2 asymptomatic / 3 symptomatic
                "platelets": "40 10*9/L",  # <50-25 x10^9/L -> grade 3
                "inr": 1.4,  # >1.2-1.5 -> grade 1
                "albumin": "4.0 g/dL",  # above LLN -> grade 0, nothing proposed
            },
            RANGES,
        )
    )
    assert {t: p.grade for t, p in props.items()} == {
        "Alanine aminotransferase increased": 2,
        "Blood bilirubin increased": 2,
        "Hyponatremia": 2,
        "Platelet count decreased": 3,
        "INR increased": 1,
    }
    bili = props["Blood bilirubin increased"]
    assert bili.analyte == "bilirubin" and bili.meddra_code == "10005364"
    assert bili.band == "1.5*ULN<x<=3.0*ULN" and "ULN 1.2 mg/dL" in bili.reason
    assert props["Hyponatremia"].possible_grades == (2, 3)
    assert all(p.status == "proposed" for p in props.values())


def test_symptoms_and_abnormal_baseline():
    props = _by_term(
        propose_lab_adverse_events(
            {"sodium": "127 mmol/L", "alt": "100 U/L"},
            RANGES,
            baselines={"alt": "60 U/L"},  # abnormal baseline: 100/60 = 1.67 x -> grade 1
            symptomatic={"Hyponatremia": True},
        )
    )
    assert props["Hyponatremia"].grade == 3
    alt = props["Alanine aminotransferase increased"]
    assert alt.grade == 1 and "graded against the baseline" in alt.reason


def test_missing_reference_is_ungradable_not_normal():
    (p,) = propose_lab_adverse_events({"alt": "45 U/L"}, {})
    assert p.grade is None and p.status == "ungradable"
    assert "needs the ULN" in p.reason
    assert p.to_dict()["status"] == "ungradable"


def test_normal_and_ungraded_analytes_propose_nothing():
    assert propose_lab_adverse_events({"alt": "30 U/L", "hemoglobin": "9 g/dL"}, RANGES) == ()
    assert lab_terms_for("hemoglobin") == ()
    assert lab_terms_for("ALT") == ("Alanine aminotransferase increased",)
    assert propose_lab_adverse_events({"alt": None}, RANGES) == ()


def test_wrong_unit_and_unknown_analyte_are_refused():
    with pytest.raises(ValueError, match="bilirubin"):
        propose_lab_adverse_events({"bilirubin": "3 U/L"}, RANGES)
    with pytest.raises(ValueError, match="results: unknown analyte 'ferritin'"):
        propose_lab_adverse_events({"ferritin": "300 ng/mL"}, RANGES)
