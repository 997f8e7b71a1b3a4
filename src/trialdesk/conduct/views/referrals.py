"""Referrals: the public form under the eligibility check's result, and the site's queue.

The registry's check page knows nothing of this app (tests/test_layering.py: conduct may
import the registry, never the reverse). It sends ``check_result_shown`` when it shows a
result; :func:`referral_panel` (connected in ``apps.py``) answers with the form, rendered
from ``conduct/_referral_panel.html``, for a trial that a site here runs. The form posts
to :func:`new_referral`, which reads the answers again through the registry's
``run_check``: the stored result is the one the check computes, not one the browser sent.
"""

from __future__ import annotations

import json
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from trialdesk.conduct.errors import ConductError
from trialdesk.conduct.forms import (
    DeclineReferralForm,
    ReferralForm,
    ScreeningForm,
    add_service_error,
)
from trialdesk.conduct.history import history_rows
from trialdesk.conduct.models import Referral, Site, Study
from trialdesk.conduct.services.referrals import (
    CONSENT_TEXT,
    decline_referral,
    receive_referral,
    referral_sites,
    screening_initial,
    start_screening,
)
from trialdesk.conduct.throttle import referral_limited
from trialdesk.registry.models import Trial
from trialdesk.registry.prescreen import check_offered, run_check


def referral_panel(sender: Any, request: HttpRequest, trial: Trial, answers, summary, **kw):  # noqa: ANN001
    """The referral form under a check result, or None when no site here runs the trial."""
    if not check_offered(trial.overall_status):
        return None
    study = Study.objects.filter(nct_id=trial.nct_id, enrolment_closed=False).first()
    sites = referral_sites(trial.nct_id) if study is not None else []
    if not sites:
        return None
    form = ReferralForm(
        initial={"answers": json.dumps(answers, sort_keys=True)},
        sites=sites,
        consent_text=CONSENT_TEXT,
    )
    context = {"form": form, "trial": trial, "sites": sites}
    return render_to_string("conduct/_referral_panel.html", context, request=request)


@never_cache
@require_POST
def new_referral(request: HttpRequest, nct_id: str) -> HttpResponse:
    """Receive a referral (public, CSRF-protected, rate-limited); then show that it was sent."""
    if referral_limited(request):
        return render(request, "conduct/referral_limited.html", status=429)
    trial = get_object_or_404(Trial, nct_id=nct_id)
    study = Study.objects.filter(nct_id=trial.nct_id).first()
    sites = referral_sites(trial.nct_id) if study is not None else []
    if not check_offered(trial.overall_status) or not sites:
        raise Http404(f"{trial.nct_id} takes no referrals here")
    form = ReferralForm(request.POST, sites=sites, consent_text=CONSENT_TEXT)
    context = {"form": form, "trial": trial}
    if not form.is_valid():
        return render(request, "conduct/referral_new.html", context, status=400)
    run = _rerun(trial, form.cleaned_data["answers"])
    if run is None or run.summary is None:
        form.add_error(None, "your answers could not be read again: go back and check again")
        return render(request, "conduct/referral_new.html", context, status=400)
    from trialdesk.eligibility.summary import answer_lines

    d = form.cleaned_data
    try:
        receive_referral(
            study,
            d["site"],
            name=d["name"],
            phone=d["phone"],
            email=d["email"],
            consent=d["consent"],
            answers=run.answers,
            answer_lines=answer_lines(run.questions, run.answers),
            summary=run.summary,
        )
    except ConductError as exc:
        add_service_error(form, exc)
        return render(request, "conduct/referral_new.html", context, status=400)
    return redirect("conduct:referral-sent", nct_id=trial.nct_id)


def _rerun(trial: Trial, text: str) -> Any:
    try:
        answers = json.loads(text)
    except json.JSONDecodeError:
        return None
    if not isinstance(answers, dict) or not all(isinstance(v, str) for v in answers.values()):
        return None
    return run_check(trial, answers)


@never_cache
def referral_sent(request: HttpRequest, nct_id: str) -> HttpResponse:
    trial = get_object_or_404(Trial, nct_id=nct_id)
    return render(request, "conduct/referral_sent.html", {"trial": trial})


@login_required
def queue(request: HttpRequest) -> HttpResponse:
    """The screening queue of the user's sites: new referrals first, then the handled ones."""
    referrals = Referral.objects.visible_to(request.user).select_related("study", "site")
    context = {
        "new": [r for r in referrals if r.status == Referral.NEW],
        "handled": [r for r in referrals if r.status != Referral.NEW],
        "allowed": request.user.has_perm("conduct.view_referral"),
    }
    return render(request, "conduct/referrals.html", context)


def _referral_for(request: HttpRequest, referral_id: int) -> Referral:
    """The referral, if to one of the user's sites and their role screens (else 404)."""
    return get_object_or_404(
        Referral.objects.visible_to(request.user).select_related("study", "site"), pk=referral_id
    )


@login_required
def detail(request: HttpRequest, referral: int) -> HttpResponse:
    r = _referral_for(request, referral)
    context = {"referral": r, "decline_form": DeclineReferralForm()}
    return render(request, "conduct/referral.html", context)


@login_required
@require_POST
def decline(request: HttpRequest, referral: int) -> HttpResponse:
    r = _referral_for(request, referral)
    form = DeclineReferralForm(request.POST)
    if form.is_valid():
        try:
            decline_referral(r, request.user, reason=form.cleaned_data["reason"])
        except ConductError as exc:
            add_service_error(form, exc)
        else:
            messages.success(request, "Referral declined; the reason is kept in its history.")
            return redirect("conduct:referral", referral=r.pk)
    context = {"referral": r, "decline_form": form}
    return render(request, "conduct/referral.html", context, status=400)


@login_required
@require_http_methods(["GET", "POST"])
def screen(request: HttpRequest, referral: int) -> HttpResponse:
    """Start screening: the screening form prefilled from the referral, at its site."""
    r = _referral_for(request, referral)
    sites = Site.objects.filter(pk=r.site_id)
    if request.method == "POST":
        form = ScreeningForm(request.POST, request.FILES or None, sites=sites)
    else:
        form = ScreeningForm(initial=screening_initial(r), sites=sites)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            participant = start_screening(
                r,
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
    context = {"study": r.study, "form": form, "referral": r}
    return render(request, "conduct/screen.html", context)


@login_required
def history(request: HttpRequest, referral: int) -> HttpResponse:
    r = _referral_for(request, referral)
    return render(
        request, "conduct/referral_history.html", {"referral": r, "rows": history_rows(r)}
    )
