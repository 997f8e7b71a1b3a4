"""Designs by name, with the defaults the CLI and the comparison grid use.

``make_design("boin", doses=4, target=0.3)`` returns ``BOIN(...) | StopWhenTooToxic``-free
BOIN (BOIN has its own elimination rule); ``"crm"`` is wrapped in :class:`DontSkipDoses`
unless ``skip_doses=True`` (no dose skipping by default, as the issue requires).
"""

from __future__ import annotations

from trialdesk.dosefinding.boin import BOIN
from trialdesk.dosefinding.crm import CRM
from trialdesk.dosefinding.design import Design
from trialdesk.dosefinding.errors import DoseFindingError
from trialdesk.dosefinding.rules import DontSkipDoses, MaxCohortsPerDose, StopAtN
from trialdesk.dosefinding.threeplusthree import ThreePlusThree

DESIGN_NAMES = ("3+3", "boin", "crm")


def default_skeleton(doses: int, target: float) -> tuple[float, ...]:
    """An evenly spaced skeleton when none is given: target at the middle dose.

    Cheung & Chappell (2002) style indifference-interval skeleton with half-width 0.05,
    prior MTD at dose ceil(doses / 2) (dfcrm ``getprior(0.05, target, nu, doses)``).
    """
    from trialdesk.dosefinding.skeleton import getprior

    return getprior(0.05, target, (doses + 1) // 2, doses)


def make_design(
    name: str,
    doses: int,
    target: float | None = None,
    skeleton: tuple[float, ...] | None = None,
    model: str = "empiric",
    a0: float = 3.0,
    skip_doses: bool = False,
    max_n: int | None = None,
    max_cohorts_per_dose: int | None = None,
    **opts,
) -> Design:
    key = name.lower().replace(" ", "")
    if key in ("3+3", "3p3", "threeplusthree"):
        design: Design = ThreePlusThree(doses=doses, **opts)
    elif key == "boin":
        if target is None:
            raise DoseFindingError("target: BOIN needs a target DLT probability (e.g. 0.3)")
        design = BOIN(doses=doses, target=target, **opts)
    elif key == "crm":
        if target is None:
            raise DoseFindingError("target: CRM needs a target DLT probability (e.g. 0.25)")
        if skeleton is None:
            skeleton = default_skeleton(doses, target)
        elif len(skeleton) != doses:
            raise DoseFindingError(
                f"skeleton: expected {doses} values (one per dose), got {len(skeleton)}"
            )
        design = CRM(skeleton=tuple(skeleton), target=target, model=model, a0=a0, **opts)
        if not skip_doses:
            design = design | DontSkipDoses()
    else:
        raise DoseFindingError(f"design: must be one of {', '.join(DESIGN_NAMES)}, got {name!r}")
    if max_cohorts_per_dose is not None:
        design = design | MaxCohortsPerDose(max_cohorts_per_dose)
    if max_n is not None:
        design = design | StopAtN(max_n)
    return design
