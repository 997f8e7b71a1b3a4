"""The public prescreener on each listing: ``/trials/<NCT id>/check``.

The visitor answers the questions the trial's rules need (built from the rules by
:func:`trialdesk.eligibility.questions.questions_for`, never hand-coded per trial) and reads
the result as :func:`trialdesk.eligibility.summary.patient_summary` groups it: what may rule
you out, what you meet, what does not apply to you, what the study team must check. "I don't
know" stays unknown all the way (a Child-Pugh score with an unknown item is a range). The
answers are sent by POST and used for one response: nothing is stored, logged or put in the
URL.

The check is offered only while the trial takes patients: overall status in
:data:`CHECK_OPEN_STATUSES` (recruiting, not yet recruiting, or an expanded-access programme
that is available). Any other status (completed, active but not recruiting, enrolling by
invitation only, suspended, terminated, withdrawn, unknown) shows that the trial is not
recruiting, with no form and no invitation to check.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django import forms
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.cache import never_cache

from trialdesk.registry.models import Trial

#: Overall statuses (CT.gov API v2) under which a member of the public may still join, so the
#: listing invites a check. ENROLLING_BY_INVITATION is not among them: the study team chooses
#: whom to invite, a patient cannot apply.
CHECK_OPEN_STATUSES = frozenset({"RECRUITING", "NOT_YET_RECRUITING", "AVAILABLE"})


def check_offered(status: str) -> bool:
    """Does the listing of a trial with this overall status offer the eligibility check?"""
    return status in CHECK_OPEN_STATUSES


def _form_class(questions: list[Any]) -> type[forms.Form]:
    from trialdesk.eligibility.questions import SEVERITY_CHOICES, UNIT_LABELS

    fields: dict[str, forms.Field] = {}
    unknown = [("", "I don't know")]
    for q in questions:
        if q.kind == "age":
            fields[q.key] = forms.IntegerField(
                label=q.label, required=False, min_value=0, max_value=120
            )
        elif q.kind == "lab":
            fields[q.key] = forms.DecimalField(
                label=q.label,
                required=False,
                min_value=0,
                max_digits=12,
                decimal_places=4,
            )
            fields[f"{q.key}_unit"] = forms.ChoiceField(
                label=f"{q.label} unit",
                required=False,
                choices=[(u, UNIT_LABELS.get(u, u)) for u in q.units],
            )
        else:
            fields[q.key] = forms.ChoiceField(
                label=q.label,
                required=False,
                choices=unknown + list(q.choices),
            )
            if q.kind == "history" and q.severity:
                fields[f"{q.key}_severity"] = forms.ChoiceField(
                    label=f"{q.label}: how severe",
                    required=False,
                    choices=[("", "I don't know / not applicable"), *SEVERITY_CHOICES],
                )
    return type("PrescreenForm", (forms.Form,), fields)


@never_cache
def check(request: HttpRequest, nct_id: str) -> HttpResponse:
    """The prescreener page of one trial (GET: the questions; POST: the answers' result)."""
    from trialdesk.eligibility import screen
    from trialdesk.eligibility.questions import (
        AnswerError,
        patient_from_answers,
        questions_for,
    )
    from trialdesk.eligibility.summary import patient_summary
    from trialdesk.protocol import ProtocolError, load_protocol, protocols_dir

    trial = get_object_or_404(Trial, nct_id=nct_id)
    path = protocols_dir() / trial.nct_id / "protocol.yaml"
    context: dict[str, Any] = {"trial": trial, "section": "search"}
    if not check_offered(trial.overall_status):
        context["closed"] = True  # not recruiting: say so, no form, answers are ignored
        return render(request, "registry/check.html", context)
    if not path.is_file():
        context["no_rules"] = True
        return render(request, "registry/check.html", context)
    try:
        protocol = load_protocol(path)
    except ProtocolError as exc:
        raise Http404(f"{trial.nct_id}: the protocol file does not load ({exc})") from None
    questions = questions_for(protocol)
    form_class = _form_class(questions)
    form = form_class(request.POST or None)
    context.update(
        protocol=protocol,
        form=form,
        questions=questions,
        team_only=[c for c in protocol.criteria if c.rule is None],
    )
    if request.method == "POST" and form.is_valid():
        answers = {k: ("" if v is None else str(v)) for k, v in form.cleaned_data.items()}
        today = date.today()
        try:
            patient = patient_from_answers(questions, answers, today)
        except AnswerError as exc:
            form.add_error(None, str(exc))
        else:
            result = screen(protocol, patient, today)
            context.update(result=result, summary=patient_summary(result, questions, answers))
    response = render(request, "registry/check.html", context)
    return response
