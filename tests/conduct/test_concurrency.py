"""A cohort never takes more participants than the design allows, even when coordinators
enrol at the same moment: real concurrent transactions on PostgreSQL."""

from __future__ import annotations

import threading

import pytest
from django.db import IntegrityError, connection, transaction
from tests.conduct.conftest import make_eligible

from trialdesk.conduct import services
from trialdesk.conduct.errors import ConductError
from trialdesk.conduct.models import Cohort, CohortSlot, Participant

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]


def test_six_simultaneous_enrolments_fill_three_slots(setup):
    assert connection.vendor == "postgresql"
    people = make_eligible(setup, 6)
    user = setup.users[("BJ302", "coordinator")]
    barrier = threading.Barrier(len(people))
    results: dict[int, str] = {}

    def enrol(p):
        try:
            barrier.wait(timeout=30)
            services.enrol(p, user)
            results[p.pk] = "enrolled"
        except ConductError as exc:
            results[p.pk] = str(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=enrol, args=(p,)) for p in people]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert len(results) == 6
    assert sum(r == "enrolled" for r in results.values()) == 3, results
    refused = [r for r in results.values() if r != "enrolled"]
    assert all("is full" in r for r in refused), refused
    cohort = Cohort.objects.get()
    assert Participant.objects.filter(slot__cohort=cohort).count() == 3
    ids = sorted(
        Participant.objects.exclude(participant_id=None).values_list("participant_id", flat=True)
    )
    assert ids == ["7846-BJ302-001", "7846-BJ302-002", "7846-BJ302-003"]


def test_even_a_raw_update_cannot_add_a_participant_to_a_full_cohort(setup):
    people = make_eligible(setup, 4)
    user = setup.users[("BJ302", "coordinator")]
    for p in people[:3]:
        services.enrol(p, user)
    taken = CohortSlot.objects.filter(participant__isnull=False).first()
    with pytest.raises(IntegrityError), transaction.atomic():
        Participant.objects.filter(pk=people[3].pk).update(
            slot=taken, status="enrolled", participant_id="X"
        )
    assert CohortSlot.objects.count() == 3  # the slots are the cohort's size, fixed
