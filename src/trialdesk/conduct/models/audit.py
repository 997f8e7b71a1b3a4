"""The audited base of every clinical record (django-simple-history).

Each save and delete writes a history row (who, when in UTC, the values, the reason). Who
is required on every write; a reason is required on every change or deletion after the
first save. Callers use :func:`write` / :func:`remove`, which set both and save.
Queryset ``update()``/``delete()`` and raw SQL bypass model saves: database triggers for those
are later work (docs/conduct.md, "Audit trail").
"""

from __future__ import annotations

from typing import Any

from django.db import models
from simple_history.models import HistoricalRecords

from trialdesk.conduct.errors import AuditUserRequired, ChangeReasonRequired, ConductError

__all__ = ["ClinicalRecord", "ImmutableRecord", "remove", "write"]


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
        if adding and not (getattr(self, "_change_reason", None) or "").strip():
            self._change_reason = "created"
        super().save(*args, **kwargs)
        self._change_reason = None

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        self._check_audit("deletion")
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
    """Save ``obj`` as ``by`` (a user) with ``reason`` (required unless it is new)."""
    obj._history_user = by
    obj._change_reason = (reason or "").strip() or None
    obj.full_clean()
    obj.save()
    return obj


def remove(obj: ClinicalRecord, by: Any, reason: str) -> None:
    """Delete ``obj`` as ``by`` with ``reason`` (required)."""
    obj._history_user = by
    obj._change_reason = (reason or "").strip() or None
    obj.delete()
