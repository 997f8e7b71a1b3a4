"""Human labels for the ClinicalTrials.gov API v2 enumerations shown on the public pages.

The labels are ClinicalTrials.gov's own display wording (its "legacy" values, e.g.
``RECRUITING`` -> "Recruiting", ``SINGLE_GROUP`` -> "Single Group Assignment"), so a patient
reads the same words here as on ClinicalTrials.gov. Pages keep the enum itself in a
``data-*`` attribute. An enum value missing from a table is shown title-cased rather than
hidden, so a new CT.gov value degrades to readable text instead of an error.

Usage in a template: ``{% load registry_labels %}{{ trial.overall_status|status_label }}``.
"""

from __future__ import annotations

from collections.abc import Iterable

from django import template

register = template.Library()

OVERALL_STATUS = {
    "ACTIVE_NOT_RECRUITING": "Active, not recruiting",
    "COMPLETED": "Completed",
    "ENROLLING_BY_INVITATION": "Enrolling by invitation",
    "NOT_YET_RECRUITING": "Not yet recruiting",
    "RECRUITING": "Recruiting",
    "SUSPENDED": "Suspended",
    "TERMINATED": "Terminated",
    "WITHDRAWN": "Withdrawn",
    "AVAILABLE": "Available",
    "NO_LONGER_AVAILABLE": "No longer available",
    "TEMPORARILY_NOT_AVAILABLE": "Temporarily not available",
    "APPROVED_FOR_MARKETING": "Approved for marketing",
    "WITHHELD": "Withheld",
    "UNKNOWN": "Unknown status",
}
PHASE = {
    "NA": "Not Applicable",
    "EARLY_PHASE1": "Early Phase 1",
    "PHASE1": "Phase 1",
    "PHASE2": "Phase 2",
    "PHASE3": "Phase 3",
    "PHASE4": "Phase 4",
}
STUDY_TYPE = {
    "INTERVENTIONAL": "Interventional",
    "OBSERVATIONAL": "Observational",
    "EXPANDED_ACCESS": "Expanded Access",
}
SEX = {"ALL": "All", "FEMALE": "Female", "MALE": "Male"}
AGENCY_CLASS = {
    "NIH": "NIH",
    "FED": "U.S. Fed",
    "OTHER_GOV": "Other U.S. Federal agency",
    "INDIV": "Individual",
    "INDUSTRY": "Industry",
    "NETWORK": "Network",
    "AMBIG": "Ambiguous",
    "OTHER": "Other",
    "UNKNOWN": "Unknown",
}
ALLOCATION = {"RANDOMIZED": "Randomized", "NON_RANDOMIZED": "Non-Randomized", "NA": "N/A"}
INTERVENTION_MODEL = {
    "SINGLE_GROUP": "Single Group Assignment",
    "PARALLEL": "Parallel Assignment",
    "CROSSOVER": "Crossover Assignment",
    "FACTORIAL": "Factorial Assignment",
    "SEQUENTIAL": "Sequential Assignment",
}
PRIMARY_PURPOSE = {
    "TREATMENT": "Treatment",
    "PREVENTION": "Prevention",
    "DIAGNOSTIC": "Diagnostic",
    "ECT": "Educational/Counseling/Training",
    "SUPPORTIVE_CARE": "Supportive Care",
    "SCREENING": "Screening",
    "HEALTH_SERVICES_RESEARCH": "Health Services Research",
    "BASIC_SCIENCE": "Basic Science",
    "DEVICE_FEASIBILITY": "Device Feasibility",
    "OTHER": "Other",
}
MASKING = {
    "NONE": "None (Open label)",
    "SINGLE": "Single",
    "DOUBLE": "Double",
    "TRIPLE": "Triple",
    "QUADRUPLE": "Quadruple",
}
WHO_MASKED = {
    "PARTICIPANT": "Participant",
    "CARE_PROVIDER": "Care Provider",
    "INVESTIGATOR": "Investigator",
    "OUTCOMES_ASSESSOR": "Outcomes Assessor",
}
ARM_GROUP_TYPE = {
    "EXPERIMENTAL": "Experimental",
    "ACTIVE_COMPARATOR": "Active Comparator",
    "PLACEBO_COMPARATOR": "Placebo Comparator",
    "SHAM_COMPARATOR": "Sham Comparator",
    "NO_INTERVENTION": "No Intervention",
    "OTHER": "Other",
}
INTERVENTION_TYPE = {
    "BEHAVIORAL": "Behavioral",
    "BIOLOGICAL": "Biological",
    "COMBINATION_PRODUCT": "Combination Product",
    "DEVICE": "Device",
    "DIAGNOSTIC_TEST": "Diagnostic Test",
    "DIETARY_SUPPLEMENT": "Dietary Supplement",
    "DRUG": "Drug",
    "GENETIC": "Genetic",
    "PROCEDURE": "Procedure",
    "RADIATION": "Radiation",
    "OTHER": "Other",
}
CONTACT_ROLE = {
    "STUDY_CHAIR": "Study Chair",
    "STUDY_DIRECTOR": "Study Director",
    "PRINCIPAL_INVESTIGATOR": "Principal Investigator",
    "SUB_INVESTIGATOR": "Sub-Investigator",
    "CONTACT": "Contact",
}

TABLES: dict[str, dict[str, str]] = {
    "status": OVERALL_STATUS,
    "phase": PHASE,
    "study_type": STUDY_TYPE,
    "sex": SEX,
    "agency_class": AGENCY_CLASS,
    "allocation": ALLOCATION,
    "intervention_model": INTERVENTION_MODEL,
    "primary_purpose": PRIMARY_PURPOSE,
    "masking": MASKING,
    "who_masked": WHO_MASKED,
    "arm_group_type": ARM_GROUP_TYPE,
    "intervention_type": INTERVENTION_TYPE,
    "contact_role": CONTACT_ROLE,
}


def enum_value(value: object) -> str:
    """The plain string of an enum member or string (``Status.RECRUITING`` -> ``"RECRUITING"``)."""
    if value is None:
        return ""
    raw = getattr(value, "value", value)
    return str(raw)


def label(table: str, value: object) -> str:
    """The human label of ``value`` in the named enumeration ``table`` ("" for None)."""
    code = enum_value(value)
    if not code:
        return ""
    known = TABLES[table].get(code)
    if known is not None:
        return known
    return code.replace("_", " ").capitalize()


def phases_label(phases: Iterable[object] | None) -> str:
    """ "Phase 1", or "Phase 1/Phase 2" for a combined phase (CT.gov's wording)."""
    codes = [enum_value(p) for p in (phases or [])]
    return "/".join(label("phase", c) for c in codes if c)


@register.filter
def status_label(value: object) -> str:
    return label("status", value)


@register.filter
def phases(value: Iterable[object] | None) -> str:
    return phases_label(value)
