"""Audit export and the hash chain over the history tables (see ``models/chain.py``).

:func:`append` runs on every history row django-simple-history writes for a conduct model
(signal ``post_create_historical_record``, connected in ``apps.py``); :func:`verify`
recomputes the chain; :func:`export_rows` gives every history row for CSV/JSON export."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from typing import Any

from django.apps import apps
from django.db import transaction

GENESIS = "0" * 64

#: The apps whose history tables are chained (by label: conduct imports none of them).
AUDITED_APPS = ("conduct", "cellproduct")


def history_models() -> list[Any]:
    """The history models of the audited apps (one per clinical model)."""
    return [
        m
        for label in AUDITED_APPS
        if apps.is_installed(f"trialdesk.{label}")
        for m in apps.get_app_config(label).get_models()
        if m.__name__.startswith("Historical")
    ]


def canonical(row: Any) -> str:
    values = {f.attname: getattr(row, f.attname) for f in row._meta.concrete_fields}
    return json.dumps(values, sort_keys=True, default=str, separators=(",", ":"))


def digest_of(row: Any) -> str:
    return hashlib.sha256(canonical(row).encode()).hexdigest()


def link(previous: str, digest: str) -> str:
    return hashlib.sha256((previous + digest).encode()).hexdigest()


def append(sender: Any, history_instance: Any, **kwargs: Any) -> None:
    """Chain a new history row (re-read from the database, so the digest is what is stored)."""
    from trialdesk.conduct.models.chain import AuditChainEntry, AuditChainHead

    model = type(history_instance)
    if model._meta.app_label not in AUDITED_APPS:
        return
    with transaction.atomic():
        head, _ = AuditChainHead.objects.select_for_update().get_or_create(pk=1)
        stored = model.objects.get(pk=history_instance.pk)
        digest = digest_of(stored)
        chained = link(head.last_hash, digest)
        AuditChainEntry.objects.create(
            table=model._meta.db_table,
            history_id=history_instance.pk,
            digest=digest,
            chain_hash=chained,
        )
        head.last_hash, head.length = chained, head.length + 1
        head.save(update_fields=["last_hash", "length"])


def verify() -> list[str]:
    """Every problem found (empty: the history is as written)."""
    from trialdesk.conduct.models.chain import AuditChainEntry, AuditChainHead

    problems: list[str] = []
    by_table = {m._meta.db_table: m for m in history_models()}
    seen: dict[str, set[int]] = {t: set() for t in by_table}
    previous = GENESIS
    count = 0
    for entry in AuditChainEntry.objects.order_by("id").iterator():
        count += 1
        where = f"chain entry {entry.pk} ({entry.table} history row {entry.history_id})"
        if link(previous, entry.digest) != entry.chain_hash:
            problems.append(f"{where}: chain hash does not follow from the previous entry")
        previous = entry.chain_hash
        model = by_table.get(entry.table)
        if model is None:
            problems.append(f"{where}: unknown history table")
            continue
        seen[entry.table].add(entry.history_id)
        row = model.objects.filter(pk=entry.history_id).first()
        if row is None:
            problems.append(f"{where}: the history row was deleted")
        elif digest_of(row) != entry.digest:
            problems.append(f"{where}: the history row was changed after it was written")
    for table, model in by_table.items():
        extra = model.objects.exclude(pk__in=seen[table]).values_list("pk", flat=True)
        for pk in extra:
            problems.append(f"{table} history row {pk}: not in the chain (written around it)")
    head = AuditChainHead.objects.filter(pk=1).first()
    if head is None and count:
        problems.append(
            f"chain head missing while {count} entries exist: the head was deleted (entries "
            "after the last one left may have been removed with it)"
        )
    if head is not None and (head.last_hash != previous or head.length != count):
        problems.append(
            f"chain head ({head.length} entries, {head.last_hash[:12]}...) does not match the "
            f"entries ({count}, {previous[:12]}...): entries were removed or added"
        )
    return problems


def head_summary() -> str:
    """The chain head, to print on every verify: recorded outside the database, it shows
    a truncation of the whole chain that no check inside the database can."""
    from trialdesk.conduct.models.chain import AuditChainHead

    head = AuditChainHead.objects.filter(pk=1).first()
    if head is None:
        return "chain head: none (no history chained)"
    return f"chain head: {head.length} entries, hash {head.last_hash}"


_TYPES = {"+": "created", "~": "changed", "-": "deleted"}


def export_rows() -> Iterator[dict[str, Any]]:
    """Every history row of every clinical model, oldest first within each model."""
    for model in history_models():
        record = model.instance_type._meta.model_name
        skip = {"history_id", "history_date", "history_change_reason", "history_type",
                "history_user_id"}  # fmt: skip
        for row in model.objects.order_by("history_date", "history_id").select_related(
            "history_user"
        ):
            user = row.history_user
            yield {
                "record_type": record,
                "record_id": row.id,
                "history_id": row.history_id,
                "action": _TYPES.get(row.history_type, row.history_type),
                "at_utc": row.history_date.isoformat(),
                "user": user.get_username() if user else "",
                "reason": row.history_change_reason or "",
                "values": json.dumps(
                    {
                        f.attname: getattr(row, f.attname)
                        for f in model._meta.concrete_fields
                        if f.attname not in skip
                    },
                    sort_keys=True,
                    default=str,
                ),
            }
