"""Data queries: the monitor opens one on a field, the site answers, the monitor sends it back
or closes it; the whole exchange stays in the query's history; other sites see nothing."""

from __future__ import annotations

import pytest
from django.urls import reverse
from tests.conduct.conftest import screen_bj

from trialdesk.conduct.errors import ConductError
from trialdesk.conduct.models import DataQuery
from trialdesk.conduct.services.queries import answer_query, close_query, open_query

pytestmark = pytest.mark.django_db


@pytest.fixture
def participant(setup):
    return screen_bj(setup)


def test_query_lifecycle_is_kept_in_history(setup, participant):
    monitor = setup.users[("BJ302", "monitor")]
    coordinator = setup.users[("BJ302", "coordinator")]
    q = open_query(
        participant,
        monitor,
        record_type="participant",
        record_id=participant.pk,
        field="birth_date",
        question="The source document says 1968-04-12?",
    )
    with pytest.raises(ConductError, match="only an answered query"):
        close_query(q, monitor, accept=True)
    with pytest.raises(ConductError, match="may not answer"):
        answer_query(q, monitor, answer="x")
    answer_query(q, coordinator, answer="Checked: 1968-04-02 is right")
    with pytest.raises(ConductError, match="say why"):
        close_query(q, monitor, accept=False)
    close_query(q, monitor, accept=False, note="please attach the ID copy")
    answer_query(q, coordinator, answer="ID copy filed")
    close_query(q, monitor, accept=True)
    q.refresh_from_db()
    assert q.status == DataQuery.CLOSED and q.closed_by == monitor
    reasons = list(
        q.history.order_by("history_date").values_list("history_change_reason", flat=True)
    )
    assert reasons == [
        "created",
        "answered: Checked: 1968-04-02 is right",
        "reopened: please attach the ID copy",
        "answered: ID copy filed",
        "closed: answer accepted",
    ]


@pytest.mark.parametrize(
    ("over", "message"),
    [
        ({"record_type": "visit"}, "unknown record type"),
        ({"field": "password"}, "has no field 'password'"),
        ({"record_id": 999999}, "has no participant 999999"),
        ({"question": "  "}, "write the question"),
    ],
)
def test_bad_queries_are_refused(setup, participant, over, message):
    args = dict(
        record_type="participant", record_id=participant.pk, field="sex", question="Really?"
    )
    args.update(over)
    with pytest.raises(ConductError, match=message):
        open_query(participant, setup.users[("BJ302", "monitor")], **args)
    assert not DataQuery.objects.exists()


def test_query_pages(client, setup, participant, page_text):
    client.force_login(setup.users[("BJ302", "monitor")])
    response = client.post(
        reverse("conduct:new-query", args=[participant.pk]),
        {"record": f"participant:{participant.pk}", "field": "sex", "question": "Check sex"},
        follow=True,
    )
    assert "participant" in page_text(response.content).lower()
    q = DataQuery.objects.get()
    url = reverse("conduct:query", args=[participant.pk, q.pk])
    client.force_login(setup.users[("BJ302", "coordinator")])
    response = client.post(url, {"answer": "Confirmed male"}, follow=True)
    assert "Answered" in page_text(response.content)
    client.force_login(setup.users[("BJ302", "monitor")])
    response = client.post(url, {"accept": "yes", "note": ""}, follow=True)
    assert "Closed" in page_text(response.content)
    client.force_login(setup.users[("VINMEC", "monitor")])
    assert client.get(url).status_code == 404


def test_a_second_post_on_a_page_loaded_before_the_first_is_refused(setup, participant):
    """Two staff load the same open query; the first answers; the second's post (its copy
    still says open) is refused, not saved over the first answer. The same for closing."""
    monitor = setup.users[("BJ302", "monitor")]
    coordinator = setup.users[("BJ302", "coordinator")]
    investigator = setup.users[("BJ302", "investigator")]
    q = open_query(
        participant,
        monitor,
        record_type="participant",
        record_id=participant.pk,
        field="initials",
        question="Initials as on the ID?",
    )
    first, second = DataQuery.objects.get(pk=q.pk), DataQuery.objects.get(pk=q.pk)
    answer_query(first, coordinator, answer="Yes, NVA")
    with pytest.raises(ConductError, match="answered: not open"):
        answer_query(second, investigator, answer="No, NVB")
    first, second = DataQuery.objects.get(pk=q.pk), DataQuery.objects.get(pk=q.pk)
    close_query(first, monitor, accept=True)
    with pytest.raises(ConductError, match="only an answered query"):
        close_query(second, monitor, accept=False, note="attach the ID copy")
    q.refresh_from_db()
    assert (q.status, q.answer, q.answered_by) == (DataQuery.CLOSED, "Yes, NVA", coordinator)
    assert q.history.count() == 3  # opened, answered, closed: nothing from the refused posts
