"""PostgreSQL bulk writes with COPY, for the importer (``importer._write``).

``INSERT ... executemany`` sends one statement per row (psycopg pipelines them, but the
server still parses, plans and executes each); ``COPY ... FROM STDIN`` streams the rows of
a batch in one statement. The importer uses it where it is safe and helps:

- new trials (no row with their NCT id was found in the batch's lookup): their ids are
  taken from the table's identity sequence first (``reserve_ids``), then the rows are
  copied with those ids, so no ``SELECT`` is needed to learn them;
- the conditions, interventions and sites of every written trial (new or updated: an
  updated trial's old ones are deleted first).

Updated trials still go through ``INSERT ... ON CONFLICT DO UPDATE``. COPY has no
``ON CONFLICT``: if another process inserts the same new NCT id between the lookup and the
COPY, the COPY fails with a unique violation; the importer's savepoint then rolls back
that file, which is reported as failed (importing it again updates it). Only one import
should run at a time anyway (the text index follows one writer).

Measured in docs/benchmarks-registry.md (``benchmarks/registry.py --database-url ...
--compare-executemany``). ``ENABLED`` turns COPY off (executemany everywhere), for that
comparison and for the tests that prove both paths store the same rows.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

#: COPY on PostgreSQL (module docstring); False = executemany, as on SQLite.
ENABLED = True


def usable(vendor: str) -> bool:
    """Whether the importer writes with COPY on this database."""
    return ENABLED and vendor == "postgresql"


def reserve_ids(cursor, table: str, n: int) -> list[int]:
    """``n`` new ids from ``table``'s id sequence (identity or serial), in ascending order."""
    cursor.execute(
        "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
        [table, n],
    )
    return sorted(r[0] for r in cursor.fetchall())


def copy_rows(cursor, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """Stream ``rows`` (tuples in ``columns`` order) into ``table`` with one COPY."""
    sql = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
    with cursor.copy(sql) as copy:
        for row in rows:
            copy.write_row(row)
