"""Running the trials at the sites: screening log, consent, enrolment into dose cohorts,
dosing, with roles, site scoping and an audit trail (docs/conduct.md).

Django shell: the clinical decisions come from the pure core (``trialdesk.eligibility``,
``trialdesk.dosefinding``, the protocol's conduct plan); this app stores and shows them.
"""
