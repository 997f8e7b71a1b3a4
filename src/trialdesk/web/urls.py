"""Top-level URL map. Each app owns its own ``urls.py``; the error pages are
``trialdesk.web.errors`` (HTML for pages, JSON under /api/)."""

from django.contrib import admin
from django.urls import include, path

from trialdesk.registry.api import api, docs_asset
from trialdesk.web import errors, views

urlpatterns = [
    path("", views.home, name="home"),
    path("trials/", include("trialdesk.registry.urls")),
    path("conduct/", include("trialdesk.conduct.urls")),
    path("cellproduct/", include("trialdesk.cellproduct.urls")),
    # Swagger UI's own files, served from the installed django-ninja package (offline).
    path("api/docs/assets/<str:name>", docs_asset, name="api-docs-asset"),
    path("api/", api.urls),
    path("admin/", admin.site.urls),
]

handler400 = errors.bad_request
handler403 = errors.permission_denied
handler404 = errors.page_not_found
handler500 = errors.server_error
