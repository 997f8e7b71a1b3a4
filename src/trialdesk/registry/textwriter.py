"""Writing the text index (``textindex``): ``Writer`` adds, replaces and deletes trials'
documents and commits them with the registry stamp they reflect; what counts as a failure
of the index itself (``index_error``) and a writer held elsewhere (``IndexBusy``).

A document is a trial's ``textrow.TextRow``: its text columns, analysed by the index, and
the fields of every indexed filter declaration (``filters.FILTERS``, each writing its own).
"""

from __future__ import annotations

import fcntl
from pathlib import Path
from typing import TYPE_CHECKING

from trialdesk.registry import filters
from trialdesk.registry.textrow import ROW_COLUMNS, TEXT_FIELDS, TextRow

if TYPE_CHECKING:
    from trialdesk.registry.textindex import TextIndex

#: The meta document's stamp when the index holds no known state (a stamp is hex or "").
NO_STATE = "-"
#: A rebuild reads this many trials (and their sites) at a time.
REBUILD_CHUNK = 20_000
#: Each indexed filter declaration's document writer.
_DOCUMENTS = tuple(f.document for f in filters.FILTERS if f.indexed)


def index_error(exc: BaseException) -> bool:
    """Whether ``exc`` is a failure of the index itself (unreadable or damaged files, a
    missing package): then FTS5 answers. Tantivy's Rust panics arrive as pyo3's
    ``PanicException``, which derives from ``BaseException``; interrupts are not index
    errors."""
    return isinstance(exc, (ImportError, OSError, ValueError, RuntimeError)) or (
        type(exc).__name__ == "PanicException"
    )


class IndexBusy(RuntimeError):
    """Another process holds the text index's writer."""


def refuse_if_locked(path: Path) -> None:
    """Raise ``IndexBusy`` if a writer (of any process) holds the index folder's lock:
    its folder must not be replaced under it. Tantivy locks the file with ``flock``."""
    lock = path / ".tantivy-writer.lock"
    if not lock.exists():
        return
    with open(lock, "rb") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            raise IndexBusy(f"{path} is held by another writer") from None
        fcntl.flock(handle, fcntl.LOCK_UN)


class Writer:
    """Adds, replaces and deletes trials' documents; ``commit`` publishes them with a stamp."""

    def __init__(self, owner: TextIndex, writer) -> None:
        self.owner = owner
        self.writer = writer

    def __enter__(self) -> Writer:
        return self

    def __exit__(self, kind, *exc) -> None:
        self.close(wait=kind is None)

    def close(self, wait: bool = False) -> None:
        """Release the index, dropping what was not committed.

        With ``wait`` (the end of every write that went well) the background merges of the
        committed segments finish first. Without it the writer is rolled back, which is
        quick but cancels those merges: Tantivy restarts the writer's segment updater, and
        each commit would stay a segment of its own (a 100,000-study import left 4, and
        every model save one more, until a reindex)."""
        if self.writer is not None:
            writer, self.writer = self.writer, None
            if wait:
                writer.wait_merging_threads()  # uncommitted work is dropped here too
            else:
                writer.rollback()

    def delete(self, trial_ids) -> None:
        for pk in trial_ids:
            self.writer.delete_documents_by_term("id", int(pk))

    def add(self, row: TextRow) -> None:
        """One trial's document (``textrow.TextRow``: read by name); each filter
        declaration writes its own fields."""
        fields = {"id": row.id}
        for name in TEXT_FIELDS:
            value = getattr(row, name)
            if value:
                fields[name] = value
        for document in _DOCUMENTS:
            fields.update(document(row))
        self.writer.add_document(self.owner.tantivy.Document(**fields))

    def add_from_db(self, cursor, trial_ids=None) -> int:
        """Index the given trials (all when None) as the database holds them; returns how
        many. All trials are read in id ranges of ``REBUILD_CHUNK`` (bounded memory)."""
        trials_sql = f"SELECT {', '.join(ROW_COLUMNS)} FROM registry_trial"
        sites_sql = (
            "SELECT DISTINCT trial_id, lat, lon FROM registry_triallocation "
            "WHERE lat IS NOT NULL AND lon IS NOT NULL"
        )
        if trial_ids is not None:
            if not len(trial_ids):
                return 0
            # The ids bound as one JSON array (one statement text, whatever their number).
            ids = ["[" + ",".join(str(int(i)) for i in trial_ids) + "]"]
            member = " IN (SELECT value FROM json_each(%s))"
            return self._add_rows(
                cursor, (trials_sql + " WHERE id" + member, ids),
                (sites_sql + " AND trial_id" + member, ids),
            )  # fmt: skip
        n, last = 0, -1
        while True:
            cursor.execute(
                "SELECT max(id) FROM (SELECT id FROM registry_trial WHERE id > %s ORDER BY id "
                "LIMIT %s)",
                [last, REBUILD_CHUNK],
            )
            high = cursor.fetchone()[0]
            if high is None:
                return n
            span = [last, high]
            n += self._add_rows(
                cursor, (trials_sql + " WHERE id > %s AND id <= %s", span),
                (sites_sql + " AND trial_id > %s AND trial_id <= %s", span),
            )  # fmt: skip
            last = high

    def _add_rows(self, cursor, trials, sites) -> int:
        points: dict[int, list] = {}
        cursor.execute(*sites)
        for trial_id, lat, lon in cursor.fetchall():
            points.setdefault(trial_id, []).append((lat, lon))
        cursor.execute(*trials)
        n = 0
        while rows := cursor.fetchmany(5_000):
            for row in rows:
                self.add(TextRow(*row, points=tuple(points.get(row[0], ()))))
            n += len(rows)
        return n

    def commit(self, stamp: str | None) -> None:
        """Publish everything added with the meta document naming ``stamp`` (None: the
        index holds no known state), in one Tantivy commit."""
        tantivy = self.owner.tantivy
        self.writer.delete_documents_by_term("meta", "state")
        value = NO_STATE if stamp is None else stamp
        self.writer.add_document(tantivy.Document(meta="state", stamp=value))
        self.writer.commit()
        self.owner.committed()  # this process's searches re-read the index at once
