"""Recording a visit and showing it with its labs and scores."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from trialdesk.conduct.errors import ConductError
from trialdesk.conduct.forms import ProposalDecisionForm, VisitForm, add_service_error
from trialdesk.conduct.services.enrolment import conduct_plan
from trialdesk.conduct.services.visits import record_visit, scores
from trialdesk.conduct.views.common import participant_for


@login_required
@require_http_methods(["GET", "POST"])
def visit(request: HttpRequest, pk: int, code: str) -> HttpResponse:
    p = participant_for(request, pk)
    done = p.visits.filter(code=code).first()
    if done is not None:
        context = {"participant": p, "visit": done, "scores": scores(done)}
        return render(request, "conduct/visit.html", context)
    plan = conduct_plan(p.study)
    definition = next((v for v in plan.visits if v.code == code), None)
    if definition is None:
        from django.http import Http404

        raise Http404(f"no visit {code} in the protocol")
    panel = plan.lab_panel if "labs" in definition.assessments else ()
    form = VisitForm(request.POST or None, panel=panel)
    if request.method == "POST" and form.is_valid():
        try:
            v = record_visit(p, request.user, code=code, **form.service_args())
        except ConductError as exc:
            add_service_error(form, exc)
        else:
            messages.success(request, f"Visit {code} recorded ({v.window_status}).")
            return redirect("conduct:visit", pk=p.pk, code=code)
    context = {"participant": p, "definition": definition, "form": form}
    return render(request, "conduct/visit_form.html", context)


@login_required
def decide_proposal(request: HttpRequest, pk: int, proposal: int) -> HttpResponse:
    """Confirm (with the relationship) or dismiss (with a reason) a lab-proposed event."""
    from django.http import HttpResponseNotAllowed
    from django.shortcuts import get_object_or_404

    from trialdesk.conduct.models import LabEventProposal
    from trialdesk.conduct.services.lab_events import confirm, dismiss

    p = participant_for(request, pk)  # scoping first: another site's participant is a 404
    item = get_object_or_404(LabEventProposal, pk=proposal, visit__participant=p)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    error = None
    form = ProposalDecisionForm(request.POST)
    if not form.is_valid():
        error = "; ".join(f"{f}: {' '.join(e)}" for f, e in form.errors.items())
    else:
        data = form.cleaned_data
        try:
            if data["action"] == "confirm":
                confirm(item, request.user, related=data["related"] or "unknown")
            else:
                dismiss(item, request.user, reason=data["reason"])
        except ConductError as exc:
            error = str(exc)
    if request.htmx:  # HTMX: the list of proposals is replaced in place
        context = {"participant": p, "visit": item.visit, "proposal_error": error}
        return render(request, "conduct/_proposals.html", context)
    if error:
        messages.error(request, error)
    else:
        messages.success(request, f"Proposal {item.status}.")
    return redirect("conduct:visit", pk=p.pk, code=item.visit.code)
