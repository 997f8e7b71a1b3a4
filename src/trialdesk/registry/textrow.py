"""One trial as the text index (``textindex``) receives it: ``TextRow``, a named row.

The importer builds these rows from the trial rows it has just written, and the index's
writer (``textindex.Writer.add``) reads them by name; a rebuild reads the same columns
(``ROW_COLUMNS``) from ``registry_trial``. Neither side depends on column positions.
"""

from __future__ import annotations

from collections import namedtuple

from trialdesk.registry import filters

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


#: The fields of a ``TextRow``: the id, the text columns, the columns of every indexed filter
#: declaration (``filters.ROW_COLUMNS``, named as in ``registry_trial``) and the positions.
_FIELDS = ("id", *TEXT_FIELDS, *filters.ROW_COLUMNS, "points")

#: A trial's text-index document before analysis: its id, the text columns, the filter
#: columns and its sites' distinct (lat, lon) positions (``points``, a tuple). Built from
#: the declarations, so a new filter's column is a new field; every field but ``id``
#: defaults to None (``points`` to no positions).
TextRow = namedtuple("TextRow", _FIELDS, defaults=(None,) * (len(_FIELDS) - 2) + ((),))

#: The ``registry_trial`` columns a ``TextRow`` holds, ``id`` first (all but ``points``).
ROW_COLUMNS: tuple[str, ...] = _FIELDS[:-1]
