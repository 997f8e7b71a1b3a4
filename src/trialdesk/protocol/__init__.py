"""Protocol as code: ``protocols/<NCT id>/protocol.yaml`` and the eligibility rule language.

Pure core: no Django. See docs/protocol-format.md.
"""

from trialdesk.protocol.conduct import (
    ASSESSMENTS,
    RELATEDNESS,
    ConductPlan,
    DltCriterion,
    DoseLevel,
    EscalationPlan,
    VisitDefinition,
)
from trialdesk.protocol.loader import (
    Criterion,
    Protocol,
    ProtocolError,
    find_protocol,
    load_protocol,
    protocols_dir,
)
from trialdesk.protocol.rules import RuleError, parse_rule

__all__ = [
    "ASSESSMENTS",
    "RELATEDNESS",
    "ConductPlan",
    "Criterion",
    "DltCriterion",
    "DoseLevel",
    "EscalationPlan",
    "Protocol",
    "ProtocolError",
    "RuleError",
    "VisitDefinition",
    "find_protocol",
    "load_protocol",
    "parse_rule",
    "protocols_dir",
]
