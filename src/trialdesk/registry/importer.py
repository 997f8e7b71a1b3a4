"""Import CT.gov API v2 study JSON into the registry: idempotent, one transaction per file, fast.

``import_paths(paths)`` reads files, folders and .zip archives (via
``trialdesk.interop.ctgov.iter_sources``), one source at a time:

1. the whole file is validated first (``load_studies``); any bad record fails the file with
   a ``RecordError`` naming the file and the JSON path, and nothing of it is written;
2. in one transaction per file, trials are upserted on ``nct_id`` in batches
   (``INSERT ... ON CONFLICT (nct_id) DO UPDATE``, ``executemany``); a record whose JSON
   hash equals the stored one is counted unchanged and not written; an updated trial's
   conditions, interventions and sites are deleted and inserted again;
3. the full-text index follows in the same transaction (SQLite: FTS5 triggers; PostgreSQL:
   a generated tsvector column).

A failed file is reported and the next file is imported; re-running an import never
duplicates anything. Memory holds one file at a time.
"""

from __future__ import annotations

import gc
import hashlib
import json
import math
import os
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from trialdesk.registry import PHASE_BITS
from trialdesk.registry.geo import cell_of

#: Studies per batch of statements inside a file's transaction.
BATCH_SIZE = 500

TRIAL_COLUMNS = (
    "nct_id",
    "brief_title",
    "official_title",
    "acronym",
    "overall_status",
    "phases",
    "phase_mask",
    "study_type",
    "sex",
    "min_age_days",
    "max_age_days",
    "healthy_volunteers",
    "enrollment_count",
    "enrollment_type",
    "lead_sponsor",
    "brief_summary",
    "conditions_text",
    "interventions_text",
    "criteria_text",
    "record",
    "record_hash",
    "source",
    "imported_at",
    "updated_at",
)
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

    Each source is one transaction: all of its studies or none. A path that does not exist
    or an unreadable archive is reported as a failure of that path; the others still import.

    After 10,000 or more trials written (or with ``optimize=True``) the SQLite full-text
    index is merged (``optimize_index``), which makes searches faster.

    Reading and validating (pydantic) is CPU-bound, so with several sources it runs in
    ``workers`` processes (default: one per CPU, at most 4; 0 = in this process) while this
    process writes to the database, in source order. Memory holds a few sources at a time.
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
    if bulk:
        _set_automerge(0)
    # The writer unpickles (or builds) many small row lists that form no cycles: collect
    # less often while importing; the caller's thresholds come back afterwards.
    thresholds = gc.get_threshold()
    gc.set_threshold(max(thresholds[0], 50_000), *thresholds[1:])
    try:
        for done, (name, prepared) in enumerate(_prepared(sources, workers), 1):
            ok = _store(name, prepared, report)
            if progress is not None:
                progress(
                    ImportProgress(
                        source=name,
                        ok=ok,
                        sources_done=done,
                        sources_total=len(sources),
                        records_done=report.records,
                        elapsed=time.perf_counter() - start,
                    )
                )
    finally:
        gc.set_threshold(*thresholds)
        if bulk:
            _set_automerge(FTS5_AUTOMERGE_DEFAULT)
    if optimize is None:
        optimize = report.created + report.updated >= OPTIMIZE_AFTER
    if optimize:
        optimize_index()
    report.seconds = time.perf_counter() - start
    return report


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
    SQLite refresh its planner statistics (``PRAGMA optimize``). PostgreSQL: nothing."""
    from django.db import connection, transaction

    if connection.vendor != "sqlite":
        return
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("INSERT INTO registry_trial_fts(registry_trial_fts) VALUES ('optimize')")
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA optimize")


def import_bytes(data: bytes, source: str) -> ImportReport:
    """Import one JSON document given as bytes (one transaction); for tests and uploads."""
    start = time.perf_counter()
    report = ImportReport()
    _store(source, prepare(data, source), report)
    report.seconds = time.perf_counter() - start
    return report


def _error_text(exc: Exception) -> str:
    path = getattr(exc, "path", "")
    message = getattr(exc, "message", None) or str(exc)
    return f"{path}: {message}" if path else message


def _read_and_prepare(source) -> tuple[str, Prepared]:
    from trialdesk.interop.ctgov import RecordError

    try:
        return source.name, prepare(source.read(), source.name)
    except RecordError as exc:
        return source.name, exc


def _prepared(sources: list, workers: int):
    """(name, rows or RecordError) per source, in order; parsed by worker processes if asked.

    Workers are forked, all at once, before this process opens its database connection
    (which a child must never inherit); they exit through ``os._exit`` and never touch it.
    Inside an open transaction (tests, callers' atomic blocks) or on an in-memory SQLite
    database everything runs in this process.
    """
    from django.db import connection

    if workers > 0 and (connection.in_atomic_block or _in_memory(connection)):
        workers = 0
    if workers <= 0 or len(sources) < 2:
        for source in sources:
            yield _read_and_prepare(source)
        return
    import multiprocessing
    from collections import deque

    connection.close()
    with multiprocessing.get_context("fork").Pool(workers, initializer=_worker_gc) as pool:
        pending: deque = deque()
        queue = iter(sources)
        for source in queue:
            pending.append((source.name, _submit(pool, source)))
            if len(pending) >= 2 * workers:
                break
        while pending:
            name, job = pending.popleft()
            yield name, job if isinstance(job, Exception) else job.get()
            nxt = next(queue, None)
            if nxt is not None:
                pending.append((nxt.name, _submit(pool, nxt)))


def _worker_gc() -> None:
    """Parse workers: move everything inherited at fork into the permanent GC generation and
    collect less often. The validated models and row lists form no reference cycles, so the
    cyclic collector only costs time re-traversing them; raised thresholds still collect.
    """
    import gc

    gc.freeze()
    gc.set_threshold(50_000, 50, 1000)


def _in_memory(connection) -> bool:
    if connection.vendor != "sqlite":
        return False
    return connection.is_in_memory_db()


def _submit(pool, source):
    from trialdesk.interop.ctgov import RecordError

    try:
        data = source.read()  # sources hold closures (not picklable): send the bytes
    except RecordError as exc:
        return exc
    return pool.apply_async(_prepare_or_error, (data, source.name))


def _prepare_or_error(data: bytes, name: str):
    from trialdesk.interop.ctgov import RecordError

    try:
        return prepare(data, name)
    except RecordError as exc:
        return exc


#: One study ready to write: (trial row, condition rows, intervention rows, location rows).
Prepared = list


def prepare(data: bytes, source: str) -> Prepared:
    """Validate one JSON document and turn its studies into rows (no database involved).

    Raises ``RecordError`` (file + JSON path) if any study is invalid. Of duplicate NCT ids
    in one document the last wins. Each study's stored JSON is its own text from the file.
    """
    from trialdesk.interop.ctgov import RecordError, load_studies

    studies = load_studies(data, source)
    raws = _raw_studies(data)
    if len(raws) != len(studies):
        raise RecordError(source, "$", "could not match the studies with their JSON text")
    rows = {}
    for study, (raw, text) in zip(studies, raws, strict=True):
        rows[study.nct_id] = _trial_row(study, raw, text, source)
    return list(rows.values())


_DECODER = json.JSONDecoder()
_WS = re.compile(r"[ \t\n\r]*")


def _raw_studies(data: bytes) -> list[tuple[dict, str]]:
    """Each study of an already validated document as (decoded dict, its exact JSON text).

    One pass with the C scanner: a JSON array of studies, an API page ``{"studies": [...]}``
    or a single study object.
    """
    text = data.decode("utf-8-sig")
    i = _WS.match(text, 0).end()
    if text[i] == "[":
        return _array_items(text, i)[0]
    # An object: a page if it has a "studies" key, else one study.
    found = None
    j = _WS.match(text, i + 1).end()
    if text[j] != "}":
        while True:
            key, j = _DECODER.raw_decode(text, j)
            j = _WS.match(text, j).end() + 1  # the ':'
            j = _WS.match(text, j).end()
            if key == "studies" and text[j] == "[":
                found, j = _array_items(text, j)
            else:
                _, j = _DECODER.raw_decode(text, j)
            j = _WS.match(text, j).end()
            if text[j] != ",":
                break
            j = _WS.match(text, j + 1).end()
    if found is not None:
        return found
    doc, end = _DECODER.raw_decode(text, i)
    return [(doc, text[i:end])]


def _array_items(text: str, i: int) -> tuple[list[tuple[Any, str]], int]:
    items = []
    j = _WS.match(text, i + 1).end()
    if text[j] == "]":
        return items, j + 1
    while True:
        obj, end = _DECODER.raw_decode(text, j)
        items.append((obj, text[j:end]))
        j = _WS.match(text, end).end()
        if text[j] == "]":
            return items, j + 1
        j = _WS.match(text, j + 1).end()  # past the ','


def _floor_days(days: float | None) -> int | None:
    # Whole days, the same rounding as search.age_days uses for a patient's age.
    return None if days is None else math.floor(days + 1e-9)


def _trial_row(study, raw: dict, text: str, source: str) -> tuple[list[Any], list, list, list]:
    ps = raw.get("protocolSection") or {}
    ident = ps.get("identificationModule") or {}
    status = ps.get("statusModule") or {}
    sponsor = (ps.get("sponsorCollaboratorsModule") or {}).get("leadSponsor") or {}
    desc = ps.get("descriptionModule") or {}
    design = ps.get("designModule") or {}
    enrollment = design.get("enrollmentInfo") or {}
    elig = ps.get("eligibilityModule") or {}
    conditions = list((ps.get("conditionsModule") or {}).get("conditions") or ())
    interventions = list((ps.get("armsInterventionsModule") or {}).get("interventions") or ())
    locations = list((ps.get("contactsLocationsModule") or {}).get("locations") or ())
    phases = list(design.get("phases") or ())
    mask = 0
    for phase in phases:
        mask |= PHASE_BITS[phase]
    row = [
        study.nct_id,
        ident.get("briefTitle") or "",
        ident.get("officialTitle") or "",
        ident.get("acronym") or "",
        status.get("overallStatus") or "",
        ",".join(phases),
        mask,
        design.get("studyType") or "",
        elig.get("sex") or "",
        _floor_days(study.min_age_days),
        _floor_days(study.max_age_days),
        elig.get("healthyVolunteers"),
        enrollment.get("count"),
        enrollment.get("type") or "",
        sponsor.get("name") or "",
        desc.get("briefSummary") or "",
        "\n".join(conditions),
        "\n".join(i.get("name") or "" for i in interventions),
        elig.get("eligibilityCriteria") or "",
        text,
        hashlib.sha256(text.encode("utf-8")).hexdigest(),
        source,
        None,  # imported_at, set when written
        None,  # updated_at
    ]
    cond_rows = [[pos, name] for pos, name in enumerate(conditions)]
    int_rows = [
        [pos, i.get("type") or "", i.get("name") or ""] for pos, i in enumerate(interventions)
    ]
    loc_rows = []
    for pos, loc in enumerate(locations):
        point = loc.get("geoPoint") or {}
        loc_rows.append(
            [
                pos,
                loc.get("facility") or "",
                loc.get("city") or "",
                loc.get("state") or "",
                loc.get("country") or "",
                loc.get("status") or "",
                point.get("lat"),
                point.get("lon"),
                cell_of(point.get("lat"), point.get("lon")),
            ]
        )
    return row, cond_rows, int_rows, loc_rows


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
        "condition": (
            "INSERT INTO registry_trialcondition (trial_id, position, name) VALUES (%s, %s, %s)"
        ),
        "intervention": (
            "INSERT INTO registry_trialintervention (trial_id, position, type, name) "
            "VALUES (%s, %s, %s, %s)"
        ),
        "location": (
            "INSERT INTO registry_triallocation "
            "(trial_id, position, facility, city, state, country, status, lat, lon, cell) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
        ),
    }


def _in(n: int) -> str:
    return ", ".join(["%s"] * n)


def _store(name: str, prepared, report: ImportReport) -> bool:
    """Write one source's rows in one transaction and count them into ``report``."""
    from django.db import DatabaseError, transaction

    from trialdesk.interop.ctgov import RecordError

    if isinstance(prepared, RecordError):
        report.failures.append((name, _error_text(prepared)))
        return False
    try:
        with transaction.atomic():
            created, updated, unchanged = _write(prepared)
    except DatabaseError as exc:
        report.failures.append((name, f"database error: {exc}"))
        return False
    report.created += created
    report.updated += updated
    report.unchanged += unchanged
    report.files += 1
    return True


_HASH = TRIAL_COLUMNS.index("record_hash")
_IMPORTED_AT = TRIAL_COLUMNS.index("imported_at")
_UPDATED_AT = TRIAL_COLUMNS.index("updated_at")


def _write(items: Prepared) -> tuple[int, int, int]:
    """Upsert prepared studies in batches; returns (created, updated, unchanged)."""
    from django.db import connection
    from django.utils import timezone

    sql = _sql(connection.vendor)
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    created = updated = unchanged = 0
    # The backend cursor itself: Django's debug wrapper (DEBUG=True) would format and keep
    # every statement of a bulk import in memory.
    with connection.cursor() as wrapper:
        cursor = wrapper.cursor
        if connection.vendor == "sqlite":
            # Bulk-load settings for this connection: a 64 MB page cache (index updates at
            # hundreds of thousands of trials) and fewer, larger WAL checkpoints.
            cursor.execute("PRAGMA cache_size = -65536")
            cursor.execute("PRAGMA wal_autocheckpoint = 16384")
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
            cursor.executemany(sql["upsert"], [e[0] for e in to_write])
            new = [e[0][0] for e in to_write if e[0][0] not in existing]
            ids = {nct: pk for nct, (pk, _) in existing.items()}
            if new:
                cursor.execute(
                    f"SELECT nct_id, id FROM registry_trial WHERE nct_id IN ({_in(len(new))})", new
                )
                ids.update(cursor.fetchall())
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
            if conds:
                cursor.executemany(sql["condition"], conds)
            if ints:
                cursor.executemany(sql["intervention"], ints)
            if locs:
                cursor.executemany(sql["location"], locs)
    return created, updated, unchanged
