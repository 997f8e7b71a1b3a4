"""URLs of the staff pages, mounted at /conduct/."""

from django.contrib.auth import views as auth_views
from django.urls import path

from trialdesk.conduct.views import (
    account,
    consent,
    enrolment,
    participant,
    queries,
    referrals,
    report,
    safety,
    screening,
    study,
    visits,
)

app_name = "conduct"

urlpatterns = [
    path(
        "login/",
        auth_views.LoginView.as_view(template_name="conduct/login.html"),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("password/", account.PasswordChangeView.as_view(), name="password"),
    path("identity/", account.confirm_identity, name="identity"),
    path("", study.home, name="home"),
    path("trials/<str:nct_id>/", study.dashboard, name="dashboard"),
    path("trials/<str:nct_id>/enrolment/", study.enrolment, name="enrolment"),
    path("trials/<str:nct_id>/screen/", screening.screen, name="screen"),
    path("trials/<str:nct_id>/report/", report.page, name="report"),
    path("trials/<str:nct_id>/report.<str:fmt>", report.download, name="report-download"),
    # Public (no login): the referral form under the eligibility check posts here.
    path("referrals/new/<str:nct_id>/", referrals.new_referral, name="referral-new"),
    path("referrals/sent/<str:nct_id>/", referrals.referral_sent, name="referral-sent"),
    path("referrals/", referrals.queue, name="referrals"),
    path("referrals/<int:referral>/", referrals.detail, name="referral"),
    path("referrals/<int:referral>/decline/", referrals.decline, name="referral-decline"),
    path("referrals/<int:referral>/screen/", referrals.screen, name="referral-screen"),
    path("referrals/<int:referral>/history/", referrals.history, name="referral-history"),
    path("trials/<str:nct_id>/decisions/new/", enrolment.new_decision, name="new-decision"),
    path("trials/<str:nct_id>/decisions/<int:decision>/", enrolment.decision, name="decision"),
    path("participants/<int:pk>/", participant.participant, name="participant"),
    path("participants/<int:pk>/enrol/", enrolment.enrol, name="enrol"),
    path("participants/<int:pk>/dosing/", enrolment.dosing, name="dosing"),
    path("participants/<int:pk>/dlt/", enrolment.dlt_outcome, name="dlt"),
    path("participants/<int:pk>/attest/", screening.attest, name="attest"),
    path("participants/<int:pk>/sign/", screening.sign_eligibility, name="sign"),
    path("participants/<int:pk>/consent/", consent.consent, name="consent"),
    path("participants/<int:pk>/correct/", participant.correct, name="correct"),
    path(
        "participants/<int:pk>/deviations/<int:deviation>/review/",
        participant.review_deviation,
        name="review-deviation",
    ),
    path("participants/<int:pk>/history/", participant.history, name="history"),
    path("participants/<int:pk>/visits/<str:code>/", visits.visit, name="visit"),
    path(
        "participants/<int:pk>/proposals/<int:proposal>/",
        visits.decide_proposal,
        name="decide-proposal",
    ),
    path("participants/<int:pk>/adverse-events/new/", safety.new_event, name="new-adverse-event"),
    path(
        "participants/<int:pk>/adverse-events/<int:event>/",
        safety.event,
        name="adverse-event",
    ),
    path(
        "participants/<int:pk>/adverse-events/<int:event>/report/",
        safety.initial_report,
        name="sae-report",
    ),
    path("participants/<int:pk>/queries/new/", queries.new_query, name="new-query"),
    path("participants/<int:pk>/queries/<int:query_id>/", queries.query, name="query"),
    path(
        "participants/<int:pk>/history/<str:kind>/<int:record>/",
        participant.history,
        name="record-history",
    ),
]
