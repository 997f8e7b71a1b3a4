"""PostgreSQL: the conduct history tables and the audit chain's entries are append-only.

A ``BEFORE UPDATE OR DELETE`` trigger on each of them raises, so a plain UPDATE or DELETE,
however it is issued, cannot edit or delete history after it is written. A role with DDL
rights on the tables (their owner, a superuser) could disable the trigger: run the
application as a role without them in production; the hash chain (``trialdesk audit
verify``) still detects what such a role might do. SQLite has no such protection: there the chain is the check.

Installed by migrations (idempotent: a later migration that adds history tables calls
:func:`install` again).
"""

from __future__ import annotations

from typing import Any

FUNCTION = """
CREATE OR REPLACE FUNCTION conduct_history_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit trail: % on %.% is not allowed (history is append-only)',
        TG_OP, TG_TABLE_SCHEMA, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
"""


def protected_tables(apps: Any) -> list[str]:
    config = apps.get_app_config("conduct")
    tables = [m._meta.db_table for m in config.get_models() if m.__name__.startswith("Historical")]
    tables.append(apps.get_model("conduct", "AuditChainEntry")._meta.db_table)
    return sorted(tables)


def install(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    quote = schema_editor.quote_name
    schema_editor.execute(FUNCTION, params=None)  # the body has % (RAISE format)
    for table in protected_tables(apps):
        trigger = quote(f"{table}_append_only")
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {trigger} ON {quote(table)}")
        schema_editor.execute(
            f"CREATE TRIGGER {trigger} BEFORE UPDATE OR DELETE ON {quote(table)} "
            "FOR EACH ROW EXECUTE FUNCTION conduct_history_append_only()"
        )


def uninstall(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    quote = schema_editor.quote_name
    for table in protected_tables(apps):
        trigger = quote(f"{table}_append_only")
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {trigger} ON {quote(table)}")
    schema_editor.execute("DROP FUNCTION IF EXISTS conduct_history_append_only()")
