"""The protocol's time limits, computed: processing start after delivery, expiry, thaw.

``check_time_limit(limit, start, end)`` measures the time from ``start`` to ``end`` against a
:class:`~trialdesk.protocol.cellproduct.TimeLimit` of the trial's ``cell_product`` section and
says what a breach means there (``block`` the step, or record a ``deviation``).
``expiry(prepared_at, plan)`` is the dose unit's expiry: preparation plus the plan's
preparation -> infusion limit.

Times must be timezone-aware (a clock change or a laboratory in another zone must not move
a deadline); an end before the start is refused.

>>> from datetime import datetime, timezone
>>> from decimal import Decimal
>>> from trialdesk.protocol.cellproduct import TimeLimit
>>> limit = TimeLimit("delivery_to_processing", "delivery", "processing_start", Decimal(24), "deviation")
>>> t0 = datetime(2026, 3, 1, 8, 0, tzinfo=timezone.utc)
>>> check = check_time_limit(limit, t0, t0.replace(day=2, hour=9))
>>> check.ok, str(check.elapsed), check.on_breach
(False, '1 day, 1:00:00', 'deviation')
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from trialdesk.protocol.cellproduct import EVENTS, CellProductPlan, TimeLimit

__all__ = ["TimeCheck", "TimeLimitError", "check_time_limit", "expiry"]


class TimeLimitError(ValueError):
    """Times that cannot be compared: naive, missing, or the end before the start."""


@dataclass(frozen=True)
class TimeCheck:
    """The result of one time limit: ``ok`` when ``elapsed <= limit``.

    ``on_breach`` is the protocol's consequence of a breach (``block`` / ``deviation``);
    ``blocks`` is True only for a breach the protocol blocks.
    """

    ok: bool
    elapsed: timedelta
    limit: TimeLimit
    on_breach: str
    message: str

    @property
    def blocks(self) -> bool:
        return not self.ok and self.on_breach == "block"

    @property
    def is_deviation(self) -> bool:
        return not self.ok and self.on_breach == "deviation"


def _hours(delta: timedelta) -> str:
    total_minutes = int(delta.total_seconds() // 60)
    hours, minutes = divmod(total_minutes, 60)
    return f"{hours} h {minutes:02d} min"


def _aware(value: datetime, what: str) -> datetime:
    if not isinstance(value, datetime):
        raise TimeLimitError(f"{what}: expected a date and time, got {value!r}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise TimeLimitError(f"{what}: {value.isoformat()} has no time zone")
    return value


def check_time_limit(limit: TimeLimit, start: datetime, end: datetime) -> TimeCheck:
    """Measure ``start`` -> ``end`` against ``limit`` (a breach is ``elapsed > limit``: the
    listing's "within 24 hours" admits exactly 24 h)."""
    start = _aware(start, f"{limit.id}: {EVENTS[limit.start]}")
    end = _aware(end, f"{limit.id}: {EVENTS[limit.end]}")
    # In UTC: Python subtracts two times of the same tzinfo on the wall clock, which would
    # ignore a daylight-saving change between them.
    elapsed = end.astimezone(UTC) - start.astimezone(UTC)
    if elapsed < timedelta(0):
        raise TimeLimitError(
            f"{limit.id}: {EVENTS[limit.end]} ({end.isoformat()}) is before "
            f"{EVENTS[limit.start]} ({start.isoformat()})"
        )
    ok = elapsed <= limit.duration
    what = f"{EVENTS[limit.end]} {_hours(elapsed)} after {EVENTS[limit.start]}"
    if ok:
        message = f"{what}: within the limit of {limit.hours:f} h"
    else:
        consequence = (
            "the step is blocked" if limit.on_breach == "block" else "recorded as a deviation"
        )
        message = (
            f"{what}: exceeds the limit of {limit.hours:f} h by {_hours(elapsed - limit.duration)};"
            f" {consequence}"
        )
    return TimeCheck(ok, elapsed, limit, limit.on_breach, message)


def expiry(prepared_at: datetime, plan: CellProductPlan) -> datetime:
    """When a dose unit prepared at ``prepared_at`` expires: preparation plus the plan's
    preparation -> infusion limit (``plan.expiry_limit``)."""
    prepared_at = _aware(prepared_at, "expiry: preparation of the dose unit")
    return (prepared_at.astimezone(UTC) + plan.expiry_limit.duration).astimezone(prepared_at.tzinfo)
