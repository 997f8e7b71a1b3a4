"""Staff pages: login required, site scoping (another site's participant is a 404 on every
participant URL), the screening form, a change without a reason refused, history pages."""

from __future__ import annotations

from datetime import date

import pytest
from django.urls import get_resolver, reverse
from tests.conduct.conftest import APPROVE, committee_member, eligible_plain, screen_bj

from trialdesk.conduct import services
from trialdesk.conduct.models import LabEventProposal, Participant, Visit, write

pytestmark = pytest.mark.django_db


@pytest.fixture
def bj_participant(setup):
    return screen_bj(setup)


def participant_urls(p):
    """Every URL of the conduct app that takes a participant's pk."""
    urls = []
    resolver = get_resolver("trialdesk.conduct.urls")
    for pattern in resolver.url_patterns:
        params = pattern.pattern.converters
        if "pk" not in params:
            continue
        kwargs = {"pk": p.pk}
        if "kind" in params:
            kwargs.update(kind="assessment", record=p.latest_assessment().pk)
        if "code" in params:
            kwargs.update(code="D7")
        if "proposal" in params:
            kwargs.update(proposal=LabEventProposal.objects.get(visit__participant=p).pk)
        if "event" in params:
            kwargs.update(event=p.adverse_events.get().pk)
        if "query_id" in params:
            kwargs.update(query_id=p.queries.get().pk)
        if "deviation" in params:
            kwargs.update(deviation=p.deviations.get().pk)
        urls.append(reverse(f"conduct:{pattern.name}", kwargs=kwargs))
    return urls


def test_pages_need_a_login(client, bj_participant):
    response = client.get(reverse("conduct:participant", args=[bj_participant.pk]))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("conduct:login"))


def test_another_sites_participant_is_a_404_on_every_participant_url(client, setup, bj_participant):
    from trialdesk.conduct.services.queries import open_query

    open_query(
        bj_participant,
        setup.users[("BJ302", "monitor")],
        record_type="participant",
        record_id=bj_participant.pk,
        field="sex",
        question="?",
    )
    from datetime import UTC, datetime

    from trialdesk.conduct.models import AdverseEvent

    write(
        AdverseEvent(
            participant=bj_participant,
            term="Fever",
            ctcae_version="5.0",
            onset_date=date(2026, 11, 21),
            awareness_at=datetime(2026, 11, 21, 10, tzinfo=UTC),
        ),
        setup.users[("BJ302", "coordinator")],
    )
    visit = write(
        Visit(
            participant=bj_participant,
            code="D7",
            visit_date=date(2026, 11, 29),
            window_status="in_window",
            window_reason="test",
        ),
        setup.users[("BJ302", "coordinator")],
    )
    write(
        LabEventProposal(
            visit=visit, term="Hyponatremia", grade=2, analyte="sodium", value="128", reason="t"
        ),
        setup.users[("BJ302", "coordinator")],
    )
    from trialdesk.conduct.models import ProtocolDeviation

    write(
        ProtocolDeviation(
            participant=bj_participant, kind="eligibility changed", description="t",
            needs_review=True,
        ),
        setup.users[("BJ302", "coordinator")],
    )  # fmt: skip
    urls = participant_urls(bj_participant)
    assert len(urls) >= 15
    client.force_login(setup.users[("BJ302", "monitor")])
    for url in urls:
        post_only = url.endswith(("/enrol/", "/report/", "/review/")) or "/proposals/" in url
        expected = 405 if post_only else 200
        assert client.get(url).status_code == expected, url
    for role in ("investigator", "coordinator", "administrator"):
        client.force_login(setup.users[("VINMEC", role)])
        for url in urls:
            assert client.get(url).status_code == 404, (role, url)
            assert client.post(url, {"reason": "x"}).status_code == 404, (role, url)
    client.force_login(setup.users[("VINMEC", "coordinator")])
    assert client.get(reverse("conduct:dashboard", args=["NCT05227846"])).status_code == 404
    assert b"NCT05227846" not in client.get(reverse("conduct:home")).content


def test_screening_form_creates_a_participant(client, setup, page_text):
    client.force_login(setup.users[("BJ302", "coordinator")])
    url = reverse("conduct:screen", args=["NCT05227846"])
    form = {
        "site": setup.sites["BJ302"].pk,
        "initials": "NVA",
        "sex": "male",
        "birth_date": "1968-04-02",
        "screened_on": "2026-11-20",
        "source": "plain",
        "data": eligible_plain(),
    }
    response = client.post(url, form, follow=True)
    text = page_text(response.content)
    assert "BJ302-S001" in text
    assert "INCOMPLETE" in text
    # the same person again: refused on the form, nothing saved
    response = client.post(url, form)
    assert response.status_code == 200
    assert "already screened" in page_text(response.content)
    assert Participant.objects.count() == 1


def test_a_change_without_a_reason_is_refused(client, setup, bj_participant, page_text):
    client.force_login(setup.users[("BJ302", "coordinator")])
    url = reverse("conduct:correct", args=[bj_participant.pk])
    form = {
        "initials": "NVB",
        "sex": "male",
        "birth_date": "1968-04-02",
        "screened_on": "2026-11-20",
    }
    response = client.post(url, form)
    assert "a reason is required" in page_text(response.content)
    bj_participant.refresh_from_db()
    assert bj_participant.initials == "NVA"
    response = client.post(url, {**form, "reason": "typo in the initials"}, follow=True)
    bj_participant.refresh_from_db()
    assert bj_participant.initials == "NVB"
    content = client.get(reverse("conduct:history", args=[bj_participant.pk])).content.decode()
    assert "typo in the initials" in content
    assert "<td>initials</td><td>NVA</td><td>NVB</td>" in content  # field, old, new
    assert "When (UTC)" in content


def test_the_model_refuses_a_change_without_a_reason(setup, bj_participant):
    from trialdesk.conduct.errors import ChangeReasonRequired
    from trialdesk.conduct.models import write

    bj_participant.initials = "XY"
    with pytest.raises(ChangeReasonRequired):
        write(bj_participant, setup.users[("BJ302", "coordinator")])
    bj_participant.refresh_from_db()
    assert bj_participant.initials == "NVA"


def test_monitor_cannot_correct(client, setup, bj_participant, page_text):
    client.force_login(setup.users[("BJ302", "monitor")])
    url = reverse("conduct:correct", args=[bj_participant.pk])
    form = {
        "initials": "NVB",
        "sex": "male",
        "birth_date": "1968-04-02",
        "screened_on": "2026-11-20",
        "reason": "x",
    }
    assert "may not correct" in page_text(client.post(url, form).content)
    bj_participant.refresh_from_db()
    assert bj_participant.initials == "NVA"


def test_record_text_is_escaped(client, setup, bj_participant):
    client.force_login(setup.users[("BJ302", "coordinator")])
    services.correct_participant(
        bj_participant, setup.users[("BJ302", "coordinator")], reason="<script>x</script>"
    )
    content = client.get(reverse("conduct:history", args=[bj_participant.pk])).content
    assert b"<script>x</script>" not in content
    assert b"&lt;script&gt;" in content


def test_enrol_dose_and_review_through_the_pages(client, setup, page_text):
    from tests.conduct.conftest import PASSWORD, make_eligible

    people = make_eligible(setup, 3)
    client.force_login(setup.users[("BJ302", "coordinator")])
    for p in people:
        response = client.post(
            reverse("conduct:enrol", args=[p.pk]), {"enrolled_at": "2026-11-21T10:00"}, follow=True
        )
        assert "Enrolled as 7846-BJ302-" in page_text(response.content)
        p.refresh_from_db()
    p = people[0]
    form = {
        "product_lot": "UC-MSC-0001",
        "cells": "50000000",
        "started_at": "2026-11-22T09:00",
        "ended_at": "2026-11-22T08:00",
        "route": "intravenous infusion",
        "volume_ml": "100",
    }
    response = client.post(reverse("conduct:dosing", args=[p.pk]), form)
    assert "ends before it starts" in page_text(response.content)
    response = client.post(
        reverse("conduct:dosing", args=[p.pk]),
        {**form, "ended_at": "2026-11-22T09:40"},
        follow=True,
    )
    assert "lot UC-MSC-0001, DL1, 50000000 cells" in page_text(response.content)
    # the review waits for the DLT outcomes
    src = setup.users[("BJ302", "safety review committee member")]
    client.force_login(src)
    text = page_text(client.get(reverse("conduct:new-decision", args=["NCT05227846"])).content)
    assert "DLT outcome pending" in text
    inv = setup.users[("BJ302", "investigator")]
    for q in people:
        if q is not p:
            services.record_dose(
                q,
                setup.users[("BJ302", "coordinator")],
                product_lot="UC-MSC-0002",
                cells=50_000_000,
                started_at=p.doses.get().started_at,
                ended_at=p.doses.get().ended_at,
                route="intravenous infusion",
                volume_ml=100,
            )
        services.record_dlt_outcome(q, inv, "no_dlt", "28-day window complete")
    text = page_text(client.get(reverse("conduct:new-decision", args=["NCT05227846"])).content)
    assert "escalate to dose 2" in text
    response = client.post(
        reverse("conduct:new-decision", args=["NCT05227846"]),
        {"decision": "escalate", "dose_level": "DL2", "rationale": ""},
        follow=True,
    )
    assert "awaiting signature" in page_text(response.content)
    decision_url = response.redirect_chain[-1][0]
    response = client.post(decision_url, {"meaning": APPROVE, "password": "wrong"})
    assert "password is not correct" in page_text(response.content)
    response = client.post(decision_url, {"meaning": APPROVE, "password": PASSWORD}, follow=True)
    text = page_text(response.content)
    assert "1 of 2 committee members have signed" in text
    assert "Safety Review Committee Member BJ302" in text and "UTC" in text
    client.force_login(committee_member(setup))
    response = client.post(decision_url, {"meaning": APPROVE, "password": PASSWORD}, follow=True)
    text = page_text(response.content)
    assert "in effect" in text and "Member 2 BJ302" in text
    client.force_login(setup.users[("BJ302", "coordinator")])
    text = page_text(client.get(reverse("conduct:dashboard", args=["NCT05227846"])).content)
    assert "3 of 3" in text and "0 of 3" in text and "DL2" in text
