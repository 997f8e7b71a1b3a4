"""CDISC SDTM datasets of a trial (SDTMIG 3.3): DM, DS, EX, AE, LB, VS, IE and MH, built from a
:class:`trialdesk.analysis.dataset.TrialDataset` as plain :class:`Domain` values that the
writers (:mod:`trialdesk.interop.xpt`, :mod:`trialdesk.interop.dataset_json`,
:mod:`trialdesk.interop.odm`, CSV in :mod:`trialdesk.interop.exports`) put into files.

    >>> from trialdesk.analysis import synthetic as s
    >>> from datetime import date
    >>> data = s.dataset(participants=[s.participant("P01")], doses=[s.dose("P01", date(2026, 1, 10))])
    >>> dm = build_sdtm(data, treatment="UC-MSC")["DM"]
    >>> dm.records()[0]["USUBJID"], dm.records()[0]["RFSTDTC"], dm.records()[0]["COUNTRY"]
    ('NCT00000000-P01', '2026-01-10T09:00', 'VNM')
"""

from __future__ import annotations

from trialdesk.analysis.dataset import TrialDataset
from trialdesk.interop.sdtm.context import Context
from trialdesk.interop.sdtm.model import Domain, Variable
from trialdesk.interop.sdtm.observations import ae, ex, lb, vs
from trialdesk.interop.sdtm.subjects import dm, ds, ie, mh
from trialdesk.interop.sdtm.terminology import CT_VERSION, SDTMIG_VERSION

__all__ = ["CT_VERSION", "DOMAINS", "SDTMIG_VERSION", "Domain", "Variable", "build_sdtm"]

#: The domains exported, in the order of the SDTMIG (special purpose, interventions, events,
#: findings).
DOMAINS = ("DM", "EX", "AE", "DS", "MH", "IE", "LB", "VS")


def build_sdtm(dataset: TrialDataset, *, treatment: str) -> dict[str, Domain]:
    """Every SDTM domain of ``dataset`` by name (``treatment``: EXTRT, the product's name)."""
    ctx = Context.of(dataset)
    built = {
        "DM": dm(ctx),
        "EX": ex(ctx, treatment),
        "AE": ae(ctx),
        "DS": ds(ctx),
        "MH": mh(ctx),
        "IE": ie(ctx),
        "LB": lb(ctx),
        "VS": vs(ctx),
    }
    return {name: built[name] for name in DOMAINS}
