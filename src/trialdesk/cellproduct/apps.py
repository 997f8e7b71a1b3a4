from django.apps import AppConfig


class CellProductConfig(AppConfig):
    name = "trialdesk.cellproduct"
    label = "cellproduct"
    verbose_name = "Cell product"
    default_auto_field = "django.db.models.BigAutoField"
