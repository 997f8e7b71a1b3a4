"""The registry state's stamps, which the SQLite text index (``textindex``) is checked against."""

import uuid

from django.db import migrations, models


def _stamp_existing_state(apps, schema_editor):
    """A registry changed before this migration gets a stamp of its own ('' is the state of
    a registry never changed, which many databases share)."""
    state = apps.get_model("registry", "RegistryState")
    for row in state.objects.using(schema_editor.connection.alias).all():
        row.stamp = uuid.uuid4().hex
        row.save(update_fields=["stamp"])


class Migration(migrations.Migration):
    dependencies = [
        ("registry", "0009_drop_single_column_filter_indexes"),
    ]

    operations = [
        migrations.AddField(
            model_name="registrystate",
            name="stamp",
            field=models.CharField(blank=True, default="", max_length=32),
        ),
        migrations.AddField(
            model_name="registrystate",
            name="previous_stamp",
            field=models.CharField(blank=True, default="", max_length=32),
        ),
        migrations.RunPython(_stamp_existing_state, migrations.RunPython.noop),
    ]
