"""Dose finding for early-phase trials: outcomes, designs, decisions, simulation.

Pure core (no Django). Designs (:class:`ThreePlusThree`, :class:`BOIN`, :class:`CRM`) are
small immutable objects wrapped by rules (``design | StopAtN(24)``); every design answers
``next_dose(outcomes)`` with a :class:`Decision` that carries its reason and the per-dose
summary it used. See docs/dosefinding.md.
"""

from trialdesk.dosefinding.boin import BOIN, boin_lambdas, boundary_table
from trialdesk.dosefinding.crm import CRM
from trialdesk.dosefinding.design import Design, Rule, Ruled
from trialdesk.dosefinding.errors import DoseFindingError
from trialdesk.dosefinding.factory import make_design
from trialdesk.dosefinding.outcomes import Cohort, Outcomes, parse_outcomes
from trialdesk.dosefinding.rules import DontSkipDoses, MaxCohortsPerDose, StopAtN, StopWhenTooToxic
from trialdesk.dosefinding.simulate import OperatingCharacteristics, exact_oc, simulate
from trialdesk.dosefinding.state import Decision, DoseSummary, TrialState
from trialdesk.dosefinding.threeplusthree import ThreePlusThree

__all__ = [
    "BOIN",
    "CRM",
    "Cohort",
    "Decision",
    "Design",
    "DontSkipDoses",
    "DoseFindingError",
    "DoseSummary",
    "MaxCohortsPerDose",
    "OperatingCharacteristics",
    "Outcomes",
    "Rule",
    "Ruled",
    "StopAtN",
    "StopWhenTooToxic",
    "ThreePlusThree",
    "TrialState",
    "boin_lambdas",
    "boundary_table",
    "exact_oc",
    "make_design",
    "parse_outcomes",
    "simulate",
]
