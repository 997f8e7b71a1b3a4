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
