"""Read-mostly admin for registry records (records are changed by re-importing, not by hand)."""

from django.contrib import admin

from trialdesk.registry.models import Trial, TrialCondition, TrialIntervention, TrialLocation


class TrialConditionInline(admin.TabularInline):
    model = TrialCondition
    extra = 0


class TrialInterventionInline(admin.TabularInline):
    model = TrialIntervention
    extra = 0


class TrialLocationInline(admin.TabularInline):
    model = TrialLocation
    extra = 0


@admin.register(Trial)
class TrialAdmin(admin.ModelAdmin):
    list_display = ("nct_id", "brief_title", "overall_status", "phases", "study_type", "updated_at")
    list_filter = ("overall_status", "study_type", "sex")
    search_fields = ("nct_id", "brief_title", "acronym")
    readonly_fields = ("record_hash", "imported_at", "updated_at", "source")
    inlines = [TrialConditionInline, TrialInterventionInline, TrialLocationInline]
