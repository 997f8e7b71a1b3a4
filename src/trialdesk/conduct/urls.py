"""URLs of the staff pages, mounted at /conduct/."""

from django.contrib.auth import views as auth_views
from django.urls import path

from trialdesk.conduct.views import consent, participant, screening, study

app_name = "conduct"

urlpatterns = [
    path(
        "login/",
        auth_views.LoginView.as_view(template_name="conduct/login.html"),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("", study.home, name="home"),
    path("trials/<str:nct_id>/", study.dashboard, name="dashboard"),
    path("trials/<str:nct_id>/screen/", screening.screen, name="screen"),
    path("participants/<int:pk>/", participant.participant, name="participant"),
    path("participants/<int:pk>/attest/", screening.attest, name="attest"),
    path("participants/<int:pk>/sign/", screening.sign_eligibility, name="sign"),
    path("participants/<int:pk>/consent/", consent.consent, name="consent"),
    path("participants/<int:pk>/correct/", participant.correct, name="correct"),
    path("participants/<int:pk>/history/", participant.history, name="history"),
    path(
        "participants/<int:pk>/history/<str:kind>/<int:record>/",
        participant.history,
        name="record-history",
    ),
]
