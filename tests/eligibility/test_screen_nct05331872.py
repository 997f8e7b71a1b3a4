"""NCT05331872 (ISC.19.29): hand-built FHIR patients with expected outcomes.

Every criterion is decided both ways; ages 18 and 70 inclusive; missing data cases.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from fhir_builders import ICD10CM, SCREEN, SNOMED, bundle, cirrhosis_labs, cond

from trialdesk.eligibility import screen
from trialdesk.eligibility.fhir import patient_from_bundle
from trialdesk.protocol import load_protocol

ROOT = Path(__file__).resolve().parents[2]
PROTOCOL = load_protocol(ROOT / "protocols" / "NCT05331872" / "protocol.yaml")
ATTESTED_OK = {"inc-3": True, "exc-3.2": False}
DECIDED: dict[str, set[str]] = {}
CIRRHOSIS = cond(SNOMED, "19943007", 1500)


def run(resources, birth="1975-02-01", gender="female", complete=True, attest=None, cirrhosis=True):
    base = [CIRRHOSIS] if cirrhosis else []
    patient = patient_from_bundle(
        bundle(birth, gender, [*base, *cirrhosis_labs(), *resources], complete)
    )
    patient = replace(patient, attestations=ATTESTED_OK if attest is None else attest)
    result = screen(PROTOCOL, patient, SCREEN)
    for c in result.criteria:
        DECIDED.setdefault(c.id, set()).add(c.status)
    return result


def status(result, cid):
    return next(c for c in result.criteria if c.id == cid).status


def test_baseline_is_eligible():
    r = run([])
    assert r.overall == "ELIGIBLE", r.reasons


@pytest.mark.parametrize(
    "birth,inc1,exc1,overall",
    [
        ("2008-11-20", "MET", "NOT_MET", "ELIGIBLE"),  # 18 today
        ("2008-11-21", "NOT_MET", "MET", "INELIGIBLE"),  # 17
        ("1956-11-20", "MET", "NOT_MET", "ELIGIBLE"),  # 70 today
        ("1955-11-21", "MET", "NOT_MET", "ELIGIBLE"),  # 70 and 364 days
        ("1955-11-20", "NOT_MET", "MET", "INELIGIBLE"),  # 71 today
    ],
)
def test_age_18_to_70(birth, inc1, exc1, overall):
    r = run([], birth=birth)
    assert (status(r, "inc-1"), status(r, "exc-1"), r.overall) == (inc1, exc1, overall)


def test_no_cirrhosis_diagnosis():
    r = run([], cirrhosis=False)
    assert status(r, "inc-2") == "NOT_MET"
    assert r.overall == "INELIGIBLE"


@pytest.mark.parametrize(
    "resource,expected",
    [
        (cond(ICD10CM, "J18.9", 20, 8), "MET"),  # pneumonia, over 8 days ago: recent
        (cond(ICD10CM, "K65.2", 15, 5), "MET"),  # SBP counts as an infection (includes)
        (cond(ICD10CM, "J18.9", 90, 70), "NOT_MET"),  # resolved 70 days ago
    ],
)
def test_recent_infection(resource, expected):
    assert status(run([resource]), "exc-2") == expected


@pytest.mark.parametrize(
    "resource",
    [
        cond(ICD10CM, "B18.1", 3000),  # chronic hepatitis B (chronic hepatitis)
        cond(SNOMED, "408335007", 500),  # autoimmune hepatitis (chronic hepatitis)
        cond(ICD10CM, "N18.3", 800),  # chronic kidney disease stage 3
        cond(ICD10CM, "C50.911", 4000, 3500),  # breast cancer, history (resolved)
    ],
)
def test_history_of_chronic_disease(resource):
    r = run([resource])
    assert status(r, "exc-3.1") == "MET"
    assert r.overall == "INELIGIBLE"


def test_coagulation_disorder():
    assert status(run([cond(ICD10CM, "D68.4", 200)]), "exc-4") == "MET"
    assert status(run([cond(ICD10CM, "D68.4", 200, 100)]), "exc-4") == "NOT_MET"


def test_attestations():
    r = run([], attest={})
    assert r.overall == "INCOMPLETE"
    assert {p.split(":")[0] for p in r.pending_attestations} == {"inc-3", "exc-3.2"}
    assert run([], attest={"inc-3": False, "exc-3.2": False}).overall == "INELIGIBLE"
    assert run([], attest={"inc-3": True, "exc-3.2": True}).overall == "INELIGIBLE"


def test_missing_birth_date_is_unknown_not_false():
    r = run([], birth=None)
    assert status(r, "inc-1") == "UNKNOWN"
    assert status(r, "exc-1") == "UNKNOWN"
    assert r.overall == "INCOMPLETE"
    assert "age" in r.missing


def test_incomplete_history():
    r = run([], complete=False)
    assert r.overall == "INCOMPLETE"
    assert status(r, "exc-2") == "UNKNOWN"
    assert status(r, "inc-2") == "MET"
    assert "condition infection: not documented" in r.missing


def test_json_shape():
    d = run([]).to_dict()
    assert d["overall"] == "ELIGIBLE"
    assert [c["kind"] for c in d["criteria"]].count("inclusion") == 3
    assert {"id", "kind", "status", "reason"} <= set(d["criteria"][0])


def _run_all_scenarios() -> None:
    for name, fn in list(globals().items()):
        if not name.startswith("test_") or name == "test_every_criterion_is_exercised":
            continue
        marks = [m for m in getattr(fn, "pytestmark", []) if m.name == "parametrize"]
        if not marks:
            fn()
            continue
        names = [a.strip() for a in marks[0].args[0].split(",")]
        for values in marks[0].args[1]:
            fn(**dict(zip(names, values if len(names) > 1 else (values,), strict=True)))


def test_every_criterion_is_exercised():
    DECIDED.clear()
    _run_all_scenarios()
    for c in PROTOCOL.criteria:
        assert {"MET", "NOT_MET"} <= DECIDED.get(c.id, set()), (c.id, DECIDED.get(c.id))
