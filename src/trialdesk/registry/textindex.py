"""The SQLite registry's ranked text search in Tantivy, kept in step with the database.

FTS5 has no top-k pruning: ``bm25`` is computed for every match, so a word in 40 % of
500,000 trials takes about 300 ms however few results are shown. Tantivy (a Lucene-like
engine in Rust) ranks with BM25 and block-max WAND, counts in native code, and answers the
same queries in a few milliseconds (docs/benchmarks-registry.md). On SQLite, ranked text
searches whose filters are all indexed (``search.engine_for``) use this index; FTS5 stays
the engine of record (the SQL plans, condition-only filters, texts made only of
exclusions, and every search while this index lags).

The index lives in a folder beside the database file (``<database>.text-index``; a
per-process temporary folder for an in-memory database). One document per trial holds

- the eight FTS5 text columns (titles, acronym, conditions, treatments, summary, criteria,
  identifiers), each boosted by its FTS5 ``bm25`` weight
  (``sqlplan.BM25_WEIGHTS``), split as FTS5 splits (runs of Unicode letters and digits),
  lower-cased, folded to ASCII and stemmed with Snowball English (as PostgreSQL stems);
- the fields of every indexed filter declaration (``filters.FILTERS``: status, study
  type, sex, phase bits, age limits in days with open ends stored as ``filters.AGE_OPEN``,
  and each distinct site position as ``"lat lon"`` text, so a distance filter is a term
  set of the positions within range found by the in-memory ``filterindex``), written and
  queried by the declarations themselves (``textwriter.Writer.add``,
  ``TextIndex.filter_queries``).

**Consistency.** Every change to the registry gives it a new random stamp
(``stamp.bump_version``, which also returns the stamp before). The index holds one extra
document naming the stamp of the database state it reflects, written in the same Tantivy
commit as the trials' documents. Searches use the index only while that stamp equals the
database's; otherwise they take the FTS5 path, which is slower but always current. Writers
bring the index forward only along an unbroken chain of stamps:

- the importer indexes each file's trials after the file's transaction commits and
  commits the index every ``COMMIT_SECONDS`` and at the end; if any other change came in
  between (its file's previous stamp is not the one it last wrote), or the index was not
  current when the import began, it rebuilds the index from the database at the end;
- model saves and deletes (each save is one transaction with its stamp) update their
  trials' documents after the transaction commits, all changes of one transaction in one
  index commit (``textsync.follow_on_commit``), if the index was current just before them
  and no other process holds the index writer; otherwise the index stays behind (FTS5
  answers) until the next import or ``trialdesk registry reindex``.

The two engines differ in two ways (tested, docs/registry.md): relevance is Tantivy's BM25
(filters select without scoring), not FTS5's ``bm25``, so the order of results can differ;
and FTS5 stems with the original Porter algorithm while this index uses Snowball English,
so a few words match differently (``general`` finds ``generic`` on FTS5 only, ``sky``
finds ``skies`` here only; ``ß``, ``ø`` and ligatures fold here only). On the synthetic
registry's vocabulary both find the same trials (120 random queries compared).
"""

from __future__ import annotations

import atexit
import logging
import os
import shutil
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

from trialdesk.registry import filters
from trialdesk.registry.sqlplan import BM25_WEIGHTS
from trialdesk.registry.stamp import current_stamp
from trialdesk.registry.textrow import TEXT_FIELDS
from trialdesk.registry.textwriter import (
    NO_STATE,
    IndexBusy,
    Writer,
    index_error,
    refuse_if_locked,
)

log = logging.getLogger(__name__)

#: An index folder made with other fields than ``TEXT_FIELDS`` does not open (Tantivy: "the
#: schema does not match"): FTS5 answers until a rebuild (the next import, or ``registry
#: reindex``).
BOOSTS = dict(zip(TEXT_FIELDS, (float(w) for w in BM25_WEIGHTS), strict=True))
ANALYZER = "trialdesk_text"
#: The importer commits the index at most this often (and at the end).
COMMIT_SECONDS = 10.0
#: Set False to answer every search with FTS5 (tests compare the engines this way).
ENABLED = os.environ.get("TRIALDESK_TEXT_INDEX", "1") != "0"


class TextIndex:
    """One open index folder (shared by the process: see ``for_connection``)."""

    def __init__(self, path: Path, db_empty: bool, db_stamp: str) -> None:
        import tantivy

        self.tantivy = tantivy
        self.path = path
        builder = tantivy.SchemaBuilder()
        builder.add_integer_field("id", stored=True, indexed=True, fast=True)
        for name in TEXT_FIELDS:
            builder.add_text_field(name, stored=False, tokenizer_name=ANALYZER)
        # The filter declarations' fields: raw (exact) terms first, then integers.
        fields = [fld for f in filters.FILTERS if f.indexed for fld in f.index_fields]
        for name in [name for name, kind in fields if kind == "raw"] + ["meta"]:
            builder.add_text_field(name, stored=False, tokenizer_name="raw")
        for name in [name for name, kind in fields if kind == "int"]:
            builder.add_integer_field(name, indexed=True, fast=True)
        builder.add_text_field("stamp", stored=True, tokenizer_name="raw")
        self.schema = builder.build()
        path.mkdir(parents=True, exist_ok=True)
        created = not tantivy.Index.exists(str(path))
        try:
            self.index = tantivy.Index(self.schema, path=str(path), reuse=True)
        except ValueError as exc:
            if "schema does not match" not in str(exc):
                raise
            # Made by a trialdesk with other fields (migration 0011 added the identifiers).
            # The index is derived data: start a new one, which the next import (or a
            # reindex) fills; meanwhile it is not current and FTS5 answers.
            refuse_if_locked(path)
            log.warning("text index %s has other fields (%s): starting a new one", path, exc)
            shutil.rmtree(path)
            path.mkdir(parents=True)
            created = True
            self.index = tantivy.Index(self.schema, path=str(path), reuse=True)
        self.index.register_tokenizer(
            ANALYZER,
            tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple())
            .filter(tantivy.Filter.lowercase())
            .filter(tantivy.Filter.ascii_fold())
            .filter(tantivy.Filter.stemmer("english"))
            .build(),
        )
        self._lock = threading.Lock()
        self._searcher = None
        self._stamp: str | None = None
        self._checked = 0.0
        if created:
            # A new, empty index is current only for an empty registry.
            with self.writer(threads=1) as w:
                w.commit(db_stamp if db_empty else None)

    # ------------------------------------------------------------------ reading

    def searcher_for(self, db_stamp: str):
        """A searcher over the index if it holds exactly the state ``db_stamp``, else None.
        While the index lags, it is re-read at most twice a second."""
        with self._lock:
            if self._searcher is not None and self._stamp == db_stamp:
                return self._searcher
            now = time.monotonic()
            if self._searcher is not None and now - self._checked < 0.5:
                return None
            self._checked = now
            self.index.reload()
            self._searcher = self.index.searcher()
            self._stamp = self._read_stamp(self._searcher)
            return self._searcher if self._stamp == db_stamp else None

    def committed(self) -> None:
        """A writer of this process committed: the next search re-reads the index."""
        self._checked = 0.0

    def stamp(self) -> str | None:
        """The stamp of the database state the committed index holds (None: no state)."""
        self.index.reload()
        return self._read_stamp(self.index.searcher())

    def _read_stamp(self, searcher) -> str | None:
        q = self.tantivy.Query.term_query(self.schema, "meta", "state")
        hits = searcher.search(q, 1, count=False).hits
        if not hits:
            return None
        value = searcher.doc(hits[0][1]).get_first("stamp")
        return None if value == NO_STATE else value

    def writer(self, threads: int = 1, heap: int = 128_000_000) -> Writer:
        """The index's single writer (raises ``IndexBusy`` while another process holds it)."""
        try:
            return Writer(self, self.index.writer(heap_size=heap, num_threads=threads))
        except ValueError as exc:
            raise IndexBusy(str(exc)) from exc

    # ------------------------------------------------------------------ queries

    def text_query(self, text, condition_words: list[str]):
        """The parsed user text (``textquery.TextQuery``) plus the condition filter's words
        (each required in the conditions) as one Tantivy query."""
        q = self.tantivy.Query
        occur = self.tantivy.Occur
        groups = []
        for group in text.groups:
            clauses = [
                (occur.MustNot if t.negated else occur.Must, self._words(t.text, TEXT_FIELDS))
                for t in group
            ]
            groups.append(q.boolean_query(clauses))
        parts = [(occur.Must, groups[0] if len(groups) == 1 else q.boolean_query(
            [(occur.Should, g) for g in groups]))]  # fmt: skip
        # The condition filter selects without ranking, like the other filters.
        parts += [
            (occur.Must, q.const_score_query(self._words(w, ("conditions_text",)), 0.0))
            for w in condition_words
        ]
        return q.boolean_query(parts)

    def _words(self, words: str, fields):
        # ``words`` are letter/digit runs joined by spaces (textquery): nothing in them is
        # query syntax; quoted, several words are a phrase in each field.
        boosts = {f: BOOSTS[f] for f in fields}
        return self.index.parse_query(f'"{words}"', list(fields), field_boosts=boosts)

    def filter_queries(self, query, origin, index) -> list | None:
        """The query's declared filters (``filters.FILTERS``) as constant-score queries
        (filters select, they do not rank: a rarer status must not score higher); None when
        nothing can match (no site position within range). ``index`` is the in-memory
        ``filterindex.FilterIndex`` (its site positions)."""
        out = []
        for f in filters.active(query):
            compiled = f.tantivy(self, query, origin, index)
            if compiled is None:
                return None
            out.extend(self.tantivy.Query.const_score_query(c, 0.0) for c in compiled)
        return out

    def top(self, searcher, query, offset: int, limit: int) -> tuple[np.ndarray, np.ndarray, int]:
        """(ids, scores) of the matches ranked ``offset`` to ``offset + limit``, and the exact
        number of matches. Equal scores keep Tantivy's order (segment, then document), the
        same for every page of one index state.

        Tantivy's top-docs collector reserves room for ``offset + limit`` hits before it
        reads any (page 2147483648 asked for ~687 GB and aborted the process, issue 15), so
        neither reaches it unbounded: ``limit`` is capped at the documents in the index, and
        past the first page the matches are counted first; an ``offset`` at or beyond them
        returns no hits without a ranked search (the ranked search then needs no count, so
        Tantivy may skip blocks that cannot reach the page).
        """
        if offset < 0 or limit < 1:
            raise ValueError(f"offset must be >= 0 and limit >= 1, got {offset} and {limit}")
        limit = min(limit, max(1, searcher.num_docs))
        if offset:
            total = int(searcher.search(query, 1, count=True).count)
            if offset >= total:
                return np.zeros(0, np.int64), np.zeros(0), total
            result = searcher.search(query, min(limit, total - offset), count=False, offset=offset)
        else:
            result = searcher.search(query, limit, count=True)
            total = int(result.count)
        hits = result.hits
        ids = searcher.fast_field_values("id", [h[1] for h in hits]) if hits else []
        return np.array(ids, dtype=np.int64), np.array([h[0] for h in hits], np.float64), total


# ---------------------------------------------------------------------- per connection

_open: dict[str, TextIndex] = {}
_failed: dict[str, float] = {}  # path -> when opening it last failed
#: After a failed opening, searches use FTS5 this long before the index is tried again.
RETRY_SECONDS = 30.0
_open_lock = threading.Lock()
_temp_dirs: dict[str, str] = {}


def path_for(connection) -> Path | None:
    """The index folder of a SQLite connection's database (None: no text index here)."""
    if not ENABLED or connection.vendor != "sqlite":
        return None
    name = str(connection.settings_dict["NAME"])
    if connection.is_in_memory_db():
        key = f"{os.getpid()}:{connection.alias}:{name}"
        if key not in _temp_dirs:
            _temp_dirs[key] = tempfile.mkdtemp(prefix="trialdesk-text-index-")
            atexit.register(shutil.rmtree, _temp_dirs[key], True)
        return Path(_temp_dirs[key])
    return Path(name + ".text-index")


def for_connection(connection=None) -> TextIndex | None:
    """The process's open text index of ``connection``'s database, opened (or created) on
    first use; None where there is none or it cannot be opened (FTS5 answers; the opening
    is tried again after ``RETRY_SECONDS``)."""
    if connection is None:
        from django.db import connection
    path = path_for(connection)
    if path is None:
        return None
    hit = _open.get(str(path))
    if hit is not None:
        return hit
    failed = _failed.get(str(path))
    if failed is not None and time.monotonic() - failed < RETRY_SECONDS:
        return None
    try:
        return open_index(connection)
    except BaseException as exc:
        if not index_error(exc):
            raise
        _failed[str(path)] = time.monotonic()
        log.warning("text index %s unavailable, FTS5 answers: %s", path, exc)
        return None


def open_index(connection) -> TextIndex:
    """Open (or create) the text index of ``connection``'s database; raises if it cannot
    (``IndexBusy``: another process is creating it; OSError or ValueError: unreadable)."""
    path = path_for(connection)
    if path is None:
        raise ValueError("no text index for this database")
    key = str(path)
    with _open_lock:
        hit = _open.get(key)
        if hit is None:
            with connection.cursor() as cursor:
                db_stamp = current_stamp(cursor)
                cursor.execute("SELECT NOT EXISTS (SELECT 1 FROM registry_trial)")
                empty = bool(cursor.fetchone()[0])
            hit = _open[key] = TextIndex(path, empty, db_stamp)
            _failed.pop(key, None)
    return hit


def forget(connection=None, remove: bool = False) -> None:
    """Close this process's handle on the index (and with ``remove`` delete the folder)."""
    if connection is None:
        from django.db import connection
    path = path_for(connection)
    if path is None:
        return
    with _open_lock:
        _open.pop(str(path), None)
        _failed.pop(str(path), None)
    if remove:
        shutil.rmtree(path, ignore_errors=True)
