"""Production settings: ``DJANGO_SETTINGS_MODULE=trialdesk.web.settings_production``.

Everything in ``trialdesk.web.settings``, plus what a public site behind a TLS-terminating
reverse proxy needs (docs/web.md, "Running in production"); with these,
``django-admin check --deploy`` reports no issues (``tests/web/test_web_deploy_check.py``).

Environment, beyond the base settings':

- ``TRIALDESK_ALLOWED_HOSTS`` (required): the site's host name(s), comma-separated.
- ``TRIALDESK_SECRET_KEY`` (recommended): else the key file under ``TRIALDESK_VAR``.
- ``TRIALDESK_STATIC_ROOT``: where ``django-admin collectstatic`` puts the static files
  (default ``<var>/static``); WhiteNoise serves them from there, hashed and compressed.
- ``TRIALDESK_HSTS_SECONDS``: Strict-Transport-Security max-age (default one year).
- ``TRIALDESK_HSTS_PRELOAD=0``: leave ``preload`` out of the HSTS header.

DEBUG is off here whatever ``TRIALDESK_DEBUG`` says.
"""

import os
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

from trialdesk.web.install_secret import env_flag
from trialdesk.web.settings import *  # noqa: F403
from trialdesk.web.settings import VAR_DIR

DEBUG = False

_hosts = [h.strip() for h in os.environ.get("TRIALDESK_ALLOWED_HOSTS", "").split(",") if h.strip()]
if not _hosts:
    raise ImproperlyConfigured(
        "TRIALDESK_ALLOWED_HOSTS is not set: give the site's host name(s), comma-separated "
        "(e.g. trials.example.org), for trialdesk.web.settings_production"
    )
ALLOWED_HOSTS = _hosts

# HTTPS only: the proxy terminates TLS and says so in X-Forwarded-Proto (it must set that
# header itself and drop any the client sent). Plain-HTTP requests are redirected.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True


def _hsts_seconds() -> int:
    raw = os.environ.get("TRIALDESK_HSTS_SECONDS", "31536000")
    try:
        seconds = int(raw)
    except ValueError:
        seconds = -1
    if seconds < 0:
        raise ImproperlyConfigured(
            f"TRIALDESK_HSTS_SECONDS={raw!r}: expected a whole number of seconds >= 0"
        )
    return seconds


SECURE_HSTS_SECONDS = _hsts_seconds()
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = env_flag(os.environ, "TRIALDESK_HSTS_PRELOAD", default=True)

# Collected static files (``django-admin collectstatic``), with content hashes in their
# names and gzip/brotli copies, served by WhiteNoise with far-future cache headers.
STATIC_ROOT = Path(os.environ.get("TRIALDESK_STATIC_ROOT", VAR_DIR / "static"))
WHITENOISE_USE_FINDERS = False
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
