"""Reaching cell-product records through site scoping, and running a form through a service."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect

from trialdesk.cellproduct.forms import add_service_error
from trialdesk.cellproduct.models import Collection, Donor, ProductLot
from trialdesk.conduct.errors import ConductError


def donor_for(request: HttpRequest, pk: int) -> Donor:
    """The donor, if recorded at one of the user's sites (else 404)."""
    return get_object_or_404(
        Donor.objects.visible_to(request.user).select_related("study", "site"), pk=pk
    )


def collection_for(request: HttpRequest, pk: int) -> Collection:
    return get_object_or_404(
        Collection.objects.filter(donor__in=Donor.objects.visible_to(request.user)).select_related(
            "donor__study", "donor__site"
        ),
        pk=pk,
    )


def lot_for(request: HttpRequest, pk: int) -> ProductLot:
    return get_object_or_404(
        ProductLot.objects.filter(
            collection__donor__in=Donor.objects.visible_to(request.user)
        ).select_related("collection__donor__study", "collection__donor__site"),
        pk=pk,
    )


def run_form(
    request: HttpRequest,
    form: Any,
    action: Callable[[dict[str, Any]], Any],
    done: Callable[[Any], str],
    where: str,
) -> HttpResponse | None:
    """POST: validate ``form``, call ``action`` with its cleaned data; on success flash
    ``done(result)`` and redirect to ``where``. None: show the page again with the errors."""
    if request.method != "POST" or not form.is_valid():
        return None
    try:
        result = action(dict(form.cleaned_data))
    except ConductError as exc:
        add_service_error(form, exc)
        return None
    messages.success(request, done(result))
    return redirect(where)
