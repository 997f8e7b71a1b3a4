"""Adverse events: recording and updating them with the trial's rules, seriousness (ICH E2A,
``trialdesk.clinical.safety``), the SAE clocks from awareness (``report_deadlines``) and the
DLT verdict from the protocol's definition (``trialdesk.protocol.evaluate_dlt``)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from trialdesk.conduct.errors import ConductError
from trialdesk.conduct.models import AdverseEvent, Participant, write
from trialdesk.conduct.services.access import require_member, require_perm
from trialdesk.conduct.services.consent import require_any_consent
from trialdesk.conduct.services.enrolment import conduct_plan
from trialdesk.conduct.services.visits import infusion_date

FIELDS = (
    "term", "grade", "onset_date", "awareness_at", "resolution_date", "seriousness",
    "unexpected", "related", "action_taken", "outcome",
)  # fmt: skip


def ctcae_terms() -> list[str]:
    """The pick-list: every CTCAE term the clinical core grades."""
    from trialdesk.clinical.ctcae import CLINICAL_TERMS, LAB_TERMS

    return sorted({*CLINICAL_TERMS, *LAB_TERMS})


def _check(ae: AdverseEvent, participant: Participant) -> None:
    if ae.term not in ctcae_terms():
        raise ConductError(f"{ae.term!r} is not a CTCAE term of the pick-list", field="term")
    for field, label, choices in (
        ("related", "relationship to the cell product", AdverseEvent.RELATED),
        ("action_taken", "action taken", AdverseEvent.ACTIONS),
        ("outcome", "outcome", AdverseEvent.OUTCOMES),
    ):
        value = getattr(ae, field)
        if value not in dict(choices):
            allowed = ", ".join(dict(choices))
            raise ConductError(f"{label} {value!r} is not one of {allowed}", field=field)
    if ae.grade is not None and not 1 <= ae.grade <= 5:
        raise ConductError("a CTCAE grade is 1 to 5", field="grade")
    from trialdesk.clinical.safety import event_date_problems

    consent = participant.first_consent()
    problems = event_date_problems(
        ae.onset_date,
        ae.awareness_at,
        ae.resolution_date,
        consented_on=consent.consented_at.astimezone(UTC).date() if consent else None,
        now=timezone.now(),
    )
    if problems:
        field, message = problems[0]
        raise ConductError(message, field=field)
    if ae.outcome == "fatal" and ae.grade not in (None, 5):
        raise ConductError("a fatal outcome is CTCAE grade 5", field="grade")


def _derive(ae: AdverseEvent, participant: Participant) -> None:
    """Seriousness, SAE deadlines and the DLT verdict, from the clinical core."""
    from trialdesk.clinical.safety import assess_seriousness, report_deadlines
    from trialdesk.protocol import AdverseEventFacts, evaluate_dlt

    try:
        assessed = assess_seriousness(ae.seriousness or [])
    except ValueError as exc:
        raise ConductError(str(exc), field="seriousness") from None
    ae.seriousness = [c.value for c in assessed.criteria]
    ae.serious = assessed.serious
    if ae.serious:
        fatal = {"death", "life_threatening"} & set(ae.seriousness)
        deadlines = report_deadlines(
            ae.awareness_at, fatal_or_life_threatening=bool(fatal), unexpected=ae.unexpected
        )
        ae.deadlines = {k: v.astimezone(UTC).isoformat() for k, v in deadlines.items()}
    else:
        ae.deadlines = {}
    plan = conduct_plan(participant.study)
    if plan.escalation is None:
        ae.dlt, ae.dlt_reasons = None, "single-arm trial: no DLT definition"
        return
    verdict = evaluate_dlt(
        plan.escalation,
        AdverseEventFacts(
            term=ae.term,
            grade=ae.grade,
            onset_date=ae.onset_date,
            related=ae.related,
            serious=ae.serious,
            dose_date=infusion_date(participant),
        ),
    )
    ae.dlt = verdict.is_dlt
    ae.dlt_reasons = "; ".join(verdict.reasons)


def _follow_dlt(ae: AdverseEvent, participant: Participant, by: Any) -> None:
    if ae.dlt is True and participant.slot_id and participant.dlt_outcome != "dlt":
        participant.dlt_outcome = "dlt"
        write(
            participant, by, f"adverse event {ae.term} (grade {ae.grade}) meets the DLT definition"
        )


def record_adverse_event(participant: Participant, by: Any, **values: Any) -> AdverseEvent:
    require_perm(by, "record_adverse_event", "record adverse events")
    require_member(by, participant.site)
    require_any_consent(participant)
    unknown = set(values) - set(FIELDS)
    if unknown:
        raise ConductError(f"unknown adverse event fields: {', '.join(sorted(unknown))}")
    ae = AdverseEvent(
        participant=participant,
        ctcae_version=conduct_plan(participant.study).ctcae_version,
        **values,
    )
    _check(ae, participant)
    _derive(ae, participant)
    with transaction.atomic():
        write(ae, by)
        _follow_dlt(ae, participant, by)
    return ae


def update_adverse_event(ae: AdverseEvent, by: Any, *, reason: str, **values: Any) -> AdverseEvent:
    """Change an adverse event (grade, resolution, outcome, ...): the reason is required."""
    require_perm(by, "record_adverse_event", "change adverse events")
    participant = ae.participant
    require_member(by, participant.site)
    if not (reason or "").strip():
        raise ConductError("a reason is required for any change", field="reason")
    unknown = set(values) - set(FIELDS)
    if unknown:
        raise ConductError(f"unknown adverse event fields: {', '.join(sorted(unknown))}")
    for k, v in values.items():
        setattr(ae, k, v)
    _check(ae, participant)
    _derive(ae, participant)
    with transaction.atomic():
        write(ae, by, reason)
        _follow_dlt(ae, participant, by)
    return ae


def report_initial(ae: AdverseEvent, by: Any, *, at: datetime | None = None) -> AdverseEvent:
    """The investigator's initial SAE report was sent (stops the 24-hour clock)."""
    require_perm(by, "record_adverse_event", "report SAEs")
    require_member(by, ae.participant.site)
    if not ae.serious:
        raise ConductError("only a serious adverse event has an initial report")
    ae.initial_report_at = at or timezone.now()
    with transaction.atomic():
        return write(ae, by, "initial SAE report sent")


def sae_clock(ae: AdverseEvent, now: datetime | None = None) -> dict[str, Any] | None:
    """The 24-hour investigator clock of an SAE: deadline, hours left (negative: overdue),
    and whether the initial report was sent."""
    if not ae.serious or "investigator_24h" not in ae.deadlines:
        return None
    deadline = datetime.fromisoformat(ae.deadlines["investigator_24h"])
    now = now or timezone.now()
    left = (deadline - now).total_seconds() / 3600
    return {
        "deadline": deadline,
        "hours_left": round(left, 1),
        "overdue": left < 0 and ae.initial_report_at is None,
        "reported_at": ae.initial_report_at,
    }


def open_events(participants: Any) -> Any:
    return AdverseEvent.objects.filter(participant__in=participants, resolution_date__isnull=True)
