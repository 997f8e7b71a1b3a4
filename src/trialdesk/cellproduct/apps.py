from django.apps import AppConfig


class CellProductConfig(AppConfig):
    name = "trialdesk.cellproduct"
    label = "cellproduct"
    verbose_name = "Cell product"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from trialdesk.cellproduct.services.release import LOT_RELEASE, LOT_RELEASE_MEANINGS
        from trialdesk.conduct.services.signing import register_meanings

        register_meanings(LOT_RELEASE, LOT_RELEASE_MEANINGS)
