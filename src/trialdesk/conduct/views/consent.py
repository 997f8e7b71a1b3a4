"""Recording a consent event."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from trialdesk.conduct import services
from trialdesk.conduct.errors import ConductError
from trialdesk.conduct.forms import ConsentForm, add_service_error
from trialdesk.conduct.views.common import participant_for


@login_required
@require_http_methods(["GET", "POST"])
def consent(request: HttpRequest, pk: int) -> HttpResponse:
    p = participant_for(request, pk)
    form = ConsentForm(request.POST or None, study=p.study)
    if request.method == "POST" and form.is_valid():
        try:
            services.record_consent(p, request.user, **form.cleaned_data)
        except ConductError as exc:
            add_service_error(form, exc)
        else:
            messages.success(request, "Consent recorded.")
            return redirect("conduct:participant", pk=p.pk)
    return render(request, "conduct/consent.html", {"participant": p, "form": form})
