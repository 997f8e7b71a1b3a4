"""Study.enrolment_closed, TrialSite and SiteMembership: history (hash-chained), changed
only through services.study, read-only in admin; a signed committee stop is undone only by
a documented act (reason + approved amendment)."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from tests.conduct.conftest import APPROVE, PASSWORD, committee_member
from tests.conduct.test_review_races import cohort_one_reviewed

from trialdesk.conduct import services
from trialdesk.conduct.audit import verify
from trialdesk.conduct.errors import ConductError
from trialdesk.conduct.models import AuditChainEntry, SiteMembership, Study, TrialSite
from trialdesk.conduct.services.study import close_enrolment, reopen_enrolment

pytestmark = pytest.mark.django_db


def _stop(setup):
    cohort_one_reviewed(setup)
    src = setup.users[("BJ302", "safety review committee member")]
    decision = services.propose_decision(
        setup.bj, src, decision="stop", dose_level="", rationale="hepatic signal in cohort 1"
    )
    services.sign_decision(decision, src, password=PASSWORD, meaning=APPROVE)
    setup.bj.refresh_from_db()
    assert not setup.bj.enrolment_closed  # one signature of two
    services.sign_decision(decision, committee_member(setup), password=PASSWORD, meaning=APPROVE)
    return decision


def test_a_signed_stop_closes_enrolment_with_history_in_the_chain(setup):
    decision = _stop(setup)
    study = Study.objects.get(pk=setup.bj.pk)
    assert study.enrolment_closed
    last = study.history.order_by("-history_id").first()
    assert last.enrolment_closed and last.history_user.username == "bj302-src-2"
    assert f"decision {decision.pk}: stop" in last.history_change_reason
    assert AuditChainEntry.objects.filter(table=last._meta.db_table, history_id=last.pk).exists()
    assert verify() == []


def test_reopening_after_a_signed_stop_needs_the_amendment(setup):
    _stop(setup)
    inv = setup.users[("BJ302", "investigator")]
    coordinator = setup.users[("BJ302", "coordinator")]
    with pytest.raises(ConductError, match="may not close or reopen"):
        reopen_enrolment(setup.bj, coordinator, reason="x", amendment="A1")
    with pytest.raises(ConductError, match="a reason is required"):
        reopen_enrolment(setup.bj, inv, reason=" ", amendment="A1")
    with pytest.raises(ConductError, match="approved protocol amendment"):
        reopen_enrolment(setup.bj, inv, reason="the signal was unrelated")
    study = reopen_enrolment(
        setup.bj,
        inv,
        reason="the signal was unrelated",
        amendment="Amendment 3, EC approval 2026-12-01",
    )
    assert not study.enrolment_closed
    row = study.history.order_by("-history_id").first()
    assert row.history_user == inv
    assert row.history_change_reason == (
        "reopened: the signal was unrelated; amendment Amendment 3, EC approval 2026-12-01"
    )
    # closing by hand (no decision) needs the same permission and a reason
    with pytest.raises(ConductError, match="may not close or reopen"):
        close_enrolment(setup.bj, coordinator, reason="x")
    close_enrolment(setup.bj, inv, reason="site staffing")
    # reopening a hand closure needs no amendment (the latest decision was the stop,
    # though: it still asks for one)
    with pytest.raises(ConductError, match="amendment"):
        reopen_enrolment(setup.bj, inv, reason="staff back")
    assert verify() == []


def test_admin_cannot_untick_enrolment_closed_and_membership_changes_keep_history(setup, client):
    root = get_user_model().objects.create_superuser("root", password=PASSWORD)
    client.force_login(root)
    study = setup.bj
    inv = setup.users[("BJ302", "investigator")]
    close_enrolment(study, inv, reason="pause")
    response = client.get(f"/admin/conduct/study/{study.pk}/change/")
    assert response.status_code == 200
    assert 'name="enrolment_closed"' not in response.content.decode()  # read-only
    ts = TrialSite.objects.get(study=study)
    form = {
        "nct_id": study.nct_id,
        "title": study.title,
        "enrolment_closed": "",  # a forged field is ignored
        "trialsite_set-TOTAL_FORMS": "1",
        "trialsite_set-INITIAL_FORMS": "1",
        "trialsite_set-MIN_NUM_FORMS": "0",
        "trialsite_set-MAX_NUM_FORMS": "1000",
        "trialsite_set-0-id": ts.pk,
        "trialsite_set-0-study": study.pk,
        "trialsite_set-0-site": ts.site_id,
    }
    response = client.post(f"/admin/conduct/study/{study.pk}/change/", form)
    assert response.status_code == 302, response.content.decode()[:2000]
    study.refresh_from_db()
    assert study.enrolment_closed
    assert study.history.order_by("-history_id").first().history_user == root
    # a membership added and removed in admin: both in the history, with who
    user = setup.users[("BJ302", "monitor")]
    response = client.post(
        "/admin/conduct/sitemembership/add/", {"user": user.pk, "site": setup.sites["VINMEC"].pk}
    )
    assert response.status_code == 302
    m = SiteMembership.objects.get(user=user, site=setup.sites["VINMEC"])
    response = client.post(f"/admin/conduct/sitemembership/{m.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    rows = list(SiteMembership.history.filter(id=m.pk).order_by("history_id"))
    assert [(r.history_type, r.history_user) for r in rows] == [("+", root), ("-", root)]
    assert verify() == []


def test_the_dashboard_closes_and_reopens_with_the_rules(setup, client):
    _stop(setup)
    url = "/conduct/trials/NCT05227846/enrolment/"
    coordinator = setup.users[("BJ302", "coordinator")]
    client.force_login(coordinator)
    page = client.get("/conduct/trials/NCT05227846/").content.decode()
    assert "enrolment-control" not in page  # not the coordinator's act
    response = client.post(url, {"action": "reopen", "reason": "x", "amendment": "A1"}, follow=True)
    assert "may not close or reopen" in response.content.decode()
    inv = setup.users[("BJ302", "investigator")]
    client.force_login(inv)
    page = client.get("/conduct/trials/NCT05227846/").content.decode()
    assert "Reopen enrolment" in page
    response = client.post(url, {"action": "reopen", "reason": "unrelated"}, follow=True)
    assert "approved protocol amendment" in response.content.decode()
    setup.bj.refresh_from_db()
    assert setup.bj.enrolment_closed
    client.post(url, {"action": "reopen", "reason": "unrelated", "amendment": "Amendment 3"})
    setup.bj.refresh_from_db()
    assert not setup.bj.enrolment_closed
    assert client.get(url).status_code == 405
    # another site's investigator does not even see the study
    client.force_login(setup.users[("VINMEC", "investigator")])
    assert client.post(url, {"action": "close", "reason": "x"}).status_code == 404
