"""The audited base of every clinical record (django-simple-history).

Each save and delete writes a history row (who, when in UTC, the values, the reason). Who
is required on every write; a reason is required on every change or deletion after the
first save. Callers use :func:`write` / :func:`remove`, which set both and save.
Queryset ``update()``/``delete()`` and raw SQL bypass model saves: database triggers for those
are later work (docs/conduct.md, "Audit trail").
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from trialdesk.conduct.errors import AuditUserRequired, ChangeReasonRequired, ConductError

__all__ = ["REASON_MAX_LENGTH", "ClinicalRecord", "ImmutableRecord", "remove", "with_note", "write"]

#: The history's reason column (django-simple-history's ``history_change_reason``,
#: varchar(100)): a longer reason is refused with a message, not cut (PostgreSQL would
#: refuse it with a database error; SQLite would store it whole).
REASON_MAX_LENGTH = 100


def check_reason_length(reason: str | None) -> None:
    if reason and len(reason) > REASON_MAX_LENGTH:
        raise ConductError(
            f"the reason is {len(reason)} characters: at most {REASON_MAX_LENGTH} are kept in "
            "the history, shorten it",
            field="reason",
        )


def with_note(reason: str, note: str) -> str:
    """``reason`` followed by `` (note)`` when both fit in the history's reason column, else
    ``reason`` alone (the note is then kept elsewhere, e.g. in a deviation)."""
    reason = reason.strip()
    full = f"{reason} ({note})"
    return full if len(full) <= REASON_MAX_LENGTH else reason


class ClinicalRecord(models.Model):
    """Abstract: clinical data with a history table and required who / reason."""

    history = HistoricalRecords(inherit=True)

    class Meta:
        abstract = True

    def _label(self) -> str:
        return f"{self._meta.verbose_name} {self.pk}" if self.pk else str(self._meta.verbose_name)

    def _check_audit(self, action: str) -> None:
        if getattr(self, "_history_user", None) is None:
            raise AuditUserRequired(f"{self._label()}: {action} needs the user who makes it")
        if action != "creation":
            reason = (getattr(self, "_change_reason", None) or "").strip()
            if not reason:
                raise ChangeReasonRequired(
                    f"{self._label()}: a reason is required for any {action} after the first save",
                    field="reason",
                )

    def save(self, *args: Any, **kwargs: Any) -> None:
        adding = self._state.adding
        self._check_audit("creation" if adding else "change")
        check_reason_length(getattr(self, "_change_reason", None))
        if adding and not (getattr(self, "_change_reason", None) or "").strip():
            self._change_reason = "created"
        super().save(*args, **kwargs)
        self._change_reason = None

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        self._check_audit("deletion")
        check_reason_length(getattr(self, "_change_reason", None))
        return super().delete(*args, **kwargs)


class ImmutableRecord(ClinicalRecord):
    """Abstract: a record written once (a consent event, a signature); never changed."""

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise ConductError(
                f"{self._label()} is never changed once written; record a new one instead"
            )
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise ConductError(f"{self._label()} is never deleted")


def write(obj: ClinicalRecord, by: Any, reason: str | None = None) -> ClinicalRecord:
    """Save ``obj`` as ``by`` (a user) with ``reason`` (required unless it is new).

    A value the model refuses (a field's validation, a check or unique constraint) raises
    :class:`ConductError` naming the field (``field``), and nothing is saved."""
    obj._history_user = by
    obj._change_reason = (reason or "").strip() or None
    try:
        obj.full_clean()
    except ValidationError as exc:
        raise _refusal(obj, exc) from None
    obj.save()
    return obj


def _q_fields(q: Any) -> list[str]:
    """The model fields a constraint's condition names (``ended_at__gte=F("started_at")``:
    ended_at, started_at)."""
    out: list[str] = []
    for child in getattr(q, "children", ()):
        if isinstance(child, Q):
            out += _q_fields(child)
        else:
            lookup, value = child
            out.append(lookup.split("__")[0])
            name = getattr(value, "name", None)  # an F() expression
            if isinstance(name, str):
                out.append(name.split("__")[0])
    return list(dict.fromkeys(out))


def _constraint_fields(obj: models.Model) -> tuple[str, list[str]] | None:
    """(constraint name, its fields) of the first of the model's constraints ``obj`` breaks."""
    for constraint in obj._meta.constraints:
        try:
            constraint.validate(type(obj), obj)
        except ValidationError:
            fields = list(getattr(constraint, "fields", ()) or ())
            condition = getattr(constraint, "condition", None)
            if not fields and condition is not None:
                fields = _q_fields(condition)
            return constraint.name, fields
    return None


def _refusal(obj: models.Model, exc: ValidationError) -> ConductError:
    label = obj._label() if isinstance(obj, ClinicalRecord) else str(obj._meta.verbose_name)
    errors = getattr(exc, "error_dict", None) or {NON_FIELD_ERRORS: exc.error_list}
    field, messages = next(iter(errors.items()))
    text = "; ".join(m for e in messages for m in ValidationError(e).messages)
    if field != NON_FIELD_ERRORS:
        return ConductError(f"{label}: {field}: {text}", field=field)
    broken = _constraint_fields(obj)
    if broken is None:
        return ConductError(f"{label}: {text}")
    name, fields = broken
    where = ", ".join(fields) or name
    return ConductError(
        f"{label}: {where}: {text} (constraint {name})", field=fields[0] if fields else None
    )


def remove(obj: ClinicalRecord, by: Any, reason: str) -> None:
    """Delete ``obj`` as ``by`` with ``reason`` (required)."""
    obj._history_user = by
    obj._change_reason = (reason or "").strip() or None
    obj.delete()
