"""The cell product's rules (pure core, no Django): ISBT 128 identifiers, time limits,
release against the protocol's specification, dose arithmetic, labels, the bedside check.

The Django app ``trialdesk.cellproduct`` stores the records and calls these. See
docs/cellproduct.md.
"""

from trialdesk.product.bedside import (
    BedsideResult,
    ScannedLabel,
    UnitFacts,
    bedside_check,
    read_scanned,
)
from trialdesk.product.dose import DoseError, DosePlan, plan_dose
from trialdesk.product.identifiers import (
    ChainOfIdentityId,
    DonationId,
    DoseUnitId,
    IdentifierError,
    check_character,
)
from trialdesk.product.labels import LabelData, LabelError, render_label_pdf
from trialdesk.product.release import (
    ItemVerdict,
    ReleaseError,
    ReleaseVerdict,
    endotoxin_per_kg,
    evaluate_release,
)
from trialdesk.product.timelimits import TimeCheck, TimeLimitError, check_time_limit, expiry

__all__ = [
    "BedsideResult",
    "ChainOfIdentityId",
    "DonationId",
    "DoseError",
    "DosePlan",
    "DoseUnitId",
    "IdentifierError",
    "ItemVerdict",
    "LabelData",
    "LabelError",
    "ReleaseError",
    "ReleaseVerdict",
    "ScannedLabel",
    "TimeCheck",
    "TimeLimitError",
    "UnitFacts",
    "bedside_check",
    "check_character",
    "check_time_limit",
    "endotoxin_per_kg",
    "evaluate_release",
    "expiry",
    "plan_dose",
    "read_scanned",
    "render_label_pdf",
]
