"""One trial as the text index (``textindex``) receives it: ``TextRow``, a named row.

The importer builds these rows from the trial rows it has just written, and the index's
writer (``textindex.Writer.add``) reads them by name; a rebuild reads the same columns
(``ROW_COLUMNS``) from ``registry_trial``. Neither side depends on column positions.
"""

from __future__ import annotations

from typing import NamedTuple

#: The FTS5 table's columns (migrations/0011_identifiers_text.py), in the order of
#: ``sqlplan.BM25_WEIGHTS``: each is a field of the text index, boosted by its weight.
TEXT_FIELDS = (
    "brief_title",
    "official_title",
    "acronym",
    "conditions_text",
    "interventions_text",
    "brief_summary",
    "criteria_text",
    "identifiers_text",
)


class TextRow(NamedTuple):
    """A trial's text-index document before analysis: its id, the text columns, the filter
    columns (named as in ``registry_trial``) and its sites' distinct (lat, lon) positions."""

    id: int
    brief_title: str | None = None
    official_title: str | None = None
    acronym: str | None = None
    conditions_text: str | None = None
    interventions_text: str | None = None
    brief_summary: str | None = None
    criteria_text: str | None = None
    identifiers_text: str | None = None
    overall_status: str | None = None
    study_type: str | None = None
    sex: str | None = None
    phase_mask: int | None = None
    min_age_days: int | None = None
    max_age_days: int | None = None
    points: tuple[tuple[float, float], ...] = ()


#: The ``registry_trial`` columns a ``TextRow`` holds, ``id`` first (all but ``points``).
ROW_COLUMNS: tuple[str, ...] = TextRow._fields[:-1]
