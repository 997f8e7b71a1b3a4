"""The registry's version stamp: plain SQL on the one ``registry_registrystate`` row.

Every change to the stored trials or their sites counts one change (``bump_version``):
``version`` goes up and ``stamp`` becomes a fresh random name, the one before it kept as
``previous_stamp`` (the table is ``models.RegistryState``, which describes the columns).
Per-process caches (``places``, ``filterindex``) and the SQLite text index (``textindex``,
``textsync``) compare stamps to know whether they hold the database's current state.

No Django here, so that the search engines, the text index and the import workers can read
the stamp without importing the models (and the models, whose signal receivers write it,
need none of them). Each function takes a DB-API cursor in ``format`` parameter style:
Django's backend cursors on SQLite and PostgreSQL (``connection.cursor()`` or its
``.cursor``) both are.
"""

from __future__ import annotations

import uuid

_BUMP_SQL = (
    "INSERT INTO registry_registrystate (id, version, stamp, previous_stamp) "
    "VALUES (1, 1, %s, '') ON CONFLICT (id) DO UPDATE SET "
    "version = registry_registrystate.version + 1, "
    "previous_stamp = registry_registrystate.stamp, stamp = excluded.stamp "
    "RETURNING previous_stamp, stamp"
)


def bump_version(cursor) -> tuple[str, str]:
    """Count one change to the registry, inside the caller's transaction; returns the
    (previous, new) stamps, read and written by one statement (so two writers can never
    both see the same previous stamp)."""
    cursor.execute(_BUMP_SQL, [uuid.uuid4().hex])
    previous, stamp = cursor.fetchone()
    return previous, stamp


def current_stamp(cursor) -> str:
    """The registry's current stamp ('' before its first change)."""
    cursor.execute("SELECT stamp FROM registry_registrystate WHERE id = 1")
    row = cursor.fetchone()
    return row[0] if row else ""
