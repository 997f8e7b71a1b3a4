"""App configuration for the public trial registry."""

from django.apps import AppConfig


class RegistryConfig(AppConfig):
    name = "trialdesk.registry"
    label = "registry"
    verbose_name = "Trial registry"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.db.backends.signals import connection_created
        from django.db.models.signals import post_delete, post_save, pre_migrate, pre_save

        from trialdesk.registry.geo import register_sqlite_functions
        from trialdesk.registry.models import TrialLocation
        from trialdesk.registry.receivers import (
            REGISTRY_MODELS,
            count_change,
            remember_site_trial,
        )

        connection_created.connect(register_sqlite_functions, dispatch_uid="registry-sqlite-geo")
        pre_migrate.connect(_restore_before_migrate, sender=self, dispatch_uid="registry-restore")
        # Every save or delete of a registry row counts one change (``receivers``).
        for model in REGISTRY_MODELS:
            name = model.__name__
            post_save.connect(count_change, sender=model, dispatch_uid=f"bump-{name}")
            post_delete.connect(count_change, sender=model, dispatch_uid=f"unbump-{name}")
        pre_save.connect(remember_site_trial, sender=TrialLocation, dispatch_uid="site-trial")


def _restore_before_migrate(sender, using="default", **kwargs) -> None:
    """Indexes a bulk import left deferred are built before migrations run, so a migration
    that alters or removes one finds it (``registry/bulk.py``)."""
    if using != "default":
        return
    from trialdesk.registry.bulk import restore_indexes

    restore_indexes()
