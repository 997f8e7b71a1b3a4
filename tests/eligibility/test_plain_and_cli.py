"""The plain patient format and the `trialdesk screen` command."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from fhir_builders import ICD10CM, SCREEN, SNOMED, bundle, cirrhosis_labs, cond

from trialdesk.cli import main
from trialdesk.eligibility import load_patient, screen
from trialdesk.eligibility.patient import PatientError
from trialdesk.protocol import load_protocol

ROOT = Path(__file__).resolve().parents[2]

PLAIN = {
    "id": "P-7",
    "birth_date": "1968-04-02",
    "sex": "male",
    "history_complete": True,
    "labs": {
        "bilirubin": {"value": 45, "unit": "umol/L", "date": "2026-11-15"},
        "creatinine": {"value": 1.0, "unit": "mg/dL", "date": "2026-11-15", "uln": "1.2 mg/dL"},
        "albumin": {"value": 30, "unit": "g/L", "date": "2026-11-15"},
        "inr": {"value": 1.6, "date": "2026-11-15"},
        "sodium": {"value": 135, "unit": "mmol/L", "date": "2026-11-15"},
        "wbc": {"value": 4.2, "unit": "10*9/L", "date": "2026-11-15"},
        "hbv_dna": {"value": "< 20", "unit": "[IU]/mL", "date": "2026-11-15"},
    },
    "conditions": [
        {"concept": "cirrhosis", "onset": "2019-03-01"},
        {"concept": "ascites", "onset": "2026-06-01", "severity": "mild"},
        {
            "concept": "hepatic_encephalopathy",
            "onset": "2026-05-01",
            "end": "2026-05-20",
            "grade": 2,
        },
    ],
    "attestations": {
        "inc-1": True,
        "exc-4.1": False,
        "exc-5.1": False,
        "exc-8": False,
        "exc-13.2": False,
        "exc-17.2": False,
        "exc-20": False,
    },
}


def test_plain_yaml_patient_screens(tmp_path):
    path = tmp_path / "p.yaml"
    path.write_text(yaml.safe_dump(PLAIN))
    patient = load_patient(path)
    assert patient.id == "P-7"
    r = screen(load_protocol(ROOT / "protocols/NCT05227846/protocol.yaml"), patient, SCREEN)
    assert r.overall == "ELIGIBLE", r.reasons


@pytest.mark.parametrize(
    "change,message",
    [
        ({"sex": "x"}, "sex: 'male' or 'female'"),
        (
            {"labs": {"bilirubin": {"value": 2, "unit": "U/L", "date": "2026-11-01"}}},
            "labs.bilirubin: bilirubin 2 U/L",
        ),
        ({"labs": {"bilirubn": {"value": 2, "unit": "mg/dL"}}}, "unknown analyte 'bilirubn'"),
        ({"conditions": [{"concept": "cirosis"}]}, "conditions[0].concept: unknown concept"),
        ({"conditions": [{"concept": "cirrhosis", "onset": "yesterday"}]}, "is not a date"),
        ({"medications": [{"concept": "tips"}]}, "'tips' is a procedure"),
        ({"labs": {"sodium": {"value": -3, "unit": "mmol/L"}}}, "impossible"),
        ({"colour": "blue"}, "unknown field(s) colour"),
    ],
)
def test_plain_errors_name_the_field(tmp_path, change, message):
    path = tmp_path / "p.json"
    path.write_text(json.dumps({**PLAIN, **change}))
    with pytest.raises(PatientError) as info:
        load_patient(path)
    assert str(path) in str(info.value) and message in str(info.value)


@pytest.fixture
def runner(monkeypatch):
    monkeypatch.setenv("TRIALDESK_PROTOCOLS", str(ROOT / "protocols"))
    return CliRunner()


def test_cli_screen_json_with_fhir_bundle(tmp_path, runner):
    path = tmp_path / "bundle.json"
    path.write_text(
        json.dumps(
            bundle(
                "1970-06-15",
                "male",
                [
                    cond(ICD10CM, "K74.60", 2000),
                    cond(SNOMED, "389026000", 200, severity="mild"),
                    *cirrhosis_labs(),
                ],
            )
        )
    )
    result = runner.invoke(
        main, ["screen", "NCT05227846", str(path), "--date", SCREEN.isoformat(), "--json"]
    )
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert out["overall"] == "INCOMPLETE"
    assert len(out["criteria"]) == 28
    first = out["criteria"][0]
    assert {k: first[k] for k in ("id", "kind", "status")} == {
        "id": "inc-1",
        "kind": "inclusion",
        "status": "UNKNOWN",
    }
    assert "attestation pending" in first["reason"]
    assert len(out["pending_attestations"]) == 7
    yes = ["--attest", "inc-1=yes"] + [
        x
        for cid in ("exc-4.1", "exc-5.1", "exc-8", "exc-13.2", "exc-17.2", "exc-20")
        for x in ("--attest", f"{cid}=no")
    ]
    result = runner.invoke(
        main, ["screen", "NCT05227846", str(path), "--date", "2026-11-20", "--json", *yes]
    )
    assert json.loads(result.output)["overall"] == "ELIGIBLE"


def test_cli_screen_table_and_errors(tmp_path, runner):
    path = tmp_path / "p.yaml"
    path.write_text(yaml.safe_dump(PLAIN))
    result = runner.invoke(main, ["screen", "NCT05331872", str(path), "--date", "2026-11-20"])
    assert result.exit_code == 0, result.output
    assert "Overall: INCOMPLETE" in result.output and "exc-3.2" in result.output
    bad = runner.invoke(main, ["screen", "NCT09999999", str(path)])
    assert bad.exit_code != 0 and "no protocol file" in bad.output
    bad_date = runner.invoke(main, ["screen", "NCT05331872", str(path), "--date", "20/11/2026"])
    assert bad_date.exit_code != 0 and "not a date" in bad_date.output
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    bad_file = runner.invoke(main, ["screen", "NCT05331872", str(broken)])
    assert bad_file.exit_code != 0 and "not valid JSON" in bad_file.output
