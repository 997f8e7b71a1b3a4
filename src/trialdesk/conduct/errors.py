"""Errors of the conduct app: an illegal action on clinical data, with the reason."""

from __future__ import annotations


class ConductError(ValueError):
    """An action the trial's rules do not allow; the message says why, and nothing is saved.

    ``field`` names the form field the message belongs to (None: the whole form)."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class ChangeReasonRequired(ConductError):
    """A change or deletion of clinical data after its first save without a reason."""


class AuditUserRequired(ConductError):
    """A write to clinical data that does not say who makes it."""
