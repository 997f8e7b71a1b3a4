"""Content-Security-Policy and the other security headers on every response, pages that keep
to the policy (no inline script, style or style attribute without the response's nonce), and
static files served by WhiteNoise with DEBUG off (issue 15, item 2)."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db

PAGES = [
    "/",
    "/trials/",
    "/trials/?text=cirrhosis&age=abc",  # a form with errors
    "/trials/NCT05227846/",
    "/trials/NCT05227846/check",
    "/trials/locations/",
    "/api/docs",
    "/no-such-page/",
]
OTHER_RESPONSES = ["/api/trials?text=stem", "/api/openapi.json", "/static/trialdesk/site.css"]


def csp_of(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    directives = {}
    for part in header.split(";"):
        words = part.split()
        if words:
            directives[words[0]] = words[1:]
    return directives


class InlineCode(HTMLParser):
    """Collects inline <script>/<style> elements (with their nonce) and style attributes."""

    def __init__(self):
        super().__init__()
        self.inline: list[tuple[str, str | None]] = []
        self.style_attributes: list[str] = []
        self.event_handlers: list[str] = []
        self._open: tuple[str, str | None] | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if "style" in attrs:
            self.style_attributes.append(tag)
        self.event_handlers += [f"{tag}[{n}]" for n in attrs if n.startswith("on")]
        if tag == "style" or (tag == "script" and "src" not in attrs):
            if attrs.get("type") != "application/json":  # data, never executed
                self._open = (tag, attrs.get("nonce"))

    def handle_endtag(self, tag):
        self._open = None

    def handle_data(self, data):
        if self._open and data.strip():
            self.inline.append(self._open)


@pytest.mark.parametrize("url", PAGES + OTHER_RESPONSES)
def test_every_response_has_csp_and_security_headers(seed_trials, url):
    response = Client(raise_request_exception=False).get(url)
    assert response.status_code in (200, 400, 404), url
    csp = csp_of(response)
    assert csp["default-src"] == ["'self'"]
    assert csp["object-src"] == ["'none'"]
    assert csp["base-uri"] == ["'none'"]
    assert csp["frame-ancestors"] == ["'none'"]
    for directive in ("script-src", "style-src"):
        assert csp[directive][0] == "'self'"
        assert "'unsafe-inline'" not in csp[directive]
        assert "'unsafe-eval'" not in csp[directive]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    if not url.startswith("/static/"):  # WhiteNoise answers before XFrameOptionsMiddleware
        assert response["X-Frame-Options"] == "DENY"


@pytest.mark.parametrize("url", PAGES)
def test_pages_keep_to_the_policy(seed_trials, url):
    assert_keeps_to_the_policy(url, Client(raise_request_exception=False).get(url))


def test_prescreener_result_page_keeps_to_the_policy(seed_trials):
    """The page the prescreener answers with (every question left unanswered)."""
    url = "/trials/NCT05227846/check"
    response = Client(raise_request_exception=False).post(url, {})
    assert response.status_code == 200
    assert_keeps_to_the_policy(url, response)


def assert_keeps_to_the_policy(url, response):
    parser = InlineCode()
    parser.feed(response.content.decode())
    assert parser.style_attributes == [], f"{url}: style attributes are blocked by the CSP"
    assert parser.event_handlers == [], f"{url}: inline event handlers are blocked by the CSP"
    nonces = {
        value.removeprefix("'nonce-").removesuffix("'")
        for value in csp_of(response)["script-src"] + csp_of(response)["style-src"]
        if value.startswith("'nonce-")
    }
    for tag, nonce in parser.inline:
        assert nonce and nonce in nonces, f"{url}: inline <{tag}> without the response's nonce"


def test_api_docs_inline_style_carries_a_fresh_nonce():
    client = Client()
    nonces = []
    for _ in range(2):
        response = client.get("/api/docs")
        nonce = re.search(r'<style nonce="([^"]+)">', response.content.decode()).group(1)
        assert f"'nonce-{nonce}'" in csp_of(response)["style-src"]
        nonces.append(nonce)
    assert nonces[0] != nonces[1]


def test_static_files_are_served_with_debug_off(settings):
    assert settings.DEBUG is False
    response = Client().get("/static/trialdesk/site.css")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/css")
    body = b"".join(response.streaming_content)
    assert b".site-header" in body
    assert Client().get("/static/trialdesk/no-such.css").status_code == 404
