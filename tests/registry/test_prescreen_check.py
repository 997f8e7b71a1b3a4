"""The public prescreener /trials/<NCT id>/check: questions from the rules, nothing stored."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.contrib.sessions.models import Session

from trialdesk.registry.models import Trial

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _protocols(monkeypatch):
    monkeypatch.setenv("TRIALDESK_PROTOCOLS", str(ROOT / "protocols"))


def _groups(html: str) -> dict[str, set[str]]:
    import re

    out = {}
    for group in ("good", "bad", "unknown", "team"):
        m = re.search(rf'data-group="{group}">(.*?)</ul>', html, re.S)
        out[group] = set(re.findall(r'data-criterion="([^"]+)"', m.group(1))) if m else set()
    return out


@pytest.mark.django_db
def test_form_is_generated_from_the_rules(client, seed_trials):
    page = client.get("/trials/NCT05227846/check").content.decode()
    for name in (
        "age",
        "sex",
        "lab_bilirubin",
        "lab_bilirubin_unit",
        "lab_creatinine",
        "lab_albumin",
        "lab_inr",
        "lab_sodium",
        "lab_wbc",
        "detected_hbv_dna",
        "history_tips",
        "history_hepatic_encephalopathy_severity",
        "med_hbv_antiviral",
        "history_clinical_trial_participation",
    ):
        assert f'name="{name}"' in page, name
    assert "Yes, in the last 6 months" in page  # TIPS window from exc-7
    assert "Yes, started less than 12 months ago" in page  # antiviral period from exc-4.2
    other = client.get("/trials/NCT05331872/check").content.decode()
    assert 'name="lab_bilirubin"' not in other  # that trial's rules use no labs
    assert 'name="history_infection"' in other and "Yes, in the last 1 month" in other
    assert "Only the study team can judge" not in other  # no result before answering
    listing = client.get("/trials/NCT05227846/").content.decode()
    assert 'href="/trials/NCT05227846/check"' in listing


@pytest.mark.django_db
def test_answers_give_grouped_result_and_nothing_is_stored(client, seed_trials):
    before = (Trial.objects.count(), Session.objects.count())
    answers = {
        "age": "50",
        "history_cirrhosis": "now",
        "history_infection": "no",
        "history_malignancy": "no",
        "history_chronic_hepatitis": "no",
        "history_chronic_kidney_disease": "no",
        "history_coagulation_disorder": "no",
    }
    response = client.post("/trials/NCT05331872/check", answers)
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    html = response.content.decode()
    groups = _groups(html)
    assert groups["good"] == {"inc-1", "inc-2", "exc-1", "exc-2", "exc-3.1", "exc-4"}
    assert groups["team"] == {"inc-3", "exc-3.2"}
    assert groups["bad"] == set()
    assert (Trial.objects.count(), Session.objects.count()) == before
    young = _groups(
        client.post("/trials/NCT05331872/check", {**answers, "age": "17"}).content.decode()
    )
    assert {"inc-1", "exc-1"} <= young["bad"]


@pytest.mark.django_db
def test_lab_units_and_cut_offs(client, seed_trials):
    base = {"age": "60", "sex": "male", "lab_sodium": "136", "lab_sodium_unit": "mmol/L"}
    at = _groups(
        client.post(
            "/trials/NCT05227846/check",
            {**base, "lab_bilirubin": "170", "lab_bilirubin_unit": "umol/L"},
        ).content.decode()
    )
    assert "exc-9" in at["bad"]  # bilirubin >= 170 umol/L
    below = _groups(
        client.post(
            "/trials/NCT05227846/check",
            {**base, "lab_bilirubin": "9.8", "lab_bilirubin_unit": "mg/dL"},
        ).content.decode()
    )
    assert "exc-9" in below["unknown"]  # 9.8 mg/dL = 167.6 umol/L; creatinine, WBC unknown
    tips = _groups(
        client.post(
            "/trials/NCT05227846/check", {**base, "history_tips": "within_0"}
        ).content.decode()
    )
    assert "exc-7" in tips["bad"]


@pytest.mark.django_db
def test_bad_answers_and_unknown_trials(client, seed_trials, import_records):
    bad = client.post("/trials/NCT05331872/check", {"age": "500"})
    assert bad.status_code == 200 and "less than or equal to 120" in bad.content.decode()
    assert client.get("/trials/NCT09999999/check").status_code == 404
    import_records(
        {
            "protocolSection": {
                "identificationModule": {"nctId": "NCT09999902", "briefTitle": "No rules here"},
                "statusModule": {"overallStatus": "RECRUITING"},
                "designModule": {"studyType": "INTERVENTIONAL"},
            }
        }
    )
    page = client.get("/trials/NCT09999902/check").content.decode()
    assert "no computable criteria" in page
