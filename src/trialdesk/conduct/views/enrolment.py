"""Enrolment, dosing, DLT outcomes and the safety review committee's decisions."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods

from trialdesk.conduct import services
from trialdesk.conduct.errors import ConductError
from trialdesk.conduct.forms import (
    DecisionForm,
    DltOutcomeForm,
    DosingForm,
    EnrolForm,
    SignatureForm,
    add_service_error,
)
from trialdesk.conduct.services.enrolment import conduct_plan, src_quorum
from trialdesk.conduct.services.signing import SRC_DECISION
from trialdesk.conduct.views.common import participant_for, study_for


@login_required
def enrol(request: HttpRequest, pk: int) -> HttpResponse:
    p = participant_for(request, pk)  # scoping first: another site's participant is a 404
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    form = EnrolForm(request.POST)
    if not form.is_valid():
        messages.error(request, f"Not enrolled: {form.errors.as_text()}")
        return redirect("conduct:participant", pk=p.pk)
    try:
        p = services.enrol(p, request.user, at=form.cleaned_data["enrolled_at"])
    except ConductError as exc:
        messages.error(request, f"Not enrolled: {exc}")
    else:
        cohort = p.slot.cohort
        messages.success(
            request,
            f"Enrolled as {p.participant_id} in cohort {cohort.number} ({cohort.dose_level}).",
        )
    return redirect("conduct:participant", pk=p.pk)


@login_required
@require_http_methods(["GET", "POST"])
def dosing(request: HttpRequest, pk: int) -> HttpResponse:
    p = participant_for(request, pk)
    plan = conduct_plan(p.study)
    initial = {"route": plan.route, "volume_ml": plan.volume_ml}
    level = plan.dose_level(p.slot.cohort.dose_level) if p.slot_id else None
    if level is not None and level.cells is not None:
        initial["cells"] = level.cells
    form = DosingForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            given = services.record_dose(p, request.user, **form.cleaned_data)
        except ConductError as exc:
            add_service_error(form, exc)
        else:
            from trialdesk.conduct.services.dosing import dose_deviation

            deviation = dose_deviation(given)
            if deviation is not None:
                messages.warning(
                    request, f"Dose recorded, with a protocol deviation: {deviation.description}"
                )
            else:
                messages.success(request, "Dose recorded.")
            return redirect("conduct:participant", pk=p.pk)
    context = {"participant": p, "form": form, "level": level}
    return render(request, "conduct/dosing.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def dlt_outcome(request: HttpRequest, pk: int) -> HttpResponse:
    p = participant_for(request, pk)
    form = DltOutcomeForm(request.POST or None, initial={"outcome": p.dlt_outcome})
    if request.method == "POST" and form.is_valid():
        try:
            services.record_dlt_outcome(p, request.user, **form.cleaned_data)
        except ConductError as exc:
            add_service_error(form, exc)
        else:
            messages.success(request, "DLT outcome recorded.")
            return redirect("conduct:participant", pk=p.pk)
    return render(request, "conduct/dlt.html", {"participant": p, "form": form})


@login_required
@require_http_methods(["GET", "POST"])
def new_decision(request: HttpRequest, nct_id: str) -> HttpResponse:
    study = study_for(request, nct_id)
    plan = conduct_plan(study)
    if plan.escalation is None:
        raise Http404(f"{study} is single arm: no dose escalation")
    outcomes, engine, problems = services.recommendation(study)
    initial = {}
    if engine is not None:
        initial["dose_level"] = (
            plan.dose_levels[engine.next_dose - 1].id if engine.next_dose else ""
        )
    form = DecisionForm(request.POST or None, levels=plan.dose_levels, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            decision = services.propose_decision(study, request.user, **form.cleaned_data)
        except ConductError as exc:
            add_service_error(form, exc)
        else:
            messages.success(request, "Decision recorded; it takes effect when signed.")
            return redirect("conduct:decision", nct_id=study.nct_id, decision=decision.pk)
    context = {
        "study": study,
        "outcomes": outcomes,
        "engine": engine,
        "problems": problems,
        "form": form,
    }
    return render(request, "conduct/decision_new.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def decision(request: HttpRequest, nct_id: str, decision: int) -> HttpResponse:
    study = study_for(request, nct_id)
    record = get_object_or_404(study.decisions, pk=decision)
    form = SignatureForm(request.POST or None, act=SRC_DECISION)
    if request.method == "POST" and form.is_valid():
        try:
            services.sign_decision(record, request.user, **form.cleaned_data)
        except ConductError as exc:
            add_service_error(form, exc)
        else:
            messages.success(
                request, "Signed: in effect." if record.effective else "Signed: awaiting more."
            )
            return redirect("conduct:decision", nct_id=study.nct_id, decision=record.pk)
    context = {"study": study, "decision": record, "form": form, "quorum": src_quorum(study)}
    return render(request, "conduct/decision.html", context)
