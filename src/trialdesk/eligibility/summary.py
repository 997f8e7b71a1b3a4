"""A screening result as a patient reads it (the public prescreener's result page).

:func:`patient_summary` sorts the criteria of a :class:`~trialdesk.eligibility.screen.ScreeningResult`
into four groups and explains each in plain words, without rule language or internal ids:

- ``rule_out`` -- *what may rule you out*: an inclusion criterion the answers do not meet,
  or an exclusion criterion that applies;
- ``meet`` -- *what you meet*: inclusion criteria the answers meet;
- ``not_apply`` -- exclusion criteria that *do not apply to you* (never listed as "met");
- ``check`` -- *what the study team must check*: criteria the answers do not settle
  (UNKNOWN: a question left as "I don't know", or a score that could fall either side of
  the cut-off) and judgements only the investigator can make (attestations).

Each item carries the criterion's own text from the listing, "Inclusion criterion 3" /
"Exclusion criterion 4" as the listing numbers them (a criterion split into parts, such as
a judgement and a computed rule, gives one item per part, each naming its part), the answers it used (question label:
answer, in the form's words), the questions left unanswered and, for a score, the value or
range the answers allow (for an attestation: what the study team judges).

Pure core: no Django. The page (``trialdesk.registry.prescreen``) only renders it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from trialdesk.eligibility.questions import UNIT_LABELS, Question
from trialdesk.eligibility.screen import MET, NOT_MET, UNKNOWN, ScreeningResult

__all__ = ["SummaryItem", "PatientSummary", "answer_lines", "patient_summary"]

SCORE_NAMES = {
    "child_pugh": "Child-Pugh",
    "meld": "MELD",
    "meld_na": "MELD-Na",
    "meld3": "MELD 3.0",
    "albi": "ALBI",
}
OVERALL_TEXT = {
    "INELIGIBLE": "Something in your answers may rule you out of this trial.",
    "INCOMPLETE": (
        "Nothing in your answers rules you out, but some points need the study team to check."
    ),
    "ELIGIBLE": "Your answers meet every point this check can look at.",
}


@dataclass(frozen=True)
class SummaryItem:
    """One criterion in plain words."""

    id: str  # kept for the page's data attribute and tests; never shown
    title: str  # "Inclusion criterion 3"
    text: str  # the criterion as the listing words it
    note: str  # one plain sentence: why it is in this group
    answers: tuple[str, ...] = ()  # "Your age (in completed years): 50"
    # plain lines: "Child-Pugh score from your answers: could be 5 to 7 points, ...", or what
    # the study team judges for an attestation
    details: tuple[str, ...] = ()
    not_answered: tuple[str, ...] = ()  # labels of the questions left as "I don't know"
    # for a criterion split into parts (same title and text): which part this item is, in
    # the protocol's words; "" when the criterion is not split
    part: str = ""


@dataclass(frozen=True)
class PatientSummary:
    overall: str  # ELIGIBLE | INELIGIBLE | INCOMPLETE
    headline: str
    rule_out: tuple[SummaryItem, ...] = ()
    meet: tuple[SummaryItem, ...] = ()
    not_apply: tuple[SummaryItem, ...] = ()
    check: tuple[SummaryItem, ...] = ()
    groups: dict[str, tuple[SummaryItem, ...]] = field(default_factory=dict, hash=False)


def _answer_text(q: Question, answers: dict[str, Any]) -> tuple[str | None, list[str]]:
    """(how the answer reads, labels of the parts left unanswered) for one question."""
    value = answers.get(q.key)
    if value in (None, "", "unknown"):
        return None, [q.label]
    if q.kind == "lab":
        unit = answers.get(f"{q.key}_unit") or q.units[0]
        shown = UNIT_LABELS.get(unit, unit)
        return f"{q.label}: {value} {shown}".rstrip(), []
    if q.kind == "age":
        return f"{q.label}: {value}", []
    choice = dict(q.choices).get(str(value), str(value))
    text = f"{q.label}: {choice}"
    if q.severity and value != "no":
        severity = answers.get(f"{q.key}_severity")
        if severity:
            text += f" ({severity})"
        else:
            return text, [f"{q.label}: how severe"]
    return text, []


def answer_lines(questions: list[Question], answers: dict[str, Any]) -> list[str]:
    """Each answered question as "label: answer" in the form's words, in the form's order
    (questions left as "I don't know" are left out)."""
    return [text for q in questions if (text := _answer_text(q, answers)[0])]


def _scores(values: dict[str, str]) -> list[str]:
    """The scores a criterion used, as "Child-Pugh score from your answers: 9 points", or
    "... could be 5 to 7 points" when unanswered questions leave a range."""
    out = []
    for key, shown in values.items():
        score, _, attribute = key.partition(".")
        if score not in SCORE_NAMES:
            continue
        what = f"{SCORE_NAMES[score]} {attribute}"
        unit = " points" if score == "child_pugh" and attribute == "score" else ""
        if " to " in shown or " or " in shown:
            out.append(
                f"{what} from your answers: could be {shown}{unit}, depending on the "
                "answers you did not know"
            )
        else:
            out.append(f"{what} from your answers: {shown}{unit}")
    return out


def patient_summary(
    result: ScreeningResult, questions: list[Question], answers: dict[str, Any]
) -> PatientSummary:
    """Group ``result``'s criteria as a patient reads them (see the module docstring).

    ``questions`` and ``answers`` are those the patient was built from
    (:func:`~trialdesk.eligibility.questions.patient_from_answers`); they give each
    criterion's answers in the form's own words.
    """
    by_criterion: dict[str, list[Question]] = {}
    for q in questions:
        for cid in q.criteria:
            by_criterion.setdefault(cid, []).append(q)
    groups: dict[str, list[SummaryItem]] = {
        "rule_out": [],
        "meet": [],
        "not_apply": [],
        "check": [],
    }
    for c in result.criteria:
        title = f"{c.kind.capitalize()} criterion {c.number}"
        used: list[str] = []
        missing: list[str] = []
        for q in by_criterion.get(c.id, []):
            text, gaps = _answer_text(q, answers)
            if text:
                used.append(text)
            missing.extend(gaps)
        scores = _scores(c.values)
        if c.attestation is not None:
            group, note = "check", "Only the study team can judge this."
            used, missing, scores = [], [], [f"The study team will judge: {c.attestation}"]
        elif c.status == UNKNOWN:
            group = "check"
            note = (
                "Your answers do not settle this: the study team will check it."
                if not missing
                else "You did not answer everything this needs: the study team will check it."
            )
        elif c.blocks:
            group = "rule_out"
            note = (
                "Your answers suggest you do not meet this."
                if c.kind == "inclusion"
                else "Your answers suggest this applies to you."
            )
            missing = []
        elif c.kind == "inclusion":
            assert c.status == MET
            group, note, missing = "meet", "Your answers meet this.", []
        else:
            assert c.kind == "exclusion" and c.status == NOT_MET
            group, note, missing = "not_apply", "From your answers, this does not apply to you.", []
        groups[group].append(
            SummaryItem(
                c.id,
                title,
                c.text,
                note,
                tuple(used),
                tuple(scores),
                tuple(missing),
                c.part or "",
            )
        )
    frozen = {k: tuple(v) for k, v in groups.items()}
    return PatientSummary(
        overall=result.overall,
        headline=OVERALL_TEXT[result.overall],
        groups=frozen,
        **frozen,
    )
