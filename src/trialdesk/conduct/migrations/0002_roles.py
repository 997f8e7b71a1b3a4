"""The roles (Django groups with their permissions) from trialdesk.conduct.roles.ROLES."""

from django.db import migrations


def create_roles(apps, schema_editor):
    from trialdesk.conduct.roles import sync_roles

    # strict=False: models of later migrations (data queries) do not exist yet here.
    sync_roles(apps, schema_editor, strict=False)


class Migration(migrations.Migration):
    dependencies = [
        ("conduct", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_roles, migrations.RunPython.noop)]
