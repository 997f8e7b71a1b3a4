"""The search engines a registry test can route its searches to.

On SQLite three: ``tantivy`` (the Tantivy text index answers ranked text; the in-memory
filter index the rest), ``fts5`` (FTS5 with the in-memory filter index) and ``sql`` (the SQL
plans). On PostgreSQL (``DATABASE_URL``) one: ``postgresql`` (the tsvector). A test module
parametrizes a fixture with ``ENGINES`` and yields from ``route``.
"""

from __future__ import annotations

import os

from django.db import connection

from conftest import seed_record_paths
from trialdesk.registry import fastsearch, textindex
from trialdesk.registry import search as registry_search
from trialdesk.registry.importer import import_paths

ON_POSTGRESQL = os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://"))
ENGINES = ["postgresql"] if ON_POSTGRESQL else ["tantivy", "fts5", "sql"]


def route(name: str, monkeypatch):
    """Send searches to engine ``name`` and import the seed trials (with ``tantivy`` into a
    fresh text index that follows the import). Yields ``{"name", "tantivy"}``: the number
    of searches the Tantivy index answered, counted for every engine."""
    assert (connection.vendor == "postgresql") == (name == "postgresql")
    calls = {"name": name, "tantivy": 0}
    if name in ("fts5", "sql"):
        monkeypatch.setattr(textindex, "ENABLED", False)
    monkeypatch.setattr(registry_search, "FAST_INDEX", name != "sql")
    if name == "tantivy":
        textindex.forget(connection, remove=True)
    real = fastsearch._ranked_by_text_index

    def spy(*args, **kwargs):
        out = real(*args, **kwargs)
        calls["tantivy"] += out is not None
        return out

    monkeypatch.setattr(fastsearch, "_ranked_by_text_index", spy)
    report = import_paths(seed_record_paths())
    assert report.ok, report.summary()
    yield calls
    if name == "tantivy":
        textindex.forget(connection, remove=True)
