"""Search the registry: full text + filters, ranked, paged; the location tree and city lookup.

One behaviour, answered by the engine that suits the database and the query (chosen in
one place, ``engine_for``; every filter is declared once in ``filters`` and compiled to
each engine):

- SQLite without a country or city filter: the per-process numpy filter and distance index
  (``filterindex``, searched by ``fastsearch``); text ranked by the Tantivy index
  (``textindex``, BM25) while it holds the database's current state, else matched and
  ranked by the FTS5 table ``registry_trial_fts`` (``bm25`` with column weights: titles and
  acronym highest, then conditions, interventions, summary, criteria);
- SQLite with a country or city filter (or ``FAST_INDEX`` off): the SQL plans of
  ``sqlplan`` over FTS5;
- PostgreSQL: the SQL plans over the generated ``search_vector`` (weights A-D) with a GIN
  index, matched by ``websearch_to_tsquery('english', ...)`` and ranked by ``ts_rank_cd``.

User text is never passed to an engine raw. ``parse_text`` reads a small web-search
syntax (words, "quoted phrases", ``OR``, ``-excluded``) and every engine receives a query
rebuilt from its result, so input like ``cirrhosis AND (`` never raises a syntax error and
the engines agree on which words count (the PostgreSQL English stop words are dropped on
all of them). Tests compare the engines on random queries (docs/registry.md names the few
known differences of stemming and of order among equal-relevance results).

Filters: statuses, phases (any of), study type, sex (the patient's: FEMALE matches FEMALE
and ALL trials), age in years (min_age <= age <= max_age, inclusive, open ends allowed),
condition (all its words in the trial's conditions), country / city of a site, and a
distance (a site within ``within_km`` of ``near`` or ``near_city``). Distances are per
site: each hit reports its nearest site.

This module is the public entry: it runs ``search`` and builds its results (``SearchPage``,
``SearchHit``, ``Site``), and re-exports the pieces, which live in

- ``query``: ``SearchQuery``, its validation, ``SearchError``, ``STATUSES``, ``PHASES``,
  ``MAX_PAGE``, ``MAX_PER_PAGE``, ``age_days``;
- ``filters``: the filter declarations (kinds in ``filterkinds`` and ``filterdistance``);
- ``textquery``: ``parse_text``, ``TextQuery``, ``Term``, ``STOP_WORDS``;
- ``places``: ``locations_tree``, ``cities``, ``resolve_city`` and the per-registry-state
  cache ``cached_per_state``;
- ``sqlplan``: the SQL plans (``SearchPlan``, ``BM25_WEIGHTS``, probe caps);
- ``filterindex`` and ``fastsearch``: the in-memory filter index and the searches run
  with it (SQLite).

``COUNT_CAP`` and ``FAST_INDEX`` stay here because ``search`` reads them at call time (tests
patch them on this module).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

from trialdesk.registry import filters, geo
from trialdesk.registry.places import (
    City,
    CityCount,
    CountryCount,
    cached_per_state,
    cities,
    locations_tree,
    resolve_city,
)
from trialdesk.registry.query import (
    DAYS_PER_YEAR,
    MAX_PAGE,
    MAX_PER_PAGE,
    PHASES,
    SEXES,
    STATUSES,
    STUDY_TYPES,
    SearchError,
    SearchQuery,
    age_days,
)
from trialdesk.registry.sqlplan import (
    BM25_WEIGHTS,
    FTS_PROBE_COST,
    PROBE_CAP,
    SITES_DRIVE_CAP,
    SearchPlan,
)
from trialdesk.registry.textquery import STOP_WORDS, Term, TextQuery, parse_text

__all__ = [
    # defined here
    "COUNT_CAP",
    "FAST_INDEX",
    "SearchHit",
    "SearchPage",
    "Site",
    "engine_for",
    "search",
    # re-exported from query, textquery, places and sqlplan
    "BM25_WEIGHTS",
    "DAYS_PER_YEAR",
    "FTS_PROBE_COST",
    "MAX_PAGE",
    "MAX_PER_PAGE",
    "PHASES",
    "PROBE_CAP",
    "SEXES",
    "SITES_DRIVE_CAP",
    "STATUSES",
    "STOP_WORDS",
    "STUDY_TYPES",
    "City",
    "CityCount",
    "CountryCount",
    "SearchError",
    "SearchQuery",
    "Term",
    "TextQuery",
    "age_days",
    "cities",
    "locations_tree",
    "parse_text",
    "resolve_city",
    # the SQL plan and the per-registry-state cache
    "SearchPlan",
    "cached_per_state",
]

#: Without text, the total is counted up to this many matches (then ``total_exact`` is False).
COUNT_CAP = 1_000


@dataclass(frozen=True)
class Site:
    """A trial site; ``distance_km`` is from the query's point (None without one)."""

    facility: str
    city: str
    state: str
    country: str
    status: str
    lat: float | None
    lon: float | None
    distance_km: float | None = None


@dataclass(frozen=True)
class SearchHit:
    nct_id: str
    brief_title: str
    overall_status: str
    phases: tuple[str, ...]
    conditions: tuple[str, ...]
    #: Relevance (higher is better) when the query has text, else None.
    score: float | None
    #: The trial's site nearest to the query's point, when a location is given.
    nearest_site: Site | None = None


@dataclass(frozen=True)
class SearchPage:
    results: tuple[SearchHit, ...]
    total: int
    page: int
    per_page: int
    pages: int
    #: False when ``total`` is a lower bound (counting stopped at ``COUNT_CAP``).
    total_exact: bool = True
    #: The point distances were measured from (resolved from ``near_city`` if given).
    origin: tuple[float, float] | None = None
    #: How the text was read, as a web-search string ("" without text).
    text_query: str = ""

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: ``total``, ``page``, ``pages``, ``per_page``, ``results``, ..."""
        return {
            "total": self.total,
            "total_exact": self.total_exact,
            "page": self.page,
            "pages": self.pages,
            "per_page": self.per_page,
            "origin": list(self.origin) if self.origin else None,
            "text_query": self.text_query,
            "results": [
                {
                    **{k: v for k, v in asdict(hit).items() if k != "nearest_site"},
                    "phases": list(hit.phases),
                    "conditions": list(hit.conditions),
                    "nearest_site": asdict(hit.nearest_site) if hit.nearest_site else None,
                }
                for hit in self.results
            ],
        }


# --------------------------------------------------------------------------- search


def search(query: SearchQuery) -> SearchPage:
    """Run ``query`` on the default database; see the module docstring for the semantics
    and the engines.

    Ordered by relevance (then NCT id) with text, else by NCT id. SQLite searches without a
    country or city filter run on the in-memory index (``fastsearch.run``). The SQL plans
    (the other SQLite searches; on PostgreSQL one statement, planned by the server from its
    statistics):

    - a distance filter narrows sites by 0.1-degree grid cells (one indexed range per cell
      row), then the exact bounding box, then the haversine distance;
    - with text and a distance, whichever candidate set is smaller drives the query: the
      full-text matches, or the trials with a site in range (both sizes are probed with a
      capped count first); the other is checked per candidate (FTS5 by rowid, sites by
      ``trial_id``); filters on the trial row apply by primary key;
    - bm25 is computed only for candidates that pass every filter; the total comes from
      ``COUNT(*) OVER ()`` in the same statement;
    - without text, unless the sites in range are few, the page is read in NCT id order from
      a covering index, each trial's sites checked by ``trial_id``, and the total counted up
      to ``COUNT_CAP`` (``total_exact`` False beyond).
    """
    from django.db import connection

    vendor = connection.vendor
    if vendor not in ("sqlite", "postgresql"):
        raise SearchError(f"search is not available on the {vendor} database backend")
    text = parse_text(query.text)
    origin: tuple[float, float] | None = None
    if query.near is not None:
        origin = query.near
    elif query.near_city is not None:
        place = resolve_city(query.near_city)
        origin = (place.lat, place.lon)
    plan = SearchPlan(query, text, origin, vendor)
    offset = query.offset
    if engine_for(query, vendor) == "index":
        from trialdesk.registry import fastsearch, filterindex

        index = cached_per_state("filter_index", filterindex.build_index)
        with connection.cursor() as cursor:
            rows, total = fastsearch.run(query, plan, index, cursor, origin)
        exact = True
    else:
        rows, total, exact = _run_sql(plan, connection, offset)
    hits = _hits(rows, origin, scored=plan.ranked)

    pages = max(1, math.ceil(total / query.per_page)) if total else 0
    return SearchPage(
        results=tuple(hits),
        total=total,
        page=query.page,
        per_page=query.per_page,
        pages=pages,
        total_exact=exact,
        origin=origin,
        text_query=text.websearch(),
    )


#: SQLite searches whose filters are all indexed use the in-memory filter and distance
#: index (``fastsearch``); False sends them through the SQL plans (tests compare the two).
FAST_INDEX = True


def engine_for(query: SearchQuery, vendor: str) -> str:
    """Which engine answers ``query``, decided here only:

    - ``"index"``: SQLite, ``FAST_INDEX`` on, and every filter the query uses held by the
      in-memory indexes (``filters.indexed``: all but the site country and city). Ranked
      text then goes to the Tantivy index while it holds the database's current state,
      else to FTS5 (``fastsearch.run``);
    - ``"sql"``: the SQL plans (``sqlplan.SearchPlan``): PostgreSQL always, SQLite
      otherwise.
    """
    if vendor == "sqlite" and FAST_INDEX and filters.indexed(query):
        return "index"
    return "sql"


def _run_sql(plan: SearchPlan, connection, offset: int) -> tuple[list, int, bool]:
    with connection.cursor() as cursor:
        if plan.ranked or plan.fts_expr or (plan.located and plan.few_sites(cursor)):
            rows, total = plan.run_windowed(cursor, offset)
            return rows, total, True
        return plan.run_plain(cursor, offset, COUNT_CAP)


def _hits(rows, origin, scored: bool) -> list[SearchHit]:
    from django.db import connection

    nearest: dict[int, Site] = {}
    if origin is not None and rows:
        ids = [r[0] for r in rows]
        marks = ", ".join(["%s"] * len(ids))
        best: dict[int, tuple[float, int]] = {}
        with connection.cursor() as cursor:
            # Positions from the covering (trial, cell, lat, lon) index, then the details of
            # each trial's nearest site only.
            cursor.execute(
                "SELECT trial_id, id, lat, lon FROM registry_triallocation "
                f"WHERE trial_id IN ({marks}) AND lat IS NOT NULL AND lon IS NOT NULL",
                ids,
            )
            for trial_id, site_id, lat, lon in cursor.fetchall():
                d = geo.haversine_km(origin[0], origin[1], lat, lon)
                if trial_id not in best or (d, site_id) < best[trial_id]:
                    best[trial_id] = (d, site_id)
            if best:
                cursor.execute(
                    "SELECT trial_id, facility, city, state, country, status, lat, lon "
                    f"FROM registry_triallocation WHERE id IN ({', '.join(['%s'] * len(best))})",
                    [site_id for _, site_id in best.values()],
                )
                for trial_id, facility, city, state, country, status, lat, lon in cursor:
                    nearest[trial_id] = Site(
                        facility, city, state, country, status, lat, lon,
                        round(best[trial_id][0], 3),
                    )  # fmt: skip
    return [
        SearchHit(
            nct_id=nct_id,
            brief_title=title,
            overall_status=status,
            phases=tuple(p for p in phases.split(",") if p),
            conditions=tuple(c for c in conditions.split("\n") if c),
            score=float(score) if scored and score is not None else None,
            nearest_site=nearest.get(trial_id),
        )
        for trial_id, nct_id, title, status, phases, conditions, score in rows
    ]
