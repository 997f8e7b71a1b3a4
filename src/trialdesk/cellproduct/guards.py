"""Database guards of the cell product (installed by migration 0002), on SQLite and
PostgreSQL alike:

- a lot release may not be written while the lot has a release test that failed or could not
  be decided, nor for a lot with no release test at all;
- a dose unit may not be written from a lot without a release.

On PostgreSQL the app's history tables are also append-only, with conduct's trigger
function (``trialdesk.conduct.pg_audit``)."""

from __future__ import annotations

from typing import Any

RELEASE_MESSAGE = (
    "cellproduct: a lot with a failing, undecided or missing release test cannot be released"
)
UNIT_MESSAGE = "cellproduct: a dose unit needs a released lot"

_BAD_RELEASE = (
    "NOT EXISTS (SELECT 1 FROM cellproduct_releasetest t WHERE t.lot_id = NEW.lot_id) "
    "OR EXISTS (SELECT 1 FROM cellproduct_releasetest t WHERE t.lot_id = NEW.lot_id "
    "AND (t.passed IS NULL OR NOT t.passed))"
)
_NO_RELEASE = "NOT EXISTS (SELECT 1 FROM cellproduct_lotrelease r WHERE r.lot_id = NEW.lot_id)"

SQLITE = [
    f"""CREATE TRIGGER IF NOT EXISTS cellproduct_release_guard BEFORE INSERT ON cellproduct_lotrelease
    WHEN {_BAD_RELEASE} BEGIN SELECT RAISE(ABORT, '{RELEASE_MESSAGE}'); END""",
    f"""CREATE TRIGGER IF NOT EXISTS cellproduct_unit_guard BEFORE INSERT ON cellproduct_doseunit
    WHEN {_NO_RELEASE} BEGIN SELECT RAISE(ABORT, '{UNIT_MESSAGE}'); END""",
]
SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS cellproduct_release_guard",
    "DROP TRIGGER IF EXISTS cellproduct_unit_guard",
]

POSTGRES = [
    f"""CREATE OR REPLACE FUNCTION cellproduct_release_guard() RETURNS trigger AS $$
BEGIN
    IF {_BAD_RELEASE} THEN
        RAISE EXCEPTION '{RELEASE_MESSAGE}' USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END; $$ LANGUAGE plpgsql""",
    "DROP TRIGGER IF EXISTS cellproduct_release_guard ON cellproduct_lotrelease",
    """CREATE TRIGGER cellproduct_release_guard BEFORE INSERT OR UPDATE ON cellproduct_lotrelease
    FOR EACH ROW EXECUTE FUNCTION cellproduct_release_guard()""",
    f"""CREATE OR REPLACE FUNCTION cellproduct_unit_guard() RETURNS trigger AS $$
BEGIN
    IF {_NO_RELEASE} THEN
        RAISE EXCEPTION '{UNIT_MESSAGE}' USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END; $$ LANGUAGE plpgsql""",
    "DROP TRIGGER IF EXISTS cellproduct_unit_guard ON cellproduct_doseunit",
    """CREATE TRIGGER cellproduct_unit_guard BEFORE INSERT OR UPDATE ON cellproduct_doseunit
    FOR EACH ROW EXECUTE FUNCTION cellproduct_unit_guard()""",
]
POSTGRES_DROP = [
    "DROP TRIGGER IF EXISTS cellproduct_release_guard ON cellproduct_lotrelease",
    "DROP TRIGGER IF EXISTS cellproduct_unit_guard ON cellproduct_doseunit",
    "DROP FUNCTION IF EXISTS cellproduct_release_guard()",
    "DROP FUNCTION IF EXISTS cellproduct_unit_guard()",
]


def history_tables(apps: Any) -> list[str]:
    config = apps.get_app_config("cellproduct")
    return sorted(
        m._meta.db_table for m in config.get_models() if m.__name__.startswith("Historical")
    )


def install(apps: Any, schema_editor: Any) -> None:
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        for sql in SQLITE:
            schema_editor.execute(sql, params=None)
    elif vendor == "postgresql":
        for sql in POSTGRES:
            schema_editor.execute(sql, params=None)
        quote = schema_editor.quote_name
        for table in history_tables(apps):  # conduct migration 0009 made the function
            trigger = quote(f"{table}_append_only")
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {trigger} ON {quote(table)}")
            schema_editor.execute(
                f"CREATE TRIGGER {trigger} BEFORE UPDATE OR DELETE ON {quote(table)} "
                "FOR EACH ROW EXECUTE FUNCTION conduct_history_append_only()"
            )


def uninstall(apps: Any, schema_editor: Any) -> None:
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        for sql in SQLITE_DROP:
            schema_editor.execute(sql, params=None)
    elif vendor == "postgresql":
        quote = schema_editor.quote_name
        for table in history_tables(apps):
            trigger = quote(f"{table}_append_only")
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {trigger} ON {quote(table)}")
        for sql in POSTGRES_DROP:
            schema_editor.execute(sql, params=None)
