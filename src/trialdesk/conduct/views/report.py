"""The data monitoring committee report in the app: the page (tables and interactive plots)
and its HTML and PDF downloads.

Who sees what: users whose role holds ``conduct.view_dmc_report`` (investigator, safety
review committee member, monitor, data manager, administrator) at a site running the study;
the report covers the participants of THEIR sites only (a user of every site sees the whole
trial). Others get 403; a study not run at their sites is 404, as everywhere in conduct.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import render

from trialdesk.conduct.models import Site
from trialdesk.conduct.services import report as reports
from trialdesk.conduct.staticfinders import bundled_style_ids
from trialdesk.conduct.views.common import study_for


def _load(request: HttpRequest, nct_id: str):  # noqa: ANN202
    study = study_for(request, nct_id)
    if not request.user.has_perm("conduct.view_dmc_report"):
        raise PermissionDenied("your roles do not include the data monitoring committee report")
    raw = request.GET.get("data_cut", "").strip()
    cut = None
    if raw:
        try:
            cut = datetime.combine(date.fromisoformat(raw), time.max, tzinfo=UTC)
        except ValueError:
            return None, f"data_cut: {raw!r} is not a date YYYY-MM-DD", raw
    sites = list(Site.objects.filter(memberships__user=request.user, studies=study).distinct())
    try:
        ds, scope = reports.load_for_report(study.nct_id, data_cut=cut, sites=sites)
    except reports.ReportError as e:
        return None, str(e), raw
    return (ds, scope), None, raw


@login_required
def page(request: HttpRequest, nct_id: str) -> HttpResponse:
    loaded, error, raw = _load(request, nct_id)
    if error:
        return render(
            request,
            "conduct/report/error.html",
            {"nct_id": nct_id, "error": error},
            status=400,
        )
    ds, scope = loaded
    context = reports.report_context(ds, scope=scope, static_plots=False)
    context["interactive"] = reports.interactive_specs(ds)
    context["data_cut_param"] = raw
    context["plotly_style_ids"] = bundled_style_ids()
    return render(request, "conduct/report/page.html", context)


@login_required
def download(request: HttpRequest, nct_id: str, fmt: str) -> HttpResponse:
    if fmt not in reports.FORMATS:
        raise Http404(f"no {fmt} report")
    loaded, error, _ = _load(request, nct_id)
    if error:
        return HttpResponseBadRequest(error, content_type="text/plain; charset=utf-8")
    ds, scope = loaded
    content = reports.render(ds, fmt, scope=scope)
    kind = "application/pdf" if fmt == "pdf" else "text/html; charset=utf-8"
    response = HttpResponse(content, content_type=kind)
    name = f"{ds.nct_id}-dmc-report-{ds.data_cut:%Y%m%d}.{fmt}"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
