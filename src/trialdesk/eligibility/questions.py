"""Questions a member of the public can answer, derived from a protocol's rules.

:func:`questions_for` walks the rules and asks only what they need: age and sex when a rule
uses them, each lab a rule or a score compares (with a choice of units), each condition,
procedure or event (with time choices built from the windows the rules use, and a severity
where a rule or the Child-Pugh score needs one) and each medication (with duration choices
from the rules' periods). :func:`patient_from_answers` turns the answers into a
:class:`~trialdesk.eligibility.patient.Patient` dated today; "I don't know" leaves the item
unknown (for ascites and hepatic encephalopathy too, which a record counts as none when it
does not mention them: the answer marks them ``Patient.unknown``). Attestations are never asked: only the study team can judge them.

Pure core: the public prescreener page (trialdesk.registry.prescreen) renders these.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from trialdesk.eligibility.patient import Episode, LabResult, MedicationCourse, Patient
from trialdesk.protocol import clinical_adapter, vocabulary
from trialdesk.protocol.loader import Protocol
from trialdesk.protocol.rules import (
    AgeCompare,
    And,
    HistoryTest,
    LabCompare,
    LabDetected,
    LabUlnCompare,
    MedicationDuration,
    MedicationFlag,
    Node,
    Not,
    Or,
    Period,
    ScoreCompare,
    SexIs,
)

__all__ = ["AnswerError", "Question", "patient_from_answers", "questions_for"]

UNIT_CHOICES = {
    "bilirubin": ("umol/L", "mg/dL"),
    "creatinine": ("umol/L", "mg/dL"),
    "albumin": ("g/L", "g/dL"),
    "sodium": ("mmol/L",),
    "wbc": ("10*9/L", "10*3/uL"),
    "platelets": ("10*9/L", "10*3/uL"),
    "neutrophils": ("10*9/L", "10*3/uL"),
    "inr": ("{INR}",),
    "alt": ("U/L",),
    "ast": ("U/L",),
    "hbv_dna": ("[IU]/mL",),
    "hemoglobin": ("g/dL", "g/L"),
}
UNIT_LABELS = {
    "umol/L": "µmol/L",
    "10*9/L": "×10⁹/L",
    "10*3/uL": "×10³/µL",
    "{INR}": "(ratio)",
    "[IU]/mL": "IU/mL",
}
SEVERITY_CHOICES = (("mild", "mild"), ("moderate", "moderate"), ("severe", "severe"))


@dataclass(frozen=True)
class Question:
    """One thing to ask. ``key`` is the form field name."""

    key: str
    kind: str  # age | sex | lab | detected | history | medication
    label: str
    subject: str | None = None
    units: tuple[str, ...] = ()
    choices: tuple[tuple[str, str], ...] = ()
    severity: bool = False
    periods: tuple[Period, ...] = ()
    criteria: tuple[str, ...] = field(default_factory=tuple)


def _walk(node: Node) -> list[Node]:
    if isinstance(node, And | Or):
        return [n for item in node.items for n in _walk(item)]
    if isinstance(node, Not):
        return _walk(node.item)
    return [node]


def _days(p: Period, today: date) -> int:
    return (today - p.before(today)).days


def questions_for(protocol: Protocol) -> list[Question]:
    """The questions the protocol's rules need, in a stable order (demographics, labs,
    history, medications)."""
    needs: dict[tuple[str, str], dict[str, Any]] = {}

    def need(kind: str, subject: str, criterion: str, **extra: Any) -> None:
        entry = needs.setdefault(
            (kind, subject), {"criteria": [], "periods": [], "active": False, "severity": False}
        )
        if criterion not in entry["criteria"]:
            entry["criteria"].append(criterion)
        for k, v in extra.items():
            if k == "period" and v is not None and v not in entry["periods"]:
                entry["periods"].append(v)
            elif k in ("active", "severity") and v:
                entry[k] = True

    for c in protocol.criteria:
        if c.rule is None:
            continue
        for node in _walk(c.rule):
            if isinstance(node, AgeCompare):
                need("age", "age", c.id)
            elif isinstance(node, SexIs):
                need("sex", "sex", c.id)
            elif isinstance(node, LabCompare | LabUlnCompare):
                need("lab", node.analyte, c.id)
            elif isinstance(node, LabDetected):
                need("detected", node.analyte, c.id)
            elif isinstance(node, ScoreCompare):
                labs, others = clinical_adapter.SCORE_INPUTS[node.score]
                for a in labs:
                    need("lab", a, c.id)
                for o in others:
                    if o in ("ascites", "hepatic_encephalopathy"):
                        need("history", o, c.id, active=True, severity=True)
                    else:
                        need(o, o, c.id)
            elif isinstance(node, HistoryTest):
                need(
                    "history",
                    node.concept,
                    c.id,
                    period=node.window,
                    active=node.active,
                    severity=node.min_severity is not None,
                )
            elif isinstance(node, MedicationFlag):
                need("medication", node.concept, c.id, active=node.attribute == "active")
            elif isinstance(node, MedicationDuration):
                need("medication", node.concept, c.id, period=node.period)
    order = {"age": 0, "sex": 1, "lab": 2, "detected": 2, "history": 3, "medication": 4}
    today = date(2000, 1, 1)  # only to order periods by length
    out: list[Question] = []
    for (kind, subject), entry in sorted(needs.items(), key=lambda kv: (order[kv[0][0]], kv[0][1])):
        crit = tuple(entry["criteria"])
        periods = tuple(sorted(entry["periods"], key=lambda p: _days(p, today)))
        if kind == "age":
            out.append(Question("age", "age", "Your age (in completed years)", criteria=crit))
        elif kind == "sex":
            out.append(
                Question(
                    "sex",
                    "sex",
                    "Sex",
                    choices=(("female", "female"), ("male", "male")),
                    criteria=crit,
                )
            )
        elif kind == "lab":
            out.append(
                Question(
                    f"lab_{subject}",
                    "lab",
                    clinical_adapter.label(subject),
                    subject,
                    UNIT_CHOICES.get(subject, (clinical_adapter.canonical_unit(subject),)),
                    criteria=crit,
                )
            )
        elif kind == "detected":
            out.append(
                Question(
                    f"detected_{subject}",
                    "detected",
                    f"{clinical_adapter.label(subject)}: latest result",
                    subject,
                    choices=(
                        ("no", "below the detection limit (not detected)"),
                        ("yes", "detected"),
                    ),
                    criteria=crit,
                )
            )
        elif kind == "history":
            info = vocabulary.concept(subject)
            assert info is not None
            choices = [("no", "No")]
            if info.kind != "procedure":
                choices.append(("now", "Yes, I have it now"))
            previous = None
            for i, p in enumerate(periods):
                if i == 0:
                    choices.append((f"within_{i}", f"Yes, in the last {p}"))
                else:
                    choices.append((f"within_{i}", f"Yes, between {previous} and {p} ago"))
                previous = p
            choices.append(
                ("earlier", f"Yes, more than {previous} ago" if previous else "Yes, in the past")
            )
            out.append(
                Question(
                    f"history_{subject}",
                    "history",
                    info.label,
                    subject,
                    choices=tuple(choices),
                    severity=entry["severity"] and info.severity,
                    periods=periods,
                    criteria=crit,
                )
            )
        else:
            info = vocabulary.concept(subject)
            assert info is not None
            choices = [("no", "No, never")]
            previous = None
            for i, p in enumerate(periods):
                label = (
                    f"Yes, started less than {p} ago"
                    if i == 0
                    else f"Yes, started between {previous} and {p} ago"
                )
                choices.append((f"within_{i}", label))
                previous = p
            choices.append(
                (
                    "longer",
                    f"Yes, started {previous} ago or more" if previous else "Yes, I take it now",
                )
            )
            choices.append(("stopped", "I took it in the past but stopped"))
            out.append(
                Question(
                    f"med_{subject}",
                    "medication",
                    info.label,
                    subject,
                    choices=tuple(choices),
                    periods=periods,
                    criteria=crit,
                )
            )
    return out


class AnswerError(ValueError):
    """An answer that cannot be used (names the question)."""


def patient_from_answers(
    questions: list[Question], answers: dict[str, Any], today: date
) -> Patient:
    """A Patient from the prescreener's answers (blank or "unknown" = not known)."""
    age = sex = None
    labs: list[LabResult] = []
    episodes: list[Episode] = []
    meds: list[MedicationCourse] = []
    absent: set[str] = set()
    unknown: set[str] = set()
    yesterday = today - timedelta(days=1)
    for q in questions:
        value = answers.get(q.key)
        if value in (None, "", "unknown"):
            if q.kind in ("history", "medication") and q.subject is not None:
                unknown.add(q.subject)  # "I don't know" stays unknown, never "none"
            continue
        if q.kind == "age":
            try:
                age = int(value)
            except (TypeError, ValueError):
                raise AnswerError(f"{q.label}: a whole number of years") from None
            if not 0 <= age <= 120:
                raise AnswerError(f"{q.label}: between 0 and 120")
        elif q.kind == "sex":
            sex = str(value)
        elif q.kind == "lab":
            unit = answers.get(f"{q.key}_unit") or q.units[0]
            if unit not in q.units:
                raise AnswerError(f"{q.label}: unit {unit!r} is not offered")
            try:
                number = Decimal(str(value))
                quantity = clinical_adapter.quantity(q.subject, number, unit)  # type: ignore[arg-type]
            except (InvalidOperation, ValueError) as exc:
                raise AnswerError(f"{q.label}: {exc}") from None
            labs.append(LabResult(q.subject, quantity, today, source=q.key))  # type: ignore
        elif q.kind == "detected":
            labs.append(
                LabResult(
                    q.subject,
                    None,
                    today,
                    detected=value == "yes",  # type: ignore
                    source=q.key,
                )
            )
        elif q.kind == "history":
            concept = q.subject
            assert concept is not None
            # an answer covers the whole concept: no other, undocumented episode
            absent.add(concept)
            info = vocabulary.concept(concept)
            assert info is not None
            if value == "no":
                continue
            severity = (answers.get(f"{q.key}_severity") or None) if q.severity else None
            if severity is not None and severity not in vocabulary.SEVERITIES:
                raise AnswerError(f"{q.label}: unknown severity {severity!r}")
            if value == "now":
                episodes.append(Episode(concept, yesterday, None, True, severity, q.key))
                continue
            when = _choice_date(value, q.periods, today, q.label)
            episodes.append(Episode(concept, when, when, False, severity, q.key))
        elif q.kind == "medication":
            concept = q.subject
            assert concept is not None
            if value == "no":
                absent.add(concept)
            elif value == "stopped":
                start = (q.periods[-1].before(today) if q.periods else today) - timedelta(days=400)
                meds.append(MedicationCourse(concept, start, today - timedelta(days=30), q.key))
            else:
                start = _choice_date(
                    value if value != "longer" else "earlier", q.periods, today, q.label
                )
                meds.append(MedicationCourse(concept, start, None, q.key))
    return Patient(
        id="prescreener",
        age_years=age,
        sex=sex,
        labs=tuple(labs),
        episodes=tuple(episodes),
        medications=tuple(meds),
        absent=frozenset(absent),
        unknown=frozenset(unknown),
        screening_date=today,
    )


def _choice_date(value: str, periods: tuple[Period, ...], today: date, label: str) -> date:
    """A date inside the time band the answer names (just beyond the shorter window)."""
    if value == "earlier":
        base = periods[-1].before(today) if periods else today - timedelta(days=365)
        return base - timedelta(days=1)
    if value.startswith("within_"):
        try:
            i = int(value.split("_", 1)[1])
            periods[i]
        except (ValueError, IndexError):
            raise AnswerError(f"{label}: unknown choice {value!r}") from None
        if i == 0:
            return today - timedelta(days=1)
        return periods[i - 1].before(today) - timedelta(days=1)
    raise AnswerError(f"{label}: unknown choice {value!r}")
