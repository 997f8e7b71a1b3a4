"""The site's error responses (Django's ``handler400/403/404/500``, set in ``web/urls.py``).

A page in the site's look for people, JSON for the API (``/api/...``: ``{"detail": "..."}``,
the shape django-ninja gives its own errors). None of them shows the request's path back,
the exception, settings or a traceback; with ``TRIALDESK_DEBUG=1`` Django shows its debug
pages instead (a workstation only).

The 500 page is rendered without a request context (no context processors, no database):
whatever broke the request may break those too. If even that fails, a fixed plain page is
sent.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template import loader

logger = logging.getLogger(__name__)

API_PREFIX = "/api/"
TEMPLATE = "web/error.html"


@dataclass(frozen=True)
class ErrorPage:
    status: int
    title: str
    message: str
    api_detail: str


BAD_REQUEST = ErrorPage(
    400,
    "Bad request",
    "The address or form could not be understood. Check it and try again.",
    "Bad request",
)
FORBIDDEN = ErrorPage(
    403,
    "Not allowed",
    "This page or action is not open to you. If you followed a form, reload the page and try "
    "again.",
    "Forbidden",
)
NOT_FOUND = ErrorPage(
    404,
    "Page not found",
    "There is no page at this address. It may have moved, or the address may be mistyped.",
    "Not found",
)
SERVER_ERROR = ErrorPage(
    500,
    "Something went wrong",
    "The site could not answer this request. The error has been logged; please try again later.",
    "Internal server error",
)

_FALLBACK_500 = (
    '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
    "<title>Something went wrong · trialdesk</title></head><body>"
    "<h1>Something went wrong</h1><p>The site could not answer this request. "
    'Please try again later.</p><p><a href="/">trialdesk home page</a></p></body></html>'
)


def is_api_request(request: HttpRequest) -> bool:
    return request.path_info.startswith(API_PREFIX)


def _respond(request: HttpRequest, page: ErrorPage, *, with_context: bool) -> HttpResponse:
    if is_api_request(request):
        return JsonResponse({"detail": page.api_detail}, status=page.status)
    context = {"error": page}
    html = loader.get_template(TEMPLATE).render(context, request if with_context else None)
    return HttpResponse(html, status=page.status)


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _respond(request, BAD_REQUEST, with_context=True)


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _respond(request, FORBIDDEN, with_context=True)


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _respond(request, NOT_FOUND, with_context=True)


def server_error(request: HttpRequest) -> HttpResponse:
    try:
        return _respond(request, SERVER_ERROR, with_context=False)
    except Exception:
        # Django has already logged the request's own exception (django.request).
        logger.exception("the 500 page itself failed to render; sent the plain one")
        return HttpResponse(_FALLBACK_500, status=500)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """``CSRF_FAILURE_VIEW``: a form sent without a valid token (e.g. a stale page)."""
    return _respond(request, FORBIDDEN, with_context=True)


def api_json_errors(get_response):  # noqa: ANN001, ANN201
    """Middleware: a 405 under /api/ answers JSON like the API's other errors
    (``{"detail": "Method not allowed"}``, the ``Allow`` header kept). django-ninja answers
    a method a route does not have with a plain-text 405 of its own."""

    def middleware(request: HttpRequest) -> HttpResponse:
        response = get_response(request)
        if (
            response.status_code == 405
            and is_api_request(request)
            and not response.get("Content-Type", "").startswith("application/json")
        ):
            allowed = response.get("Allow", "")
            json = JsonResponse({"detail": "Method not allowed"}, status=405)
            if allowed:
                json["Allow"] = allowed
            return json
        return response

    return middleware
