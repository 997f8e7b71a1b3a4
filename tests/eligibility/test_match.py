"""`trialdesk match`: every registry trial for one patient, eligible first."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from trialdesk.cli import main

ROOT = Path(__file__).resolve().parents[2]


def _study(nct_id: str, title: str) -> dict:
    """A minimal CT.gov API v2 study for the registry importer."""
    return {
        "protocolSection": {
            "identificationModule": {"nctId": nct_id, "briefTitle": title},
            "statusModule": {"overallStatus": "RECRUITING"},
            "designModule": {"studyType": "INTERVENTIONAL", "phases": ["PHASE1"]},
            "eligibilityModule": {
                "eligibilityCriteria": "Inclusion Criteria:\n\n* Adults",
                "sex": "ALL",
                "minimumAge": "18 Years",
            },
        }
    }


@pytest.mark.django_db
def test_match_orders_trials_and_lists_those_without_rules(
    seed_trials, import_records, tmp_path, monkeypatch
):
    monkeypatch.setenv("TRIALDESK_PROTOCOLS", str(ROOT / "protocols"))
    import_records(_study("NCT09999901", "A trial without computable criteria"))
    patient = {
        "id": "P-1",
        "birth_date": "1960-05-05",
        "sex": "female",
        "history_complete": True,
        "conditions": [
            {"concept": "cirrhosis", "onset": "2020-01-01"},
            {"concept": "ascites", "onset": "2026-01-01", "severity": "mild"},
        ],
        "attestations": {"inc-3": True, "exc-3.2": False},
    }
    path = tmp_path / "p.yaml"
    path.write_text(yaml.safe_dump(patient))
    result = CliRunner().invoke(main, ["match", str(path), "--date", "2026-11-20", "--json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)["trials"]
    assert [r["trial"] for r in rows] == ["NCT05331872", "NCT05227846", "NCT09999901"]
    assert rows[0]["overall"] == "ELIGIBLE" and rows[0]["unknown"] == 0
    # no labs, so no CTP: NCT05227846 stays incomplete (labs missing, attestations pending)
    assert rows[1]["overall"] == "INCOMPLETE" and rows[1]["unknown"] > 0
    assert any("albumin" in m for m in rows[1]["missing"])
    assert rows[2]["overall"] == "no computable criteria"
    table = CliRunner().invoke(main, ["match", str(path), "--date", "2026-11-20"])
    assert table.exit_code == 0 and "no computable criteria" in table.output
