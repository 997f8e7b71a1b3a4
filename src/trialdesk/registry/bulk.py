"""Bulk-load machinery of the registry importer on SQLite: batched full-text indexing and
secondary indexes built once after a large import instead of row by row.

Measured on the project machine (50,000 synthetic studies, one process, SQLite WAL;
docs/benchmarks-registry.md): of about 260 us of writer time per study, the FTS5 insert
trigger cost about 170 us (a batched ``INSERT ... SELECT`` of the same rows: about 45-65
us) and the secondary indexes about 80-90 us (building them afterwards from sorted
keys: about 30 us per study).

Both are crash-safe. The trigger is dropped and created again *inside* each file's
transaction (SQLite DDL is transactional), so no committed state lacks it. A deferred
index is recorded in ``registry_deferredindex`` in the same transaction as its ``DROP
INDEX``; ``restore_indexes`` builds whatever is recorded there and is run at the start and
at the end of every import, so an interrupted import is repaired by the next one. Until
then searches stay correct, only slower. PostgreSQL is left alone (generated tsvector
column; its indexes are maintained as usual).
"""

from __future__ import annotations

import logging

log = logging.getLogger(__name__)

#: The registry's tables whose secondary indexes a bulk import may defer.
TABLES = (
    "registry_trial",
    "registry_trialcondition",
    "registry_trialintervention",
    "registry_triallocation",
)

#: Indexes whose key starts with one of these columns stay: new rows get increasing ids,
#: so they only grow at the right edge (cheap), and the importer needs them itself (a
#: re-imported trial's sites are deleted by ``trial_id``).
APPEND_ONLY_LEADS = ("id", "trial_id")

#: Never deferred: the SQL plans name ``registry_location_cell`` in ``INDEXED BY`` (a
#: missing one is an error, not a slow query), and ``registry_trial_updated`` answers the
#: registry version check (``places.registry_version``) every search makes.
ALWAYS_KEEP = ("registry_location_cell", "registry_trial_updated")

#: Defer indexes only for an import of at least this many sources ...
DEFER_MIN_SOURCES = 20
#: ... into a registry holding at most this many trials per source (rebuilding costs time
#: in proportion to everything stored; deferring pays off when the import is that large).
DEFER_MAX_TRIALS_PER_SOURCE = 1000


def _in(n: int) -> str:
    return ", ".join(["%s"] * n)


def should_defer(sources: int) -> bool:
    """True if an import of ``sources`` files should defer the secondary indexes."""
    from django.db import connection

    from trialdesk.registry.models import Trial

    if connection.vendor != "sqlite" or sources < DEFER_MIN_SOURCES:
        return False
    return Trial.objects.count() <= DEFER_MAX_TRIALS_PER_SOURCE * sources


def deferrable_indexes(cursor) -> list[tuple[str, str, str]]:
    """(name, table, sql) of every secondary index of ``TABLES`` a bulk import drops:
    not unique, not automatic, and not led by an append-only column."""
    marks = _in(len(TABLES)).replace("%s", "?")
    rows = cursor.execute(
        "SELECT name, tbl_name, sql FROM sqlite_master WHERE type = 'index' "
        f"AND sql IS NOT NULL AND tbl_name IN ({marks}) ORDER BY tbl_name, name",
        TABLES,
    ).fetchall()
    found = []
    for name, table, sql in rows:
        unique = any(r[1] == name and r[2] for r in cursor.execute(f'PRAGMA index_list("{table}")'))
        lead = cursor.execute(f'PRAGMA index_info("{name}")').fetchone()
        lead_column = lead[2] if lead else None  # None: an expression
        if not unique and lead_column not in APPEND_ONLY_LEADS and name not in ALWAYS_KEEP:
            found.append((name, table, sql))
    return found


def defer_indexes() -> list[str]:
    """SQLite: drop the deferrable indexes, recording them first (one transaction).
    Returns the names dropped."""
    from django.db import connection, transaction
    from django.utils import timezone

    if connection.vendor != "sqlite":
        return []
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    with transaction.atomic(), connection.cursor() as wrapper:
        cursor = wrapper.cursor
        found = deferrable_indexes(cursor)
        for name, table, sql in found:
            cursor.execute(
                "INSERT INTO registry_deferredindex (name, table_name, sql, deferred_at) "
                "VALUES (?, ?, ?, ?) ON CONFLICT (name) DO NOTHING",
                [name, table, sql, now],
            )
            cursor.execute(f'DROP INDEX "{name}"')
    return [name for name, _, _ in found]


def restore_indexes() -> list[str]:
    """Build every index recorded in ``registry_deferredindex`` and forget it, one index
    per transaction (an index that exists already is only forgotten; one whose table is
    gone is forgotten too). Returns the names built. A failing build is logged and stays
    recorded for the next import; the others are still built. No-op on other databases,
    before the table exists, and when nothing is recorded."""
    from django.db import DatabaseError, connection, transaction

    if connection.vendor != "sqlite":
        return []
    with connection.cursor() as wrapper:
        cursor = wrapper.cursor
        if not cursor.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'registry_deferredindex'"
        ).fetchone():
            return []
        pending = cursor.execute(
            "SELECT id, name, table_name, sql FROM registry_deferredindex ORDER BY id"
        ).fetchall()
    built = []
    for pk, name, table, sql in pending:
        try:
            with transaction.atomic(), connection.cursor() as wrapper:
                cursor = wrapper.cursor
                have = {
                    row[0]
                    for row in cursor.execute(
                        "SELECT name FROM sqlite_master WHERE name IN (?, ?)", [name, table]
                    )
                }
                if table in have and name not in have:
                    cursor.execute(sql)
                    built.append(name)
                cursor.execute("DELETE FROM registry_deferredindex WHERE id = ?", [pk])
        except DatabaseError as exc:
            log.error("could not build the deferred index %s (kept for the next import): %s",
                      name, exc)  # fmt: skip
    return built


class FtsBatch:
    """SQLite: index a file's new trials in FTS5 with one ``INSERT ... SELECT`` per batch.

    The insert trigger ``registry_trial_fts_ai`` (migration 0002) indexes one row per
    statement. Inside the file's transaction the trigger is dropped, the new rows are
    indexed in batches, and the trigger is created again from its stored SQL before the
    transaction commits; a failed file rolls the trigger back with everything else.
    Updated trials still go through the update trigger.
    """

    TRIGGER = "registry_trial_fts_ai"

    def __init__(self, cursor) -> None:
        self.cursor = cursor
        found = cursor.execute(
            "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = ?", [self.TRIGGER]
        ).fetchone()
        self.trigger_sql = found[0] if found else None
        if self.trigger_sql is None:  # no full-text index on this database
            return
        columns = [row[1] for row in cursor.execute("PRAGMA table_info(registry_trial_fts)")]
        cols = ", ".join(columns)
        self.insert = (
            f"INSERT INTO registry_trial_fts(rowid, {cols}) "
            f"SELECT id, {cols} FROM registry_trial WHERE id IN "
        )
        cursor.execute(f"DROP TRIGGER {self.TRIGGER}")

    def index(self, trial_ids: list[int]) -> None:
        if self.trigger_sql is not None and trial_ids:
            marks = ", ".join(["?"] * len(trial_ids))
            self.cursor.execute(self.insert + f"({marks})", trial_ids)

    def close(self) -> None:
        if self.trigger_sql is not None:
            self.cursor.execute(self.trigger_sql)
            self.trigger_sql = None
