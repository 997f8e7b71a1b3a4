"""The roles' cell-product permissions (trialdesk.cellproduct.roles) and the database guards
on release and dose units (trialdesk.cellproduct.guards)."""

from django.db import migrations


def roles(apps, schema_editor):
    from trialdesk.cellproduct.roles import sync_roles

    sync_roles(apps, schema_editor)


def install(apps, schema_editor):
    from trialdesk.cellproduct.guards import install as run

    run(apps, schema_editor)


def uninstall(apps, schema_editor):
    from trialdesk.cellproduct.guards import uninstall as run

    run(apps, schema_editor)


class Migration(migrations.Migration):
    dependencies = [("cellproduct", "0001_initial"), ("conduct", "0012_referrals")]

    operations = [
        migrations.RunPython(roles, migrations.RunPython.noop),
        migrations.RunPython(install, uninstall),
    ]
