"""ICH E2A seriousness and the SAE reporting clocks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from trialdesk.clinical import (
    SeriousnessCriterion,
    assess_seriousness,
    is_serious,
    report_deadlines,
)

AWARE = datetime(2026, 3, 20, 9, 30, tzinfo=UTC)


def test_ich_e2a_criteria():
    assert {c.value for c in SeriousnessCriterion} == {
        "death",
        "life_threatening",
        "hospitalisation",
        "disability",
        "congenital_anomaly",
        "important_medical_event",
    }
    assert "prolongation of existing hospitalisation" in SeriousnessCriterion.hospitalisation.text


def test_is_serious():
    assert is_serious([SeriousnessCriterion.hospitalisation]) is True
    assert is_serious(["death", "life_threatening"]) is True
    assert is_serious("important_medical_event") is True
    assert is_serious([]) is False
    a = assess_seriousness(["hospitalisation", "hospitalisation"])
    assert a.criteria == (SeriousnessCriterion.hospitalisation,)
    assert a.reasons == (
        "the event requires inpatient hospitalisation or prolongation of existing hospitalisation",
    )
    assert assess_seriousness([]).reasons[0].startswith("no ICH E2A seriousness criterion")


def test_unknown_criterion_is_refused():
    with pytest.raises(ValueError, match="seriousness criterion 'severe': expected one of death"):
        is_serious(["severe"])


def test_fatal_unexpected_clocks():
    # ICH E2A III.A.1: 7 calendar days, complete report within 8 more (15)
    d = report_deadlines(AWARE, fatal_or_life_threatening=True, unexpected=True)
    assert d == {
        "investigator_24h": datetime(2026, 3, 21, 9, 30, tzinfo=UTC),
        "expedited_7d": datetime(2026, 3, 27, 9, 30, tzinfo=UTC),
        "expedited_15d": datetime(2026, 4, 4, 9, 30, tzinfo=UTC),
    }


def test_other_unexpected_15_days_and_expected_only_24h():
    d = report_deadlines(AWARE, fatal_or_life_threatening=False, unexpected=True)
    assert set(d) == {"investigator_24h", "expedited_15d"}
    assert d["expedited_15d"] - AWARE == timedelta(days=15)
    d = report_deadlines(AWARE, fatal_or_life_threatening=True, unexpected=False)
    assert d == {"investigator_24h": AWARE + timedelta(hours=24)}
    d = report_deadlines(
        AWARE, fatal_or_life_threatening=True, unexpected=True, suspected_reaction=False
    )
    assert set(d) == {"investigator_24h"}


def test_clocks_are_utc():
    hanoi = timezone(timedelta(hours=7))
    d = report_deadlines(
        datetime(2026, 3, 20, 16, 30, tzinfo=hanoi),
        fatal_or_life_threatening=False,
        unexpected=False,
    )
    assert d["investigator_24h"] == datetime(2026, 3, 21, 9, 30, tzinfo=UTC)
    assert d["investigator_24h"].utcoffset() == timedelta(0)


def test_naive_awareness_is_refused():
    with pytest.raises(ValueError, match="needs a time zone"):
        report_deadlines(
            datetime(2026, 3, 20, 9, 30), fatal_or_life_threatening=False, unexpected=False
        )
    with pytest.raises(TypeError, match="awareness: expected a datetime"):
        report_deadlines("2026-03-20", fatal_or_life_threatening=False, unexpected=False)


# --- adverse event date rules (moved from conduct's services into the core) ---


def test_event_date_rules():
    from datetime import date

    from trialdesk.clinical.safety import event_date_problems

    now = datetime(2026, 12, 4, 12, tzinfo=UTC)
    ok = event_date_problems(
        date(2026, 11, 20),
        datetime(2026, 11, 20, 18, tzinfo=UTC),
        date(2026, 11, 25),
        consented_on=date(2026, 11, 1),
        now=now,
    )
    assert ok == []
    # ICH E2A II.A.1: an event before the participant entered the trial is history.
    before = event_date_problems(
        date(2026, 10, 30), now, None, consented_on=date(2026, 11, 1), now=now
    )
    assert [f for f, _ in before] == ["onset_date"] and "medical history" in before[0][1]
    future = event_date_problems(
        date(2026, 12, 5), datetime(2026, 12, 5, tzinfo=UTC), date(2026, 12, 6),
        consented_on=None, now=now,
    )  # fmt: skip
    assert [f for f, _ in future] == [
        "onset_date", "resolution_date", "awareness_at",
    ]  # fmt: skip
    with pytest.raises(ValueError, match="time zone"):
        event_date_problems(date(2026, 11, 20), datetime(2026, 11, 21), None,
                            consented_on=None, now=now)  # fmt: skip
