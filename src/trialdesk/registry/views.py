"""Public registry pages: trial listing, search, trials by location.

The pages only show: the listing is built from the stored CT.gov record by
``templatetags.registry_listing.listing``; search and location counts come from
``trialdesk.registry.search``.
"""

from __future__ import annotations

import logging
from urllib.parse import urlencode

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse

from trialdesk.registry.forms import TrialSearchForm
from trialdesk.registry.models import Trial
from trialdesk.registry.search import SearchError, SearchQuery, cities, locations_tree, search
from trialdesk.registry.templatetags.registry_listing import listing

logger = logging.getLogger(__name__)

#: Default distance of the "trials near this city" links, in km.
NEAR_CITY_KM = 50
#: How many cities the search form suggests for "Near city".
CITY_SUGGESTIONS = 300


def trial_detail(request: HttpRequest, nct_id: str) -> HttpResponse:
    """The listing of one trial (``/trials/NCT01234567/``); unknown NCT id -> 404."""
    from trialdesk.interop.ctgov import RecordError, parse_studies

    trial = get_object_or_404(Trial, nct_id=nct_id)
    try:
        (study,) = parse_studies(trial.record, source=f"registry trial {trial.nct_id}")
    except (RecordError, ValueError) as exc:
        # Every stored record validated on import; if the model has moved on since, the
        # listing cannot be shown: log the reason (re-importing the record fixes it).
        logger.error("listing %s: the stored record no longer reads: %s", trial.nct_id, exc)
        raise Http404(f"{trial.nct_id}: the stored record no longer reads") from None
    context = {
        "trial": trial,
        "listing": listing(study),
        "json_url": reverse("api:trial_record", kwargs={"nct_id": trial.nct_id}),
        "ctgov_url": f"https://clinicaltrials.gov/study/{trial.nct_id}",
        "section": "search",
    }
    return render(request, "registry/trial_detail.html", context)


def _city_label(city: str, country: str) -> str:
    return f"{city}, {country}" if country else city


def near_city_url(city: str, country: str, km: int = NEAR_CITY_KM) -> str:
    query = urlencode({"near_city": _city_label(city, country), "within_km": km})
    return f"{reverse('registry:search')}?{query}"


def city_suggestions(limit: int = CITY_SUGGESTIONS) -> list:
    """The ``limit`` cities with the most trials, by name: the near-city field's suggestions
    (a large registry has tens of thousands of site cities; the page lists only these)."""
    busiest = sorted(cities(), key=lambda c: (-c.trials, c.label))[:limit]
    return sorted(busiest, key=lambda c: c.label.lower())


def search_page(request: HttpRequest) -> HttpResponse:
    """``/trials/``: the search form and one page of results (GET, bookmarkable)."""
    form = TrialSearchForm(request.GET or None)
    page = None
    status = 200
    if not form.is_bound:
        page = search(SearchQuery())
    elif form.is_valid():
        try:
            page = search(form.query)
        except SearchError as exc:
            form.add_search_error(exc)
    if form.is_bound and form.errors:
        status = 400
        page = None
    context = {
        "form": form,
        "page": page,
        "location_search": page is not None and page.origin is not None,
        "cities": city_suggestions(),
        "total": Trial.objects.count(),
        "section": "search",
    }
    return render(request, "registry/search.html", context, status=status)


def locations(request: HttpRequest) -> HttpResponse:
    """``/trials/locations/``: countries -> cities -> number of trials with a site there."""
    tree = [
        {
            "name": country.name,
            "trials": country.trials,
            "url": reverse("registry:country", kwargs={"country": country.name})
            if country.name
            else "",
            "cities": [
                {
                    "name": city.name,
                    "trials": city.trials,
                    "url": reverse(
                        "registry:city", kwargs={"country": country.name, "city": city.name}
                    )
                    if country.name and city.name
                    else "",
                    "near_url": near_city_url(city.name, country.name) if city.name else "",
                }
                for city in country.cities
            ],
        }
        for country in locations_tree()
    ]
    return render(
        request,
        "registry/locations.html",
        {"countries": tree, "section": "locations", "near_km": NEAR_CITY_KM},
    )


def place(request: HttpRequest, country: str, city: str | None = None) -> HttpResponse:
    """``/trials/locations/<country>/[<city>/]``: the trials with a site there, paged."""
    try:
        query = SearchQuery(country=country, city=city, page=int(request.GET.get("page", "1")))
    except (SearchError, ValueError) as exc:
        raise Http404(f"page: {exc}") from None
    page = search(query)
    if page.total == 0:
        where = f"{city}, {country}" if city else country
        raise Http404(f"No trial has a site in {where}.")
    context = {
        "country": country,
        "city": city,
        "page": page,
        "country_url": reverse("registry:country", kwargs={"country": country}),
        "near_url": near_city_url(city, country) if city else "",
        "near_km": NEAR_CITY_KM,
        "section": "locations",
    }
    return render(request, "registry/place.html", context)
