"""Data queries: open (monitor), answer (site), close or reopen (monitor)."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from trialdesk.conduct.errors import ConductError
from trialdesk.conduct.models import DataQuery, Participant, write
from trialdesk.conduct.services.access import require_member, require_perm

#: record type -> (how to reach it from the participant, fields a query may name)
QUERYABLE = {
    "participant": (None, ("initials", "sex", "birth_date", "screened_on")),
    "assessment": ("assessments", ("screening_date", "patient_data", "attestations")),
    "consent": ("consents", ("consented_at", "form_version", "obtained_by")),
    "dose": (
        "doses",
        ("product_lot", "cells", "body_weight_kg", "started_at", "ended_at", "route",
         "volume_ml", "premedication", "infusion_reactions"),
    ),
}  # fmt: skip


def open_query(
    participant: Participant,
    by: Any,
    *,
    record_type: str,
    record_id: int,
    field: str,
    question: str,
) -> DataQuery:
    require_perm(by, "raise_dataquery", "open data queries")
    require_member(by, participant.site)
    if record_type not in QUERYABLE:
        raise ConductError(f"unknown record type {record_type!r}", field="record_type")
    related, fields = QUERYABLE[record_type]
    if field not in fields:
        raise ConductError(
            f"{record_type} has no field {field!r} (fields: {', '.join(fields)})", field="field"
        )
    found = (
        participant.pk == record_id
        if related is None
        else getattr(participant, related).filter(pk=record_id).exists()
    )
    if not found:
        raise ConductError(f"{participant} has no {record_type} {record_id}", field="record_id")
    if not (question or "").strip():
        raise ConductError("write the question", field="question")
    with transaction.atomic():
        return write(
            DataQuery(
                participant=participant,
                record_type=record_type,
                record_id=record_id,
                field=field,
                question=question.strip(),
                opened_by=by,
            ),
            by,
        )


def _lock(query: DataQuery) -> None:
    """Lock the query's row and re-read it (inside the caller's transaction): of two staff
    posting on the same query at once, the second sees the first's change, not the page it
    loaded, and its state check refuses a second answer or close."""
    list(DataQuery.objects.select_for_update().filter(pk=query.pk).values_list("pk"))
    query.refresh_from_db()


def answer_query(query: DataQuery, by: Any, *, answer: str) -> DataQuery:
    require_perm(by, "answer_dataquery", "answer data queries")
    require_member(by, query.participant.site)
    if not (answer or "").strip():
        raise ConductError("write the answer", field="answer")
    with transaction.atomic():
        _lock(query)
        if query.status != DataQuery.OPEN:
            raise ConductError(f"the query is {query.get_status_display().lower()}: not open")
        query.answer, query.answered_by, query.status = answer.strip(), by, DataQuery.ANSWERED
        return write(query, by, f"answered: {query.answer}"[:100])


def close_query(query: DataQuery, by: Any, *, accept: bool, note: str = "") -> DataQuery:
    """Close an answered query, or send it back open with ``note`` saying why."""
    require_perm(by, "raise_dataquery", "close data queries")
    require_member(by, query.participant.site)
    if not accept and not note.strip():
        raise ConductError("say why the answer is not enough", field="note")
    with transaction.atomic():
        _lock(query)
        if query.status != DataQuery.ANSWERED:
            raise ConductError("only an answered query can be closed or sent back")
        if accept:
            query.status, query.closed_by = DataQuery.CLOSED, by
            reason = f"closed: {note}" if note.strip() else "closed: answer accepted"
        else:
            query.status = DataQuery.OPEN
            reason = f"reopened: {note.strip()}"
        return write(query, by, reason[:100])
