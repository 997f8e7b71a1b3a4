"""Top-level URL map. Each app owns its own ``urls.py``."""

from django.contrib import admin
from django.urls import include, path

from trialdesk.registry.api import api, docs_asset
from trialdesk.web import views

urlpatterns = [
    path("", views.home, name="home"),
    path("trials/", include("trialdesk.registry.urls")),
    path("conduct/", include("trialdesk.conduct.urls")),
    # Swagger UI's own files, served from the installed django-ninja package (offline).
    path("api/docs/assets/<str:name>", docs_asset, name="api-docs-asset"),
    path("api/", api.urls),
    path("admin/", admin.site.urls),
]
