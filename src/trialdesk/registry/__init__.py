"""The public trial registry: stored CT.gov API v2 records, their import and full-text search.

- ``models``: ``Trial`` and its child rows (conditions, interventions, sites);
- ``importer.import_paths``: idempotent, per-file atomic bulk import of study JSON;
- ``search.search``: full-text + filter search (on SQLite the numpy filter index with
  Tantivy or FTS5 for text, or SQL plans over FTS5; on PostgreSQL SQL plans over tsvector);
  its parts in ``query``, ``filters`` (each filter declared once, compiled to every
  engine), ``textquery``, ``places``, ``sqlplan``, ``filterindex``, ``fastsearch``,
  ``textindex``, ``textwriter``, ``textrow`` and ``textsync``;
- ``stamp``: the registry's version stamp (plain SQL, no Django);
- ``geo``: haversine distance and bounding boxes.
"""

#: Bit of each CT.gov phase in ``Trial.phase_mask`` (a Phase 1/2 trial has PHASE1 | PHASE2).
#: Here, not in ``models``, so the import workers can use it without setting up Django.
PHASE_BITS: dict[str, int] = {
    "NA": 1,
    "EARLY_PHASE1": 2,
    "PHASE1": 4,
    "PHASE2": 8,
    "PHASE3": 16,
    "PHASE4": 32,
}
