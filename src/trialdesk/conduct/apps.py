from django.apps import AppConfig


class ConductConfig(AppConfig):
    name = "trialdesk.conduct"
    label = "conduct"
    verbose_name = "Trial conduct"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.contrib.auth import get_user_model
        from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
        from django.db.models.signals import m2m_changed, post_save, pre_save
        from simple_history.signals import post_create_historical_record

        from trialdesk.conduct import access_log
        from trialdesk.conduct.audit import append
        from trialdesk.conduct.views.referrals import referral_panel
        from trialdesk.registry.prescreen import check_result_shown

        post_create_historical_record.connect(append, dispatch_uid="conduct-audit-chain")
        # The referral form under the public eligibility check's result (registry -> hook).
        check_result_shown.connect(referral_panel, dispatch_uid="conduct-referral-panel")
        user_logged_in.connect(access_log.logged_in, dispatch_uid="conduct-login")
        user_logged_out.connect(access_log.logged_out, dispatch_uid="conduct-logout")
        user_login_failed.connect(access_log.login_failed, dispatch_uid="conduct-login-failed")
        m2m_changed.connect(
            access_log.groups_changed,
            sender=get_user_model().groups.through,
            dispatch_uid="conduct-role-changes",
        )
        user_model = get_user_model()
        pre_save.connect(
            access_log.password_before_save, sender=user_model, dispatch_uid="conduct-pw-pre"
        )
        post_save.connect(
            access_log.password_after_save, sender=user_model, dispatch_uid="conduct-pw-post"
        )
