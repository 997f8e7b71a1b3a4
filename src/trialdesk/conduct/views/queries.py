"""Data queries on a participant's records: open (monitor), answer (site), close."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods

from trialdesk.conduct.errors import ConductError
from trialdesk.conduct.forms import AnswerForm, CloseQueryForm, QueryForm, add_service_error
from trialdesk.conduct.services.queries import (
    QUERYABLE,
    answer_query,
    close_query,
    open_query,
)
from trialdesk.conduct.views.common import participant_for


def _records(p) -> list[tuple[str, str]]:  # noqa: ANN001
    out = [(f"participant:{p.pk}", f"Participant {p}")]
    for kind, (related, _) in QUERYABLE.items():
        if related is not None:
            for r in getattr(p, related).all():
                out.append((f"{kind}:{r.pk}", f"{kind} {r.pk}: {r}"))
    return out


@login_required
@require_http_methods(["GET", "POST"])
def new_query(request: HttpRequest, pk: int) -> HttpResponse:
    p = participant_for(request, pk)
    form = QueryForm(request.POST or None, records=_records(p))
    if request.method == "POST" and form.is_valid():
        kind, _, record_id = form.cleaned_data["record"].partition(":")
        try:
            open_query(
                p,
                request.user,
                record_type=kind,
                record_id=int(record_id),
                field=form.cleaned_data["field"].strip(),
                question=form.cleaned_data["question"],
            )
        except ConductError as exc:
            add_service_error(form, exc)
        else:
            messages.success(request, "Query opened.")
            return redirect("conduct:participant", pk=p.pk)
    fields = {kind: ", ".join(f) for kind, (_, f) in QUERYABLE.items()}
    return render(
        request, "conduct/query_new.html", {"participant": p, "form": form, "fields": fields}
    )


@login_required
@require_http_methods(["GET", "POST"])
def query(request: HttpRequest, pk: int, query_id: int) -> HttpResponse:
    p = participant_for(request, pk)
    q = get_object_or_404(p.queries, pk=query_id)
    answer = AnswerForm(request.POST if "answer" in request.POST else None)
    close = CloseQueryForm(request.POST if "accept" in request.POST else None)
    form = answer if answer.is_bound else close
    updated = ""
    if request.method == "POST" and form.is_valid():
        try:
            if form is answer:
                answer_query(q, request.user, answer=form.cleaned_data["answer"])
            else:
                close_query(
                    q,
                    request.user,
                    accept=form.cleaned_data["accept"] == "yes",
                    note=form.cleaned_data["note"],
                )
        except ConductError as exc:
            add_service_error(form, exc)
        else:
            if not request.htmx:
                messages.success(request, "Query updated.")
                return redirect("conduct:query", pk=p.pk, query_id=q.pk)
            # HTMX: the panel is replaced in place, with fresh (empty) forms
            updated = "Query updated."
            answer, close = AnswerForm(), CloseQueryForm()
    from trialdesk.conduct.history import history_rows

    context = {
        "participant": p,
        "query": q,
        "answer_form": answer,
        "close_form": close,
        "rows": history_rows(q),
        "updated": updated,
    }
    template = "conduct/_query_panel.html" if request.htmx else "conduct/query.html"
    return render(request, template, context)
