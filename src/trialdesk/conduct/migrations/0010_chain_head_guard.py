"""PostgreSQL: the audit chain head may only grow (no DELETE, an UPDATE only if it
increases the length; trialdesk.conduct.pg_audit). Nothing on SQLite."""

from django.db import migrations


def install(apps, schema_editor):
    from trialdesk.conduct.pg_audit import install_head_guard

    install_head_guard(apps, schema_editor)


def uninstall(apps, schema_editor):
    from trialdesk.conduct.pg_audit import uninstall_head_guard

    uninstall_head_guard(apps, schema_editor)


class Migration(migrations.Migration):
    dependencies = [("conduct", "0009_append_only_history")]

    operations = [migrations.RunPython(install, uninstall)]
