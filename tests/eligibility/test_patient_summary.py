"""The screening result as a patient reads it (trialdesk.eligibility.summary), without Django."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

from trialdesk.eligibility import screen
from trialdesk.eligibility.questions import patient_from_answers, questions_for
from trialdesk.eligibility.summary import patient_summary
from trialdesk.protocol import load_protocol

ROOT = Path(__file__).resolve().parents[2]
LIVER = load_protocol(ROOT / "protocols" / "NCT05227846" / "protocol.yaml")
D = date(2026, 11, 20)
QUESTIONS = questions_for(LIVER)


def _summary(**answers: str):
    patient = patient_from_answers(QUESTIONS, answers, D)
    return patient_summary(screen(LIVER, patient, D), QUESTIONS, answers)


def _ids(items) -> set[str]:
    return {i.id for i in items}


def test_groups_follow_how_a_patient_reads_the_result():
    s = _summary(age="17", sex="male", history_tips="no", history_ascites="no")
    assert s.overall == "INELIGIBLE" and s.headline.startswith("Something in your answers")
    assert "inc-2" in _ids(s.rule_out)  # 17 is under 18
    assert "exc-7" in _ids(s.not_apply)  # no TIPS: does not apply, not "met"
    assert not any(i.id.startswith("exc-") for i in s.meet)
    assert {"inc-1", "exc-20"} <= _ids(s.check)  # attestations: the study team judges
    every = [*s.rule_out, *s.meet, *s.not_apply, *s.check]
    assert len(every) == len(LIVER.criteria)  # each criterion in exactly one group
    assert len(_ids(every)) == len(every)


def test_items_are_in_plain_words():
    s = _summary(
        age="50",
        lab_bilirubin="1.0",
        lab_bilirubin_unit="mg/dL",
        lab_albumin="4.0",
        lab_albumin_unit="g/dL",
        lab_inr="1.0",
        history_hepatic_encephalopathy="no",
    )
    inc4 = next(i for i in s.check if i.id == "inc-4")
    assert inc4.title == "Inclusion criterion 4"
    assert inc4.text == "Child-Turcotte-Pugh (CTP) score 7 to 12 points."
    # 4 known points (Pugh 1973) + ascites 1 to 3
    assert inc4.details == (
        "Child-Pugh score from your answers: could be 5 to 7 points, depending on the answers "
        "you did not know",
    )
    assert inc4.not_answered == ("Ascites",)
    assert "Bilirubin (total): 1.0 mg/dL" in inc4.answers
    assert "Hepatic encephalopathy: No" in inc4.answers
    inc2 = next(i for i in s.meet if i.id == "inc-2")
    assert inc2.answers == ("Your age (in completed years): 50",) and inc2.note
    attested = next(i for i in s.check if i.id == "inc-1")
    assert attested.note == "Only the study team can judge this."
    for item in [*s.rule_out, *s.meet, *s.not_apply, *s.check]:
        shown = " ".join([item.title, item.note, *item.answers, *item.details])
        assert not re.search(r"\b(inc|exc)-\d", shown), shown
        assert "child_pugh" not in shown and "umol/L" not in shown, shown


def test_severity_left_unknown_is_named():
    s = _summary(history_ascites="now")
    inc4 = next(i for i in s.check if i.id == "inc-4")
    assert "Ascites: how severe" in inc4.not_answered
    assert "Ascites: Yes, I have it now" in inc4.answers


def test_the_parts_of_a_split_criterion_say_which_part_they_are():
    """Exclusion 4 is split into a judgement (exc-4.1) and a computed part (exc-4.2): both
    carry the listing's title and text, so each says which part it covers, in the protocol's
    words (its ``part``), or a patient reads the same criterion twice with no difference
    (found by the issue-15 acceptance pass). An unsplit criterion names no part."""
    s = _summary()
    items = {i.id: i for i in [*s.rule_out, *s.meet, *s.not_apply, *s.check]}
    assert items["exc-4.1"].title == items["exc-4.2"].title == "Exclusion criterion 4"
    assert items["exc-4.1"].part == "may discontinue antiviral therapy during the study"
    assert items["exc-4.2"].part == "antiviral therapy for HBV for less than 12 months"
    assert items["exc-17.2"].part == "recent fertility plan"
    assert items["inc-4"].part == "" and items["exc-7"].part == ""
    by_number: dict[str, set[str]] = {}
    for item in items.values():
        by_number.setdefault(item.title, set()).add(item.part)
    for title, parts in by_number.items():
        assert len(parts) == sum(i.title == title for i in items.values()), title
