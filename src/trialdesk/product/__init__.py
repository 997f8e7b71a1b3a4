"""The cell product's rules (pure core, no Django): ISBT 128 identifiers, time limits,
release against the protocol's specification, dose arithmetic, labels, the bedside check.

The Django app ``trialdesk.cellproduct`` stores the records and calls these. See
docs/cellproduct.md.
"""

from trialdesk.product.identifiers import (
    ChainOfIdentityId,
    DonationId,
    DoseUnitId,
    IdentifierError,
    check_character,
)

__all__ = [
    "ChainOfIdentityId",
    "DonationId",
    "DoseUnitId",
    "IdentifierError",
    "check_character",
]
