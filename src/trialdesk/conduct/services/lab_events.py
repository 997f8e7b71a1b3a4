"""Abnormal labs propose graded adverse events (``trialdesk.clinical.propose_lab_adverse_events``
against the site's reference ranges and the participant's screening values as baseline); the
coordinator confirms one (it becomes an adverse event) or dismisses it with a reason."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from trialdesk.conduct.errors import ConductError
from trialdesk.conduct.models import LabEventProposal, ReferenceRange, Visit, write
from trialdesk.conduct.services.access import require_member, require_perm


def _ranges(site: Any) -> dict[str, dict[str, str]]:
    return {
        r.analyte: {k: v for k, v in (("lln", r.lln), ("uln", r.uln)) if v}
        for r in ReferenceRange.objects.filter(site=site)
    }


def propose(visit: Visit, by: Any) -> list[LabEventProposal]:
    """Proposals for the visit's graded abnormal labs (grade >= 1; ungradable ones are not
    proposed). The screening visit's values are the baseline of the later visits."""
    from trialdesk.clinical.lab_events import propose_lab_adverse_events
    from trialdesk.conduct.services.visits import lab_quantities

    results = lab_quantities(visit)
    if not results:
        return []
    baseline_visit = visit.participant.visits.filter(code="SCR").exclude(pk=visit.pk).first()
    baselines = lab_quantities(baseline_visit) if baseline_visit else None
    made = []
    for p in propose_lab_adverse_events(
        results, _ranges(visit.participant.site), baselines=baselines
    ):
        if p.status != "proposed" or not p.grade:
            continue
        made.append(
            write(
                LabEventProposal(
                    visit=visit,
                    term=p.term,
                    grade=p.grade,
                    analyte=p.analyte,
                    value=str(p.value)[:60],
                    reason=p.reason,
                ),
                by,
            )
        )
    return made


def confirm(proposal: LabEventProposal, by: Any, *, related: str) -> Any:
    """The proposal becomes an adverse event (onset: the visit date; awareness: now)."""
    from trialdesk.conduct.services.safety import record_adverse_event

    require_perm(by, "record_adverse_event", "confirm proposed adverse events")
    participant = proposal.visit.participant
    require_member(by, participant.site)
    if proposal.status != LabEventProposal.PROPOSED:
        raise ConductError(f"the proposal is already {proposal.status}")
    with transaction.atomic():
        ae = record_adverse_event(
            participant,
            by,
            term=proposal.term,
            grade=proposal.grade,
            onset_date=proposal.visit.visit_date,
            awareness_at=timezone.now(),
            related=related,
        )
        proposal.status, proposal.adverse_event = LabEventProposal.CONFIRMED, ae
        proposal.decision_reason = "confirmed as an adverse event"
        write(proposal, by, "confirmed as an adverse event")
    return ae


def dismiss(proposal: LabEventProposal, by: Any, *, reason: str) -> LabEventProposal:
    require_perm(by, "record_adverse_event", "dismiss proposed adverse events")
    require_member(by, proposal.visit.participant.site)
    if proposal.status != LabEventProposal.PROPOSED:
        raise ConductError(f"the proposal is already {proposal.status}")
    reason = (reason or "").strip()
    if not reason:
        raise ConductError("say why the proposal is dismissed", field="reason")
    proposal.status, proposal.decision_reason = LabEventProposal.DISMISSED, reason[:300]
    with transaction.atomic():
        return write(proposal, by, f"dismissed: {reason}"[:100])
