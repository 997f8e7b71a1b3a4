"""Prescreener questions come from the rules; answers become a dated Patient."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from trialdesk.eligibility import screen
from trialdesk.eligibility.questions import AnswerError, patient_from_answers, questions_for
from trialdesk.protocol import load_protocol

ROOT = Path(__file__).resolve().parents[2]
P1 = load_protocol(ROOT / "protocols/NCT05227846/protocol.yaml")
TODAY = date(2026, 11, 20)


def _q(questions, key):
    return next(q for q in questions if q.key == key)


def test_questions_follow_the_rules():
    qs = questions_for(P1)
    keys = [q.key for q in qs]
    assert keys[:2] == ["age", "sex"]
    he = _q(qs, "history_hepatic_encephalopathy")
    assert he.severity and [str(p) for p in he.periods] == ["1 month"]
    assert "exc-1" in he.criteria and "inc-4" in he.criteria
    infection = _q(qs, "history_severe_infection")
    assert [c for c, _ in infection.choices] == ["no", "now", "within_0", "earlier"]
    assert _q(qs, "lab_bilirubin").units == ("umol/L", "mg/dL")
    assert not any(q.key.startswith("attest") for q in qs)


@pytest.mark.parametrize(
    "choice,expected",
    [
        ("within_0", "MET"),  # TIPS in the last 6 months
        ("earlier", "NOT_MET"),  # more than 6 months ago
        ("no", "NOT_MET"),
        ("", "UNKNOWN"),  # I don't know
    ],
)
def test_time_choices_map_into_the_windows(choice, expected):
    qs = questions_for(P1)
    patient = patient_from_answers(qs, {"history_tips": choice}, TODAY)
    r = screen(P1, patient, TODAY)
    assert next(c for c in r.criteria if c.id == "exc-7").status == expected


def test_medication_duration_choices():
    qs = questions_for(P1)
    for choice, expected in (("within_0", "MET"), ("longer", "NOT_MET")):
        p = patient_from_answers(
            qs, {"history_hepatitis_b": "now", "med_hbv_antiviral": choice}, TODAY
        )
        assert (
            next(c for c in screen(P1, p, TODAY).criteria if c.id == "exc-4.2").status == expected
        )


def test_bad_answers_name_the_question():
    qs = questions_for(P1)
    with pytest.raises(AnswerError, match="Bilirubin"):
        patient_from_answers(qs, {"lab_bilirubin": "12", "lab_bilirubin_unit": "U/L"}, TODAY)
    with pytest.raises(AnswerError, match="unknown choice"):
        patient_from_answers(qs, {"history_tips": "within_9"}, TODAY)


@pytest.mark.parametrize("nct_id", ["NCT05227846", "NCT05331872"])
def test_question_labels_are_words_a_patient_knows(nct_id):
    """A patient reads the labels: no data-standard names (the acceptance pass of issue 15
    found "Participation in another clinical trial (FHIR ResearchSubject)")."""
    protocol = load_protocol(ROOT / "protocols" / nct_id / "protocol.yaml")
    jargon = ("FHIR", "ResearchSubject", "SNOMED", "ICD", "ATC", "RxNorm", "LOINC", "UCUM")
    for q in questions_for(protocol):
        for word in jargon:
            assert word not in q.label, (q.key, q.label)
    labels = {q.key: q.label for q in questions_for(P1)}
    assert labels["history_clinical_trial_participation"] == "Taking part in another clinical trial"
