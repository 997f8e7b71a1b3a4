"""The public prescreener on each listing: ``/trials/<NCT id>/check``.

The visitor answers the questions the trial's rules need (built from the rules by
:func:`trialdesk.eligibility.questions.questions_for`, never hand-coded per trial) and sees
which criteria look met, which look not met, which need more information and which only the
study team can judge. The answers are sent by POST and used for one response: nothing is
stored, logged or put in the URL.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django import forms
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.cache import never_cache

from trialdesk.registry.models import Trial


def _form_class(questions: list[Any]) -> type[forms.Form]:
    from trialdesk.eligibility.questions import SEVERITY_CHOICES, UNIT_LABELS

    fields: dict[str, forms.Field] = {}
    unknown = [("", "I don't know")]
    for q in questions:
        help_text = "Used by: " + ", ".join(q.criteria)
        if q.kind == "age":
            fields[q.key] = forms.IntegerField(
                label=q.label, required=False, min_value=0, max_value=120, help_text=help_text
            )
        elif q.kind == "lab":
            fields[q.key] = forms.DecimalField(
                label=q.label,
                required=False,
                min_value=0,
                max_digits=12,
                decimal_places=4,
                help_text=help_text,
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
                help_text=help_text,
            )
            if q.kind == "history" and q.severity:
                fields[f"{q.key}_severity"] = forms.ChoiceField(
                    label=f"{q.label}: how severe",
                    required=False,
                    choices=[("", "I don't know / not applicable"), *SEVERITY_CHOICES],
                )
    return type("PrescreenForm", (forms.Form,), fields)


def _grouped(result: Any) -> dict[str, list[dict[str, str]]]:
    groups: dict[str, list[dict[str, str]]] = {"good": [], "bad": [], "unknown": [], "team": []}
    for c in result.criteria:
        row = {"id": c.id, "kind": c.kind, "text": c.text, "reason": c.reason}
        if c.attestation is not None:
            row["reason"] = c.attestation
            groups["team"].append(row)
        elif c.status == "UNKNOWN":
            groups["unknown"].append(row)
        elif c.blocks:
            groups["bad"].append(row)
        else:
            groups["good"].append(row)
    return groups


@never_cache
def check(request: HttpRequest, nct_id: str) -> HttpResponse:
    """The prescreener page of one trial (GET: the questions; POST: the answers' result)."""
    from trialdesk.eligibility import screen
    from trialdesk.eligibility.questions import (
        AnswerError,
        patient_from_answers,
        questions_for,
    )
    from trialdesk.protocol import ProtocolError, load_protocol, protocols_dir

    trial = get_object_or_404(Trial, nct_id=nct_id)
    path = protocols_dir() / trial.nct_id / "protocol.yaml"
    context: dict[str, Any] = {"trial": trial, "section": "search"}
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
            context.update(result=result, groups=_grouped(result))
    response = render(request, "registry/check.html", context)
    return response
