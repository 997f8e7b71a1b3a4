"""The ClinicalTrials.gov results-style summary of the fixed dataset, every number worked out
by hand (tests/interop/export_fixtures.py: P01 at DL1, P02 at DL2 who dies of sepsis, S03 a
screen failure)."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date

import pytest
from export_fixtures import fixed_dataset

from trialdesk.analysis import synthetic as s
from trialdesk.interop.ctgov_results import results_section
from trialdesk.interop.errors import ExportError
from trialdesk.interop.exports import export_results


@pytest.fixture(scope="module")
def results():
    return results_section(fixed_dataset())["resultsSection"]


def _achieved(milestone):
    return [a["numSubjects"] for a in milestone["achievements"]]


def test_participant_flow(results):
    flow = results["participantFlowModule"]
    assert [g["id"] for g in flow["groups"]] == ["FG000", "FG001"]
    assert [g["title"] for g in flow["groups"]] == ["0.5 x 10^6 cells/kg", "1.0 x 10^6 cells/kg"]
    # S03 failed on two criteria (trialdesk.analysis.flow counts each)
    assert flow["preAssignmentDetails"] == (
        "screened: 3; eligible: 2; consented: 2; enrolled: 2; dosed: 2; screen failures: 1 "
        "(E1 (Hepatocellular carcinoma): 1; I2 (Age 18 to 70 years): 1)."
    )
    assert flow["recruitmentDetails"] == "Data cut 2027-06-30."
    (period,) = flow["periods"]
    got = {m["type"]: _achieved(m) for m in period["milestones"]}
    assert got == {  # the period starts at the infusion
        "STARTED": ["1", "1"],
        "COMPLETED": ["0", "0"],
        "NOT COMPLETED": ["1", "1"],
    }
    drops = {d["type"]: [r["numSubjects"] for r in d["reasons"]] for d in period["dropWithdraws"]}
    assert drops == {
        "Death": ["0", "1"],
        "Withdrawal by Subject": ["0", "0"],
        "Ongoing at data cut": ["1", "0"],
    }


def test_baseline_characteristics(results):
    base = results["baselineCharacteristicsModule"]
    assert [g["title"] for g in base["groups"]] == [
        "0.5 x 10^6 cells/kg",
        "1.0 x 10^6 cells/kg",
        "Total",
    ]
    assert [c["value"] for c in base["denoms"][0]["counts"]] == ["1", "1", "2"]
    age, sex, region, meld = base["measures"]
    # ages 55 (P01, born 1970-06-15, screened 2026-01-01) and 45 (P02, born 1980-02-01,
    # screened 2026-01-20): mean 50.0, sample SD sqrt(50) = 7.07
    ages = age["classes"][0]["categories"][0]["measurements"]
    assert [(m["value"], m["spread"]) for m in ages] == [
        ("55.0", "NA"),
        ("45.0", "NA"),
        ("50.0", "7.1"),
    ]
    assert (age["paramType"], age["dispersionType"]) == ("MEAN", "STANDARD_DEVIATION")
    sexes = {
        c["title"]: [m["value"] for m in c["measurements"]] for c in sex["classes"][0]["categories"]
    }
    assert sexes == {"Female": ["0", "1", "1"], "Male": ["1", "0", "1"]}
    # baseline MELD (infusion visit): 20 (P01), 25 (P02): mean 22.5, SD sqrt(12.5) = 3.54
    meld_values = meld["classes"][0]["categories"][0]["measurements"]
    assert [(m["value"], m["spread"]) for m in meld_values] == [
        ("20.0", "NA"),
        ("25.0", "NA"),
        ("22.5", "3.5"),
    ]
    assert [c["value"] for c in meld["denoms"][0]["counts"]] == ["1", "1", "2"]
    # "Viet Nam" and "Vietnam" are one region
    assert [
        (c["title"], [m["value"] for m in c["categories"][0]["measurements"]])
        for c in region["classes"]
    ] == [("Viet Nam", ["1", "1", "2"])]


def test_outcome_measures(results):
    (measure,) = results["outcomeMeasuresModule"]["outcomeMeasures"]
    assert measure["title"] == "Change From Baseline in MELD Score"
    assert [c["title"] for c in measure["classes"]] == ["Month 3", "Month 6", "Month 12"]
    month3 = measure["classes"][0]
    # P01: MELD 20 at infusion, 16 at month 3 -> -4; P02 has no month-3 visit
    assert [c["value"] for c in month3["denoms"][0]["counts"]] == ["1", "0"]
    values = month3["categories"][0]["measurements"]
    assert [(m["value"], m["spread"]) for m in values] == [("-4.0", "NA"), ("NA", "NA")]


def test_adverse_events_module(results):
    ae = results["adverseEventsModule"]
    assert ae["frequencyThreshold"] == "5"
    groups = [{k: g[k] for k in g if k.endswith(("Affected", "AtRisk"))} for g in ae["eventGroups"]]
    assert groups == [
        {
            "deathsNumAffected": 0,
            "deathsNumAtRisk": 1,
            "seriousNumAffected": 0,
            "seriousNumAtRisk": 1,
            "otherNumAffected": 1,
            "otherNumAtRisk": 1,
        },
        {
            "deathsNumAffected": 1,
            "deathsNumAtRisk": 1,
            "seriousNumAffected": 1,
            "seriousNumAtRisk": 1,
            "otherNumAffected": 0,
            "otherNumAtRisk": 1,
        },
    ]
    (sepsis,) = ae["seriousEvents"]
    assert (sepsis["term"], sepsis["organSystem"], sepsis["sourceVocabulary"]) == (
        "Sepsis",
        "Infections and infestations",
        "CTCAE (5.0)",
    )
    assert sepsis["stats"] == [
        {"groupId": "EG000", "numEvents": 0, "numAffected": 0, "numAtRisk": 1},
        {"groupId": "EG001", "numEvents": 1, "numAffected": 1, "numAtRisk": 1},
    ]
    (fever,) = ae["otherEvents"]
    assert (fever["term"], fever["organSystem"]) == (
        "Fever",
        "General disorders and administration site conditions",
    )


def _three_dosed_one_fever():
    people = [s.participant(f"P0{i}") for i in (1, 2, 3)]
    return s.dataset(
        participants=people,
        doses=[s.dose(p.subject_id, date(2026, 1, 10)) for p in people],
        adverse_events=[s.adverse_event("P01", "Fever", 1, date(2026, 1, 12))],
        design="single_arm",
    )


@pytest.mark.parametrize(("threshold", "listed"), [(30.0, True), (33.3, True), (34.0, False)])
def test_other_events_frequency_threshold(threshold, listed):
    # 1 of 3 dosed participants had fever: 33.3 %
    ae = results_section(_three_dosed_one_fever(), other_threshold=threshold)["resultsSection"][
        "adverseEventsModule"
    ]
    assert [e["term"] for e in ae["otherEvents"]] == (["Fever"] if listed else [])
    (group,) = ae["eventGroups"]
    assert (group["title"], group["otherNumAffected"], group["otherNumAtRisk"]) == (
        "All participants",
        1 if listed else 0,
        3,
    )


def test_bad_threshold_and_empty_trial_refused(tmp_path):
    with pytest.raises(ExportError, match="frequency threshold: 120"):
        results_section(fixed_dataset(), other_threshold=120)
    with pytest.raises(ExportError, match="NCT00000000: no participants"):
        export_results(s.dataset(), tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_written_file_reread(tmp_path):
    (path,) = export_results(fixed_dataset(), tmp_path, threshold=5)
    document = json.loads(path.read_text(encoding="utf-8"))
    assert path.name == "NCT00000000_results.json"
    assert document["nctId"] == "NCT00000000"
    assert set(document["resultsSection"]) == {
        "participantFlowModule",
        "baselineCharacteristicsModule",
        "outcomeMeasuresModule",
        "adverseEventsModule",
    }


def test_out_of_window_rule_is_the_analysis_rule():
    data = fixed_dataset()
    late = [v if v.code != "M3" else replace(v, window_status="late") for v in data.visits]
    data = replace(data, visits=tuple(late))
    for rule, n in (("include", "1"), ("exclude", "0")):
        (measure,) = results_section(data, window_rule=rule)["resultsSection"][
            "outcomeMeasuresModule"
        ]["outcomeMeasures"]
        assert measure["classes"][0]["denoms"][0]["counts"][0]["value"] == n, rule
        assert f"rule '{rule}'" in measure["description"]
