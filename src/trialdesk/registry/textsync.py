"""Keeping the SQLite text index (``textindex``) in step with the registry.

Three writers, one rule (see ``textindex`` for the stamps): the index is brought forward
only along an unbroken chain of registry stamps, otherwise it is rebuilt or left behind
(and FTS5 answers until it catches up).

- ``ImportFollower``: one ``import_paths`` run, file by file, rebuilding at the end if the
  chain broke;
- ``follow_on_commit`` / ``follow``: one model save or delete;
- ``rebuild``: everything, from one consistent read (``trialdesk registry reindex``);
  ``catch_up`` the same, only if the index lags and its writer is free.
"""

from __future__ import annotations

import logging
import time

from trialdesk.registry.stamp import current_stamp
from trialdesk.registry.textindex import (
    COMMIT_SECONDS,
    IndexBusy,
    TextIndex,
    Writer,
    for_connection,
    forget,
    index_error,
    open_index,
    path_for,
    refuse_if_locked,
)

log = logging.getLogger("trialdesk.registry.textindex")


def rebuild(connection=None, threads: int = 2) -> int:
    """Re-index every trial from one consistent read of the database; returns how many.
    An index folder that cannot be read is replaced by a new one. Raises ``IndexBusy``
    while another process writes the index."""
    if connection is None:
        from django.db import connection
    if path_for(connection) is None:
        return 0
    try:
        index = open_index(connection)
    except IndexBusy:
        raise
    except BaseException as exc:
        if not index_error(exc):
            raise
        refuse_if_locked(path_for(connection))
        log.warning("text index %s unreadable (%s): building a new one", path_for(connection), exc)
        forget(connection, remove=True)
        index = open_index(connection)
    w = index.writer(threads=threads, heap=256_000_000)
    try:
        return _rebuild_with(w, connection)
    finally:
        w.close(wait=True)


def _rebuild_with(w: Writer, connection) -> int:
    w.writer.delete_all_documents()
    # One read transaction: the rows and the stamp are the same state (a WAL snapshot). A
    # plain deferred BEGIN: Django's atomic() would take the write lock (the settings ask
    # for BEGIN IMMEDIATE) and hold back every writer for the whole rebuild.
    with connection.cursor() as wrapper:
        cursor = wrapper.cursor
        own = not connection.in_atomic_block
        if own:
            cursor.execute("BEGIN DEFERRED")
        try:
            stamp = current_stamp(cursor)
            n = w.add_from_db(cursor)
        finally:
            if own:
                cursor.execute("COMMIT")
    w.commit(stamp)
    return n


class ImportFollower:
    """Keeps the text index in step with one ``import_paths`` run (module docstring).

    ``written`` after each file's transaction; ``finish`` at the end commits, or rebuilds
    the index when the chain of stamps broke. Errors of the index never fail the import:
    they are logged and the index is rebuilt (or left behind, FTS5 answering)."""

    def __init__(self, connection, index: TextIndex, writer: Writer) -> None:
        self.connection = connection
        self.index = index
        self.w = writer
        with connection.cursor() as cursor:
            self.last = current_stamp(cursor)
        self.chained = index.stamp() == self.last
        self.pending = False
        self.committed_at = time.monotonic()

    @classmethod
    def start(cls, connection) -> ImportFollower | None:
        index = for_connection(connection)
        if index is None:
            return None
        writer = None
        try:
            writer = index.writer(threads=1, heap=128_000_000)
            return cls(connection, index, writer)
        except IndexBusy:
            log.warning("text index %s is being written by another process: left behind "
                        "(FTS5 answers) until that writer or a reindex catches up", index.path)  # fmt: skip
            return None
        except BaseException as exc:
            if writer is not None:
                writer.close()
            if not index_error(exc):
                raise
            log.warning("text index %s not written (%s): FTS5 answers until "
                        "`trialdesk registry reindex`", index.path, exc)  # fmt: skip
            return None

    def written(self, previous: str, stamp: str, replaced_ids, trials) -> None:
        """One file committed: the registry went from ``previous`` to ``stamp``; ``trials``
        are its written trials (``textrow.TextRow``, with their site positions)."""
        if not self.chained:
            return
        if previous != self.last:  # another writer changed the registry in between
            self.chained = False
            return
        try:
            self.w.delete(replaced_ids)
            for row in trials:
                self.w.add(row)
            self.last, self.pending = stamp, True
            if time.monotonic() - self.committed_at >= COMMIT_SECONDS:
                self._commit()
        except BaseException as exc:
            if not index_error(exc):
                raise
            log.warning("text index %s: %s; rebuilding it after the import", self.index.path, exc)
            self.chained = False

    def _commit(self) -> None:
        self.w.commit(self.last)
        self.pending, self.committed_at = False, time.monotonic()

    def abandon(self) -> None:
        """The import ended with an exception: drop what is uncommitted (the index keeps
        its last committed state)."""
        self.w.close()

    def finish(self) -> None:
        try:
            if self.chained:
                # A change made after the import's last file (while it still held the
                # index's writer, so that change could not follow itself) breaks the chain.
                with self.connection.cursor() as cursor:
                    self.chained = current_stamp(cursor) == self.last
            if self.chained:
                if self.pending:
                    self._commit()
            else:
                self.w.writer.rollback()
                _rebuild_with(self.w, self.connection)
        except BaseException as exc:
            if not index_error(exc):
                raise
            log.warning("text index %s not brought up to date, FTS5 answers until "
                        "`trialdesk registry reindex`: %s", self.index.path, exc)  # fmt: skip
        finally:
            self.w.close(wait=True)


def catch_up(connection) -> bool:
    """Rebuild the index if it lags the database and no other process is writing it; True
    when it is current afterwards. The end of an import that could not follow (another
    process held the index) calls this."""
    index = for_connection(connection)
    if index is None:
        return False
    try:
        w = index.writer(threads=2, heap=256_000_000)
    except IndexBusy:
        return False
    try:
        with connection.cursor() as cursor:
            if index.stamp() != current_stamp(cursor):
                _rebuild_with(w, connection)
        return True
    except BaseException as exc:
        if not index_error(exc):
            raise
        log.warning("text index %s not caught up, FTS5 answers: %s", index.path, exc)
        return False
    finally:
        w.close(wait=True)


def follow_on_commit(previous: str, stamp: str, trial_ids: set[int]) -> None:
    """After the transaction commits, bring the index from ``previous`` to ``stamp`` by
    re-indexing ``trial_ids`` (a model save or delete); see the module docstring.

    The changes of one transaction are followed together, with one index commit (deleting
    a trial and its hundreds of sites is one transaction). Outside a transaction the
    change is followed at once."""
    from django.db import connection, transaction

    if path_for(connection) is None:
        return
    change = (previous, stamp, set(trial_ids))
    if not connection.in_atomic_block:
        _follow_chain([change])
        return
    # This transaction's pending changes, while its callback is still registered (Django
    # drops the callbacks of a rolled-back transaction or savepoint: then start anew).
    state = getattr(connection, "_text_index_pending", None)
    if (
        state is None
        or state["ran"]
        or not any(entry[1] is state["run"] for entry in connection.run_on_commit)
    ):
        state = {"changes": [], "ran": False}

        def run(state=state) -> None:
            state["ran"] = True
            _follow_chain(state["changes"])

        state["run"] = run
        transaction.on_commit(run, using=connection.alias, robust=True)
        connection._text_index_pending = state
    state["changes"].append(change)


def _follow_chain(changes: list) -> bool:
    """Follow consecutive changes [(previous, stamp, trial_ids), ...] in one index commit;
    nothing if they are not one chain (a rolled-back savepoint left a gap)."""
    for before, after in zip(changes, changes[1:], strict=False):
        if after[0] != before[1]:
            return False
    ids = set().union(*(c[2] for c in changes))
    return follow(changes[0][0], changes[-1][1], ids)


def follow(previous: str, stamp: str, trial_ids) -> bool:
    """Re-index ``trial_ids`` and record ``stamp``, if the index holds ``previous``."""
    from django.db import DatabaseError, connection

    index = for_connection(connection)
    if index is None:
        return False
    try:
        with index.writer(threads=1, heap=15_000_000) as w:
            if index.stamp() != previous:
                return False
            ids = sorted(trial_ids)
            w.delete(ids)
            with connection.cursor() as cursor:
                w.add_from_db(cursor.cursor, ids)
            w.commit(stamp)
        return True
    except IndexBusy:
        return False
    except BaseException as exc:
        if not (index_error(exc) or isinstance(exc, DatabaseError)):
            raise
        log.warning("text index %s not updated, FTS5 answers until a reindex: %s", index.path, exc)
        return False
