"""Search the registry: full text + filters, ranked, paged; the location tree and city lookup.

Two engines, one behaviour:

- SQLite: the FTS5 table ``registry_trial_fts`` ranked by ``bm25`` with column weights
  (titles and acronym highest, then conditions, interventions, summary, criteria);
- PostgreSQL: the generated ``search_vector`` (weights A-D) with a GIN index, matched by
  ``websearch_to_tsquery('english', ...)`` and ranked by ``ts_rank_cd``.

User text is never passed to either engine raw. ``parse_text`` reads a small web-search
syntax (words, "quoted phrases", ``OR``, ``-excluded``) and both engines receive a query
rebuilt from its result, so input like ``cirrhosis AND (`` never raises a syntax error and
both engines agree on which words count (the PostgreSQL English stop words are dropped on
both).

Filters: statuses, phases (any of), study type, sex (the patient's: FEMALE matches FEMALE
and ALL trials), age in years (min_age <= age <= max_age, inclusive, open ends allowed),
condition (all its words in the trial's conditions), country / city of a site, and a
distance (a site within ``within_km`` of ``near`` or ``near_city``). Distances are per
site: each hit reports its nearest site.
"""

from __future__ import annotations

import math
import re
from dataclasses import asdict, dataclass, field
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
#: Without text, the total is counted up to this many matches (then ``total_exact`` is False).
COUNT_CAP = 1_000
#: Days per year used for ages, both for the patient's age and the trials' limits.
DAYS_PER_YEAR = 365.25

#: FTS5 column weights for bm25, in the column order of the FTS table (migration 0002).
BM25_WEIGHTS = (10.0, 8.0, 8.0, 4.0, 3.0, 2.0, 1.0)

#: PostgreSQL's English stop words (share/tsearch_data/english.stop, from Snowball); dropped
#: from queries on both engines so that SQLite and PostgreSQL read the same query.
STOP_WORDS = frozenset(
    """i me my myself we our ours ourselves you your yours yourself yourselves he him his
    himself she her hers herself it its itself they them their theirs themselves what which
    who whom this that these those am is are was were be been being have has had having do
    does did doing a an the and but if or because as until while of at by for with about
    against between into through during before after above below to from up down in out on
    off over under again further then once here there when where why how all any both each
    few more most other some such no nor not only own same so than too very s t can will
    just don should now""".split()
)


class SearchError(ValueError):
    """A search parameter is invalid; the message names the parameter and what is allowed."""


def age_days(years: float) -> int:
    """An age in years as whole days (floor of years x 365.25), the unit of the age columns."""
    return math.floor(years * DAYS_PER_YEAR + 1e-9)


# --------------------------------------------------------------------------- the query


def _as_tuple(value: Any) -> tuple[str, ...]:
    if value is None or value == "":
        return ()
    if isinstance(value, str):
        return tuple(v.strip() for v in value.split(",") if v.strip())
    return tuple(value)


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
        for status in self.statuses:
            if status not in STATUSES:
                raise SearchError(f"status {status!r} is not one of {', '.join(STATUSES)}")
        for phase in self.phases:
            if phase not in PHASE_BITS:
                raise SearchError(f"phase {phase!r} is not one of {', '.join(PHASES)}")
        if self.study_type is not None and self.study_type not in STUDY_TYPES:
            raise SearchError(
                f"study_type {self.study_type!r} is not one of {', '.join(STUDY_TYPES)}"
            )
        if self.sex is not None and self.sex not in SEXES:
            raise SearchError(f"sex {self.sex!r} is not one of {', '.join(SEXES)}")
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
        if not (isinstance(self.page, int) and self.page >= 1):
            raise SearchError(f"page must be a whole number >= 1, got {self.page!r}")
        if not (isinstance(self.per_page, int) and 1 <= self.per_page <= MAX_PER_PAGE):
            raise SearchError(
                f"per_page must be a whole number from 1 to {MAX_PER_PAGE}, got {self.per_page!r}"
            )

    @property
    def has_location(self) -> bool:
        return self.near is not None or self.near_city is not None


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


# --------------------------------------------------------------------------- text parsing


@dataclass(frozen=True)
class Term:
    """One word or quoted phrase of a text query."""

    text: str
    negated: bool = False
    phrase: bool = False


@dataclass(frozen=True)
class TextQuery:
    """A parsed text query: alternatives (OR) of conjunctions (AND) of terms."""

    groups: tuple[tuple[Term, ...], ...] = field(default_factory=tuple)

    @property
    def empty(self) -> bool:
        return not self.groups

    def websearch(self) -> str:
        """The query in ``websearch_to_tsquery`` syntax (also shown to users)."""
        parts = []
        for group in self.groups:
            words = []
            for term in group:
                body = f'"{term.text}"' if term.phrase else term.text
                words.append(("-" if term.negated else "") + body)
            parts.append(" ".join(words))
        return " or ".join(parts)

    def fts5(self) -> str:
        """The query as an FTS5 MATCH expression, every term a quoted string."""
        alternatives = []
        for group in self.groups:
            pos = " AND ".join(_fts5_string(t.text) for t in group if not t.negated)
            neg = "".join(f" NOT {_fts5_string(t.text)}" for t in group if t.negated)
            alternatives.append(f"({pos}){neg}")
        return " OR ".join(f"({a})" for a in alternatives)


_TOKEN = re.compile(r'(-?)"([^"]*)"?|(\S+)')
_WORD = re.compile(r"[^\W_]+")


def _fts5_string(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def _clean_words(text: str) -> list[str]:
    """Letters/digits runs of ``text`` without stop words (what the tokenizers index)."""
    return [w for w in _WORD.findall(text) if w.lower() not in STOP_WORDS]


def _phrase_words(text: str) -> list[str]:
    """The words of a phrase, stop words kept (they hold the word positions) unless the
    phrase is nothing but stop words."""
    words = _WORD.findall(text)
    return words if any(w.lower() not in STOP_WORDS for w in words) else []


def parse_text(text: str) -> TextQuery:
    """Read user text as web-search syntax; never fails.

    - words are ANDed; ``"a phrase"`` must appear in that order; ``OR`` (any case) between
      terms gives alternatives; ``-word`` / ``-"a phrase"`` excludes;
    - ``AND``, punctuation, unbalanced quotes or brackets, and stop words are ignored;
    - a hyphenated word like ``COVID-19`` is the phrase "covid 19";
    - an alternative made only of exclusions is dropped (it cannot rank anything).
    """
    groups: list[list[Term]] = [[]]
    for match in _TOKEN.finditer(text or ""):
        minus, quoted, bare = match.group(1), match.group(2), match.group(3)
        if quoted is not None:
            words = _phrase_words(quoted)
            negated = bool(minus)
        else:
            if bare.upper() == "OR":
                groups.append([])
                continue
            if bare.upper() == "AND":
                continue
            negated = bare.startswith("-") and len(bare) > 1
            words = _phrase_words(bare[1:] if negated else bare)
        if not words:
            continue
        if len(words) == 1:
            groups[-1].append(Term(words[0], negated, phrase=False))
        else:
            groups[-1].append(Term(" ".join(words), negated, phrase=True))
    kept = tuple(tuple(g) for g in groups if any(not t.negated for t in g))
    return TextQuery(kept)


# --------------------------------------------------------------------------- places


@dataclass(frozen=True)
class City:
    name: str
    country: str
    lat: float
    lon: float
    trials: int

    @property
    def label(self) -> str:
        return f"{self.name}, {self.country}" if self.country else self.name


@dataclass(frozen=True)
class CityCount:
    name: str
    trials: int


@dataclass(frozen=True)
class CountryCount:
    name: str
    trials: int
    cities: tuple[CityCount, ...]


_cache: dict[str, tuple[Any, Any]] = {}


def _registry_version(cursor) -> tuple:
    """Changes whenever the registry does: ``RegistryState.version`` counts imported files
    and ORM saves and deletes; the largest id and last update time tell apart states
    whose counters coincide (e.g. after a rolled-back transaction)."""
    cursor.execute(
        "SELECT (SELECT MAX(id) FROM registry_trial), (SELECT MAX(updated_at) FROM "
        "registry_trial), (SELECT version FROM registry_registrystate WHERE id = 1)"
    )
    return tuple(cursor.fetchone())


def _cached(name: str, compute):
    from django.db import connection

    with connection.cursor() as cursor:
        version = (connection.alias, connection.settings_dict["NAME"], _registry_version(cursor))
        hit = _cache.get(name)
        if hit is not None and hit[0] == version:
            return hit[1]
        value = compute(cursor)
    _cache[name] = (version, value)
    return value


def locations_tree() -> tuple[CountryCount, ...]:
    """Countries (by name) -> cities (by name) -> number of distinct trials with a site there."""

    def compute(cursor) -> tuple[CountryCount, ...]:
        cursor.execute(
            "SELECT country, COUNT(DISTINCT trial_id) FROM registry_triallocation "
            "GROUP BY country ORDER BY country"
        )
        countries = cursor.fetchall()
        cursor.execute(
            "SELECT country, city, COUNT(DISTINCT trial_id) FROM registry_triallocation "
            "GROUP BY country, city ORDER BY country, city"
        )
        by_country: dict[str, list[CityCount]] = {}
        for country, city, n in cursor.fetchall():
            by_country.setdefault(country, []).append(CityCount(city, n))
        return tuple(
            CountryCount(country, n, tuple(by_country.get(country, ()))) for country, n in countries
        )

    return _cached("locations_tree", compute)


def cities() -> tuple[City, ...]:
    """Every (city, country) with geocoded sites: its point and number of trials, by label.

    A city's point is its most frequent site coordinate (the registry geocodes sites to the
    city, so sites of one city share a point; the mode ignores the odd mis-geocoded site).
    """

    def compute(cursor) -> tuple[City, ...]:
        cursor.execute(
            "SELECT city, country, lat, lon, COUNT(*) FROM registry_triallocation "
            "WHERE lat IS NOT NULL AND lon IS NOT NULL AND city <> '' "
            "GROUP BY city, country, lat, lon"
        )
        points: dict[tuple[str, str], tuple[int, float, float]] = {}
        for city, country, lat, lon, n in cursor.fetchall():
            best = points.get((city, country))
            if best is None or n > best[0]:
                points[(city, country)] = (n, lat, lon)
        cursor.execute(
            "SELECT city, country, COUNT(DISTINCT trial_id) FROM registry_triallocation "
            "WHERE lat IS NOT NULL AND lon IS NOT NULL AND city <> '' GROUP BY city, country"
        )
        counts = {(city, country): n for city, country, n in cursor.fetchall()}
        found = [
            City(city, country, lat, lon, counts.get((city, country), 0))
            for (city, country), (_, lat, lon) in points.items()
        ]
        return tuple(sorted(found, key=lambda c: (c.name.lower(), c.country.lower())))

    return _cached("cities", compute)


def resolve_city(name: str) -> City:
    """The point of "City", "City, Country" or "City, State, Country" from the stored sites.

    Case-insensitive. Raises ``SearchError`` when no geocoded site is in that city, or the
    name is in several countries and no country was given.
    """
    from django.db import connection

    parts = [p.strip() for p in name.split(",") if p.strip()]
    if not parts:
        raise SearchError("near_city is empty")
    city = parts[0]
    state = parts[1] if len(parts) == 3 else None
    country = parts[-1] if len(parts) >= 2 else None
    sql = (
        "SELECT city, country, lat, lon, COUNT(*), COUNT(DISTINCT trial_id) "
        "FROM registry_triallocation WHERE LOWER(city) = LOWER(%s) "
        "AND lat IS NOT NULL AND lon IS NOT NULL"
    )
    params: list[Any] = [city]
    if country:
        sql += " AND LOWER(country) = LOWER(%s)"
        params.append(country)
    if state:
        sql += " AND LOWER(state) = LOWER(%s)"
        params.append(state)
    sql += " GROUP BY city, country, lat, lon"
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    points: dict[str, tuple[int, str, float, float, int]] = {}
    for city_name, country_name, lat, lon, n, trials in rows:
        best = points.get(country_name)
        if best is None or n > best[0]:
            points[country_name] = (n, city_name, lat, lon, trials)
    if not points:
        raise SearchError(f"near_city {name!r}: no geocoded trial site in that city")
    if len(points) > 1:
        choices = "; ".join(f"{v[1]}, {c}" for c, v in sorted(points.items()))
        raise SearchError(f"near_city {name!r} is in several countries ({choices}): add one")
    country_name, (_, city_name, lat, lon, trials) = next(iter(points.items()))
    return City(city_name, country_name, lat, lon, trials)


# --------------------------------------------------------------------------- search


def search(query: SearchQuery) -> SearchPage:
    """Run ``query`` on the default database; see the module docstring for the semantics.

    Ordered by relevance (then NCT id) with text, else by NCT id. The plan (SQLite; on
    PostgreSQL one statement, planned by the server from its statistics):

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
    plan = _Plan(query, text, origin, vendor)
    offset = (query.page - 1) * query.per_page
    if vendor == "sqlite" and not (query.country or query.city) and FAST_INDEX:
        from trialdesk.registry import fastsearch

        index = _cached("filter_index", fastsearch.build_index)
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


#: SQLite searches without a country or city filter use the in-memory filter and distance
#: index (``fastsearch``); False sends them through the SQL plans (tests compare the two).
FAST_INDEX = True


def _run_sql(plan: _Plan, connection, offset: int) -> tuple[list, int, bool]:
    with connection.cursor() as cursor:
        if plan.ranked or plan.fts_expr or (plan.located and plan.few_sites(cursor)):
            rows, total = plan.run_windowed(cursor, offset)
            return rows, total, True
        return plan.run_plain(cursor, offset)


def _condition_words(query: SearchQuery) -> list[str]:
    """The condition filter's words (all must be in the trial's conditions); none = no filter."""
    return _clean_words(query.condition) if query.condition else []


_SELECT_COLUMNS = "t.id, t.nct_id, t.brief_title, t.overall_status, t.phases, t.conditions_text"
#: SQLite looks candidates up in the narrow covering index, not in the wide table rows.
_BY_ID = " INDEXED BY registry_trial_by_id"
#: Candidate sets are compared by counting each up to this many rows.
PROBE_CAP = 2000
#: Without text, sites in range drive the query up to this many (about 1 us each, against
#: the trial-by-trial scan in NCT id order).
SITES_DRIVE_CAP = 20_000
#: How many times dearer a candidate check by FTS5 rowid is than one by the indexes.
FTS_PROBE_COST = 20


class _Plan:
    """The SQL pieces of one search and the two statement shapes that use them."""

    def __init__(self, query: SearchQuery, text: TextQuery, origin, vendor: str) -> None:
        self.query = query
        self.vendor = vendor
        self.ranked = not text.empty
        self.where: list[str] = []
        self.params: list[Any] = []
        self._trial_filters()
        # Full text: SQLite folds the condition filter into the MATCH expression.
        self.fts_expr = ""
        self.tsquery = text.websearch() if self.ranked else ""
        if vendor == "sqlite":
            expr = text.fts5() if self.ranked else ""
            words = _condition_words(query)
            if words:
                cond = "conditions_text : (" + " AND ".join(_fts5_string(w) for w in words) + ")"
                expr = f"({expr}) AND {cond}" if expr else cond
            self.fts_expr = expr
        elif _condition_words(query):
            self.where.append(
                "to_tsvector('english'::regconfig, t.conditions_text) "
                "@@ plainto_tsquery('english'::regconfig, %s)"
            )
            self.params.append(" ".join(_condition_words(query)))
        # Sites within range: SQL on alias ``l``.
        self.located = origin is not None and query.within_km is not None
        self.site_sql, self.site_params = "", []
        self.seek_sql, self.seek_params = "", []
        self.check_sql, self.check_params = "", []
        self.by_cell = ""
        if self.located:
            self._site_filter(origin, query.within_km)

    def _trial_filters(self) -> None:
        q, where, params = self.query, self.where, self.params
        if q.statuses:
            where.append(f"t.overall_status IN ({', '.join(['%s'] * len(q.statuses))})")
            params.extend(q.statuses)
        if q.phases:
            mask = 0
            for phase in q.phases:
                mask |= PHASE_BITS[phase]
            where.append("(t.phase_mask & %s) <> 0")
            params.append(mask)
        if q.study_type:
            where.append("t.study_type = %s")
            params.append(q.study_type)
        if q.sex:
            # The patient's sex: trials for that sex, for all, or not saying.
            if q.sex == "ALL":
                where.append("t.sex IN ('ALL', '')")
            else:
                where.append("t.sex IN (%s, 'ALL', '')")
                params.append(q.sex)
        if q.age is not None:
            days = age_days(q.age)
            where.append("(t.min_age_days IS NULL OR t.min_age_days <= %s)")
            where.append("(t.max_age_days IS NULL OR t.max_age_days >= %s)")
            params.extend([days, days])
        if q.country or q.city:
            cond = []
            if q.country:
                cond.append("LOWER(p.country) = LOWER(%s)")
                params.append(q.country)
            if q.city:
                cond.append("LOWER(p.city) = LOWER(%s)")
                params.append(q.city)
            where.append(
                "EXISTS (SELECT 1 FROM registry_triallocation p WHERE p.trial_id = t.id AND "
                + " AND ".join(cond)
                + ")"
            )

    def _site_filter(self, origin: tuple[float, float], within_km: float) -> None:
        box = geo.bounding_box(origin[0], origin[1], within_km)
        box_sql = (
            "l.lat BETWEEN %s AND %s AND ("
            + " OR ".join("l.lon BETWEEN %s AND %s" for _ in box.lon_ranges)
            + ")"
        )
        box_params: list[Any] = [box.min_lat, box.max_lat]
        for west, east in box.lon_ranges:
            box_params.extend([west, east])
        distance_sql = f"{_distance_sql(self.vendor)} <= %s"
        distance_params = [*_distance_params(self.vendor, origin), within_km]
        # Per trial (sites found by trial_id): the box, then the distance.
        self.check_sql = f"{box_sql} AND {distance_sql}"
        self.check_params = [*box_params, *distance_params]
        # Sites found by position: grid-cell ranges (index seeks), the box, the distance.
        ranges = geo.cell_ranges(box)
        if ranges is not None:
            cells = "(" + " OR ".join("l.cell BETWEEN %s AND %s" for _ in ranges) + ")"
            self.seek_sql = f"{cells} AND {box_sql}"
            self.seek_params = [*(v for r in ranges for v in r), *box_params]
            # SQLite, without statistics, prefers the latitude band: make it seek by cell.
            if self.vendor == "sqlite":
                self.by_cell = " INDEXED BY registry_location_cell"
        else:
            self.seek_sql, self.seek_params = box_sql, box_params
        self.site_sql = f"{self.seek_sql} AND {distance_sql}"
        self.site_params = [*self.seek_params, *distance_params]

    # ------------------------------------------------------------------ statements

    def _filters(self) -> tuple[str, list[Any]]:
        return " AND ".join(self.where), list(self.params)

    def few_sites(self, cursor) -> bool:
        """Whether the sites in range are few enough to drive the query (SQLite probes)."""
        return (
            self.vendor == "sqlite" and self._probe_sites(cursor, SITES_DRIVE_CAP) < SITES_DRIVE_CAP
        )

    def run_plain(self, cursor, offset: int):
        """No text: NCT id order (the covering indexes), stop after the page; a distance is
        checked per trial on its sites; the total is counted up to ``COUNT_CAP``."""
        where, params = self._filters()
        conds = [where] if where else []
        if self.located:
            conds.append(
                "EXISTS (SELECT 1 FROM registry_triallocation l "
                f"WHERE l.trial_id = t.id AND {self.check_sql})"
            )
            params.extend(self.check_params)
        where = " WHERE " + " AND ".join(conds) if conds else ""
        cursor.execute(
            f"SELECT {_SELECT_COLUMNS}, NULL FROM registry_trial t{where} "
            "ORDER BY t.nct_id LIMIT %s OFFSET %s",
            [*params, self.query.per_page, offset],
        )
        rows = cursor.fetchall()
        cap = max(COUNT_CAP, offset + self.query.per_page)
        cursor.execute(
            f"SELECT COUNT(*) FROM (SELECT 1 FROM registry_trial t{where} LIMIT %s) c",
            [*params, cap + 1],
        )
        total = cursor.fetchone()[0]
        return rows, min(total, cap), total <= cap

    def run_windowed(self, cursor, offset: int):
        """Text and/or distance: one statement yields the page and ``COUNT(*) OVER ()``."""
        if self.vendor == "postgresql":
            sql, params = self._postgresql()
        else:
            sql, params = self._sqlite(cursor)
        order = "score DESC, nct_id" if self.ranked else "nct_id"
        # bm25 must be evaluated next to its MATCH (not inside the window query): the
        # filtered, scored candidates (id, nct_id, score only) are materialised first, then
        # counted and paged; the shown columns are read for the page's rows alone.
        cursor.execute(
            f"WITH s AS MATERIALIZED ({sql}), "
            "p AS (SELECT id, nct_id, score, COUNT(*) OVER () AS total FROM s "
            f"ORDER BY {order} LIMIT %s OFFSET %s) "
            f"SELECT {_SELECT_COLUMNS}, p.score, p.total FROM p "
            f"JOIN registry_trial t ON t.id = p.id ORDER BY p.{order.replace(', ', ', p.')}",
            [*params, self.query.per_page, offset],
        )
        rows = cursor.fetchall()
        if rows:
            total = rows[0][-1]
        elif offset:
            cursor.execute(f"SELECT COUNT(*) FROM ({sql}) s", params)
            total = cursor.fetchone()[0]
        else:
            total = 0
        return [r[:-1] for r in rows], total

    def _postgresql(self) -> tuple[str, list[Any]]:
        where, params = self._filters()
        conds = [where] if where else []
        froms = "registry_trial t"
        score = "NULL"
        head: list[Any] = []
        if self.ranked:
            froms += ", websearch_to_tsquery('english'::regconfig, %s) AS q(q)"
            head.append(self.tsquery)
            conds.insert(0, "t.search_vector @@ q.q")
            score = "ts_rank_cd(t.search_vector, q.q)"
        if self.located:
            conds.append(
                "EXISTS (SELECT 1 FROM registry_triallocation l "
                f"WHERE l.trial_id = t.id AND {self.check_sql})"
            )
            params.extend(self.check_params)
        sql = f"SELECT t.id, t.nct_id, {score} AS score FROM {froms}"
        if conds:
            sql += " WHERE " + " AND ".join(conds)
        return sql, [*head, *params]

    def _sqlite(self, cursor) -> tuple[str, list[Any]]:
        where, params = self._filters()
        weights = ", ".join(str(w) for w in BM25_WEIGHTS)
        score = f"-bm25(registry_trial_fts, {weights})" if self.ranked else "NULL"
        located_first = self.located and (not self.fts_expr or self._sites_much_fewer(cursor))
        conds: list[str] = []
        head: list[Any] = []
        tail: list[Any] = []
        if located_first:
            # Trials with a site in range drive; the FTS5 table is checked by rowid.
            froms = (
                f"(SELECT DISTINCT l.trial_id AS id FROM registry_triallocation l{self.by_cell} "
                f"WHERE {self.site_sql}) c CROSS JOIN registry_trial t{_BY_ID} ON t.id = c.id"
            )
            head.extend(self.site_params)
            if self.fts_expr:
                froms += " CROSS JOIN registry_trial_fts ON registry_trial_fts.rowid = t.id"
                conds.append("registry_trial_fts MATCH %s")
                head.append(self.fts_expr)
        else:
            # Full-text matches drive; each candidate's sites are checked by trial_id.
            froms = (
                f"registry_trial_fts CROSS JOIN registry_trial t{_BY_ID} "
                "ON t.id = registry_trial_fts.rowid"
            )
            conds.append("registry_trial_fts MATCH %s")
            head.append(self.fts_expr)
            if self.located:
                tail.extend(self.check_params)
        if where:
            conds.append(where)
        if self.located and not located_first:
            conds.append(
                "EXISTS (SELECT 1 FROM registry_triallocation l "
                f"WHERE l.trial_id = t.id AND {self.check_sql})"
            )
        sql = f"SELECT t.id, t.nct_id, {score} AS score FROM {froms}"
        if conds:
            sql += " WHERE " + " AND ".join(conds)
        return sql, [*head, *params, *tail]

    def _sites_much_fewer(self, cursor) -> bool:
        """Whether sites in range should drive a text query: checking one candidate against
        FTS5 by rowid costs ~20-100 us (a seek in every index segment), against the trial
        and site indexes ~2 us, so the sites drive only when ``FTS_PROBE_COST`` times fewer."""
        sites = self._probe_sites(cursor, PROBE_CAP // FTS_PROBE_COST)
        return sites * FTS_PROBE_COST < self._probe_fts(cursor)

    def _probe_fts(self, cursor) -> int:
        cursor.execute(
            "SELECT COUNT(*) FROM (SELECT 1 FROM registry_trial_fts "
            "WHERE registry_trial_fts MATCH %s LIMIT %s) c",
            [self.fts_expr, PROBE_CAP],
        )
        return cursor.fetchone()[0]

    def _probe_sites(self, cursor, cap: int = PROBE_CAP) -> int:
        cursor.execute(
            f"SELECT COUNT(*) FROM (SELECT 1 FROM registry_triallocation l{self.by_cell} "
            f"WHERE {self.seek_sql} LIMIT %s) c",
            [*self.seek_params, cap],
        )
        return cursor.fetchone()[0]


def _distance_sql(vendor: str) -> str:
    """Haversine distance in km from the origin (params) to site ``l``; ``geo.haversine_km``."""
    if vendor == "sqlite" and not geo.SQLITE_MATH:
        return "registry_haversine_km(%s, %s, l.lat, l.lon)"
    least = "least" if vendor == "postgresql" else "min"
    cast = "::float8" if vendor == "postgresql" else ""
    return (
        f"(2 * {geo.EARTH_RADIUS_KM} * asin({least}(1.0, sqrt("
        f"power(sin(radians(l.lat - %s{cast}) / 2), 2) + "
        f"cos(radians(%s{cast})) * cos(radians(l.lat)) * "
        f"power(sin(radians(l.lon - %s{cast}) / 2), 2)))))"
    )


def _distance_params(vendor: str, origin: tuple[float, float]) -> list[float]:
    lat, lon = origin
    if vendor == "sqlite" and not geo.SQLITE_MATH:
        return [lat, lon]
    return [lat, lat, lon]


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
