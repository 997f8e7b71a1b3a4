"""Site-wide pages: the home page."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from trialdesk.registry.models import Trial


def home(request: HttpRequest) -> HttpResponse:
    """A search box and how many trials the registry holds."""
    context = {
        "trial_count": Trial.objects.count(),
        "recruiting_count": Trial.objects.filter(overall_status="RECRUITING").count(),
        "section": "home",
    }
    return render(request, "web/home.html", context)
