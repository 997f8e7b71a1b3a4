"""Django settings for trialdesk (a workstation, the tests; production adds
``trialdesk.web.settings_production`` on top, see docs/web.md).

Environment:

- ``TRIALDESK_VAR``: the folder for the SQLite database and the install's secret key
  (default ``var/`` in ``TRIALDESK_HOME``, itself the current folder by default).
- ``DATABASE_URL`` (e.g. ``postgres://postgres@127.0.0.1:5432/trialdesk``): PostgreSQL
  instead of the SQLite file.
- ``TRIALDESK_DEBUG=1``: Django's debug mode (tracebacks in the browser). Off unless set:
  never set it on a server others can reach.
- ``TRIALDESK_SECRET_KEY``: the secret key; without it, a key generated once per install in
  ``<var>/secret_key`` (mode 0600), see ``trialdesk.web.install_secret``.
- ``TRIALDESK_ALLOWED_HOSTS``: comma-separated host names the site answers to.
"""

import os
from pathlib import Path

import dj_database_url
from csp.constants import NONCE, NONE, SELF

from trialdesk.web.install_secret import env_flag, secret_key

BASE_DIR = Path(__file__).resolve().parent.parent
PROJECT_DIR = Path(os.environ.get("TRIALDESK_HOME", Path.cwd()))
VAR_DIR = Path(os.environ.get("TRIALDESK_VAR", PROJECT_DIR / "var"))

DEBUG = env_flag(os.environ, "TRIALDESK_DEBUG", default=False)
SECRET_KEY = secret_key(VAR_DIR, os.environ)
ALLOWED_HOSTS = [
    host.strip()
    for host in os.environ.get("TRIALDESK_ALLOWED_HOSTS", "127.0.0.1,localhost,testserver").split(
        ","
    )
    if host.strip()
]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    # Before staticfiles: ``runserver`` leaves static files to WhiteNoise, as production does.
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "csp",
    "trialdesk.web",
    "trialdesk.registry",
    "simple_history",
    "django_htmx",
    "trialdesk.conduct",
    "trialdesk.cellproduct",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Before WhiteNoise, which answers static files itself: they get the policy too (an SVG
    # can carry script).
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "trialdesk.web.errors.api_json_errors",  # a 405 under /api/ answers JSON
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "trialdesk.web.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "csp.context_processors.nonce",
            ],
        },
    },
]

WSGI_APPLICATION = "trialdesk.web.wsgi.application"
CSRF_FAILURE_VIEW = "trialdesk.web.errors.csrf_failure"


def _database() -> dict:
    url = os.environ.get("DATABASE_URL")
    if url:
        return dj_database_url.parse(url, conn_max_age=60)
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    return {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": str(VAR_DIR / "trialdesk.sqlite3"),
        "OPTIONS": {
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            "transaction_mode": "IMMEDIATE",
        },
    }


DATABASES = {"default": _database()}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]

LANGUAGE_CODE = "en"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

LOGIN_URL = "conduct:login"
LOGIN_REDIRECT_URL = "conduct:home"
LOGOUT_REDIRECT_URL = "conduct:login"

# Errors (a 500's traceback, "Not Found: /x") go to stderr with DEBUG off too: Django's
# default sends them only to mail_admins then, which is nowhere here.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {
        "django": {"handlers": ["console"], "level": "INFO"},
    },
}

# Static files: WhiteNoise serves them with DEBUG off too. Here straight from the apps'
# static/ folders (no collectstatic step for ``make run``); the production settings serve
# the collected, hashed and compressed copies from STATIC_ROOT instead.
STATIC_URL = "static/"
WHITENOISE_USE_FINDERS = True
# plotly.js for the report page's interactive plots, from the plotly package (no CDN).
STATICFILES_FINDERS = [
    "django.contrib.staticfiles.finders.FileSystemFinder",
    "django.contrib.staticfiles.finders.AppDirectoriesFinder",
    "trialdesk.conduct.staticfinders.PlotlyFinder",
]

# Security headers (SecurityMiddleware): nosniff, Referrer-Policy, Cross-Origin-Opener-Policy;
# X-Frame-Options from XFrameOptionsMiddleware. Django's defaults, stated here on purpose.
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# Content-Security-Policy (django-csp 4) on every response: everything from this site only;
# no inline script or style except an element carrying the response's nonce
# (``{{ request.csp_nonce }}``); images may also be data: URIs (Swagger UI's icons).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF, NONCE],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}
