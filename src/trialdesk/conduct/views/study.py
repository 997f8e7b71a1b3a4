"""The staff home (studies at the user's sites) and a study's dashboard."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from trialdesk.conduct.models import (
    AdverseEvent,
    DataQuery,
    LabEventProposal,
    Participant,
    ProtocolDeviation,
    Referral,
    Study,
)
from trialdesk.conduct.services.safety import open_events, sae_clock
from trialdesk.conduct.services.visits import calendar
from trialdesk.conduct.views.common import study_for


@login_required
def home(request: HttpRequest) -> HttpResponse:
    studies = Study.objects.visible_to(request.user)
    new_referrals = Referral.objects.visible_to(request.user).filter(status=Referral.NEW).count()
    context = {"studies": studies, "new_referrals": new_referrals}
    return render(request, "conduct/home.html", context)


@login_required
def dashboard(request: HttpRequest, nct_id: str) -> HttpResponse:
    study = study_for(request, nct_id)
    participants = (
        Participant.objects.visible_to(request.user)
        .filter(study=study)
        .select_related("site", "study", "slot__cohort")
        .prefetch_related("doses", "visits")  # the visit calendars of _visits_due
    )
    cohorts = [{"cohort": c, "enrolled": c.enrolled()} for c in study.cohorts.order_by("number")]
    context = {
        "study": study,
        "participants": participants,
        "cohorts": cohorts,
        "pending_decisions": study.decisions.filter(effective=False),
        "decisions": study.decisions.all(),
        "open_queries": DataQuery.objects.filter(
            participant__in=participants, status__in=[DataQuery.OPEN, DataQuery.ANSWERED]
        ).count(),
        "has_escalation": _has_escalation(study),
        "open_aes": open_events(participants).select_related("participant"),
        "sae_clocks": [
            (ae, sae_clock(ae))
            for ae in AdverseEvent.objects.filter(participant__in=participants, serious=True)
            .select_related("participant")
            .order_by("-awareness_at")
        ],
        "visits_due": _visits_due(participants),
        "to_review": ProtocolDeviation.objects.filter(
            participant__in=participants, needs_review=True, reviewed_at__isnull=True
        ).select_related("participant"),
        "pending_proposals": LabEventProposal.objects.filter(
            visit__participant__in=participants, status=LabEventProposal.PROPOSED
        ).count(),
        "counts": {
            label: sum(1 for p in participants if p.status == status)
            for status, label in Participant.STATUS_CHOICES
        },
    }
    return render(request, "conduct/dashboard.html", context)


def _has_escalation(study) -> bool:  # noqa: ANN001
    from trialdesk.conduct.services.enrolment import conduct_plan

    return conduct_plan(study).escalation is not None


def _visits_due(participants) -> list[tuple[Participant, object]]:  # noqa: ANN001
    """(participant, calendar row) for visits due now or missed, enrolled participants only."""
    out = []
    for p in participants:
        if p.status != Participant.ENROLLED:
            continue
        for row in calendar(p):
            if row.status.status in ("due", "missed"):
                out.append((p, row))
    return out


@login_required
@require_POST
def enrolment(request: HttpRequest, nct_id: str) -> HttpResponse:
    """Close or reopen enrolment by hand (investigator; a reason, and after a signed
    committee stop the approved amendment): services/study.py."""
    from django.contrib import messages

    from trialdesk.conduct.errors import ConductError
    from trialdesk.conduct.services.study import close_enrolment, reopen_enrolment

    study = study_for(request, nct_id)
    reason = request.POST.get("reason", "")
    try:
        if request.POST.get("action") == "close":
            close_enrolment(study, request.user, reason=reason)
        else:
            reopen_enrolment(
                study, request.user, reason=reason, amendment=request.POST.get("amendment", "")
            )
    except ConductError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, "Enrolment updated, with its reason.")
    return redirect("conduct:dashboard", nct_id=study.nct_id)
