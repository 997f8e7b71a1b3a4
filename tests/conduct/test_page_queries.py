"""The busiest staff pages run a fixed number of queries, however many participants, doses
and visits they show (no query per row: benchmarks/web.py found the dashboard's visit
calendars and the participant page's MELD trend doing one each)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from tests.conduct.conftest import make_eligible

from trialdesk.conduct import services
from trialdesk.conduct.services.visits import record_visit

pytestmark = pytest.mark.django_db

INFUSION = date(2026, 11, 23)


def _enrol_and_dose(setup, p):
    coordinator = setup.users[("BJ302", "coordinator")]
    services.enrol(p, coordinator, at=datetime(2026, 11, 21, 10, 0, tzinfo=UTC))
    p.refresh_from_db()
    start = datetime.combine(INFUSION, datetime.min.time(), tzinfo=UTC) + timedelta(hours=9)
    services.record_dose(
        p,
        coordinator,
        product_lot="UC-1",
        cells=50_000_000,
        started_at=start,
        ended_at=start + timedelta(minutes=40),
        route="intravenous infusion",
        volume_ml=Decimal(100),
    )


def _queries(client, url: str) -> int:
    client.get(url)  # warm: the protocol and the unit registry load once per process
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries)


def test_dashboard_queries_do_not_grow_with_dosed_participants(setup, client):
    first, *others = make_eligible(setup, 3)
    _enrol_and_dose(setup, first)
    client.force_login(setup.users[("BJ302", "coordinator")])
    url = reverse("conduct:dashboard", args=["NCT05227846"])
    with_one = _queries(client, url)
    for p in others:
        _enrol_and_dose(setup, p)
    with_three = _queries(client, url)
    assert with_three == with_one, (with_one, with_three)


def test_participant_page_queries_do_not_grow_with_visits(setup, client):
    (p,) = make_eligible(setup, 1)
    _enrol_and_dose(setup, p)
    coordinator = setup.users[("BJ302", "coordinator")]
    labs = {"bilirubin": "2.0 mg/dL", "inr": "1.5", "creatinine": "88.4 umol/L",
            "sodium": "135 mmol/L", "albumin": "3.1 g/dL"}  # fmt: skip
    record_visit(p, coordinator, code="D1", visit_date=INFUSION, labs=labs)
    client.force_login(coordinator)
    url = reverse("conduct:participant", args=[p.pk])
    with_one = _queries(client, url)
    record_visit(p, coordinator, code="D7", visit_date=INFUSION + timedelta(days=6), labs=labs)
    with_two = _queries(client, url)
    assert with_two == with_one, (with_one, with_two)
