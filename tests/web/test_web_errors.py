"""Friendly error pages in the site's look, JSON errors on the API (issue 15, item 2).

DEBUG is off here (as pytest-django runs tests, and as the settings now default). A view that
raises is added by this module's URL map, which keeps the site's own map and its error
handlers (``trialdesk.web.urls``); the client does not re-raise, so the response is what a
visitor would get.
"""

from __future__ import annotations

import pytest
from django.test import Client, RequestFactory
from django.urls import path

from trialdesk.web import errors
from trialdesk.web.urls import handler400, handler403, handler404, handler500  # noqa: F401
from trialdesk.web.urls import urlpatterns as site_patterns

SECRET_MESSAGE = "database password is hunter2 at /srv/trialdesk/settings.py"


def boom(request):
    raise RuntimeError(SECRET_MESSAGE)


urlpatterns = [
    path("boom/", boom),
    path("api/boom", boom),
    *site_patterns,
]

pytestmark = [pytest.mark.django_db, pytest.mark.urls(__name__)]


@pytest.fixture
def visitor():
    return Client(raise_request_exception=False)


def assert_site_page(response, page_text, *, status: int, heading: str):
    assert response.status_code == status
    assert response["Content-Type"].startswith("text/html")
    html = response.content.decode()
    # The site's look: its stylesheet, header, navigation and footer.
    assert '<link rel="stylesheet" href="/static/trialdesk/site.css">' in html
    assert 'class="site-header"' in html and 'class="site-footer"' in html
    assert f'<h1 id="error-title">{heading}</h1>' in html
    assert '<a href="/">Go to the trialdesk home page</a>' in html
    assert '<a href="/trials/">Find clinical trials</a>' in html
    text = page_text(html)
    for leak in ("Traceback", "settings.py", "DEBUG", "RuntimeError", "hunter2", "urlpatterns"):
        assert leak not in text
    return text


def test_missing_page_is_a_friendly_404(visitor, page_text):
    response = visitor.get("/no/such/page-xyz/")
    text = assert_site_page(response, page_text, status=404, heading="Page not found")
    assert "There is no page at this address." in text
    assert "page-xyz" not in response.content.decode()  # the path is not echoed back
    assert [t.name for t in response.templates][:2] == ["web/error.html", "web/base.html"]


def test_unknown_trial_is_the_same_404_page(visitor, page_text):
    response = visitor.get("/trials/NCT99999999/")
    assert_site_page(response, page_text, status=404, heading="Page not found")


def test_a_view_that_raises_gives_the_friendly_500(visitor, page_text):
    response = visitor.get("/boom/")
    text = assert_site_page(response, page_text, status=500, heading="Something went wrong")
    assert "The site could not answer this request." in text


def test_500_page_renders_without_a_request_context(page_text, django_assert_num_queries):
    request = RequestFactory().get("/anything/")  # no middleware ran: no user, no session
    with django_assert_num_queries(0):
        response = errors.server_error(request)
    assert response.status_code == 500
    assert "Something went wrong" in page_text(response.content)
    assert b"/static/trialdesk/site.css" in response.content


def test_500_falls_back_to_a_plain_page_if_the_template_fails(monkeypatch):
    def broken(name):
        raise RuntimeError("template engine down")

    monkeypatch.setattr(errors.loader, "get_template", broken)
    response = errors.server_error(RequestFactory().get("/x/"))
    assert response.status_code == 500
    assert b"<h1>Something went wrong</h1>" in response.content
    assert b"template engine down" not in response.content


def test_a_bad_host_is_a_friendly_400(visitor, page_text):
    response = visitor.get("/", HTTP_HOST="evil.example")
    assert_site_page(response, page_text, status=400, heading="Bad request")
    assert b"evil.example" not in response.content


def test_a_form_without_its_csrf_token_is_a_friendly_403(page_text):
    client = Client(enforce_csrf_checks=True, raise_request_exception=False)
    response = client.post("/", {"anything": "1"})
    text = assert_site_page(response, page_text, status=403, heading="Not allowed")
    assert "CSRF" not in text


# --- the API answers in JSON ---------------------------------------------------------------


def test_api_unknown_path_is_json_404(visitor):
    response = visitor.get("/api/no-such-endpoint")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"detail": "Not found"}


def test_api_view_that_raises_is_json_500(visitor):
    response = visitor.get("/api/boom")
    assert response.status_code == 500
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"detail": "Internal server error"}


def test_api_endpoint_failure_inside_ninja_is_json_500(visitor, monkeypatch):
    """An unexpected error inside a django-ninja operation (DEBUG off: ninja hands it on to
    Django) is JSON too, not Django's HTML page or a plain-text traceback."""
    import trialdesk.registry.api as registry_api

    def failing_search(query):
        raise RuntimeError(SECRET_MESSAGE)

    monkeypatch.setattr(registry_api, "search", failing_search)
    response = visitor.get("/api/trials", {"text": "stem"})
    assert response.status_code == 500
    assert response.json() == {"detail": "Internal server error"}
    assert b"hunter2" not in response.content


def test_api_bad_host_is_json_400(visitor):
    response = visitor.get("/api/trials", HTTP_HOST="evil.example")
    assert response.status_code == 400
    assert response.json() == {"detail": "Bad request"}
