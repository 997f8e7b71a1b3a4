"""The roles of the people who run a trial, as Django groups with permissions.

Created (and brought up to date) by migration 0002; ``ROLES`` is the one list of who may do
what. A role gives abilities; which participants a user sees depends on their sites only
(``SiteMembership``), whatever the role.
"""

from __future__ import annotations

_VIEW = [
    "view_study",
    "view_participant",
    "view_eligibilityassessment",
    "view_signature",
    "view_consentformversion",
    "view_consentrecord",
    "view_cohort",
    "view_safetyreviewdecision",
    "view_dosingrecord",
    "view_dataquery",
    "view_visit",
    "view_labresult",
    "view_protocoldeviation",
    "view_adverseevent",
    "view_labeventproposal",
    "view_referencerange",
]
_ANSWER = ["answer_dataquery"]
#: The data monitoring committee report (safety and efficacy, all of the user's sites).
_REPORT = ["view_dmc_report"]

#: role name -> permission codenames (all in the ``conduct`` app)
ROLES: dict[str, list[str]] = {
    "investigator": _VIEW
    + [
        "screen_participant",
        "sign_eligibility",
        "add_consentrecord",
        "enrol_participant",
        "add_dosingrecord",
        "correct_clinical_data",
        "record_dlt_outcome",
        "reopen_enrolment",
        "record_visit",
        "record_adverse_event",
        "view_referral",
    ]
    + _ANSWER
    + _REPORT,
    "coordinator": _VIEW
    + [
        "screen_participant",
        "add_consentrecord",
        "enrol_participant",
        "add_dosingrecord",
        "correct_clinical_data",
        "record_visit",
        "record_adverse_event",
        "view_referral",
    ]
    + _ANSWER,
    "safety review committee member": _VIEW
    + ["add_safetyreviewdecision", "sign_safetyreviewdecision"]
    + _REPORT,
    "monitor": _VIEW + ["raise_dataquery"] + _REPORT,
    "data manager": _VIEW + ["correct_clinical_data"] + _ANSWER + _REPORT,
    "cell-lab staff": _VIEW + ["add_dosingrecord"],
    "administrator": _VIEW
    + [
        "add_consentformversion",
        "change_consentformversion",
        "add_study",
        "change_study",
        "add_site",
        "change_site",
        "add_sitemembership",
        "delete_sitemembership",
        "add_trialsite",
        "add_referencerange",
        "change_referencerange",
    ]
    + _REPORT,
}


def sync_roles(apps, schema_editor=None, *, strict: bool = True) -> None:  # noqa: ANN001
    """Create each role's group and give it exactly its permissions.

    ``strict=False`` (an early migration, before later models exist) leaves out permissions
    not created yet; a later migration syncs again, strictly."""
    from django.contrib.auth.management import create_permissions

    config = apps.get_app_config("conduct")
    if getattr(config, "models_module", None) is None:  # the migration's historical app registry
        config.models_module = True
    create_permissions(config, apps=apps, verbosity=0)
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for role, codenames in ROLES.items():
        group, _ = Group.objects.get_or_create(name=role)
        perms = list(
            Permission.objects.filter(content_type__app_label="conduct", codename__in=codenames)
        )
        found = {p.codename for p in perms}
        missing = sorted(set(codenames) - found)
        if missing and strict:
            raise RuntimeError(f"role {role!r}: no permission {', '.join(missing)}")
        # Other apps' permissions (e.g. cellproduct's) are theirs to set: keep them.
        others = list(group.permissions.exclude(content_type__app_label="conduct"))
        group.permissions.set(perms + others)
