"""The public prescreener on each listing: ``/trials/<NCT id>/check``.

The visitor answers the questions the trial's rules need (built from the rules by
:func:`trialdesk.eligibility.questions.questions_for`, never hand-coded per trial) and reads
the result as :func:`trialdesk.eligibility.summary.patient_summary` groups it: what may rule
you out, what you meet, what does not apply to you, what the study team must check. "I don't
know" stays unknown all the way (a Child-Pugh score with an unknown item is a range). The
answers are sent by POST and used for one response: nothing is stored, logged or put in the
URL. Only if the visitor then chooses to send the answers to the study team (a form other
apps may add under the result through :data:`check_result_shown`; the conduct app's
referral form) are they kept, by that app.

The check is offered only while the trial takes patients: overall status in
:data:`CHECK_OPEN_STATUSES` (recruiting, not yet recruiting, or an expanded-access programme
that is available). Any other status (completed, active but not recruiting, enrolling by
invitation only, suspended, terminated, withdrawn, unknown) shows that the trial is not
recruiting, with no form and no invitation to check.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from django import forms
from django.dispatch import Signal
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.cache import never_cache

from trialdesk.registry.models import Trial

#: Overall statuses (CT.gov API v2) under which a member of the public may still join, so the
#: listing invites a check. ENROLLING_BY_INVITATION is not among them: the study team chooses
#: whom to invite, a patient cannot apply.
CHECK_OPEN_STATUSES = frozenset({"RECRUITING", "NOT_YET_RECRUITING", "AVAILABLE"})


#: Sent when the check page shows a result, with ``request``, ``trial``, ``answers`` (the
#: cleaned answers as strings) and ``summary`` (the grouped result). A receiver returns HTML
#: rendered from its own template (``render_to_string``, so autoescaped) to show under the
#: result, or None. This is how an app above the registry (conduct: the referral form) adds
#: to the page without the registry importing it (tests/test_layering.py).
check_result_shown = Signal()


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


@dataclass(frozen=True)
class CheckRun:
    """The prescreener's form for one trial and, when the answers were valid, their result.

    ``answers`` are the form's cleaned values as strings (blank: "I don't know"), the shape
    :func:`trialdesk.eligibility.questions.patient_from_answers` reads."""

    protocol: Any
    questions: list[Any]
    form: forms.Form
    answers: dict[str, str] | None = None
    result: Any = None
    summary: Any = None


def run_check(trial: Trial, data: Any = None, today: date | None = None) -> CheckRun | None:
    """The check of ``trial`` on ``data`` (POST data or a plain dict; None: an unbound form).

    None when the trial has no protocol file (no computable criteria). A protocol file that
    does not load is a 404 naming the error. Used by the check page and by any app that
    receives the answers again (the conduct app's referrals), so both read them alike."""
    from trialdesk.eligibility import screen
    from trialdesk.eligibility.questions import AnswerError, patient_from_answers, questions_for
    from trialdesk.eligibility.summary import patient_summary
    from trialdesk.protocol import ProtocolError, load_protocol, protocols_dir

    path = protocols_dir() / trial.nct_id / "protocol.yaml"
    if not path.is_file():
        return None
    try:
        protocol = load_protocol(path)
    except ProtocolError as exc:
        raise Http404(f"{trial.nct_id}: the protocol file does not load ({exc})") from None
    questions = questions_for(protocol)
    form = _form_class(questions)(data)
    if data is None or not form.is_valid():
        return CheckRun(protocol, questions, form)
    answers = {k: ("" if v is None else str(v)) for k, v in form.cleaned_data.items()}
    today = today or date.today()
    try:
        patient = patient_from_answers(questions, answers, today)
    except AnswerError as exc:
        form.add_error(None, str(exc))
        return CheckRun(protocol, questions, form)
    result = screen(protocol, patient, today)
    summary = patient_summary(result, questions, answers)
    return CheckRun(protocol, questions, form, answers, result, summary)


@never_cache
def check(request: HttpRequest, nct_id: str) -> HttpResponse:
    """The prescreener page of one trial (GET: the questions; POST: the answers' result)."""
    trial = get_object_or_404(Trial, nct_id=nct_id)
    context: dict[str, Any] = {"trial": trial, "section": "search"}
    if not check_offered(trial.overall_status):
        context["closed"] = True  # not recruiting: say so, no form, answers are ignored
        return render(request, "registry/check.html", context)
    run = run_check(trial, request.POST if request.method == "POST" else None)
    if run is None:
        context["no_rules"] = True
        return render(request, "registry/check.html", context)
    context.update(
        protocol=run.protocol,
        form=run.form,
        questions=run.questions,
        team_only=[c for c in run.protocol.criteria if c.rule is None],
    )
    if run.summary is not None:
        context.update(result=run.result, summary=run.summary)
        # Other apps may offer a next step under the result (the conduct app: "send my
        # answers to the study team"); each receiver returns rendered HTML or None.
        replies = check_result_shown.send(
            sender=Trial, request=request, trial=trial, answers=run.answers, summary=run.summary
        )
        context["result_panels"] = [html for _, html in replies if html]
    return render(request, "registry/check.html", context)
