"""The visit calendar of a participant and the window status of each visit.

Study days follow the CDISC SDTM Implementation Guide (v3.4, section 4.4.4, "Use of the
Study Day Variables"): the reference start date (here the infusion date) is day 1, the day
before it is day -1, and there is no day 0. So study day ``d`` falls on
``infusion + (d - 1)`` days when ``d > 0`` and on ``infusion + d`` days when ``d < 0``.

A visit's window runs from ``day - window_before`` to ``day + window_after`` (both ends
included). The loader guarantees that no window crosses the infusion day, so the window's
ends are plain date offsets from the target date.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from trialdesk.protocol.conduct import ConductPlan, VisitDefinition

__all__ = [
    "WINDOW_STATUSES",
    "ScheduledVisit",
    "WindowStatus",
    "date_of_study_day",
    "study_day",
    "visit_calendar",
    "window_status",
]

WINDOW_STATUSES = ("early", "in_window", "late", "missed", "due", "upcoming")


def study_day(on: date, infusion_date: date) -> int:
    """The study day of ``on`` (day 1 = ``infusion_date``, no day 0; CDISC SDTM IG 4.4.4)."""
    delta = (on - infusion_date).days
    return delta + 1 if delta >= 0 else delta


def date_of_study_day(day: int, infusion_date: date) -> date:
    """The calendar date of study ``day`` (the inverse of :func:`study_day`)."""
    if day == 0:
        raise ValueError("there is no study day 0 (day 1 = infusion date, the day before is -1)")
    return infusion_date + timedelta(days=day - 1 if day > 0 else day)


@dataclass(frozen=True)
class ScheduledVisit:
    """A participant's visit on the calendar: target date and the window's first and last day."""

    code: str
    label: str
    target_date: date
    earliest: date
    latest: date
    assessments: tuple[str, ...]
    day: int = 0  # target study day
    is_infusion: bool = False

    def to_dict(self) -> dict[str, object]:
        return {
            "code": self.code,
            "label": self.label,
            "day": self.day,
            "target_date": self.target_date.isoformat(),
            "earliest": self.earliest.isoformat(),
            "latest": self.latest.isoformat(),
            "assessments": list(self.assessments),
            "is_infusion": self.is_infusion,
        }


class WindowStatus(str):
    """A window status (one of :data:`WINDOW_STATUSES`) that carries its reason.

    It *is* the status string (``window_status(...) == "late"``), with ``.status`` and
    ``.reason`` attributes for display and the deviation record.
    """

    reason: str

    def __new__(cls, status: str, reason: str) -> WindowStatus:
        if status not in WINDOW_STATUSES:
            raise ValueError(
                f"window status {status!r}: expected one of {', '.join(WINDOW_STATUSES)}"
            )
        obj = super().__new__(cls, status)
        obj.reason = reason
        return obj

    @property
    def status(self) -> str:
        return str.__str__(self)

    @property
    def is_deviation(self) -> bool:
        """True for a visit done outside its window or missed (a protocol deviation)."""
        return self.status in ("early", "late", "missed")

    def __repr__(self) -> str:
        return f"WindowStatus({self.status!r}, {self.reason!r})"


def schedule_visit(visit: VisitDefinition, infusion_date: date) -> ScheduledVisit:
    """One visit definition placed on the calendar of a participant infused on ``infusion_date``."""
    target = date_of_study_day(visit.day, infusion_date)
    return ScheduledVisit(
        code=visit.code,
        label=visit.label,
        target_date=target,
        earliest=target - timedelta(days=visit.window_before),
        latest=target + timedelta(days=visit.window_after),
        assessments=visit.assessments,
        day=visit.day,
        is_infusion=visit.is_infusion,
    )


def visit_calendar(plan: ConductPlan, infusion_date: date) -> tuple[ScheduledVisit, ...]:
    """Every visit of ``plan`` on the calendar, in protocol order, from the infusion date.

    Source: the protocol's schedule of visits; study days per CDISC SDTM IG v3.4 4.4.4.
    """
    if not isinstance(infusion_date, date):
        raise TypeError(f"infusion_date: expected a date, got {type(infusion_date).__name__}")
    return tuple(schedule_visit(v, infusion_date) for v in plan.visits)


def window_status(scheduled: ScheduledVisit, visit_date: date | None, today: date) -> WindowStatus:
    """Where a visit stands against its window.

    Done (``visit_date`` given): "early" before ``earliest``, "in_window" from ``earliest``
    to ``latest``, "late" after ``latest``. Not done: "upcoming" before the window opens,
    "due" while it is open, "missed" once it has closed (``today`` after ``latest``).
    ``today`` is used only for a visit not done: whether a visit date lies in the future is
    the entry form's check (a site's local date can be a day ahead of UTC).
    """
    window = (
        f"{scheduled.code} window {scheduled.earliest.isoformat()} to "
        f"{scheduled.latest.isoformat()} (target {scheduled.target_date.isoformat()}, "
        f"study day {scheduled.day})"
    )
    if visit_date is not None:
        if visit_date < scheduled.earliest:
            days = (scheduled.earliest - visit_date).days
            return WindowStatus(
                "early", f"done {visit_date.isoformat()}, {_days(days)} before the {window}"
            )
        if visit_date > scheduled.latest:
            days = (visit_date - scheduled.latest).days
            return WindowStatus(
                "late", f"done {visit_date.isoformat()}, {_days(days)} after the {window}"
            )
        return WindowStatus("in_window", f"done {visit_date.isoformat()}, inside the {window}")
    if today > scheduled.latest:
        days = (today - scheduled.latest).days
        return WindowStatus("missed", f"not done; the {window} closed {_days(days)} ago")
    if today >= scheduled.earliest:
        left = (scheduled.latest - today).days
        closes = "closes today" if left == 0 else f"{_days(left)} left"
        return WindowStatus("due", f"not done; the {window} is open ({closes})")
    until = (scheduled.earliest - today).days
    return WindowStatus("upcoming", f"the {window} opens in {_days(until)}")


def _days(n: int) -> str:
    return f"{n} day" if n == 1 else f"{n} days"
