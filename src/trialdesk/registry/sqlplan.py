"""The SQL plans of a search: the statements ``search`` runs when the in-memory index is
not used (PostgreSQL always; SQLite with a country or city filter, or ``FAST_INDEX`` off).

``SearchPlan`` holds the SQL pieces of one query (trial filters, the full-text expression, the
site distance filter) and builds the two statement shapes: ``run_plain`` (no text: NCT id
order, a capped count) and ``run_windowed`` (text and/or distance: page and
``COUNT(*) OVER ()`` in one statement). See ``search.search`` for the plan choices.
"""

from __future__ import annotations

from typing import Any

from trialdesk.registry import filters
from trialdesk.registry.query import SearchQuery
from trialdesk.registry.textquery import TextQuery, clean_words, fts5_string

#: FTS5 column weights for bm25, in the column order of the FTS table (migration 0011):
#: titles, acronym, conditions, interventions, summary, criteria, identifiers (an NCT id or
#: a study id typed in the search box weighs as much as the title).
BM25_WEIGHTS = (10.0, 8.0, 8.0, 4.0, 3.0, 2.0, 1.0, 10.0)

SELECT_COLUMNS = "t.id, t.nct_id, t.brief_title, t.overall_status, t.phases, t.conditions_text"
#: SQLite looks candidates up in the narrow covering index, not in the wide table rows.
_BY_ID = " INDEXED BY registry_trial_by_id"
#: Candidate sets are compared by counting each up to this many rows.
PROBE_CAP = 2000
#: Without text, sites in range drive the query up to this many (about 1 us each, against
#: the trial-by-trial scan in NCT id order).
SITES_DRIVE_CAP = 20_000
#: How many times dearer a candidate check by FTS5 rowid is than one by the indexes.
FTS_PROBE_COST = 20


def condition_words(query: SearchQuery) -> list[str]:
    """The condition filter's words (all must be in the trial's conditions); none = no filter."""
    return clean_words(query.condition) if query.condition else []


class SearchPlan:
    """The SQL pieces of one search and the two statement shapes that use them."""

    def __init__(self, query: SearchQuery, text: TextQuery, origin, vendor: str) -> None:
        self.query = query
        self.text = text
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
            words = condition_words(query)
            if words:
                cond = "conditions_text : (" + " AND ".join(fts5_string(w) for w in words) + ")"
                expr = f"({expr}) AND {cond}" if expr else cond
            self.fts_expr = expr
        elif condition_words(query):
            self.where.append(
                "to_tsvector('english'::regconfig, t.conditions_text) "
                "@@ plainto_tsquery('english'::regconfig, %s)"
            )
            self.params.append(" ".join(condition_words(query)))
        # A text made only of exclusions: a filter dropping the trials that match them.
        self.excluded_fts = text.fts5_excluded() if text.exclusions and vendor == "sqlite" else ""
        if self.excluded_fts:
            self.where.append(
                "t.id NOT IN (SELECT rowid FROM registry_trial_fts "
                "WHERE registry_trial_fts MATCH %s)"
            )
            self.params.append(self.excluded_fts)
        elif text.exclusions:
            self.where.append("t.search_vector @@ websearch_to_tsquery('english'::regconfig, %s)")
            self.params.append(text.websearch())
        # Sites within range: SQL on alias ``l``.
        self.located = origin is not None and filters.DISTANCE.active(query)
        self.site_sql, self.site_params = "", []
        self.seek_sql, self.seek_params = "", []
        self.check_sql, self.check_params = "", []
        self.by_cell = ""
        if self.located:
            self._site_filter(origin, query.within_km)

    def _trial_filters(self) -> None:
        """Every declared filter the query uses (``filters``) but the distance, which is
        planned per site (``_site_filter``)."""
        for f in filters.active(self.query):
            if f is not filters.DISTANCE:
                where, params = f.sql(self.query, self.vendor)
                self.where.extend(where)
                self.params.extend(params)

    def _site_filter(self, origin: tuple[float, float], within_km: float) -> None:
        sites = filters.DISTANCE.site_search(origin, within_km, self.vendor)
        self.check_sql, self.check_params = sites.check_sql, sites.check_params
        self.seek_sql, self.seek_params = sites.seek_sql, sites.seek_params
        self.site_sql, self.site_params = sites.site_sql, sites.site_params
        self.by_cell = sites.by_cell

    # ------------------------------------------------------------------ statements

    def _filters(self) -> tuple[str, list[Any]]:
        return " AND ".join(self.where), list(self.params)

    def few_sites(self, cursor) -> bool:
        """Whether the sites in range are few enough to drive the query (SQLite probes)."""
        return (
            self.vendor == "sqlite" and self._probe_sites(cursor, SITES_DRIVE_CAP) < SITES_DRIVE_CAP
        )

    def run_plain(self, cursor, offset: int, count_cap: int):
        """No text: NCT id order (the covering indexes), stop after the page; a distance is
        checked per trial on its sites; the total is counted up to ``count_cap``
        (``search.COUNT_CAP``, passed in so that it is read at call time)."""
        where, params = self._filters()
        conds = [where] if where else []
        if self.located:
            conds.append(
                "EXISTS (SELECT 1 FROM registry_triallocation l "
                f"WHERE l.trial_id = t.id AND {self.check_sql})"
            )
            params.extend(self.check_params)
        where = " WHERE " + " AND ".join(conds) if conds else ""
        # Counted first, so that a page past the last one reads no rows.
        cap = max(count_cap, offset + self.query.per_page)
        cursor.execute(
            f"SELECT COUNT(*) FROM (SELECT 1 FROM registry_trial t{where} LIMIT %s) c",
            [*params, cap + 1],
        )
        counted = cursor.fetchone()[0]
        total = min(counted, cap)
        rows = []
        if offset < total:
            cursor.execute(
                f"SELECT {SELECT_COLUMNS}, NULL FROM registry_trial t{where} "
                "ORDER BY t.nct_id LIMIT %s OFFSET %s",
                [*params, self.query.per_page, offset],
            )
            rows = cursor.fetchall()
        return rows, total, counted <= cap

    def run_windowed(self, cursor, offset: int):
        """Text and/or distance: one statement yields the page and ``COUNT(*) OVER ()``.

        An ``offset`` past the matches (a page past the last one; ``query.MAX_PAGE`` bounds
        it) returns no rows: SQLite and PostgreSQL skip rows as they read them and size no
        buffer by the offset, so it costs one pass over the matches; they are then counted.
        """
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
            f"SELECT {SELECT_COLUMNS}, p.score, p.total FROM p "
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
