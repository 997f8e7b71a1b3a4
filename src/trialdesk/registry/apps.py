"""App configuration for the public trial registry."""

from django.apps import AppConfig


class RegistryConfig(AppConfig):
    name = "trialdesk.registry"
    label = "registry"
    verbose_name = "Trial registry"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.db.backends.signals import connection_created

        from trialdesk.registry.geo import register_sqlite_functions

        connection_created.connect(register_sqlite_functions, dispatch_uid="registry-sqlite-geo")

        from django.db.models.signals import pre_migrate

        pre_migrate.connect(_restore_before_migrate, sender=self, dispatch_uid="registry-restore")


def _restore_before_migrate(sender, using="default", **kwargs) -> None:
    """Indexes a bulk import left deferred are built before migrations run, so a migration
    that alters or removes one finds it (``registry/bulk.py``)."""
    if using != "default":
        return
    from trialdesk.registry.bulk import restore_indexes

    restore_indexes()
