"""Visit calendar and window status (study days per CDISC SDTM IG v3.4 section 4.4.4)."""

from __future__ import annotations

from datetime import date

import pytest

from trialdesk.protocol import (
    ScheduledVisit,
    WindowStatus,
    date_of_study_day,
    load_protocol,
    study_day,
    visit_calendar,
    window_status,
)
from trialdesk.protocol.conduct import ConductPlan, DoseLevel, VisitDefinition

INFUSION = date(2026, 3, 10)


def _plan() -> ConductPlan:
    visits = (
        VisitDefinition("SCR", "Screening", -1, 27, 0, ("consent", "eligibility")),
        VisitDefinition("D1", "Infusion", 1, 0, 0, ("infusion",), is_infusion=True),
        VisitDefinition("D7", "Day 7", 7, 2, 2, ("labs",)),
        VisitDefinition("M3", "Month 3", 91, 14, 14, ("labs",)),
    )
    return ConductPlan(
        20,
        (DoseLevel("DL1", 1, "x", None, 10**6),),
        None,
        visits,
        ("inr",),
        "intravenous infusion",
        None,
        "5.0",
    )


def test_study_day_has_no_day_zero():
    # SDTM IG 4.4.4: the reference date is day 1, the day before is day -1
    assert study_day(date(2026, 3, 10), INFUSION) == 1
    assert study_day(date(2026, 3, 9), INFUSION) == -1
    assert study_day(date(2026, 3, 16), INFUSION) == 7
    assert study_day(date(2026, 2, 10), INFUSION) == -28
    for d in (-28, -1, 1, 7, 91, 366):
        assert study_day(date_of_study_day(d, INFUSION), INFUSION) == d
    with pytest.raises(ValueError, match="no study day 0"):
        date_of_study_day(0, INFUSION)


def test_calendar_hand_computed():
    cal = visit_calendar(_plan(), INFUSION)
    by = {v.code: v for v in cal}
    assert [v.code for v in cal] == ["SCR", "D1", "D7", "M3"]
    # screening: study days -28..-1 = 2026-02-10 .. 2026-03-09
    assert (by["SCR"].earliest, by["SCR"].target_date, by["SCR"].latest) == (
        date(2026, 2, 10),
        date(2026, 3, 9),
        date(2026, 3, 9),
    )
    assert by["D1"].target_date == INFUSION == by["D1"].earliest == by["D1"].latest
    assert by["D1"].is_infusion
    # day 7 = infusion + 6 days = 2026-03-16, window 03-14 .. 03-18
    assert (by["D7"].earliest, by["D7"].target_date, by["D7"].latest) == (
        date(2026, 3, 14),
        date(2026, 3, 16),
        date(2026, 3, 18),
    )
    # day 91 = infusion + 90 days = 2026-06-08; +/-14 -> 05-25 .. 06-22
    assert (by["M3"].earliest, by["M3"].target_date, by["M3"].latest) == (
        date(2026, 5, 25),
        date(2026, 6, 8),
        date(2026, 6, 22),
    )
    assert by["M3"].to_dict()["target_date"] == "2026-06-08"


def test_seed_calendar_month_12():
    plan = load_protocol("NCT05331872").conduct
    cal = {v.code: v for v in visit_calendar(plan, date(2022, 1, 1))}
    # day 366 = 2022-01-01 + 365 days = 2023-01-01, window +/-14
    assert cal["M12"].target_date == date(2023, 1, 1)
    assert (cal["M12"].earliest, cal["M12"].latest) == (date(2022, 12, 18), date(2023, 1, 15))


@pytest.mark.parametrize(
    "visit_date,today,status,needle",
    [
        (date(2026, 3, 13), date(2026, 4, 1), "early", "1 day before"),
        (date(2026, 3, 14), date(2026, 4, 1), "in_window", "inside"),
        (date(2026, 3, 18), date(2026, 4, 1), "in_window", "inside"),
        (date(2026, 3, 21), date(2026, 4, 1), "late", "3 days after"),
        (None, date(2026, 3, 19), "missed", "closed 1 day ago"),
        (None, date(2026, 3, 14), "due", "4 days left"),
        (None, date(2026, 3, 18), "due", "closes today"),
        (None, date(2026, 3, 13), "upcoming", "opens in 1 day"),
    ],
)
def test_window_status(visit_date, today, status, needle):
    d7 = {v.code: v for v in visit_calendar(_plan(), INFUSION)}["D7"]
    got = window_status(d7, visit_date, today)
    assert isinstance(got, WindowStatus)
    assert got == status and got.status == status
    assert needle in got.reason and "D7 window 2026-03-14 to 2026-03-18" in got.reason
    assert got.is_deviation == (status in ("early", "late", "missed"))


def test_done_visit_status_does_not_depend_on_today():
    v = ScheduledVisit("D7", "Day 7", date(2026, 3, 16), date(2026, 3, 14), date(2026, 3, 18), ())
    # a site a day ahead of UTC may record a visit dated "tomorrow" in UTC terms
    assert window_status(v, date(2026, 3, 17), date(2026, 3, 16)) == "in_window"
    assert window_status(v, date(2026, 3, 20), date(2026, 3, 1)) == "late"


def test_window_status_value_is_checked():
    with pytest.raises(ValueError, match="expected one of early"):
        WindowStatus("fine", "x")


def test_calendar_needs_a_date():
    with pytest.raises(TypeError, match="infusion_date"):
        visit_calendar(_plan(), "2026-03-10")
