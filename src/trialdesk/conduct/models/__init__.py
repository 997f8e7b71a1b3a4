"""The conduct app's models, one module per concept."""

from trialdesk.conduct.models.access import (
    AccessEvent,
    IdentityCheck,
    OwnPassword,
    password_fingerprint,
)
from trialdesk.conduct.models.audit import ClinicalRecord, ImmutableRecord, remove, write
from trialdesk.conduct.models.chain import AuditChainEntry, AuditChainHead
from trialdesk.conduct.models.consent import ConsentFormVersion, ConsentRecord
from trialdesk.conduct.models.enrolment import (
    Cohort,
    CohortSlot,
    DosingRecord,
    SafetyReviewDecision,
)
from trialdesk.conduct.models.participants import EligibilityAssessment, Participant, Signature
from trialdesk.conduct.models.queries import DataQuery
from trialdesk.conduct.models.referrals import Referral
from trialdesk.conduct.models.safety import AdverseEvent
from trialdesk.conduct.models.sites import Site, SiteMembership, Study, TrialSite
from trialdesk.conduct.models.visits import (
    LabEventProposal,
    LabResult,
    ProtocolDeviation,
    ReferenceRange,
    Visit,
)

__all__ = [
    "AdverseEvent",
    "AccessEvent",
    "IdentityCheck",
    "OwnPassword",
    "password_fingerprint",
    "AuditChainEntry",
    "AuditChainHead",
    "ClinicalRecord",
    "Cohort",
    "CohortSlot",
    "ConsentFormVersion",
    "ConsentRecord",
    "DataQuery",
    "DosingRecord",
    "EligibilityAssessment",
    "ImmutableRecord",
    "LabEventProposal",
    "LabResult",
    "ProtocolDeviation",
    "ReferenceRange",
    "Referral",
    "Visit",
    "Participant",
    "SafetyReviewDecision",
    "Signature",
    "Site",
    "SiteMembership",
    "Study",
    "TrialSite",
    "remove",
    "write",
]
