"""Reading and validating registry sources into rows to store, in forked worker processes.

``parse_sources(sources, workers)`` yields, per source and in order, the rows of its
studies (``prepare``: the whole document validated with the pydantic models of
``interop.ctgov_models``, each study's own JSON text cut out of the bytes, one trial row in
``TRIAL_COLUMNS`` order plus its condition, intervention and site rows), or the
``RecordError`` naming the file and the JSON path. ``importer`` writes them. Nothing here
reads or writes the database (``parse_sources`` only closes this process's connection
before it forks, so that no worker inherits it).
"""

from __future__ import annotations

import gc
import hashlib
import itertools
import math
import os
from typing import Any

import msgspec

from trialdesk.interop.ctgov import age_to_days
from trialdesk.interop.ctgov_structs import decode_studies
from trialdesk.registry import PHASE_BITS
from trialdesk.registry.geo import cell_of

#: The trial row's columns, in the order ``_trial_row`` builds it (and ``importer`` writes).
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
    "identifiers_text",
    "record",
    "record_hash",
    "source",
    "imported_at",
    "updated_at",
)


def _read_and_prepare(source) -> tuple[str, Prepared]:
    from trialdesk.interop.ctgov import RecordError

    try:
        return source.name, prepare(source.read(), source.name)
    except RecordError as exc:
        return source.name, exc


def parse_sources(sources: list, workers: int):
    """(name, rows or RecordError) per source, in order; parsed by worker processes if asked.

    Workers are forked, all at once, before this process opens its database connection
    (which a child must never inherit); they exit through ``os._exit`` and never touch it.
    Each worker reads its sources itself (it inherits the list at fork) and runs below the
    writer's CPU priority (``WORKER_NICENESS``). Measured at 100,000 studies on 2 cores,
    three alternating pairs: 40.0 s median against 44.3 s when this process read every
    file and sent its bytes to workers of equal priority.
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
    from concurrent.futures import ProcessPoolExecutor

    connection.close()
    # The forked workers inherit the source list and read each source themselves: the
    # file's bytes never pass through this process or the pipe. A worker that dies (killed
    # for memory, say) breaks the pool: ``result()`` raises ``BrokenProcessPool`` and
    # ``importer.import_paths`` reports every source not stored yet as failed (``WORKER_DIED``).
    token = next(_fork_tokens)
    _fork_sources[token] = sources
    pool = ProcessPoolExecutor(
        workers, mp_context=multiprocessing.get_context("fork"), initializer=_worker_gc
    )
    try:

        def submit(index: int):
            return sources[index].name, pool.submit(_prepare_nth, token, index)

        pending: deque = deque()
        queue = iter(range(len(sources)))
        for index in queue:
            pending.append(submit(index))
            if len(pending) >= 2 * workers:
                break
        while pending:
            name, job = pending.popleft()
            yield name, job.result()
            nxt = next(queue, None)
            if nxt is not None:
                pending.append(submit(nxt))
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        del _fork_sources[token]


#: The source lists of the running ``parse_sources`` calls, by token, as their forked workers
#: see them (several imports may run in one process, each with its own workers).
_fork_sources: dict[int, list] = {}
_fork_tokens = itertools.count()


def _worker_gc() -> None:
    """Parse workers: move everything inherited at fork into the permanent GC generation and
    switch the cyclic collector off. Validation builds ~35 model objects per study and the
    rows built from them; none of it forms reference cycles (reference counting frees each
    page's objects), yet every collection re-traversed them: about 40 us per study.
    ``_prepare_nth`` still collects every ``WORKER_COLLECT_EVERY`` documents, for
    the rare cycles an error's traceback makes.
    """
    import gc

    gc.freeze()
    gc.disable()
    # Below the writer: the import's pace is the single writing thread's, so a worker
    # must not take its core while it can run; workers use what CPU is left.
    os.nice(WORKER_NICENESS)


WORKER_COLLECT_EVERY = 50
#: ``os.nice`` increment of the parse workers.
WORKER_NICENESS = 10
_worker_documents = 0


def _in_memory(connection) -> bool:
    if connection.vendor != "sqlite":
        return False
    return connection.is_in_memory_db()


def _prepare_nth(token: int, index: int):
    """Worker: read and prepare the ``index``-th source of call ``token`` (rows, or its
    ``RecordError``)."""
    from trialdesk.interop.ctgov import RecordError

    global _worker_documents
    _worker_documents += 1
    if _worker_documents % WORKER_COLLECT_EVERY == 0:
        gc.collect()
    sources = _fork_sources.get(token)
    if sources is None:
        raise RuntimeError(f"parse worker: the import's source list {token} is gone")
    source = sources[index]
    try:
        return prepare(source.read(), source.name)
    except RecordError as exc:
        return exc


#: One study ready to write: (trial row, condition rows, intervention rows, location rows).
Prepared = list


def prepare(data: bytes, source: str) -> Prepared:
    """Validate one JSON document and turn its studies into rows (no database involved).

    Raises ``RecordError`` (file + JSON path) if any study is invalid. Of duplicate NCT ids
    in one document the last wins. Each study's stored JSON is its own text from the file
    (cut out by ``_study_texts``); the columns come from the validated study.

    The document is validated by the msgspec structures generated from the pydantic models
    (``interop.ctgov_structs``: the same fields, types, enumerations, patterns and ranges,
    about a quarter of the cost); only a document they refuse is validated again by the
    pydantic models (``load_studies``), which name the JSON path of the error, or accept it
    (then their studies are used; but a document that is not JSON, with ``NaN`` say, which
    pydantic's reader takes, is refused).
    """
    from trialdesk.interop.ctgov import RecordError, load_studies

    try:
        studies = decode_studies(data)
    except msgspec.ValidationError:
        studies = load_studies(data, source)
    except msgspec.DecodeError as exc:
        load_studies(data, source)  # names the line and column where it can
        # pydantic's reader also takes NaN and Infinity, which are not JSON (RFC 8259)
        raise RecordError(source, "$", f"malformed JSON: {exc}") from None
    texts = _study_texts(data)
    if len(texts) != len(studies):
        raise RecordError(source, "$", "could not match the studies with their JSON text")
    rows = {}
    for study, text in zip(studies, texts, strict=True):
        prepared = _trial_row(study, text, source)
        rows[prepared[0][0]] = prepared
    return list(rows.values())


class _PageTexts(msgspec.Struct):
    studies: list[msgspec.Raw]


_PAGE_TEXTS = msgspec.json.Decoder(_PageTexts)
_LIST_TEXTS = msgspec.json.Decoder(list[msgspec.Raw])


def _study_texts(data: bytes) -> list[str]:
    """Each study's exact JSON text in an already validated document: a JSON array of
    studies, an API page ``{"studies": [...]}`` or a single study object.

    msgspec's ``Raw`` cuts each study's span out of the bytes without decoding it
    (about 3 us per study, against about 70 us for a second full ``json`` decode).
    """
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    if data.lstrip()[:1] == b"[":
        raws = _LIST_TEXTS.decode(data)
    else:
        try:
            raws = _PAGE_TEXTS.decode(data).studies
        except msgspec.ValidationError:  # an object without a "studies" list: one study
            return [data.strip().decode("utf-8")]
    return [bytes(raw).decode("utf-8") for raw in raws]


def _floor_days(days: float | None) -> int | None:
    # Whole days, the same rounding as query.age_days uses for a patient's age.
    return None if days is None else math.floor(days + 1e-9)


def _value(member) -> str:
    return member.value if member is not None else ""


def identifiers(ident) -> list[str]:
    """A study's identifiers, for the full-text index (``Trial.identifiers_text``): its
    NCT id, older NCT ids merged into it, the organisation's study id and the secondary
    ids, each once, in that order (``ident`` is the record's identification module)."""
    found = [ident.nct_id, *(ident.nct_id_aliases or ())]
    if ident.org_study_id_info is not None:
        found.append(ident.org_study_id_info.id or "")
    found += [s.id or "" for s in ident.secondary_id_infos or ()]
    return list(dict.fromkeys(i.strip() for i in found if i and i.strip()))


#: Where latitude and longitude sit in a site row of ``_trial_row``.
SITE_LAT, SITE_LON = 6, 7


def _trial_row(study, text: str, source: str) -> tuple[list[Any], list, list, list]:
    """The rows of one validated study (a ``ctgov.Study`` or its generated struct; both
    have the same attributes): (trial row, conditions, interventions, sites)."""
    ps = study.protocol_section
    ident = ps.identification_module
    status = ps.status_module
    sponsors = ps.sponsor_collaborators_module
    sponsor = sponsors.lead_sponsor if sponsors is not None else None
    desc = ps.description_module
    design = ps.design_module
    enrollment = design.enrollment_info if design is not None else None
    elig = ps.eligibility_module
    conditions = list(ps.conditions_module.conditions or ()) if ps.conditions_module else []
    arms = ps.arms_interventions_module
    interventions = list(arms.interventions or ()) if arms is not None else []
    places = ps.contacts_locations_module
    locations = list(places.locations or ()) if places is not None else []
    phases = [p.value for p in design.phases or ()] if design is not None else []
    mask = 0
    for phase in phases:
        mask |= PHASE_BITS[phase]
    row = [
        ident.nct_id,
        ident.brief_title or "",
        ident.official_title or "",
        ident.acronym or "",
        _value(status.overall_status) if status is not None else "",
        ",".join(phases),
        mask,
        _value(design.study_type) if design is not None else "",
        _value(elig.sex) if elig is not None else "",
        _floor_days(age_to_days(elig.minimum_age)) if elig is not None else None,
        _floor_days(age_to_days(elig.maximum_age)) if elig is not None else None,
        elig.healthy_volunteers if elig is not None else None,
        enrollment.count if enrollment is not None else None,
        _value(enrollment.type) if enrollment is not None else "",
        (sponsor.name or "") if sponsor is not None else "",
        (desc.brief_summary or "") if desc is not None else "",
        "\n".join(conditions),
        "\n".join(i.name or "" for i in interventions),
        (elig.eligibility_criteria or "") if elig is not None else "",
        "\n".join(identifiers(ident)),
        text,
        hashlib.sha256(text.encode("utf-8")).hexdigest(),
        source,
        None,  # imported_at, set when written
        None,  # updated_at
    ]
    cond_rows = [[pos, name] for pos, name in enumerate(conditions)]
    int_rows = [[pos, _value(i.type), i.name or ""] for pos, i in enumerate(interventions)]
    loc_rows = []
    for pos, loc in enumerate(locations):
        point = loc.geo_point
        lat, lon = (point.lat, point.lon) if point is not None else (None, None)
        loc_rows.append(
            [
                pos,
                loc.facility or "",
                loc.city or "",
                loc.state or "",
                loc.country or "",
                _value(loc.status),
                lat,
                lon,
                cell_of(lat, lon),
            ]
        )
    return row, cond_rows, int_rows, loc_rows
