"""Screen one patient against one trial: each criterion MET / NOT_MET / UNKNOWN, overall
ELIGIBLE / INELIGIBLE / INCOMPLETE, with the values used, the reasons, what is missing and
which investigator attestations are pending.

Overall (docs/eligibility.md): any inclusion NOT_MET or any exclusion MET -> INELIGIBLE;
otherwise any UNKNOWN criterion or pending attestation -> INCOMPLETE; otherwise ELIGIBLE.
For an exclusion criterion MET means the exclusion applies (the patient is excluded).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from trialdesk.eligibility.evaluate import Context, evaluate
from trialdesk.eligibility.patient import Patient
from trialdesk.protocol.loader import Criterion, Protocol

__all__ = [
    "ELIGIBLE",
    "INCOMPLETE",
    "INELIGIBLE",
    "MET",
    "NOT_MET",
    "UNKNOWN",
    "CriterionResult",
    "ScreeningResult",
    "criterion_status",
    "overall_status",
    "screen",
]

MET, NOT_MET, UNKNOWN = "MET", "NOT_MET", "UNKNOWN"
ELIGIBLE, INELIGIBLE, INCOMPLETE = "ELIGIBLE", "INELIGIBLE", "INCOMPLETE"


@dataclass(frozen=True)
class CriterionResult:
    id: str
    kind: str  # inclusion | exclusion
    number: int
    status: str  # MET | NOT_MET | UNKNOWN
    reason: str
    text: str
    rule: str | None = None
    attestation: str | None = None
    attestation_pending: bool = False
    values: dict[str, str] = field(default_factory=dict)
    missing: tuple[str, ...] = ()
    # which part of a split criterion this is, in the protocol's words (None: not split)
    part: str | None = None

    @property
    def blocks(self) -> bool:
        """True when this criterion alone makes the patient ineligible."""
        return (self.kind == "inclusion" and self.status == NOT_MET) or (
            self.kind == "exclusion" and self.status == MET
        )

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.id,
            "kind": self.kind,
            "status": self.status,
            "reason": self.reason,
            "number": self.number,
            "text": self.text,
        }
        if self.rule is not None:
            out["rule"] = self.rule
        if self.attestation is not None:
            out["attestation"] = self.attestation
            out["attestation_pending"] = self.attestation_pending
        out["values"] = dict(self.values)
        out["missing"] = list(self.missing)
        return out


@dataclass(frozen=True)
class ScreeningResult:
    nct_id: str
    protocol_revision: str
    patient_id: str
    screening_date: date
    overall: str
    criteria: tuple[CriterionResult, ...]
    reasons: tuple[str, ...]
    missing: tuple[str, ...]
    pending_attestations: tuple[str, ...]
    notes: tuple[str, ...] = ()

    @property
    def unknown_count(self) -> int:
        return sum(1 for c in self.criteria if c.status == UNKNOWN)

    def to_dict(self) -> dict[str, Any]:
        return {
            "trial": self.nct_id,
            "protocol_revision": self.protocol_revision,
            "patient": self.patient_id,
            "screening_date": self.screening_date.isoformat(),
            "overall": self.overall,
            "reasons": list(self.reasons),
            "missing": list(self.missing),
            "pending_attestations": list(self.pending_attestations),
            "criteria": [c.to_dict() for c in self.criteria],
            "notes": list(self.notes),
        }


def criterion_status(truth: bool | None) -> str:
    return MET if truth is True else (NOT_MET if truth is False else UNKNOWN)


def overall_status(results: list[CriterionResult] | tuple[CriterionResult, ...]) -> str:
    if any(r.blocks for r in results):
        return INELIGIBLE
    if any(r.status == UNKNOWN for r in results):
        return INCOMPLETE
    return ELIGIBLE


def _screen_criterion(c: Criterion, ctx: Context) -> CriterionResult:
    if c.rule is None:
        answer = ctx.patient.attestations.get(c.id)
        if answer is None:
            return CriterionResult(
                c.id,
                c.kind,
                c.number,
                UNKNOWN,
                f"attestation pending: {c.attestation}",
                c.text,
                None,
                c.attestation,
                True,
                part=c.part,
            )
        status = MET if answer else NOT_MET
        return CriterionResult(
            c.id,
            c.kind,
            c.number,
            status,
            f"attested by the investigator: {'yes' if answer else 'no'} ({c.attestation})",
            c.text,
            None,
            c.attestation,
            False,
            part=c.part,
        )
    outcome = evaluate(c.rule, ctx)
    return CriterionResult(
        c.id,
        c.kind,
        c.number,
        criterion_status(outcome.truth),
        "; ".join(outcome.reasons),
        c.text,
        c.rule_text,
        None,
        False,
        dict(outcome.values),
        tuple(outcome.missing),
        part=c.part,
    )


def screen(
    protocol: Protocol, patient: Patient, screening_date: date | None = None
) -> ScreeningResult:
    """Screen ``patient`` for ``protocol`` on ``screening_date`` (default: the patient's
    screening date, else today)."""
    when = screening_date or patient.screening_date or date.today()
    ctx = Context(patient, protocol, when)
    results = [_screen_criterion(c, ctx) for c in protocol.criteria]
    overall = overall_status(results)
    reasons: list[str] = []
    if overall == INELIGIBLE:
        for r in results:
            if r.blocks:
                verb = "not met" if r.kind == "inclusion" else "applies"
                reasons.append(f"{r.kind} {r.id} {verb}: {r.reason}")
    elif overall == INCOMPLETE:
        for r in results:
            if r.status == UNKNOWN:
                reasons.append(f"{r.kind} {r.id} unknown: {r.reason}")
    else:
        reasons.append("every inclusion criterion is met and no exclusion criterion applies")
    missing: list[str] = []
    for r in results:
        if r.status == UNKNOWN:
            for m in r.missing:
                if m not in missing:
                    missing.append(m)
    pending = tuple(f"{r.id}: {r.attestation}" for r in results if r.attestation_pending)
    return ScreeningResult(
        nct_id=protocol.nct_id,
        protocol_revision=str(protocol.revision.get("number", "")),
        patient_id=patient.id,
        screening_date=when,
        overall=overall,
        criteria=tuple(results),
        reasons=tuple(reasons),
        missing=tuple(missing),
        pending_attestations=pending,
        notes=patient.notes,
    )
