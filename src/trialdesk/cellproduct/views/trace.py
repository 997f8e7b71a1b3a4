"""Trace pages: a donation forward to its participants, a participant back to the donors."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required, permission_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from trialdesk.cellproduct.forms import TraceForm, add_service_error
from trialdesk.cellproduct.services.trace import DonationTrace, trace
from trialdesk.conduct.errors import ConductError


@login_required
@permission_required("cellproduct.trace_product", raise_exception=True)
def trace_page(request: HttpRequest) -> HttpResponse:
    form = TraceForm(request.GET or None)
    results = []
    if request.GET and form.is_valid():
        try:
            results = trace(form.cleaned_data["q"], request.user)
        except ConductError as exc:
            add_service_error(form, exc)
    context = {
        "form": form,
        "donations": [r for r in results if isinstance(r, DonationTrace)],
        "participants": [r for r in results if not isinstance(r, DonationTrace)],
    }
    return render(request, "cellproduct/trace.html", context)
