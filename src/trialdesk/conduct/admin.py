"""Django admin, for administrators only: sites, studies, memberships, consent form
versions (with a reason for any change) and the access log (read only). Clinical data is
entered on the staff pages, never here."""

from __future__ import annotations

from django import forms
from django.contrib import admin

from trialdesk.conduct.models import (
    AccessEvent,
    ConsentFormVersion,
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


@admin.register(Study)
class StudyAdmin(admin.ModelAdmin):
    list_display = ("nct_id", "title", "enrolment_closed")
    inlines = [TrialSiteInline]


@admin.register(SiteMembership)
class SiteMembershipAdmin(admin.ModelAdmin):
    list_display = ("user", "site")
    list_filter = ("site",)


class ConsentFormVersionForm(forms.ModelForm):
    reason = forms.CharField(max_length=300, required=False, help_text="Required for a change.")

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


class ReferenceRangeForm(forms.ModelForm):
    reason = forms.CharField(max_length=300, required=False, help_text="Required for a change.")

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
