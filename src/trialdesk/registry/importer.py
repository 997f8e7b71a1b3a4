"""Import CT.gov API v2 study JSON into the registry: idempotent, all of a file or none, fast.

``import_paths(paths)`` reads files, folders and .zip archives (via
``trialdesk.interop.ctgov.iter_sources``), one source at a time:

1. the whole file is validated first and turned into rows (``registry/parsing.py``, in
   worker processes for 4 or more files; msgspec structures generated from the pydantic
   models, pydantic again only for a file they refuse); any bad record fails the file
   with a ``RecordError`` naming the file and the JSON path, and nothing of it is written;
2. files are written in groups (``GROUP_RECORDS`` studies or ``GROUP_SOURCES`` files), one
   transaction per group and a savepoint per file: a file whose writing fails (a database
   error) is rolled back to its savepoint and reported, the rest of the group commits.
   Trials are upserted on ``nct_id`` in batches (``INSERT ... ON CONFLICT (nct_id) DO
   UPDATE``, ``executemany``); a record whose JSON hash equals the stored one is counted
   unchanged and not written; an updated trial's conditions, interventions and sites are
   deleted and inserted again;
3. the full-text index follows in the same transaction (SQLite: new trials in one batched
   ``INSERT ... SELECT`` per batch with the insert trigger dropped and re-created inside the
   transaction, updated ones through the update trigger, see ``registry/bulk.py``;
   PostgreSQL: a generated tsvector column);
4. the registry version (``stamp.bump_version``) moves once per file, so per-process search
   caches rebuild; the report, the progress callback and the Tantivy text index hear of a
   file only once its group has committed.

A large import into a small registry builds the secondary indexes once at the end
(``bulk.should_defer``). A failed file is reported and the next file is imported;
re-running an import never duplicates anything. Memory holds a few files at a time.
"""

from __future__ import annotations

import gc
import os
import time
from collections.abc import Callable, Iterable
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from typing import Any

from trialdesk.registry import pgcopy, textsync
from trialdesk.registry.bulk import FtsBatch, defer_indexes, restore_indexes, should_defer
from trialdesk.registry.parsing import (
    SITE_LAT,
    SITE_LON,
    TRIAL_COLUMNS,
    WORKER_COLLECT_EVERY,
    Prepared,
    parse_sources,
    prepare,
)
from trialdesk.registry.stamp import bump_version
from trialdesk.registry.textrow import ROW_COLUMNS, TextRow

#: Studies per batch of statements inside a source's savepoint.
BATCH_SIZE = 500

#: A group of sources shares one transaction (a savepoint each) until it holds this many
#: studies or this many sources; then it commits. Fewer commits write each index page
#: touched by several files once instead of once per file, and the FTS5 trigger is
#: dropped and created once per group (a schema change, which makes SQLite prepare every
#: statement again). Small files gain most (files of 100 studies: about 4,200 records/s
#: grouped against 3,300 a commit each); a file of 1,000 studies or more is a group of its
#: own: larger transactions were about 10 % slower (measured in docs/benchmarks-registry.md).
GROUP_RECORDS = 1_000
GROUP_SOURCES = 50

#: WAL pages between checkpoints while importing (SQLite's default is 1,000).
WAL_AUTOCHECKPOINT_PAGES = 16384

_KEEP_ON_UPDATE = ("nct_id", "imported_at")


@dataclass
class ImportReport:
    """What an import did. ``failures`` lists (source name, error text) per failed file."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    files: int = 0
    failures: list[tuple[str, str]] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def records(self) -> int:
        """Records read from the files that imported (created + updated + unchanged)."""
        return self.created + self.updated + self.unchanged

    @property
    def records_per_second(self) -> float:
        return self.records / self.seconds if self.seconds > 0 else 0.0

    @property
    def ok(self) -> bool:
        return not self.failures

    def summary(self) -> str:
        text = (
            f"{self.files} file(s) imported: {self.created} created, {self.updated} updated, "
            f"{self.unchanged} unchanged ({self.records} records in {self.seconds:.1f} s, "
            f"{self.records_per_second:,.0f} records/s)"
        )
        if self.failures:
            text += f"; {len(self.failures)} file(s) failed and imported nothing"
        return text

    def to_dict(self) -> dict[str, Any]:
        return {
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "records": self.records,
            "files": self.files,
            "failures": [{"source": s, "error": e} for s, e in self.failures],
            "seconds": round(self.seconds, 3),
            "records_per_second": round(self.records_per_second, 1),
        }


@dataclass(frozen=True)
class ImportProgress:
    """Sent to the ``progress`` callback after each source (file or archive member)."""

    source: str
    ok: bool
    sources_done: int
    sources_total: int
    records_done: int
    elapsed: float


def import_paths(
    paths: Iterable[str | os.PathLike[str]],
    *,
    progress: Callable[[ImportProgress], None] | None = None,
    workers: int | None = None,
    optimize: bool | None = None,
) -> ImportReport:
    """Import every JSON source under ``paths`` (files, folders, .zip) into the registry.

    Each source is all of its studies or none (a savepoint in its group's transaction,
    module docstring). A path that does not exist or an unreadable archive is reported as a
    failure of that path; the others still import.

    After 10,000 or more trials written (or with ``optimize=True``) ``optimize_index`` runs
    (SQLite: the full-text index merged; PostgreSQL: ``VACUUM (ANALYZE)``), which makes
    searches faster.

    Reading and validating (msgspec; pydantic for a refused file) is CPU-bound, so with
    several sources it runs in ``workers`` processes (default: one per CPU, at most 4; 0 =
    in this process) while this process writes to the database, in source order. Memory
    holds a few sources at a time.
    """
    from trialdesk.interop.ctgov import RecordError, iter_sources

    start = time.perf_counter()
    report = ImportReport()
    sources = []
    for path in paths:
        try:
            sources.extend(iter_sources([path]))
        except RecordError as exc:
            report.failures.append((exc.source, _error_text(exc)))
    if workers is None:
        workers = min(4, os.cpu_count() or 1) if len(sources) >= 4 else 0
    bulk = len(sources) >= BULK_SOURCES
    # Indexes an interrupted bulk import left unbuilt are built first (no-op normally).
    # A large import into a small registry drops the secondary indexes and builds them
    # once at the end (registry/bulk.py).
    deferred = should_defer(len(sources))
    if deferred:
        defer_indexes()
    else:
        restore_indexes()
    # Off while a bulk import writes; otherwise FTS5's default (which also repairs the
    # setting an interrupted bulk import left at 0).
    _set_automerge(0 if bulk else FTS5_AUTOMERGE_DEFAULT)
    # The writer unpickles (or builds) many small row lists that form no cycles, and each
    # automatic collection would re-traverse them: the cyclic collector is off while
    # importing (young objects collected every few files); the caller's state comes back.
    gc_was_enabled = gc.isenabled()
    gc.disable()
    from django.db import connection

    follower = None
    group = None
    completed = False
    try:
        # The text index (SQLite) follows each committed file (registry/textsync.py).
        follower = textsync.ImportFollower.start(connection)
        counted = 0

        def announce(name: str, ok: bool) -> None:
            nonlocal counted
            counted += 1
            if progress is not None:
                progress(
                    ImportProgress(
                        source=name,
                        ok=ok,
                        sources_done=counted,
                        sources_total=len(sources),
                        records_done=report.records,
                        elapsed=time.perf_counter() - start,
                    )
                )

        group = _Group(report, follower, announce)
        done = 0
        try:
            for done, (name, prepared) in enumerate(parse_sources(sources, workers), 1):
                group.add(name, prepared)
                if group.records >= GROUP_RECORDS or len(group.pending) >= GROUP_SOURCES:
                    group.commit()
                if done % WORKER_COLLECT_EVERY == 0:
                    gc.collect(1)
            group.commit()
        except BrokenProcessPool:
            # A parse worker died (killed for memory, say): what is written so far commits,
            # and every source not stored yet fails with the reason.
            group.commit()
            report.failures.extend((s.name, WORKER_DIED) for s in sources[done:])
        completed = True
    finally:
        if group is not None and not completed:
            group.abandon()
        if follower is not None and not completed:
            follower.abandon()  # the index keeps its last committed state
        if gc_was_enabled:
            gc.enable()
        if bulk:
            _set_automerge(FTS5_AUTOMERGE_DEFAULT)
        if deferred:
            restore_indexes()
    if follower is not None:
        follower.finish()
    elif report.created or report.updated:
        textsync.catch_up(connection)  # another process held the index while this wrote
    if optimize is None:
        optimize = report.created + report.updated >= OPTIMIZE_AFTER
    if optimize:
        optimize_index()
    report.seconds = time.perf_counter() - start
    return report


#: The failure of each source an import could not reach because a parse worker died.
WORKER_DIED = (
    "not imported: a parse worker process died during the import (out of memory?); "
    "import again to continue (records already stored are left as they are)"
)

#: After writing this many trials, ``import_paths`` merges the SQLite full-text index.
OPTIMIZE_AFTER = 10_000

#: From this many sources on, ``import_paths`` turns FTS5 incremental merging off while it
#: writes (``automerge = 0``) and back on (FTS5's default, 4) afterwards. Each transaction
#: still adds its own index segment and FTS5's "crisis merge" still bounds the segments per
#: level, so the index stays complete and correct; only the merge work moves to the end
#: (``optimize_index`` after ``OPTIMIZE_AFTER`` trials).
BULK_SOURCES = 4
FTS5_AUTOMERGE_DEFAULT = 4


def _set_automerge(value: int) -> None:
    """Set the SQLite FTS5 ``automerge`` option of the trial index (no-op elsewhere)."""
    from django.db import connection, transaction

    if connection.vendor != "sqlite":
        return
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO registry_trial_fts(registry_trial_fts, rank) VALUES ('automerge', %s)",
            [int(value)],
        )


def optimize_index() -> None:
    """SQLite: merge the FTS5 index into one segment (``'optimize'``; a candidate check by
    rowid then seeks once instead of once per segment, several times faster) and let
    SQLite refresh its planner statistics (``PRAGMA optimize``). PostgreSQL: ``VACUUM
    (ANALYZE)`` the registry's tables (autovacuum would, later): the planner learns the
    row counts of the freshly loaded tables, and the visibility map lets a bitmap scan skip
    the rows of all-visible pages it only counts (at 100,000 trials a text search matching
    39,000 of them fell from 490 to 260 ms). Inside a transaction, where VACUUM cannot
    run, only ``ANALYZE``."""
    from django.db import connection, transaction

    if connection.vendor == "postgresql":
        command = "ANALYZE" if connection.in_atomic_block else "VACUUM (ANALYZE)"
        with connection.cursor() as cursor:
            cursor.execute(
                f"{command} registry_trial, registry_trialcondition, "
                "registry_trialintervention, registry_triallocation"
            )
        return
    if connection.vendor != "sqlite":
        return
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("INSERT INTO registry_trial_fts(registry_trial_fts) VALUES ('optimize')")
    with connection.cursor() as cursor:
        # Approximate statistics (SQLite's recommendation for PRAGMA optimize): an exact
        # ANALYZE reads every index, about 3 s at 500,000 trials; this about 0.1 s.
        cursor.execute("PRAGMA analysis_limit = 400")
        cursor.execute("PRAGMA optimize")


def import_bytes(data: bytes, source: str) -> ImportReport:
    """Import one JSON document given as bytes (one transaction); for tests and uploads."""
    start = time.perf_counter()
    report = ImportReport()
    from django.db import connection

    follower = textsync.ImportFollower.start(connection)
    try:
        group = _Group(report, follower)
        try:
            group.add(source, prepare(data, source))
            group.commit()
        except BaseException:
            group.abandon()
            raise
    finally:
        if follower is not None:
            follower.finish()
    report.seconds = time.perf_counter() - start
    return report


def _database_errors() -> tuple[type[Exception], ...]:
    """Django's database error and the driver's: the writer uses the backend cursor, whose
    errors (``sqlite3.IntegrityError``, ``psycopg.errors...``) Django does not wrap."""
    from django.db import DatabaseError, connection

    return (DatabaseError, connection.Database.DatabaseError)


def _error_text(exc: Exception) -> str:
    path = getattr(exc, "path", "")
    message = getattr(exc, "message", None) or str(exc)
    return f"{path}: {message}" if path else message


#: The columns of each written row, in the rows' order (INSERT, or COPY on PostgreSQL).
_COPY_TRIAL = ("id", *TRIAL_COLUMNS)
_CHILD_COLUMNS = {
    "condition": ("trial_id", "position", "name"),
    "intervention": ("trial_id", "position", "type", "name"),
    "location": (
        "trial_id", "position", "facility", "city", "state", "country", "status", "lat", "lon",
        "cell",
    ),
}  # fmt: skip


def _sql(vendor: str) -> dict[str, str]:
    cols = ", ".join(TRIAL_COLUMNS)
    marks = ", ".join(
        "%s::jsonb" if (c == "record" and vendor == "postgresql") else "%s" for c in TRIAL_COLUMNS
    )
    updates = ", ".join(f"{c} = excluded.{c}" for c in TRIAL_COLUMNS if c not in _KEEP_ON_UPDATE)
    return {
        "upsert": (
            f"INSERT INTO registry_trial ({cols}) VALUES ({marks}) "
            f"ON CONFLICT (nct_id) DO UPDATE SET {updates}"
        ),
        **{
            kind: f"INSERT INTO registry_trial{kind} ({', '.join(columns)}) "
            f"VALUES ({_in(len(columns))})"
            for kind, columns in _CHILD_COLUMNS.items()
        },
    }


def _in(n: int) -> str:
    return ", ".join(["%s"] * n)


class _Group:
    """Sources written in one transaction, each in its own savepoint (module docstring).

    ``add`` writes a source inside the group's transaction (opened by the first source),
    in a savepoint: a database error rolls back that source alone, which is then a
    failure, and the others of the group stay. ``commit`` ends the transaction; only then
    are the sources counted into the report, announced (``announce(name, ok)``, in their
    order) and handed to the text index, so a report, the progress and the index never
    show what did not commit. If the commit itself fails, every source of the group fails
    with the error and nothing of them is stored. On SQLite the FTS5 insert trigger is
    dropped once per group (``bulk.FtsBatch``) and created again before the commit.
    """

    def __init__(self, report: ImportReport, follower=None, announce=None) -> None:
        self.report = report
        self.follower = follower
        self.announce = announce
        #: (source name, None or an error text, counts, change) per source of the group
        self.pending: list[tuple[str, str | None, tuple[int, int, int], tuple | None]] = []
        self.records = 0
        self._atomic = None
        self._cursor = None
        self._fts = None

    def _open(self) -> None:
        from django.db import connection, transaction

        self._atomic = transaction.atomic()
        self._atomic.__enter__()
        # The backend cursor itself: Django's debug wrapper (DEBUG=True) would format and
        # keep every statement of a bulk import in memory.
        self._wrapper = connection.cursor()
        self._cursor = self._wrapper.cursor
        if connection.vendor == "sqlite":
            # Bulk-load settings for this connection: a 64 MB page cache (index updates at
            # hundreds of thousands of trials) and fewer, larger WAL checkpoints.
            self._cursor.execute("PRAGMA cache_size = -65536")
            self._cursor.execute(f"PRAGMA wal_autocheckpoint = {WAL_AUTOCHECKPOINT_PAGES}")
            self._fts = FtsBatch(self._cursor)

    def add(self, name: str, prepared) -> None:
        from django.db import transaction

        from trialdesk.interop.ctgov import RecordError

        if isinstance(prepared, RecordError):
            self.pending.append((name, _error_text(prepared), (0, 0, 0), None))
            return
        if self._atomic is None:
            self._open()
        # Text-index rows are built only while the index follows file by file; once the
        # chain of stamps is broken (or was at the start) the follower rebuilds at the end.
        collect = self.follower is not None and self.follower.chained
        try:
            with transaction.atomic():
                created, updated, unchanged, change = _write(
                    self._cursor, prepared, collect, self._fts
                )
        except _database_errors() as exc:
            self.pending.append((name, f"database error: {exc}", (0, 0, 0), None))
            return
        self.pending.append((name, None, (created, updated, unchanged), change))
        self.records += created + updated + unchanged

    def commit(self) -> None:
        """End the group's transaction and account for its sources (class docstring)."""
        pending, self.pending, self.records = self.pending, [], 0
        if self._atomic is not None:
            atomic, self._atomic = self._atomic, None
            try:
                self._close_cursor()
                atomic.__exit__(None, None, None)
            except _database_errors() as exc:
                error = f"database error (the transaction of this group of files): {exc}"
                pending = [(n, e or error, (0, 0, 0), None) for n, e, _, _ in pending]
        for name, error, (created, updated, unchanged), change in pending:
            if error is None:
                self.report.created += created
                self.report.updated += updated
                self.report.unchanged += unchanged
                self.report.files += 1
                if change is not None and self.follower is not None:
                    self.follower.written(*change)
            else:
                self.report.failures.append((name, error))
            if self.announce is not None:
                self.announce(name, error is None)

    def abandon(self) -> None:
        """An exception ends the import: roll the open transaction back (nothing of the
        group's sources is stored, counted or indexed)."""
        self.pending, self.records = [], 0
        if self._atomic is not None:
            atomic, self._atomic = self._atomic, None
            self._fts = None  # the rollback restores the trigger
            try:
                self._wrapper.close()
            finally:
                atomic.__exit__(RuntimeError, RuntimeError("import abandoned"), None)

    def _close_cursor(self) -> None:
        try:
            if self._fts is not None:
                self._fts.close()
        finally:
            self._fts = None
            self._wrapper.close()


_HASH = TRIAL_COLUMNS.index("record_hash")
_IMPORTED_AT = TRIAL_COLUMNS.index("imported_at")
_UPDATED_AT = TRIAL_COLUMNS.index("updated_at")
#: Each ``textrow.TextRow`` column (after the id) and where it sits in a trial row.
_TEXT_ROW = [(c, TRIAL_COLUMNS.index(c)) for c in ROW_COLUMNS[1:]]


def _write(
    cursor, items: Prepared, collect: bool = False, fts: FtsBatch | None = None
) -> tuple[int, int, int, tuple | None]:
    """Upsert one source's prepared studies in batches with the backend ``cursor``, inside
    the caller's transaction; returns (created, updated, unchanged, change).

    ``change`` (with ``collect``, when anything was written) is what the text index
    needs: the (previous, new) registry stamps, the replaced trials' ids, and each written
    trial as a ``textrow.TextRow`` (with its site positions). ``fts`` (SQLite) indexes the
    new trials in FTS5 in batches."""
    from django.db import connection
    from django.utils import timezone

    sql = _sql(connection.vendor)
    use_copy = pgcopy.usable(connection.vendor)
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    created = updated = unchanged = 0
    replaced: list[int] = []
    text_rows: list[TextRow] = []
    for start in range(0, len(items), BATCH_SIZE):
        batch = items[start : start + BATCH_SIZE]
        ncts = [b[0][0] for b in batch]
        cursor.execute(
            f"SELECT nct_id, id, record_hash FROM registry_trial WHERE nct_id IN ({_in(len(ncts))})",
            ncts,
        )
        existing = {nct: (pk, digest) for nct, pk, digest in cursor.fetchall()}
        to_write = []
        replaced_ids = []
        for entry in batch:
            nct, digest = entry[0][0], entry[0][_HASH]
            old = existing.get(nct)
            if old is None:
                created += 1
            elif old[1] == digest:
                unchanged += 1
                continue
            else:
                updated += 1
                replaced_ids.append(old[0])
            to_write.append(entry)
        if not to_write:
            continue
        for entry in to_write:
            entry[0][_IMPORTED_AT] = entry[0][_UPDATED_AT] = now
        ids = {nct: pk for nct, (pk, _) in existing.items()}
        if use_copy:
            # PostgreSQL (registry/pgcopy.py): updated trials upserted, new ones copied
            # with ids taken from the sequence first.
            fresh = [e[0] for e in to_write if e[0][0] not in existing]
            if len(fresh) < len(to_write):
                cursor.executemany(sql["upsert"], [e[0] for e in to_write if e[0][0] in existing])
            if fresh:
                fresh_ids = pgcopy.reserve_ids(cursor, "registry_trial", len(fresh))
                rows = ([pk, *row] for pk, row in zip(fresh_ids, fresh, strict=True))
                pgcopy.copy_rows(cursor, "registry_trial", _COPY_TRIAL, rows)
                ids.update(zip((row[0] for row in fresh), fresh_ids, strict=True))
        else:
            cursor.executemany(sql["upsert"], [e[0] for e in to_write])
            new = [e[0][0] for e in to_write if e[0][0] not in existing]
            if new:
                cursor.execute(
                    f"SELECT nct_id, id FROM registry_trial WHERE nct_id IN ({_in(len(new))})",
                    new,
                )
                created_ids = cursor.fetchall()
                ids.update(created_ids)
                if fts is not None:
                    fts.index([pk for _, pk in created_ids])
        if replaced_ids:
            for table in ("trialcondition", "trialintervention", "triallocation"):
                cursor.execute(
                    f"DELETE FROM registry_{table} WHERE trial_id IN ({_in(len(replaced_ids))})",
                    replaced_ids,
                )
        conds, ints, locs = [], [], []
        for row, cond_rows, int_rows, loc_rows in to_write:
            pk = ids[row[0]]
            conds.extend([pk, *c] for c in cond_rows)
            ints.extend([pk, *i] for i in int_rows)
            locs.extend([pk, *loc] for loc in loc_rows)
            if collect:
                points = tuple(
                    (s[SITE_LAT], s[SITE_LON])
                    for s in loc_rows
                    if None not in (s[SITE_LAT], s[SITE_LON])
                )
                text_rows.append(TextRow(id=pk, points=points, **{c: row[i] for c, i in _TEXT_ROW}))
        replaced.extend(replaced_ids)
        for kind, rows in (("condition", conds), ("intervention", ints), ("location", locs)):
            if not rows:
                continue
            if use_copy:
                pgcopy.copy_rows(cursor, f"registry_trial{kind}", _CHILD_COLUMNS[kind], rows)
            else:
                cursor.executemany(sql[kind], rows)
    change = None
    if created or updated:
        previous, stamp = bump_version(cursor)
        if collect:
            change = (previous, stamp, replaced, text_rows)
    return created, updated, unchanged, change
