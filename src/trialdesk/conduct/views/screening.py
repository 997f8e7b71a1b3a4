"""Screening a new participant, settling attestations, signing eligibility."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from trialdesk.conduct import services
from trialdesk.conduct.errors import ConductError
from trialdesk.conduct.forms import AttestationForm, ScreeningForm, SignatureForm, add_service_error
from trialdesk.conduct.models import Site, SiteMembership
from trialdesk.conduct.services.signing import ELIGIBILITY
from trialdesk.conduct.views.common import participant_for, study_for


@login_required
@require_http_methods(["GET", "POST"])
def screen(request: HttpRequest, nct_id: str) -> HttpResponse:
    study = study_for(request, nct_id)
    sites = Site.objects.filter(
        studies=study,
        pk__in=SiteMembership.objects.filter(user=request.user).values("site_id"),
    )
    form = ScreeningForm(request.POST or None, request.FILES or None, sites=sites)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            participant = services.screen_participant(
                study,
                d["site"],
                request.user,
                initials=d["initials"],
                sex=d["sex"],
                birth_date=d["birth_date"],
                screened_on=d["screened_on"],
                source=d["source"],
                data=d["data"],
                source_name=d["source_name"],
            )
        except ConductError as exc:
            add_service_error(form, exc)
        else:
            messages.success(request, f"Screened as {participant.screening_number}.")
            return redirect("conduct:participant", pk=participant.pk)
    return render(request, "conduct/screen.html", {"study": study, "form": form})


def _pending(assessment) -> list[dict]:  # noqa: ANN001
    return [c for c in assessment.result["criteria"] if c.get("attestation") is not None]


@login_required
@require_http_methods(["GET", "POST"])
def attest(request: HttpRequest, pk: int) -> HttpResponse:
    participant = participant_for(request, pk)
    assessment = participant.latest_assessment()
    questions = _pending(assessment)
    initial = {k: ("yes" if v else "no") for k, v in assessment.attestations.items()}
    form = AttestationForm(request.POST or None, pending=questions, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.reassess(assessment, request.user, attestations=form.answers())
        except ConductError as exc:
            add_service_error(form, exc)
        else:
            messages.success(request, "Attestations recorded; eligibility reassessed.")
            return redirect("conduct:participant", pk=participant.pk)
    context = {"participant": participant, "assessment": assessment, "form": form}
    return render(request, "conduct/attest.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def sign_eligibility(request: HttpRequest, pk: int) -> HttpResponse:
    participant = participant_for(request, pk)
    assessment = participant.latest_assessment()
    form = SignatureForm(request.POST or None, act=ELIGIBILITY)
    if request.method == "POST" and form.is_valid():
        try:
            services.sign_eligibility(
                assessment,
                request.user,
                password=form.cleaned_data["password"],
                meaning=form.cleaned_data["meaning"],
            )
        except ConductError as exc:
            add_service_error(form, exc)
        else:
            messages.success(request, "Eligibility signed.")
            return redirect("conduct:participant", pk=participant.pk)
    context = {"participant": participant, "assessment": assessment, "form": form}
    return render(request, "conduct/sign.html", context)
