"""Errors of the cell-product app: conduct's :class:`ConductError` (one kind of refusal for
every service, carried back to a form field by ``field``)."""

from __future__ import annotations

from trialdesk.conduct.errors import ConductError


class CellProductError(ConductError):
    """An action on a cell-product record that the protocol or the release rules refuse."""
