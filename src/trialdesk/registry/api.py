"""The public JSON API of the registry (django-ninja), mounted at ``/api/``.

- ``GET /api/trials``: search, with the filters of the search page (one validation: the
  page's ``TrialSearchForm``); returns ``total``, ``page``, ``pages``, ``results``.
- ``GET /api/trials/{nct_id}``: the stored study JSON, as ClinicalTrials.gov API v2 gives it.
- ``GET /api/openapi.json``: the OpenAPI 3 schema; ``GET /api/docs``: Swagger UI.

Read-only public data: no authentication, no write endpoints.

The docs page works offline: django-ninja renders Swagger UI from a CDN unless ``ninja`` is
an installed app, so ``OfflineSwagger`` renders our own page and ``docs_asset`` serves the
Swagger UI files bundled in the installed django-ninja package.
"""

from __future__ import annotations

import logging
import mimetypes
import re
import unicodedata
from pathlib import Path
from typing import Any

import ninja
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from ninja import Field, NinjaAPI, Query, Schema, Status
from ninja.openapi.docs import DocsBase
from pydantic import field_validator

from trialdesk.registry import filters
from trialdesk.registry.forms import TrialSearchForm
from trialdesk.registry.models import Trial
from trialdesk.registry.search import MAX_PAGE, MAX_PER_PAGE, SearchError, search

NCT_ID = re.compile(r"^NCT\d{8}$")


class OfflineSwagger(DocsBase):
    """Swagger UI with its JavaScript and CSS served by this site, never from a CDN."""

    def render_page(self, request: HttpRequest, api: NinjaAPI, **kwargs: Any) -> HttpResponse:
        settings = {
            "url": self.get_openapi_url(api, kwargs),
            "layout": "BaseLayout",
            "deepLinking": True,
        }
        return render(request, "registry/api_docs.html", {"api": api, "settings": settings})


api = NinjaAPI(
    title="trialdesk registry API",
    version="1",
    description=(
        "Read-only JSON API of the trialdesk public trial registry. Records are "
        "ClinicalTrials.gov API v2 study JSON (data sourced from clinicaltrials.gov)."
    ),
    urls_namespace="api",
    docs=OfflineSwagger(),
    docs_url="/docs",
    openapi_url="/openapi.json",
)


@api.exception_handler(Exception)
def internal_error(request: HttpRequest, exc: Exception) -> HttpResponse:
    """Any unexpected failure answers JSON (HTTP 500) without a traceback, whatever DEBUG
    says (django-ninja's default sends a plain-text traceback under DEBUG); the traceback
    goes to the ``django.request`` log, as Django logs a failing page."""
    logging.getLogger("django.request").error(
        "Internal Server Error: %s",
        request.path,
        exc_info=exc,
        extra={"status_code": 500, "request": request},
    )
    # The same body as the site's own JSON 500 (web/errors.py), so a client sees one shape.
    return api.create_response(request, {"detail": "Internal server error"}, status=500)


_ASSET_DIR = Path(ninja.__file__).resolve().parent / "static" / "ninja"
_ASSETS = frozenset(
    {"swagger-ui-bundle.js", "swagger-ui-init.js", "swagger-ui.css", "favicon.svg", "favicon.png"}
)


def docs_asset(request: HttpRequest, name: str) -> FileResponse:
    """One of Swagger UI's files from the django-ninja package (a fixed list; else 404)."""
    path = _ASSET_DIR / name
    if name not in _ASSETS or not path.is_file():
        raise Http404(f"no API docs asset {name!r}")
    content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
    if name.endswith(".js"):
        content_type = "text/javascript"
    response = FileResponse(path.open("rb"), content_type=content_type)
    response["Cache-Control"] = "public, max-age=86400"
    return response


def _describe(name: str) -> str:
    """A declared filter's API description: its help and the codes it accepts."""
    f = filters.BY_NAME[name]
    return f.help + (f" One of: {', '.join(f.codes)}." if f.codes else "")


class TrialFilters(Schema):
    """The search page's filters; every one optional.

    Examples are given as ``example`` (one value): django-ninja copies a field's JSON Schema
    ``examples`` list into the parameter's ``examples``, which OpenAPI requires to be a map.
    """

    text: str | None = Field(
        None,
        description=(
            'Full text: words, "a phrase", OR, -exclude. An identifier (NCT05227846, '
            "the organisation's study id, a secondary id) finds its trial."
        ),
        json_schema_extra={"example": "cirrhosis"},
    )
    q: str | None = Field(
        None,
        description="Another name for text (give one of them, or both the same).",
        json_schema_extra={"example": "NCT05227846"},
    )
    # The filters' descriptions come from their declarations (``filters.FILTERS``).
    status: str | None = Field(
        None,
        description=_describe("statuses"),
        json_schema_extra={"example": "RECRUITING,NOT_YET_RECRUITING"},
    )
    phase: str | None = Field(
        None,
        description=_describe("phases"),
        json_schema_extra={"example": "PHASE1"},
    )
    study_type: str | None = Field(None, description=_describe("study_type"))
    sex: str | None = Field(None, description=_describe("sex"))
    age: float | None = Field(None, description=_describe("age"))
    condition: str | None = Field(None, description="Words that must all be in a condition.")
    country: str | None = Field(None, description="A site in this country.")
    city: str | None = Field(None, description="A site in this city.")
    near_city: str | None = Field(
        None, description='Measure distances from this city ("City" or "City, Country").'
    )
    near: str | None = Field(
        None,
        description='Measure distances from this point: "lat,lon".',
        json_schema_extra={"example": "39.9,116.4"},
    )
    within_km: float | None = Field(None, description=_describe("within_km"))
    page: int = Field(
        1,
        ge=1,
        le=MAX_PAGE,
        description=(
            "Page number, from 1. A page past the last one has no results "
            "(total and pages still say where the results end)."
        ),
    )
    per_page: int = Field(20, ge=1, le=MAX_PER_PAGE, description="Results per page.")

    @field_validator("age", "within_km", "page", "per_page", mode="before")
    @classmethod
    def _ascii_digits(cls, value: Any) -> Any:
        """Full-width digits (＀-block, as Chinese and Japanese input methods type them) are
        read as the ASCII ones (Unicode NFKC), as the search page's form reads them: the
        page and the API accept the same numbers."""
        return unicodedata.normalize("NFKC", value) if isinstance(value, str) else value


class SiteOut(Schema):
    facility: str
    city: str
    state: str
    country: str
    status: str
    lat: float | None
    lon: float | None
    distance_km: float | None = Field(None, description="From the query's point, km.")


class TrialHitOut(Schema):
    nct_id: str
    brief_title: str
    overall_status: str
    phases: list[str]
    conditions: list[str]
    score: float | None = Field(None, description="Text relevance (higher is better).")
    nearest_site: SiteOut | None = Field(None, description="With near or near_city.")
    url: str = Field(description="The public listing page.")
    record_url: str = Field(description="The full study JSON.")


class TrialPageOut(Schema):
    total: int
    total_exact: bool = Field(description="False when total is a lower bound.")
    page: int
    pages: int
    per_page: int
    origin: list[float] | None = Field(None, description="[lat, lon] distances are from.")
    results: list[TrialHitOut]


class ErrorOut(Schema):
    detail: Any = Field(description="What was wrong: a message, or a list of field errors.")


@api.get(
    "/trials",
    response={200: TrialPageOut, 422: ErrorOut},
    summary="Search trials",
    url_name="trials",
    tags=["trials"],
)
def list_trials(request: HttpRequest, filters: Query[TrialFilters]):
    """Trials matching the filters, ranked by text relevance (else by NCT id), paged."""
    data = {k: str(v) for k, v in filters.dict().items() if v is not None and v != ""}
    form = TrialSearchForm(data)
    page = None
    if form.is_valid():
        try:
            page = search(form.query)
        except SearchError as exc:
            form.add_search_error(exc)
    if page is None:
        detail = [
            {"loc": ["query", field if field != "__all__" else "filters"], "msg": msg}
            for field, messages in form.errors.items()
            for msg in messages
        ]
        return Status(422, {"detail": detail})
    body = page.to_dict()
    for hit in body["results"]:
        hit["url"] = reverse("registry:trial", kwargs={"nct_id": hit["nct_id"]})
        hit["record_url"] = reverse("api:trial_record", kwargs={"nct_id": hit["nct_id"]})
    return Status(200, body)


@api.get(
    "/trials/{nct_id}",
    response={200: dict[str, Any], 404: ErrorOut},
    summary="One trial's study record",
    url_name="trial_record",
    tags=["trials"],
)
def trial_record(request: HttpRequest, nct_id: str):
    """The stored study JSON of one trial, in ClinicalTrials.gov API v2 form
    (``{"protocolSection": {...}, "hasResults": ...}``)."""
    if not NCT_ID.match(nct_id):
        return Status(404, {"detail": f"{nct_id!r} is not an NCT id (NCT followed by 8 digits)"})
    record = Trial.objects.filter(nct_id=nct_id).values_list("record", flat=True).first()
    if record is None:
        return Status(404, {"detail": f"no trial {nct_id} in the registry"})
    return Status(200, record)
