"""Django admin, for administrators only: sites, studies, memberships, consent form
versions (with a reason for any change) and the access log (read only). Clinical data is
entered on the staff pages, never here."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from simple_history.admin import SimpleHistoryAdmin

from trialdesk.conduct.models import (
    AccessEvent,
    ConsentFormVersion,
    IdentityCheck,
    ReferenceRange,
    Site,
    SiteMembership,
    Study,
    TrialSite,
)


@admin.register(Site)
class SiteAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "city", "country")


class TrialSiteInline(admin.TabularInline):
    model = TrialSite
    extra = 0


class _WhoChanges:
    """Every save and delete here names the administrator in the history (simple-history)."""

    def save_model(self, request, obj, form, change):  # noqa: ANN001
        obj._history_user = request.user
        super().save_model(request, obj, form, change)

    def delete_model(self, request, obj):  # noqa: ANN001
        obj._history_user = request.user
        super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):  # noqa: ANN001
        for obj in queryset:  # one by one: each deletion keeps its history row
            self.delete_model(request, obj)

    def save_formset(self, request, form, formset, change):  # noqa: ANN001
        instances = formset.save(commit=False)
        for obj in formset.deleted_objects:
            obj._history_user = request.user
            obj.delete()
        for obj in instances:
            obj._history_user = request.user
            obj.save()
        formset.save_m2m()


@admin.register(Study)
class StudyAdmin(_WhoChanges, SimpleHistoryAdmin):
    list_display = ("nct_id", "title", "enrolment_closed")
    # Changed only through services.study (a reason; a signed stop needs an amendment).
    readonly_fields = ("enrolment_closed",)
    inlines = [TrialSiteInline]


@admin.register(SiteMembership)
class SiteMembershipAdmin(_WhoChanges, SimpleHistoryAdmin):
    list_display = ("user", "site")
    list_filter = ("site",)


User = get_user_model()
admin.site.unregister(User)


@admin.register(User)
class ConductUserAdmin(UserAdmin):
    """Django's user admin, with a password reset that is logged and shows the one-time
    identity code (conduct/access_log.py, services/signing.py)."""

    actions = ["issue_identity_code"]

    def get_object(self, request, object_id, from_field=None):  # noqa: ANN001, ANN201
        obj = super().get_object(request, object_id, from_field)
        if obj is not None:
            obj._password_reset_request = request
        return obj

    @admin.action(description="Issue a new one-time identity code (after a password reset)")
    def issue_identity_code(self, request, queryset):  # noqa: ANN001
        from trialdesk.conduct.services.signing import issue_identity_code, open_identity_check

        for user in queryset:
            if open_identity_check(user) is None:
                messages.info(request, f"{user.get_username()}: no open identity check")
                continue
            code = issue_identity_code(user, request.user)
            messages.warning(
                request,
                f"One-time identity code for {user.get_username()}: {code} (give it in "
                "person or by telephone; shown only now).",
            )


class ConsentFormVersionForm(forms.ModelForm):
    reason = forms.CharField(max_length=100, required=False, help_text="Required for a change.")

    class Meta:
        model = ConsentFormVersion
        fields = ["study", "version", "approved_on", "forces_reconsent", "summary"]

    def clean(self):
        data = super().clean()
        if self.instance.pk and not (data.get("reason") or "").strip():
            self.add_error("reason", "a reason is required for any change after first save")
        return data


@admin.register(ConsentFormVersion)
class ConsentFormVersionAdmin(admin.ModelAdmin):
    form = ConsentFormVersionForm
    list_display = ("study", "version", "approved_on", "forces_reconsent")

    def save_model(self, request, obj, form, change):  # noqa: ANN001
        from trialdesk.conduct.models import write

        write(obj, request.user, form.cleaned_data.get("reason"))

    def has_delete_permission(self, request, obj=None):  # noqa: ANN001
        return False


@admin.register(AccessEvent)
class AccessEventAdmin(admin.ModelAdmin):
    list_display = ("at", "kind", "username", "detail")
    list_filter = ("kind",)
    search_fields = ("username",)

    def has_add_permission(self, request):  # noqa: ANN001
        return False

    def has_change_permission(self, request, obj=None):  # noqa: ANN001
        return False

    def has_delete_permission(self, request, obj=None):  # noqa: ANN001
        return False


@admin.register(IdentityCheck)
class IdentityCheckAdmin(admin.ModelAdmin):
    """Read only: opened by a password reset, closed by the user's code (services/signing)."""

    list_display = ("user", "opened_at", "opened_by", "code_issued_at", "confirmed_at")
    list_filter = ("confirmed_at",)
    exclude = ("code_hash",)

    def has_add_permission(self, request):  # noqa: ANN001
        return False

    def has_change_permission(self, request, obj=None):  # noqa: ANN001
        return False

    def has_delete_permission(self, request, obj=None):  # noqa: ANN001
        return False


class ReferenceRangeForm(forms.ModelForm):
    reason = forms.CharField(max_length=100, required=False, help_text="Required for a change.")

    class Meta:
        model = ReferenceRange
        fields = ["site", "analyte", "lln", "uln", "source"]

    def clean(self):
        data = super().clean()
        if self.instance.pk and not (data.get("reason") or "").strip():
            self.add_error("reason", "a reason is required for any change after first save")
        return data


@admin.register(ReferenceRange)
class ReferenceRangeAdmin(admin.ModelAdmin):
    form = ReferenceRangeForm
    list_display = ("site", "analyte", "lln", "uln")
    list_filter = ("site",)

    def save_model(self, request, obj, form, change):  # noqa: ANN001
        from trialdesk.conduct.models import write

        write(obj, request.user, form.cleaned_data.get("reason"))

    def has_delete_permission(self, request, obj=None):  # noqa: ANN001
        return False
