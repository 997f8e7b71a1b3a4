"""A participant's page, corrections with a reason, and per-record history pages."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from trialdesk.conduct import services
from trialdesk.conduct.errors import ConductError
from trialdesk.conduct.forms import CorrectionForm, add_service_error
from trialdesk.conduct.history import history_rows
from trialdesk.conduct.services.visits import calendar, scores
from trialdesk.conduct.views.common import participant_for


@login_required
def participant(request: HttpRequest, pk: int) -> HttpResponse:
    p = participant_for(request, pk)
    context = {
        "participant": p,
        "assessments": p.assessments.prefetch_related("signatures"),
        "latest": p.latest_assessment(),
        "consents": p.consents.select_related("form_version", "obtained_by"),
        "consent_problem": services.consent_problem(p),
        "doses": p.doses.all(),
        "queries": p.queries.all(),
        "calendar": calendar(p),
        "meld_trend": _meld_trend(p),
        "deviations": p.deviations.all(),
        "adverse_events": p.adverse_events.all(),
        "cohort": p.slot.cohort if p.slot_id else None,
    }
    return render(request, "conduct/participant.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def correct(request: HttpRequest, pk: int) -> HttpResponse:
    p = participant_for(request, pk)
    form = CorrectionForm(request.POST or None, instance=p)
    if request.method == "POST" and form.is_valid():
        values = {f: form.cleaned_data[f] for f in CorrectionForm.Meta.fields}
        try:
            services.correct_participant(
                participant_for(request, pk),
                request.user,
                reason=form.cleaned_data["reason"],
                **values,
            )
        except ConductError as exc:
            add_service_error(form, exc)
        else:
            messages.success(request, "Change saved with its reason.")
            return redirect("conduct:participant", pk=p.pk)
    return render(request, "conduct/correct.html", {"participant": p, "form": form})


@login_required
def review_deviation(request: HttpRequest, pk: int, deviation: int) -> HttpResponse:
    """The investigator records their review of a flagged deviation (POST)."""
    from django.http import HttpResponseNotAllowed

    from trialdesk.conduct.services.screening import review_deviation as review

    p = participant_for(request, pk)  # scoping first: another site's participant is a 404
    found = p.deviations.filter(pk=deviation).first()
    if found is None:
        raise Http404("no such deviation for this participant")
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    try:
        review(found, request.user, note=request.POST.get("note", ""))
    except ConductError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, "Review recorded.")
    return redirect("conduct:participant", pk=p.pk)


_RECORDS = {
    "participant": lambda p: p,
    "assessment": lambda p: p.assessments,
    "consent": lambda p: p.consents,
    "dose": lambda p: p.doses,
    "query": lambda p: p.queries,
    "visit": lambda p: p.visits,
    "adverse_event": lambda p: p.adverse_events,
}


@login_required
def history(request: HttpRequest, pk: int, kind: str = "participant", record: int = 0):
    """The history of the participant, or of one of its records (who, when UTC, field, old,
    new, reason)."""
    p = participant_for(request, pk)
    if kind not in _RECORDS:
        raise Http404("no such record kind")
    obj = p if kind == "participant" else _RECORDS[kind](p).filter(pk=record).first()
    if obj is None:
        raise Http404("no such record for this participant")
    context = {"participant": p, "record": obj, "kind": kind, "rows": history_rows(obj)}
    return render(request, "conduct/history.html", context)


def _meld_trend(p) -> list[tuple[str, str, str]]:  # noqa: ANN001
    """(visit code, date, MELD or 'unknown') for each recorded visit, in date order."""
    out = []
    for v in p.visits.order_by("visit_date").prefetch_related("labs"):  # one query, not N
        s = scores(v)
        out.append(
            (
                v.code,
                v.visit_date.isoformat(),
                s.meld.value if s.meld.status == "computed" else "unknown",
            )
        )
    return out
