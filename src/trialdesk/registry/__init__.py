"""The public trial registry: stored CT.gov API v2 records, their import and full-text search.

- ``models``: ``Trial`` and its child rows (conditions, interventions, sites);
- ``importer.import_paths``: idempotent, per-file atomic bulk import of study JSON;
- ``search.search``: full-text + filter search (SQLite FTS5 or PostgreSQL tsvector);
- ``geo``: haversine distance and bounding boxes.
"""
