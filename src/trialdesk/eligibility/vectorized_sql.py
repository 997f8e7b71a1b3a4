"""The SQL backend of the cohort compiler (:mod:`.cohort_compile`): :func:`cohort_sql` writes
one SELECT that screens every row of a cohort table, for DuckDB or PostgreSQL (and, being
plain ANSI SQL with CASE, COALESCE, LEAST and DATE literals, a starting point for Spark SQL;
see docs/eligibility.md). The Polars backend and the file drivers are in :mod:`.vectorized`.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from trialdesk.eligibility.cohort import (
    CompileError,
    attestation_column,
    cohort_columns,
    criterion_column,
)
from trialdesk.eligibility.cohort_compile import CohortCompiler
from trialdesk.protocol.loader import Protocol

__all__ = ["DIALECTS", "SqlBackend", "cohort_sql"]

_SQL_TYPES = {
    "str": "VARCHAR",
    "date": "DATE",
    "float": "DOUBLE PRECISION",
    "int": "BIGINT",
    "bool": "BOOLEAN",
}

DIALECTS = ("duckdb", "postgresql", "spark")


def _quote(name: str, dialect: str = "duckdb") -> str:
    if dialect == "spark":
        return "`" + name.replace("`", "``") + "`"
    return '"' + name.replace('"', '""') + '"'


class SqlBackend:
    def __init__(
        self, types: dict[str, str], available: set[str] | None, dialect: str = "duckdb"
    ) -> None:
        if dialect not in DIALECTS:
            raise CompileError(f"unknown SQL dialect {dialect!r} (known: {', '.join(DIALECTS)})")
        self.types = types
        self.available = available
        self.dialect = dialect
        self.missing: set[str] = set()
        self.memos: dict[str, tuple[str, int]] = {}  # helper column -> (expression, stage)

    def has(self, name: str) -> bool:
        return self.available is None or name in self.available

    def memo(self, key: str, expr: str) -> str:
        """Compute ``expr`` once, as a helper column of a stage (a CTE) before the SELECT
        that uses it; a helper that uses another one goes in a later stage."""
        name = f"__td_{key}"
        quoted = _quote(name, self.dialect)
        if name not in self.memos:
            stage = 1 + max(
                (st for n, (_, st) in self.memos.items() if _quote(n, self.dialect) in expr),
                default=0,
            )
            self.memos[name] = (expr, stage)
        return quoted

    def stages(self, table: str) -> tuple[list[str], str]:
        """(CTE definitions computing the helper columns, the name of the last one)."""
        ctes: list[str] = []
        source = table
        last = max((st for _, st in self.memos.values()), default=0)
        for stage in range(1, last + 1):
            cols = [
                f"{expr} AS {_quote(name, self.dialect)}"
                for name, (expr, st) in self.memos.items()
                if st == stage
            ]
            ctes.append(
                f"helpers_{stage} AS (\n  SELECT *,\n    "
                + ",\n    ".join(cols)
                + f"\n  FROM {source}\n)"
            )
            source = f"helpers_{stage}"
        return ctes, source

    def col(self, name: str) -> str:
        if self.available is None or name in self.available:
            return _quote(name, self.dialect)
        self.missing.add(name)
        return f"CAST(NULL AS {self.sql_type(self.types.get(name, 'bool'))})"

    def sql_type(self, typ: str) -> str:
        name = _SQL_TYPES[typ]
        if self.dialect == "spark":
            return {"VARCHAR": "STRING", "DOUBLE PRECISION": "DOUBLE"}.get(name, name)
        return name

    def lit(self, v: Any) -> str:
        if v is None:
            return "CAST(NULL AS BOOLEAN)"
        if isinstance(v, bool):
            return "TRUE" if v else "FALSE"
        if isinstance(v, int):
            return str(v)
        if isinstance(v, date):
            return f"DATE '{v.isoformat()}'"
        return "'" + str(v).replace("'", "''") + "'"

    def _val(self, v: Any, typ: str) -> str:
        if v is None:
            return {
                "bool": "CAST(NULL AS BOOLEAN)",
                "int": "CAST(NULL AS BIGINT)",
                "str": "CAST(NULL AS VARCHAR)",
                "float": f"CAST(NULL AS {self.sql_type('float')})",
            }[typ]
        if isinstance(v, bool | int | date):
            return self.lit(v)
        return v  # already SQL

    def and_(self, *xs: str) -> str:
        return "(" + " AND ".join(xs) + ")"

    def or_(self, *xs: str) -> str:
        return "(" + " OR ".join(xs) + ")"

    def not_(self, x: str) -> str:
        return f"(NOT {x})"

    def cmp(self, a: str, op: str, b: str) -> str:
        return f"({a} {({'==': '=', '!=': '<>'}).get(op, op)} {b})"

    def is_null(self, x: str) -> str:
        return f"({x} IS NULL)"

    def is_not_null(self, x: str) -> str:
        return f"({x} IS NOT NULL)"

    def coalesce(self, a: str, b: str) -> str:
        return f"COALESCE({a}, {b})"

    def case(self, branches: list[tuple[str, Any]], default: Any, typ: str = "bool") -> str:
        inferred = typ
        for _, v in [*branches, (None, default)]:
            if isinstance(v, str) and v.startswith("'"):
                inferred = "str"
            elif isinstance(v, int) and not isinstance(v, bool):
                inferred = "int"
        parts = " ".join(f"WHEN {c} THEN {self._val(v, inferred)}" for c, v in branches)
        return f"(CASE {parts} ELSE {self._val(default, inferred)} END)"

    def scaled(self, x: str, scale: int) -> str:
        return f"CAST(ROUND({x} * {scale}) AS BIGINT)"

    def mul(self, a: str, k: int) -> str:
        return f"({a} * {k})"

    def add(self, *xs: str) -> str:
        return "(" + " + ".join(xs) + ")"

    def days_between(self, a: str, b: str) -> str:
        if self.dialect == "spark":
            return f"datediff({a}, {b})"
        return f"({a} - {b})"

    def least(self, a: str, b: str) -> str:
        return f"LEAST({a}, {b})"

    def in_(self, a: str, values: list[str]) -> str:
        return f"({a} IN ({', '.join(self.lit(v) for v in values)}))"

    def flit(self, x: float) -> str:
        return f"CAST({float(x)!r} AS {self.sql_type('float')})"

    def to_float(self, x: str) -> str:
        return f"CAST({x} AS {self.sql_type('float')})"

    def sub(self, a: str, b: str) -> str:
        return f"({a} - {b})"

    def ln(self, x: str) -> str:
        return f"LN({x})"

    def log10(self, x: str) -> str:
        return f"LOG10({x})"

    def floor_int(self, x: str) -> str:
        return f"CAST(FLOOR({x}) AS BIGINT)"

    def floor_div(self, a: str, k: int) -> str:
        # exact: |a| < 2^53, so the quotient in double is an integer only when it is one
        return f"CAST(FLOOR({self.to_float(a)} / {k}) AS BIGINT)"

    def lower_trim(self, x: str) -> str:
        return f"LOWER(TRIM({x}))"

    def exact_score(self, fn: Any, near: str, fields: dict[str, str]) -> None:
        """SQL has no exact logarithms: a value within NEAR_TIE of a boundary is unknown."""
        return None


def cohort_sql(
    protocol: Protocol,
    d: date,
    table: str = "cohort",
    columns: Iterable[str] | None = None,
    dialect: str = "duckdb",
) -> str:
    """One SELECT screening every row of ``table`` (DuckDB and PostgreSQL).

    ``columns``: the table's columns; those the protocol needs but the table lacks are read
    as NULL (unknown). The result has ``patient_id``, one status column per criterion,
    ``overall`` and ``n_unknown``. ``dialect``: duckdb and postgresql (tested) emit the same
    text; spark quotes with backquotes and subtracts dates with ``datediff`` (not run in the
    tests: no Spark here).
    """
    types = cohort_columns(protocol)
    backend = SqlBackend(types, set(columns) if columns is not None else None, dialect)
    comp = CohortCompiler(backend, protocol, d)
    inner = [f"{backend.col('patient_id')} AS patient_id"]
    names = []
    for c in protocol.criteria:
        name = criterion_column(c.id)
        if c.rule is None:
            expr = backend.col(attestation_column(c.id))
        else:
            try:
                expr = comp.compile(c.rule)
            except CompileError as exc:
                raise CompileError(f"criterion {c.id}: {exc}") from None
        inner.append(f"{expr} AS {_quote(name, dialect)}")
        names.append((name, c.kind))
    outer = ["patient_id"]
    for name, _kind in names:
        q = _quote(name, dialect)
        outer.append(
            f"CASE WHEN {q} IS NULL THEN 'UNKNOWN' WHEN {q} THEN 'MET' ELSE 'NOT_MET' END AS {q}"
        )
    blocks = " OR ".join(
        f"COALESCE({_quote(n, dialect)} = {'TRUE' if k == 'exclusion' else 'FALSE'}, FALSE)"
        for n, k in names
    )
    unknown = " + ".join(
        f"CASE WHEN {_quote(n, dialect)} IS NULL THEN 1 ELSE 0 END" for n, _ in names
    )
    outer.append(
        f"CASE WHEN {blocks} THEN 'INELIGIBLE' WHEN ({unknown}) > 0 THEN "
        f"'INCOMPLETE' ELSE 'ELIGIBLE' END AS overall"
    )
    outer.append(f"({unknown}) AS n_unknown")
    ctes, source = backend.stages(table)
    return (
        "WITH "
        + "".join(c + ",\n" for c in ctes)
        + "screened AS (\n  SELECT\n    "
        + ",\n    ".join(inner)
        + f"\n  FROM {source}\n)\nSELECT\n  "
        + ",\n  ".join(outer)
        + "\nFROM screened"
    )
