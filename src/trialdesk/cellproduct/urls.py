"""URLs of the cell-product pages, mounted at /cellproduct/."""

from django.urls import path

from trialdesk.cellproduct.views import bedside, lab, trace

app_name = "cellproduct"

urlpatterns = [
    path("", lab.home, name="home"),
    path("donors/<int:pk>/", lab.donor, name="donor"),
    path("donations/<int:pk>/", lab.collection, name="collection"),
    path("lots/<int:pk>/", lab.lot, name="lot"),
    path("units/<int:pk>/label.pdf", bedside.label, name="label"),
    path("participants/<int:pk>/bedside/", bedside.bedside_page, name="bedside"),
    path("trace/", trace.trace_page, name="trace"),
]
