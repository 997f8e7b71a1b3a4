"""What site staff do, as transactions: each checks who may do it and whether the trial's
rules allow it, raises :class:`~trialdesk.conduct.errors.ConductError` with the reason (and
saves nothing) when not, and writes audited records when so. Views only call these."""

from trialdesk.conduct.services.access import require_member, require_perm
from trialdesk.conduct.services.consent import consent_problem, record_consent, require_consent
from trialdesk.conduct.services.dosing import protocol_dose, record_dose
from trialdesk.conduct.services.enrolment import (
    enrol,
    propose_decision,
    recommendation,
    record_dlt_outcome,
    sign_decision,
)
from trialdesk.conduct.services.screening import (
    correct_participant,
    reassess,
    screen_participant,
    sign_eligibility,
)
from trialdesk.conduct.services.signing import sign

__all__ = [
    "consent_problem",
    "enrol",
    "propose_decision",
    "protocol_dose",
    "recommendation",
    "record_dlt_outcome",
    "record_dose",
    "sign_decision",
    "correct_participant",
    "reassess",
    "record_consent",
    "require_consent",
    "require_member",
    "require_perm",
    "screen_participant",
    "sign",
    "sign_eligibility",
]
