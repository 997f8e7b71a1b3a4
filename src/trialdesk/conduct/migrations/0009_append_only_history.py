"""PostgreSQL: triggers that make the history tables and audit chain entries append-only
(trialdesk.conduct.pg_audit). Nothing on SQLite."""

from django.db import migrations


def install(apps, schema_editor):
    from trialdesk.conduct.pg_audit import install as run

    run(apps, schema_editor)


def uninstall(apps, schema_editor):
    from trialdesk.conduct.pg_audit import uninstall as run

    run(apps, schema_editor)


class Migration(migrations.Migration):
    dependencies = [("conduct", "0008_lab_proposals")]

    operations = [migrations.RunPython(install, uninstall)]
