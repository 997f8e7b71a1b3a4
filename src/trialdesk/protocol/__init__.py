"""Protocol as code: ``protocols/<NCT id>/protocol.yaml`` and the eligibility rule language.

``load_protocol("NCT05227846").conduct`` is the trial's :class:`ConductPlan` (dose levels,
escalation and DLT definition, visits); :func:`visit_calendar` / :func:`window_status` place
visits on a participant's calendar, :func:`evaluate_dlt` applies the DLT definition;
``.cell_product`` is the :class:`CellProductPlan` (product code, time limits, release spec).

Pure core: no Django. See docs/protocol-format.md.
"""

from trialdesk.protocol.cellproduct import (
    CellProductPlan,
    ReleaseSpec,
    SpecItem,
    TimeLimit,
)
from trialdesk.protocol.conduct import (
    ASSESSMENTS,
    RELATEDNESS,
    ConductPlan,
    DltCriterion,
    DoseLevel,
    EscalationPlan,
    VisitDefinition,
)
from trialdesk.protocol.dlt import (
    ATTRIBUTIONS,
    AdverseEventFacts,
    CriterionOutcome,
    DltAssessment,
    evaluate_dlt,
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
from trialdesk.protocol.schedule import (
    WINDOW_STATUSES,
    ScheduledVisit,
    WindowStatus,
    date_of_study_day,
    study_day,
    visit_calendar,
    window_status,
)

__all__ = [
    "ASSESSMENTS",
    "ATTRIBUTIONS",
    "AdverseEventFacts",
    "CellProductPlan",
    "ConductPlan",
    "Criterion",
    "CriterionOutcome",
    "DltAssessment",
    "DltCriterion",
    "DoseLevel",
    "EscalationPlan",
    "Protocol",
    "ProtocolError",
    "RELATEDNESS",
    "ReleaseSpec",
    "RuleError",
    "ScheduledVisit",
    "SpecItem",
    "TimeLimit",
    "VisitDefinition",
    "WINDOW_STATUSES",
    "WindowStatus",
    "date_of_study_day",
    "evaluate_dlt",
    "find_protocol",
    "load_protocol",
    "parse_rule",
    "protocols_dir",
    "study_day",
    "visit_calendar",
    "window_status",
]
