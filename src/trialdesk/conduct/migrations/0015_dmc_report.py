from django.db import migrations


def sync_roles(apps, schema_editor):
    """The roles again, with the DMC report's permission (investigator, safety review
    committee member, monitor, data manager, administrator)."""
    from trialdesk.conduct.roles import sync_roles as sync

    sync(apps, schema_editor, strict=False)


class Migration(migrations.Migration):
    dependencies = [
        ("conduct", "0014_deviation_review"),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="study",
            options={
                "ordering": ["nct_id"],
                "permissions": [
                    ("reopen_enrolment", "Can reopen enrolment (with a documented act)"),
                    ("view_dmc_report", "Can view the data monitoring committee report"),
                ],
                "verbose_name_plural": "studies",
            },
        ),
        migrations.RunPython(sync_roles, migrations.RunPython.noop),
    ]
