"""The cell-product app's models, one module per concept."""

from trialdesk.cellproduct.models.donors import Collection, Donor, InfectiousDiseaseTest, Receipt
from trialdesk.cellproduct.models.doses import BedsideCheck, ChainOfIdentity, DoseUnit
from trialdesk.cellproduct.models.lots import (
    Cryopreservation,
    CulturePassage,
    LotRelease,
    ProcessingStep,
    ProductDeviation,
    ProductLot,
    ReleaseTest,
)

__all__ = [
    "BedsideCheck",
    "ChainOfIdentity",
    "Collection",
    "Cryopreservation",
    "CulturePassage",
    "DoseUnit",
    "Donor",
    "InfectiousDiseaseTest",
    "LotRelease",
    "ProcessingStep",
    "ProductDeviation",
    "ProductLot",
    "Receipt",
    "ReleaseTest",
]
