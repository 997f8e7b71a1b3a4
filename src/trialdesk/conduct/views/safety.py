"""Adverse events: record, change (with a reason), report an SAE's initial report."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.forms.models import model_to_dict
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods

from trialdesk.conduct.errors import ConductError
from trialdesk.conduct.forms import AdverseEventForm, add_service_error
from trialdesk.conduct.services.safety import (
    ctcae_terms,
    record_adverse_event,
    report_initial,
    sae_clock,
    update_adverse_event,
)
from trialdesk.conduct.views.common import participant_for


@login_required
@require_http_methods(["GET", "POST"])
def new_event(request: HttpRequest, pk: int) -> HttpResponse:
    p = participant_for(request, pk)
    form = AdverseEventForm(request.POST or None, terms=ctcae_terms())
    if request.method == "POST" and form.is_valid():
        try:
            ae = record_adverse_event(p, request.user, **form.cleaned_data)
        except ConductError as exc:
            add_service_error(form, exc)
        else:
            messages.success(request, f"Adverse event recorded: {ae}.")
            if request.htmx:  # HTMX: go to the new event's page
                from django.urls import reverse
                from django_htmx.http import HttpResponseClientRedirect

                return HttpResponseClientRedirect(
                    reverse("conduct:adverse-event", kwargs={"pk": p.pk, "event": ae.pk})
                )
            return redirect("conduct:adverse-event", pk=p.pk, event=ae.pk)
    # HTMX: only the form, with its errors, replaces itself in place (the rest of the page
    # and what was typed stay)
    template = "conduct/_ae_form.html" if request.htmx else "conduct/ae_form.html"
    return render(request, template, {"participant": p, "form": form})


@login_required
@require_http_methods(["GET", "POST"])
def event(request: HttpRequest, pk: int, event: int) -> HttpResponse:
    p = participant_for(request, pk)
    ae = get_object_or_404(p.adverse_events, pk=event)
    initial = model_to_dict(ae, fields=AdverseEventForm.base_fields)
    form = AdverseEventForm(
        request.POST or None, terms=ctcae_terms(), editing=True, initial=initial
    )
    if request.method == "POST" and form.is_valid():
        values = dict(form.cleaned_data)
        reason = values.pop("reason")
        try:
            update_adverse_event(ae, request.user, reason=reason, **values)
        except ConductError as exc:
            add_service_error(form, exc)
            ae.refresh_from_db()
        else:
            messages.success(request, "Change saved with its reason.")
            return redirect("conduct:adverse-event", pk=p.pk, event=ae.pk)
    context = {"participant": p, "ae": ae, "form": form, "clock": sae_clock(ae)}
    return render(request, "conduct/ae.html", context)


@login_required
def initial_report(request: HttpRequest, pk: int, event: int) -> HttpResponse:
    p = participant_for(request, pk)
    ae = get_object_or_404(p.adverse_events, pk=event)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    try:
        report_initial(ae, request.user)
    except ConductError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, "Initial SAE report recorded.")
    return redirect("conduct:adverse-event", pk=p.pk, event=ae.pk)
