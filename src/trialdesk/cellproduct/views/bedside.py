"""The participant's side: dose unit labels and the bedside check before an infusion."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods

from trialdesk.cellproduct.errors import CellProductError
from trialdesk.cellproduct.forms import InfusionForm, add_service_error
from trialdesk.cellproduct.models import DoseUnit
from trialdesk.cellproduct.services import bedside, doses
from trialdesk.conduct.errors import ConductError
from trialdesk.conduct.models import Participant
from trialdesk.conduct.views.common import participant_for


@login_required
@permission_required("cellproduct.view_doseunit", raise_exception=True)
def label(request: HttpRequest, pk: int) -> HttpResponse:
    """The unit's label (PDF), for staff of the participant's site."""
    unit = get_object_or_404(
        DoseUnit.objects.filter(participant__in=Participant.objects.visible_to(request.user)),
        pk=pk,
    )
    try:
        pdf = doses.label_pdf(unit, request.user)
    except ConductError as exc:
        messages.error(request, str(exc))
        return redirect("cellproduct:lot", pk=unit.lot_id)
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="label-{unit.unit_id}.pdf"'
    return response


@login_required
@permission_required("cellproduct.bedside_check", raise_exception=True)
@require_http_methods(["GET", "POST"])
def bedside_page(request: HttpRequest, pk: int) -> HttpResponse:
    """Scan the unit, check it for this participant, and record the infusion."""
    p = participant_for(request, pk)
    form = InfusionForm(request.POST or None)
    refused = None
    if request.method == "POST" and form.is_valid():
        values = dict(form.cleaned_data)
        scanned = values.pop("scanned")
        try:
            unit = bedside.infuse(p, scanned, request.user, **values)
        except CellProductError as exc:
            refused = p.bedside_checks.order_by("-checked_at", "-pk").first()
            if refused is None or refused.ok:
                refused = None
            add_service_error(form, exc)
        except ConductError as exc:
            add_service_error(form, exc)
        else:
            messages.success(request, f"Unit {unit.unit_id} verified and the infusion recorded.")
            return redirect("conduct:participant", pk=p.pk)
    context = {
        "participant": p,
        "form": form,
        "refused": refused,
        "units": p.dose_units.select_related("lot", "dosing_record"),
        "checks": p.bedside_checks.order_by("-checked_at")[:10],
    }
    return render(request, "cellproduct/bedside.html", context, status=200)
