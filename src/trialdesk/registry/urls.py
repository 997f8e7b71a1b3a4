"""URLs of the public registry pages, mounted at ``/trials/`` (namespace ``registry``)."""

from django.urls import path, re_path

from trialdesk.registry import prescreen, views

app_name = "registry"

urlpatterns = [
    path("", views.search_page, name="search"),
    path("locations/", views.locations, name="locations"),
    path("locations/<str:country>/", views.place, name="country"),
    path("locations/<str:country>/<str:city>/", views.place, name="city"),
    # Only well-formed NCT ids match; anything else under /trials/ is a 404.
    re_path(r"^(?P<nct_id>NCT\d{8})/$", views.trial_detail, name="trial"),
    re_path(r"^(?P<nct_id>NCT\d{8})/check/?$", prescreen.check, name="check"),
]
