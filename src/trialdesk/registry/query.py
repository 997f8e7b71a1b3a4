"""What a registry search asks for: ``SearchQuery``, its allowed values and validation.

``SearchError`` (raised for any invalid parameter, also by ``places.resolve_city``) and
``age_days`` (a patient's age in the unit of the trials' age columns, used by both the SQL
plans and ``fastsearch``) live here so that every search module can import them without
importing ``search``. ``trialdesk.registry.search`` re-exports all of them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from trialdesk.registry import PHASE_BITS, geo

STATUSES = (
    "ACTIVE_NOT_RECRUITING",
    "COMPLETED",
    "ENROLLING_BY_INVITATION",
    "NOT_YET_RECRUITING",
    "RECRUITING",
    "SUSPENDED",
    "TERMINATED",
    "WITHDRAWN",
    "AVAILABLE",
    "NO_LONGER_AVAILABLE",
    "TEMPORARILY_NOT_AVAILABLE",
    "APPROVED_FOR_MARKETING",
    "WITHHELD",
    "UNKNOWN",
)
STUDY_TYPES = ("EXPANDED_ACCESS", "INTERVENTIONAL", "OBSERVATIONAL")
SEXES = ("FEMALE", "MALE", "ALL")
PHASES = tuple(PHASE_BITS)
MAX_PER_PAGE = 100
#: Highest page number accepted. At ``MAX_PER_PAGE`` that is 100 million results, beyond any
#: registry (ClinicalTrials.gov holds about 560,000 studies), and it keeps the offset
#: ``(page - 1) * per_page`` far inside a 64-bit integer, whatever the engine. A page past
#: the last one (but within this bound) is an empty page with the true total; every engine
#: also stops at its match count itself (``textindex.TextIndex.top``, ``fastsearch.run``,
#: ``sqlplan.SearchPlan``), so no offset beyond the matches reaches a collector (issue 15: page
#: 2147483648 made Tantivy allocate ~687 GB and abort the server).
MAX_PAGE = 1_000_000
#: Days per year used for ages, both for the patient's age and the trials' limits.
DAYS_PER_YEAR = 365.25


class SearchError(ValueError):
    """A search parameter is invalid; the message names the parameter and what is allowed."""


def age_days(years: float) -> int:
    """An age in years as whole days (floor of years x 365.25), the unit of the age columns."""
    return math.floor(years * DAYS_PER_YEAR + 1e-9)


def _as_tuple(value: Any) -> tuple[str, ...]:
    if value is None or value == "":
        return ()
    if isinstance(value, str):
        return tuple(v.strip() for v in value.split(",") if v.strip())
    return tuple(value)


def _whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _short(value: Any) -> str:
    """``repr(value)``, cut to 40 characters (a rejected value may be thousands of digits)."""
    text = repr(value) if not _whole(value) or abs(value) < 10**40 else "a larger number"
    return text if len(text) <= 40 else text[:37] + "..."


@dataclass(frozen=True)
class SearchQuery:
    """What to look for. Every field is optional; an empty query lists all trials by NCT id.

    ``statuses`` and ``phases`` accept a tuple or a comma-separated string; a trial
    matches any of the phases given (a Phase 1/2 trial is found by PHASE1 and by PHASE2).
    ``age`` is the patient's age in years. ``near`` is (lat, lon); ``near_city`` is
    "City", "City, Country" or "City, State, Country" resolved from the stored sites.
    ``within_km`` (needs ``near`` or ``near_city``) keeps trials with a site that close;
    ``near`` alone only reports each hit's nearest site.
    """

    text: str = ""
    statuses: tuple[str, ...] = ()
    phases: tuple[str, ...] = ()
    study_type: str | None = None
    sex: str | None = None
    age: float | None = None
    condition: str | None = None
    country: str | None = None
    city: str | None = None
    near: tuple[float, float] | None = None
    near_city: str | None = None
    within_km: float | None = None
    page: int = 1
    per_page: int = 20

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        set_(self, "text", (self.text or "").strip())
        set_(self, "statuses", tuple(s.upper() for s in _as_tuple(self.statuses)))
        set_(self, "phases", tuple(p.upper() for p in _as_tuple(self.phases)))
        for name in ("study_type", "sex"):
            value = getattr(self, name)
            set_(self, name, value.strip().upper() if value and value.strip() else None)
        for name in ("condition", "country", "city", "near_city"):
            value = getattr(self, name)
            set_(self, name, value.strip() if value and value.strip() else None)
        if self.near is not None:
            set_(self, "near", (float(self.near[0]), float(self.near[1])))
        self.validate()

    def validate(self) -> None:
        """Raise ``SearchError`` naming the first invalid parameter."""
        from trialdesk.registry import filters  # declared from this module's values

        for f in filters.FILTERS:  # every coded filter: its values among its codes
            if f.codes and f.active(self):
                value = getattr(self, f.name)
                for code in value if isinstance(value, tuple) else (value,):
                    if code not in f.codes:
                        raise SearchError(
                            f"{f.parameter} {code!r} is not one of {', '.join(f.codes)}"
                        )
        if self.age is not None and not (
            isinstance(self.age, int | float) and 0 <= self.age <= 150
        ):
            raise SearchError(f"age must be a number of years from 0 to 150, got {self.age!r}")
        if self.near is not None and self.near_city is not None:
            raise SearchError("give either near (lat, lon) or near_city, not both")
        if self.near is not None:
            try:
                geo.validate_point(*self.near)
            except ValueError as exc:
                raise SearchError(f"near: {exc}") from None
        if self.within_km is not None:
            if self.near is None and self.near_city is None:
                raise SearchError("within_km needs near (lat, lon) or near_city")
            if not (isinstance(self.within_km, int | float) and 0 < self.within_km <= 20_050):
                raise SearchError(
                    f"within_km must be a distance in km above 0 and at most 20050, "
                    f"got {self.within_km!r}"
                )
        if not (_whole(self.page) and 1 <= self.page <= MAX_PAGE):
            raise SearchError(
                f"page must be a whole number from 1 to {MAX_PAGE:,}, got {_short(self.page)}"
            )
        if not (_whole(self.per_page) and 1 <= self.per_page <= MAX_PER_PAGE):
            raise SearchError(
                f"per_page must be a whole number from 1 to {MAX_PER_PAGE}, "
                f"got {_short(self.per_page)}"
            )

    @property
    def offset(self) -> int:
        """How many results come before this page: ``(page - 1) * per_page``."""
        return (self.page - 1) * self.per_page

    @property
    def has_location(self) -> bool:
        return self.near is not None or self.near_city is not None
