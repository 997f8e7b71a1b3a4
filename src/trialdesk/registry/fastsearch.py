"""SQLite searches through an in-memory filter and distance index (numpy), FTS5 for text.

At 500,000 trials the SQL plans of ``sqlplan._Plan`` spend most of their time on distance
filters: a dense city within 250 km has tens of thousands of sites, each read from an index,
joined to its trial and filtered row by row, and ordering by NCT id with an exact count
means touching every one of them. This module keeps, per process, the columns the filters
read as numpy arrays:

- per trial, in NCT id order: id, status, phase bits, study type, sex, age limits in days;
- per distinct site position (lat, lon): the positions (in NCT order) of the trials with a
  site there. Registries record city coordinates, so positions repeat: 2.2 million
  synthetic sites sit on a few hundred points; on ClinicalTrials.gov tens of thousands.

A distance filter then costs one haversine per distinct point, a filter one vectorised
comparison per trial, a page without text is the first matching positions, and the total
is exact. With text, FTS5 still matches (``MATCH``) and ranks (``bm25`` with the same
column weights), but only the trials that pass the filters are scored.

The index is rebuilt when the registry changes (``places._cached``: the largest trial id
and the last update time): at 500,000 trials about 2.3 s per process, 45 MB kept and
about 150 MB at the peak of the build.
Semantics equal the SQL plans' (tests compare both on random queries): distances use the
same haversine expression as the SQL (``sqlplan._distance_sql``; at the exact radius the
last bit of a sine may differ); an age uses
``query.age_days``; NULL age limits are open ends.

Country and city filters are not indexed here: such queries take the SQL plans.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from trialdesk.registry import PHASE_BITS, geo
from trialdesk.registry.query import age_days
from trialdesk.registry.sqlplan import _SELECT_COLUMNS, BM25_WEIGHTS

_INT_MIN = np.iinfo(np.int64).min
_INT_MAX = np.iinfo(np.int64).max


@dataclass(frozen=True)
class FilterIndex:
    """The filter columns of every trial (NCT id order) and its sites' distinct points."""

    ids: np.ndarray  # int64 trial ids, NCT id order
    sorted_ids: np.ndarray  # ids ascending
    sorted_pos: np.ndarray  # position (NCT order) of each of sorted_ids
    codes: dict[str, dict[str, int]]  # column -> value -> small code
    status: np.ndarray
    study_type: np.ndarray
    sex: np.ndarray
    phase_mask: np.ndarray
    min_age: np.ndarray  # NULL -> int64 min
    max_age: np.ndarray  # NULL -> int64 max
    point_lat: np.ndarray  # distinct site points
    point_lon: np.ndarray
    point_sites: np.ndarray  # sites per point (for np.repeat)
    site_pos: np.ndarray  # trial position of each site, grouped by point
    #: The registry stamp read before the rows (``models.RegistryState``): if it is still
    #: the database's, the rows are that state's.
    stamp: str = ""

    @property
    def size(self) -> int:
        return len(self.ids)

    def positions(self, trial_ids: np.ndarray) -> np.ndarray:
        """NCT-order positions of ``trial_ids`` (ids not in the index are dropped)."""
        return self.locate(trial_ids)[1]

    def locate(self, trial_ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(which of ``trial_ids`` the index holds, their NCT-order positions). Trials
        written after the index was read (an import committing meanwhile) are not held."""
        if not len(self.sorted_ids):
            return np.zeros(len(trial_ids), bool), np.zeros(0, np.int64)
        where = np.minimum(np.searchsorted(self.sorted_ids, trial_ids), len(self.sorted_ids) - 1)
        known = self.sorted_ids[where] == trial_ids
        return known, self.sorted_pos[where[known]]

    # ------------------------------------------------------------------ filters

    def _code_in(self, column: str, values) -> np.ndarray:
        table = self.codes[column]
        lookup = np.zeros(len(table) + 1, dtype=bool)
        lookup[[table[v] for v in values if v in table]] = True
        return lookup[getattr(self, column)]

    def mask(self, query, origin: tuple[float, float] | None) -> np.ndarray | None:
        """Boolean mask (NCT order) of the trials passing the query's filters other than
        text and condition; None when there are no such filters."""
        parts: list[np.ndarray] = []
        if query.statuses:
            parts.append(self._code_in("status", query.statuses))
        if query.phases:
            bits = 0
            for phase in query.phases:
                bits |= PHASE_BITS[phase]
            parts.append((self.phase_mask & bits) != 0)
        if query.study_type:
            parts.append(self._code_in("study_type", (query.study_type,)))
        if query.sex:
            allowed = ("ALL", "") if query.sex == "ALL" else (query.sex, "ALL", "")
            parts.append(self._code_in("sex", allowed))
        if query.age is not None:
            days = age_days(query.age)
            parts.append((self.min_age <= days) & (self.max_age >= days))
        if origin is not None and query.within_km is not None:
            parts.append(self.near(origin, query.within_km))
        if not parts:
            return None
        out = parts[0]
        for part in parts[1:]:
            out &= part
        return out

    def near(self, origin: tuple[float, float], within_km: float) -> np.ndarray:
        """Mask of the trials with a site within ``within_km`` of ``origin``."""
        close = distances_km(origin, self.point_lat, self.point_lon) <= within_km
        out = np.zeros(self.size, dtype=bool)
        if close.any():
            out[self.site_pos[np.repeat(close, self.point_sites)]] = True
        return out


def distances_km(origin: tuple[float, float], lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """Haversine distance (km) from ``origin`` to each point, written as the SQL plans
    compute it (``sqlplan._distance_sql``: radians of the differences, the asin argument
    capped at 1). numpy's sin and cos may differ from the C library's SQLite uses in the
    last bit, so a site within about 1e-9 km of the radius can fall on either side."""
    lat0, lon0 = origin
    a = (
        np.sin(np.radians(lat - lat0) / 2) ** 2
        + np.cos(np.radians(lat0))
        * np.cos(np.radians(lat))
        * np.sin(np.radians(lon - lon0) / 2) ** 2
    )
    return 2 * geo.EARTH_RADIUS_KM * np.arcsin(np.minimum(1.0, np.sqrt(a)))


def _codes(values: tuple, table: dict[str, int]) -> np.ndarray:
    return np.fromiter(
        (table.setdefault(v or "", len(table)) for v in values), dtype=np.int16, count=len(values)
    )


def _ints(values: tuple, null: int) -> np.ndarray:
    return np.fromiter((null if v is None else v for v in values), np.int64, len(values))


#: Rows read at a time while building (bounds the transient memory of the row tuples).
BUILD_CHUNK = 50_000


def build_index(cursor) -> FilterIndex:
    """Read the filter columns and site points from the registry.

    The two reads are separate statements: sites of trials written after the first one are
    left out (the registry's version moved, so the next search rebuilds anyway).
    """
    from trialdesk.registry.models import current_stamp

    stamp = current_stamp(cursor)
    cursor.execute(
        "SELECT id, overall_status, study_type, sex, phase_mask, min_age_days, max_age_days "
        "FROM registry_trial ORDER BY nct_id"
    )
    tables: dict[str, dict[str, int]] = {"status": {}, "study_type": {}, "sex": {}}
    parts: dict[str, list[np.ndarray]] = {k: [] for k in ("ids", "status", "study_type", "sex",
                                                          "phase_mask", "min_age", "max_age")}  # fmt: skip
    while rows := cursor.fetchmany(BUILD_CHUNK):
        columns = tuple(zip(*rows, strict=True))
        parts["ids"].append(np.fromiter(columns[0], np.int64, len(rows)))
        parts["status"].append(_codes(columns[1], tables["status"]))
        parts["study_type"].append(_codes(columns[2], tables["study_type"]))
        parts["sex"].append(_codes(columns[3], tables["sex"]))
        parts["phase_mask"].append(np.fromiter(columns[4], np.int64, len(rows)))
        parts["min_age"].append(_ints(columns[5], _INT_MIN))
        parts["max_age"].append(_ints(columns[6], _INT_MAX))
    empty = {"status": np.int16, "study_type": np.int16, "sex": np.int16}
    arrays = {
        k: np.concatenate(v) if v else np.zeros(0, empty.get(k, np.int64)) for k, v in parts.items()
    }
    ids = arrays["ids"]
    order = np.argsort(ids, kind="stable")
    # One row per distinct site position: its trials' ids as one text (parsed by numpy).
    cursor.execute(
        "SELECT lat, lon, group_concat(trial_id) FROM registry_triallocation "
        "WHERE lat IS NOT NULL AND lon IS NOT NULL GROUP BY lat, lon"
    )
    lats, lons, chunks = [], [], []
    for lat, lon, trial_ids in cursor.fetchall():
        lats.append(lat)
        lons.append(lon)
        chunks.append(_ids_text(trial_ids))
    sorted_ids = ids[order]
    site_pos, kept = [], []
    for found in chunks:  # per point: its trials' positions; unknown (newer) trials dropped
        where = np.minimum(np.searchsorted(sorted_ids, found), max(len(ids) - 1, 0))
        known = sorted_ids[where] == found if len(ids) else np.zeros(len(found), bool)
        site_pos.append(order[where[known]])
        kept.append(int(np.count_nonzero(known)))
    return FilterIndex(
        ids=ids,
        sorted_ids=sorted_ids,
        sorted_pos=order.astype(np.int64),
        codes=tables,
        status=arrays["status"],
        study_type=arrays["study_type"],
        sex=arrays["sex"],
        phase_mask=arrays["phase_mask"],
        min_age=arrays["min_age"],
        max_age=arrays["max_age"],
        point_lat=np.array(lats, dtype=np.float64),
        point_lon=np.array(lons, dtype=np.float64),
        point_sites=np.array(kept, dtype=np.int64),
        site_pos=np.concatenate(site_pos).astype(np.int64) if site_pos else np.zeros(0, np.int64),
        stamp=stamp,
    )


def _ids_text(text: str | None) -> np.ndarray:
    """Comma-separated integers (``group_concat``) as an array, parsed by numpy in C."""
    if not text:
        return np.zeros(0, np.int64)
    return np.fromstring(text, dtype=np.int64, sep=",")


#: Up to this many allowed trials, a ranked search sends their ids to FTS5 in one pass
#: (``+rowid IN (...)``) instead of first fetching every match.
IN_LIST_MAX = 20_000
#: The first ``LIMIT`` of the best-matches strategy (at least the rows needed).
TOP_FIRST = 256


def run(query, plan, index: FilterIndex, cursor, origin) -> tuple[list[Any], int]:
    """The page's rows (as ``search._hits`` reads them) and the exact total.

    Without text: the allowed positions in NCT order. With text, ranked by bm25 (ties by
    NCT id), the cheapest of three exact strategies:

    - few allowed trials, or few matches among many allowed (<= ``IN_LIST_MAX``, the
      latter found from the match ids): one FTS5 pass scores just those;
    - no filters, or many allowed matches: the best ``n`` matches by bm25 from FTS5
      (``ORDER BY ... LIMIT n``, a bounded sort), kept if allowed, ``n`` widened until the
      page is certain; the total is counted (no filters) or taken from the match ids;
    - a condition filter alone (no ranking text): the match ids in NCT order.
    """
    offset, limit = (query.page - 1) * query.per_page, query.per_page
    chosen_scores: np.ndarray | None = None
    ranked = _ranked_by_text_index(query, plan, index, cursor, origin) if plan.ranked else None
    if ranked is not None:
        ids, scores, total = ranked
        return _rows(cursor, ids, scores), total
    allowed = index.mask(query, origin)
    if plan.fts_expr and plan.ranked:
        candidates = None  # trial ids to score in one pass, when few enough
        if allowed is not None:
            if np.count_nonzero(allowed) <= IN_LIST_MAX:
                candidates = index.ids[allowed]
            else:
                matched = _match_ids(cursor, plan.fts_expr)
                known, positions = index.locate(matched)
                survivors = matched[known][allowed[positions]]
                if len(survivors) <= IN_LIST_MAX:
                    candidates = survivors
                else:
                    total = len(survivors)
        if candidates is not None:
            ids, scores = _scored(cursor, plan.fts_expr, candidates)
            known, positions = index.locate(ids)
            ids, scores = ids[known], scores[known]
            order = np.lexsort((positions, -scores))[offset : offset + limit]
            total, chosen, chosen_scores = len(ids), positions[order], scores[order]
        else:
            if allowed is None:
                cursor.execute(
                    "SELECT count(*) FROM registry_trial_fts WHERE registry_trial_fts MATCH %s",
                    [plan.fts_expr],
                )
                total = cursor.fetchone()[0]
            chosen, chosen_scores = _top(cursor, plan.fts_expr, index, allowed, offset + limit)
            chosen, chosen_scores = chosen[offset:], chosen_scores[offset:]
    elif plan.fts_expr:
        positions = np.sort(index.positions(_match_ids(cursor, plan.fts_expr)))
        if allowed is not None:
            positions = positions[allowed[positions]]
        total, chosen = len(positions), positions[offset : offset + limit]
    else:
        positions = np.flatnonzero(allowed) if allowed is not None else None
        total = len(positions) if positions is not None else index.size
        chosen = (
            positions[offset : offset + limit]
            if positions is not None
            else np.arange(offset, min(offset + limit, index.size))
        )
    return _rows(cursor, index.ids[chosen], chosen_scores), total


def _ranked_by_text_index(query, plan, index: FilterIndex, cursor, origin):
    """(ids, scores, total) of the page from the Tantivy text index (``textindex``), or
    None when it cannot answer (none here, or it does not hold the database's current
    state). Ranked by its BM25 score; equal scores in the index's own order."""
    from trialdesk.registry import textindex
    from trialdesk.registry.models import current_stamp
    from trialdesk.registry.sqlplan import _condition_words

    text_index = textindex.for_connection()
    if text_index is None:
        return None
    db_stamp = current_stamp(cursor)
    if index.stamp != db_stamp:  # the filter index is of another state: FTS5 answers
        return None
    try:
        searcher = text_index.searcher_for(db_stamp)
    except BaseException as exc:  # e.g. the folder removed under a running process
        if not textindex.index_error(exc):
            raise
        textindex.log.warning("text index %s failed, FTS5 answers: %s", text_index.path, exc)
        return None
    if searcher is None:
        return None
    close_points = None
    if origin is not None and query.within_km is not None:
        close = distances_km(origin, index.point_lat, index.point_lon) <= query.within_km
        if not close.any():
            return np.zeros(0, np.int64), np.zeros(0), 0
        close_points = [
            textindex.point_key(lat, lon)
            for lat, lon in zip(index.point_lat[close], index.point_lon[close], strict=True)
        ]
    try:
        tq = text_index.text_query(plan.text, _condition_words(query))
        filters = text_index.filter_queries(query, close_points)
        if filters:
            occur = text_index.tantivy.Occur
            tq = text_index.tantivy.Query.boolean_query([(occur.Must, f) for f in (tq, *filters)])
        offset = (query.page - 1) * query.per_page
        return text_index.top(searcher, tq, offset, query.per_page)
    except BaseException as exc:  # e.g. damaged index files
        if not textindex.index_error(exc):
            raise
        textindex.log.warning("text index %s failed, FTS5 answers: %s", text_index.path, exc)
        return None


def _rows(cursor, ids, scores) -> list[Any]:
    """The ``search._hits`` rows of trials ``ids`` in that order (with ``scores``, or None)."""
    if not len(ids):
        return []
    ids = [int(i) for i in ids]
    cursor.execute(
        f"SELECT {_SELECT_COLUMNS} FROM registry_trial t WHERE t.id IN "
        f"({', '.join(['%s'] * len(ids))})",
        ids,
    )
    found = {row[0]: row for row in cursor.fetchall()}
    rows = []
    for k, trial_id in enumerate(ids):
        if trial_id not in found:  # deleted by another process since the index was read
            continue
        score = float(scores[k]) if scores is not None else None
        rows.append((*found[trial_id], score))
    return rows


def _match_ids(cursor, expr: str) -> np.ndarray:
    cursor.execute(
        "SELECT group_concat(rowid) FROM registry_trial_fts WHERE registry_trial_fts MATCH %s",
        [expr],
    )
    return _ids_text(cursor.fetchone()[0])


def _score_sql(weights) -> str:
    """``-bm25`` (higher is better) as ``%!.17g`` text, which gives back the exact double
    (SQLite's printf needs the ``!`` flag for 17 digits; ``%%`` for Django's cursor)."""
    w = ", ".join(str(x) for x in weights)
    return f"printf('%%!.17g', -bm25(registry_trial_fts, {w}))"


def _scored(cursor, expr: str, allowed_ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(ids, scores) of the matches among ``allowed_ids``, in one FTS5 pass.

    ``+rowid IN (SELECT ...)`` is a membership test while FTS5 iterates its matches; a plain
    ``rowid IN`` would be a rowid lookup, which FTS5 answers by re-running the query once
    per id (seconds for a common word). Only the kept rows are scored. ``LIMIT -1`` keeps
    the subquery apart: FTS5 allows bm25 only next to its MATCH, not inside an aggregate.
    """
    if not len(allowed_ids):
        return np.zeros(0, np.int64), np.zeros(0)
    # The ids are bound as one JSON array: the statement text stays the same, so SQLite's
    # statement cache does not keep a large literal statement per query.
    cursor.execute(
        "SELECT group_concat(id), group_concat(score) FROM ("
        f"SELECT rowid AS id, {_score_sql(BM25_WEIGHTS)} AS score FROM registry_trial_fts "
        "WHERE registry_trial_fts MATCH %s AND +rowid IN (SELECT value FROM json_each(%s)) "
        "LIMIT -1)",
        [expr, "[" + ",".join(map(str, allowed_ids.tolist())) + "]"],
    )
    ids, scores = cursor.fetchone()
    return _ids_text(ids), _floats_text(scores)


def _top(cursor, expr: str, index: FilterIndex, allowed, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Positions and scores of the ``k`` best allowed matches (score, then NCT order).

    FTS5 returns the ``n`` best matches by bm25 (it scores every match; the sort keeps
    ``n``). Every unreturned match scores at most the ``n``-th score, so once ``k`` allowed
    matches score strictly more, or all matches came back, the answer is exact; otherwise
    ``n`` grows fourfold.
    """
    w = ", ".join(str(x) for x in BM25_WEIGHTS)
    n = max(k, TOP_FIRST)
    while True:
        cursor.execute(
            f"SELECT rowid, {_score_sql(BM25_WEIGHTS)} FROM registry_trial_fts "
            f"WHERE registry_trial_fts MATCH %s ORDER BY bm25(registry_trial_fts, {w}) "
            "LIMIT %s",
            [expr, n],
        )
        rows = cursor.fetchall()
        ids = np.fromiter((r[0] for r in rows), np.int64, len(rows))
        scores = np.fromiter((float(r[1]) for r in rows), np.float64, len(rows))
        last = scores[-1] if len(scores) else np.inf  # the n-th score bounds the rest
        known, positions = index.locate(ids)
        scores = scores[known]
        if allowed is not None:
            keep = allowed[positions]
            positions, kept_scores = positions[keep], scores[keep]
        else:
            kept_scores = scores
        complete = len(rows) < n
        if complete or np.count_nonzero(kept_scores > last) >= k:
            order = np.lexsort((positions, -kept_scores))[:k]
            return positions[order], kept_scores[order]
        n *= 4


def _floats_text(text: str | None) -> np.ndarray:
    return np.array(text.split(","), dtype=np.float64) if text else np.zeros(0)
