"""SQLite searches through an in-memory filter and distance index (numpy); text ranked by
the Tantivy index (``textindex``) while it is current, else by FTS5.

The index itself (``FilterIndex``, ``build_index``) is in ``registry/filterindex.py``; this
module runs searches with it.

At 500,000 trials the SQL plans of ``sqlplan.SearchPlan`` spend most of their time on distance
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
is exact. With text, the Tantivy index ranks (BM25, the filters as constant-score
queries) while it holds the database's current state; otherwise FTS5 matches (``MATCH``)
and ranks (``bm25`` with the same column weights), scoring only the trials that pass the
filters.

The index is rebuilt when the registry changes (``places.cached_per_state``, keyed on
``places.registry_version``: the registry's version and stamp, the largest trial id and the
last update time): at 500,000 trials about 2.3 s per process, 45 MB kept and
about 150 MB at the peak of the build.
Semantics equal the SQL plans' (tests compare both on random queries): distances use the
same haversine expression as the SQL (``filters.haversine_sql``; at the exact radius the
last bit of a sine may differ); an age uses
``query.age_days``; NULL age limits are open ends.

Country and city filters are not indexed here: such queries take the SQL plans.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from trialdesk.registry.filterindex import FilterIndex, ids_from_text
from trialdesk.registry.sqlplan import BM25_WEIGHTS, SELECT_COLUMNS
from trialdesk.registry.stamp import current_stamp

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
    offset, limit = query.offset, query.per_page
    chosen_scores: np.ndarray | None = None
    ranked = _ranked_by_text_index(query, plan, index, cursor, origin) if plan.ranked else None
    if ranked is not None:
        ids, scores, total = ranked
        return _rows(cursor, ids, scores), total
    allowed = index.mask(query, origin)
    if plan.excluded_fts:  # a text made only of exclusions: drop the trials matching them
        keep = np.ones(index.size, dtype=bool)
        keep[index.positions(_match_ids(cursor, plan.excluded_fts))] = False
        allowed = keep if allowed is None else allowed & keep
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
            if offset >= total:  # past the last page: nothing to rank (nor an unbounded LIMIT)
                chosen, chosen_scores = np.zeros(0, np.int64), np.zeros(0)
            else:
                k = min(offset + limit, total)
                chosen, chosen_scores = _top(cursor, plan.fts_expr, index, allowed, k)
                chosen, chosen_scores = chosen[offset:], chosen_scores[offset:]
    elif plan.fts_expr:
        positions = np.sort(index.positions(_match_ids(cursor, plan.fts_expr)))
        if allowed is not None:
            positions = positions[allowed[positions]]
        total, chosen = len(positions), positions[offset : offset + limit]
    else:
        positions = np.flatnonzero(allowed) if allowed is not None else None
        total = len(positions) if positions is not None else index.size
        start = min(offset, total)
        chosen = (
            positions[start : start + limit]
            if positions is not None
            else np.arange(start, min(start + limit, total))
        )
    return _rows(cursor, index.ids[chosen], chosen_scores), total


def _ranked_by_text_index(query, plan, index: FilterIndex, cursor, origin):
    """(ids, scores, total) of the page from the Tantivy text index (``textindex``), or
    None when it cannot answer (none here, or it does not hold the database's current
    state). Ranked by its BM25 score; equal scores in the index's own order."""
    from trialdesk.registry import textindex
    from trialdesk.registry.sqlplan import condition_words

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
    try:
        filter_queries = text_index.filter_queries(query, origin, index)
        if filter_queries is None:  # e.g. no site position within range
            return np.zeros(0, np.int64), np.zeros(0), 0
        tq = text_index.text_query(plan.text, condition_words(query))
        if filter_queries:
            occur = text_index.tantivy.Occur
            tq = text_index.tantivy.Query.boolean_query(
                [(occur.Must, f) for f in (tq, *filter_queries)]
            )
        return text_index.top(searcher, tq, query.offset, query.per_page)
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
        f"SELECT {SELECT_COLUMNS} FROM registry_trial t WHERE t.id IN "
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
    return ids_from_text(cursor.fetchone()[0])


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
    return ids_from_text(ids), _floats_text(scores)


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
