from django.apps import AppConfig


class ConductConfig(AppConfig):
    name = "trialdesk.conduct"
    label = "conduct"
    verbose_name = "Trial conduct"
    default_auto_field = "django.db.models.BigAutoField"
