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


HEAD_FUNCTION = """
CREATE OR REPLACE FUNCTION conduct_chain_head_grows_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        IF NEW.id = OLD.id AND NEW.length > OLD.length THEN
            RETURN NEW;
        END IF;
    END IF;
    RAISE EXCEPTION 'audit trail: % on %.% is not allowed (the chain head only grows)',
        TG_OP, TG_TABLE_SCHEMA, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
"""


def install_head_guard(apps: Any, schema_editor: Any) -> None:
    """The chain head may only move forward: a DELETE, or an UPDATE that does not increase
    its length, raises, so the tail of the chain cannot be cut off with the head.

    TRUNCATE is left alone, as on the history tables (test databases and ``flush`` use
    it): it needs the TRUNCATE privilege, which the application's role must not have."""
    if schema_editor.connection.vendor != "postgresql":
        return
    quote = schema_editor.quote_name
    table = quote(apps.get_model("conduct", "AuditChainHead")._meta.db_table)
    trigger = quote("conduct_chain_head_grows_only")
    schema_editor.execute(HEAD_FUNCTION, params=None)
    schema_editor.execute(f"DROP TRIGGER IF EXISTS {trigger} ON {table}")
    schema_editor.execute(
        f"CREATE TRIGGER {trigger} BEFORE UPDATE OR DELETE ON {table} "
        "FOR EACH ROW EXECUTE FUNCTION conduct_chain_head_grows_only()"
    )


def uninstall_head_guard(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    quote = schema_editor.quote_name
    table = quote(apps.get_model("conduct", "AuditChainHead")._meta.db_table)
    trigger = quote("conduct_chain_head_grows_only")
    schema_editor.execute(f"DROP TRIGGER IF EXISTS {trigger} ON {table}")
    schema_editor.execute("DROP FUNCTION IF EXISTS conduct_chain_head_grows_only()")
