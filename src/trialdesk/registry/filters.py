"""Every search filter declared once, compiled to each engine.

A filter is one declaration in ``FILTERS``: the ``SearchQuery`` attribute it reads, the
``registry_trial`` column(s) it tests and its kind. Each kind compiles itself to

- SQL (``sql``: a condition on the trial alias ``t``, the same text on SQLite and
  PostgreSQL; ``sqlplan.SearchPlan`` runs it);
- a numpy mask over the in-memory filter index (``mask``; ``filterindex`` reads the columns
  each filter names in ``row_columns`` and loads them with ``load``);
- a Tantivy query (``tantivy``; the text index stores the fields each filter names in
  ``index_fields``, filled from a trial's ``textrow.TextRow`` by ``document``);

and knows how to draw a random value (``sample``), so that the engine-agreement tests cover a
new filter without being touched. The eligibility rules are compiled the same way
(``trialdesk.eligibility.cohort_compile``: to Polars and to SQL).

The kinds (the filter's meaning, written once):

- ``EnumIn``: the column is one of the chosen codes (status, study type);
- ``SexRule``: the patient's sex: trials for that sex, for all, or not saying (``""``);
- ``BitmaskAny``: the column's bits include any chosen one (phases: a Phase 1/2 trial is
  found by PHASE1 and by PHASE2);
- ``RangeContains``: the value, in the columns' unit, lies between a lower and an upper
  limit, inclusive; a NULL limit is an open end (age in years, limits in days);
- ``SitePlace``: a site with this country and/or city (case-insensitive); not held by the
  in-memory indexes, so a query using it runs on the SQL plans (``search.engine_for``);
- ``Distance``: a site within ``within_km`` of the query's point (haversine, ``geo``).

Adding a filter: a field on ``SearchQuery`` (query.py), one declaration here and, if it is
indexed, a column in ``registry_trial`` (docs/registry.md shows an example). The condition
filter (all its words in the conditions) is part of the full-text query, not a filter here.
"""

from __future__ import annotations

from typing import Any

from trialdesk.registry import PHASE_BITS
from trialdesk.registry.filterdistance import Distance, SiteSearch, haversine_sql, point_key
from trialdesk.registry.filterkinds import (
    AGE_OPEN,
    EMPTY,
    BitmaskAny,
    EnumIn,
    Filter,
    RangeContains,
    SexRule,
    SitePlace,
)
from trialdesk.registry.query import SEXES, STATUSES, STUDY_TYPES, age_days

__all__ = [
    "AGE_OPEN",
    "BY_NAME",
    "DISTANCE",
    "EMPTY",
    "FILTERS",
    "ROW_COLUMNS",
    "BitmaskAny",
    "Distance",
    "EnumIn",
    "Filter",
    "RangeContains",
    "SexRule",
    "SitePlace",
    "SiteSearch",
    "active",
    "haversine_sql",
    "indexed",
    "point_key",
    "sample_query",
]

# ---------------------------------------------------------------------- the declarations

#: Every filter, in the order the engines apply them. The text index's schema lists the
#: fields in this order (its "raw" fields first, then its "int" fields), as before the
#: declarations existed, so an index written by an earlier version still opens.
FILTERS: tuple[Filter, ...] = (
    EnumIn(
        "statuses", "Recruitment status", "Overall status code(s), comma-separated: any of them.",
        param="status", column="overall_status", values=STATUSES,
        index_fields=(("status", "raw"),), rate=0.5,
    ),
    EnumIn(
        "study_type", "Study type", "The study type.",
        column="study_type", values=STUDY_TYPES, multiple=False, rate=0.2,
    ),
    SexRule(
        "sex", "Patient sex", "The patient's sex: trials open to it or to all.",
        column="sex", values=SEXES, rate=0.3,
    ),
    BitmaskAny(
        "phases", "Phase", "Phase code(s), comma-separated: any of them (PHASE1 finds Phase 1/2).",
        param="phase", column="phase_mask", bits=PHASE_BITS, index_fields=(("phase", "raw"),),
    ),
    RangeContains(
        "age", "Patient age (years)",
        "The patient's age in years: trials whose age limits include it.",
        low="min_age_days", high="max_age_days", to_unit=age_days,
        index_fields=(("min_age", "int"), ("max_age", "int")),
        examples=(0.5, 8, 17.99, 18, 45, 65, 75, 90),
    ),
    SitePlace(
        "place", "Site country and city", "A site in this country and/or city.",
        names=("country", "city"),
    ),
    Distance(
        "within_km", "Within (km)",
        "Keep trials with a site this close to near/near_city (km, > 0).",
        examples=(10, 50, 150, 500, 2000),
    ),
)  # fmt: skip

BY_NAME: dict[str, Filter] = {f.name: f for f in FILTERS}
DISTANCE: Distance = next(f for f in FILTERS if isinstance(f, Distance))
#: The ``registry_trial`` columns the in-memory indexes read (``id`` not included).
ROW_COLUMNS: tuple[str, ...] = tuple(c for f in FILTERS if f.indexed for c in f.row_columns)


def active(query) -> list[Filter]:
    """The filters ``query`` uses, in declaration order."""
    return [f for f in FILTERS if f.active(query)]


def indexed(query) -> bool:
    """Whether the in-memory indexes hold every filter ``query`` uses."""
    return all(f.indexed for f in active(query))


def sample_query(rng, points) -> dict[str, Any]:
    """Random ``SearchQuery`` keywords drawing on every declared filter."""
    out: dict[str, Any] = {}
    for f in FILTERS:
        out.update(f.sample(rng, points))
    return out
