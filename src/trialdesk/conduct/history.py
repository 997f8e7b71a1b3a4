"""Per-record history from the django-simple-history tables: one row per save or delete,
with who, when (UTC), the reason, and each changed field's old and new value."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

_ACTIONS = {"+": "created", "~": "changed", "-": "deleted"}


@dataclass(frozen=True)
class Change:
    field: str
    old: str
    new: str


@dataclass(frozen=True)
class HistoryRow:
    when: datetime
    who: str
    action: str
    reason: str
    changes: tuple[Change, ...]


def _show(value: Any) -> str:
    return "" if value is None else str(value)


def history_rows(obj: Any) -> list[HistoryRow]:
    """Oldest first. A creation lists every field's first value."""
    entries = list(
        obj.history.order_by("history_date", "history_id").select_related("history_user")
    )
    rows = []
    previous = None
    for entry in entries:
        if previous is None:
            changes = tuple(
                Change(f.verbose_name, "", _show(getattr(entry, f.attname)))
                for f in obj._meta.concrete_fields
                if f.name != "id"
            )
        else:
            delta = entry.diff_against(previous)
            changes = tuple(Change(c.field, _show(c.old), _show(c.new)) for c in delta.changes)
        user = entry.history_user
        rows.append(
            HistoryRow(
                when=entry.history_date,
                who=(user.get_full_name() or user.get_username()) if user else "(unknown)",
                action=_ACTIONS.get(entry.history_type, entry.history_type),
                reason=entry.history_change_reason or "",
                changes=changes,
            )
        )
        previous = entry
    return rows
