from django.apps import AppConfig


class ConductConfig(AppConfig):
    name = "trialdesk.conduct"
    label = "conduct"
    verbose_name = "Trial conduct"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from simple_history.signals import post_create_historical_record

        from trialdesk.conduct.audit import append

        post_create_historical_record.connect(append, dispatch_uid="conduct-audit-chain")
