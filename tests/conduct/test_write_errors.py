"""``write()`` refuses a value the model refuses with a ConductError naming the field, and
saves nothing."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from tests.conduct.conftest import make_eligible
from tests.conduct.test_enrolment import ENROLLED, coordinator, dose

from trialdesk.conduct import services
from trialdesk.conduct.errors import ConductError
from trialdesk.conduct.models import DosingRecord, write

pytestmark = pytest.mark.django_db


def test_a_check_constraint_names_its_fields(setup):
    (p,) = make_eligible(setup, 1)
    services.enrol(p, coordinator(setup), at=ENROLLED)
    p.refresh_from_db()
    record = dose(setup, p)
    record.ended_at = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)  # before the start
    with pytest.raises(ConductError) as info:
        write(record, coordinator(setup), "typo")
    assert info.value.field == "ended_at"
    assert "ended_at, started_at" in str(info.value)
    assert "conduct_dose_end_after_start" in str(info.value)
    assert DosingRecord.objects.get(pk=record.pk).ended_at > record.started_at  # not saved


def test_a_field_error_names_the_field(setup):
    (p,) = make_eligible(setup, 1)
    p.initials = "X" * 500
    with pytest.raises(ConductError) as info:
        write(p, coordinator(setup), "too long")
    assert info.value.field == "initials" and "initials" in str(info.value)


def test_a_unique_constraint_names_its_fields(setup):
    from trialdesk.conduct.models import Signature

    (p,) = make_eligible(setup, 1)
    signed = p.assessments.filter(signatures__isnull=False).get()
    twin = Signature(
        signer=setup.users[("BJ302", "investigator")],
        printed_name="x",
        meaning="x",
        assessment=signed,
    )
    with pytest.raises(ConductError) as info:
        write(twin, setup.users[("BJ302", "investigator")])
    assert info.value.field == "assessment"


def test_a_reason_longer_than_the_history_keeps_is_refused_not_cut(setup):
    # simple-history's history_change_reason is varchar(100): PostgreSQL would refuse a
    # longer one with a database error, SQLite would keep it whole; both now say so.
    (p,) = make_eligible(setup, 1)
    p.initials = "QQ"
    with pytest.raises(ConductError, match="101 characters: at most 100") as info:
        write(p, coordinator(setup), "x" * 101)
    assert info.value.field == "reason"
    p.refresh_from_db()
    assert p.initials != "QQ"
    with pytest.raises(ConductError, match="at most 100"):
        services.correct_participant(p, coordinator(setup), reason="y" * 150, initials="QQ")
