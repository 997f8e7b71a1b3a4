"""The conduct section of ``protocol.yaml``: dose levels, escalation, DLT definition, visits.

The frozen plan classes. :func:`trialdesk.protocol.conduct_loader.parse_conduct` builds them
from the (already schema-validated) ``conduct`` mapping and checks what a JSON Schema cannot: dose level ids unique, the start
level exists, exactly one of ``cells`` / ``cells_per_kg``, ``cohort_min <= cohort_max``,
``max_enrolment`` at least one cohort, DLT terms known to CTCAE, study days strictly
increasing with no day 0, windows non-negative and not overlapping the infusion day or each
other, exactly one infusion visit on day 1, assessments from :data:`ASSESSMENTS`, lab panel
analytes known to :mod:`trialdesk.clinical.units`. Every error is a
:class:`~trialdesk.protocol.loader.ProtocolError` naming the field path, e.g.
``conduct.visits[3].day``.

Study days follow the CDISC SDTM Implementation Guide (v3.4, section 4.4.4, "Use of the
Study Day Variables"): day 1 is the reference start date (here the infusion date), the day
before it is day -1, and there is no day 0.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover - typing only
    from trialdesk.dosefinding import Design

__all__ = [
    "ASSESSMENTS",
    "RELATEDNESS",
    "ConductPlan",
    "DltCriterion",
    "DoseLevel",
    "EscalationPlan",
    "VisitDefinition",
]

# The assessments a visit may list; the web app shows a form section for each.
ASSESSMENTS: dict[str, str] = {
    "consent": "informed consent (the consent record, version and who obtained it)",
    "eligibility": "eligibility screening and the investigator's signed decision",
    "medical_history": "medical history and baseline conditions",
    "physical_exam": "physical examination, weight and height",
    "labs": "the protocol's lab panel (conduct.lab_panel)",
    "vitals": "temperature, heart rate, blood pressure, respiratory rate, SpO2",
    "ae_review": "adverse-event review since the last visit",
    "ascites": "ascites grade (none / mild / moderate-severe), for Child-Pugh",
    "encephalopathy": "hepatic encephalopathy grade (West Haven 0-4), for Child-Pugh",
    "infusion": "cell-product infusion (dosing record)",
    "concomitant_medications": "concomitant medication review",
    "imaging": "abdominal ultrasound or other protocol imaging",
}

# Attribution of an adverse event to the cell product, strongest first (the four-point
# scale of the seed protocols' AE forms; "unknown" = not yet assessed).
RELATEDNESS = ("related", "possibly", "unlikely", "unrelated")


@dataclass(frozen=True)
class DoseLevel:
    """One dose level. Exactly one of ``cells`` (fixed total) and ``cells_per_kg`` is set."""

    id: str
    order: int  # 1-based escalation order; the dose-finding engine's dose index is order - 1
    label: str
    cells: int | None
    cells_per_kg: int | None
    notes: str | None = None

    def total_cells(self, body_weight_kg: Decimal | None) -> int | None:
        """The total cells this level prescribes: the fixed dose, or ``cells_per_kg`` times
        the body weight (rounded down to whole cells). None when a per-kilogram dose has no
        body weight: not computable, never 0."""
        if self.cells is not None:
            return self.cells
        if body_weight_kg is None:
            return None
        if body_weight_kg <= 0:
            raise ValueError(f"{self.id}: body weight must be positive, got {body_weight_kg} kg")
        return int(self.cells_per_kg * Decimal(body_weight_kg))


@dataclass(frozen=True)
class DltCriterion:
    """One criterion of the DLT definition: its text and the condition that computes it.

    An adverse event meets the criterion when its grade is at least ``min_grade``, its
    attribution is one of ``relatedness``, its term is in ``terms`` (if given) and not in
    ``exclude_terms``, its onset falls in the DLT window (unless ``within_window`` is
    False) and, if ``serious`` is set, its seriousness matches.
    """

    id: str
    text: str
    min_grade: int
    relatedness: tuple[str, ...]
    terms: tuple[str, ...] = ()
    exclude_terms: tuple[str, ...] = ()
    within_window: bool = True
    serious: bool | None = None


@dataclass(frozen=True)
class EscalationPlan:
    """The dose-escalation design, its DLT window (study days 1..dlt_window_days) and definition."""

    design: str
    start_level: str
    cohort_min: int
    cohort_max: int
    dlt_window_days: int
    dlt_definition: tuple[DltCriterion, ...]
    allow_deescalation: bool = True
    source: str | None = None

    def build_design(self, n_doses: int) -> Design:
        """The dose-finding engine's design for ``n_doses`` levels.

        "3+3" is :class:`trialdesk.dosefinding.ThreePlusThree` in A+B form with
        A = ``cohort_min`` and B = ``cohort_max - cohort_min`` (Storer 1989; Lin & Shih 2001).
        """
        from trialdesk.dosefinding import ThreePlusThree

        if self.design != "3+3":  # the schema admits only 3+3; a hand-built plan may not
            from trialdesk.protocol.loader import ProtocolError

            raise ProtocolError(f"escalation.design: no engine design for {self.design!r}")
        return ThreePlusThree(
            doses=n_doses,
            a=self.cohort_min,
            b=self.cohort_max - self.cohort_min,
            allow_deescalation=self.allow_deescalation,
        )


@dataclass(frozen=True)
class VisitDefinition:
    """A scheduled visit: target study day (day 1 = infusion, no day 0) and its window."""

    code: str
    label: str
    day: int
    window_before: int
    window_after: int
    assessments: tuple[str, ...]
    is_infusion: bool = False
    notes: str | None = None

    @property
    def first_day(self) -> int:
        """Earliest study day allowed (never crosses day 0: checked at load)."""
        return self.day - self.window_before

    @property
    def last_day(self) -> int:
        return self.day + self.window_after


@dataclass(frozen=True)
class ConductPlan:
    """How the trial is run (the ``conduct`` section of protocol.yaml)."""

    max_enrolment: int
    dose_levels: tuple[DoseLevel, ...]
    escalation: EscalationPlan | None  # None = single arm
    visits: tuple[VisitDefinition, ...]
    lab_panel: tuple[str, ...]
    route: str
    volume_ml: Decimal | None
    ctcae_version: str
    notes: str | None = None

    def dose_level(self, id: str) -> DoseLevel:  # noqa: A002 - the contract's name
        """The dose level ``id``; a :class:`ProtocolError` naming it if there is none."""
        for level in self.dose_levels:
            if level.id == id:
                return level
        from trialdesk.protocol.loader import ProtocolError

        known = ", ".join(level.id for level in self.dose_levels)
        raise ProtocolError(f"no dose level {id!r} (dose levels: {known})")

    def visit(self, code: str) -> VisitDefinition:
        """The visit ``code``; a :class:`ProtocolError` naming it if there is none."""
        for v in self.visits:
            if v.code == code:
                return v
        from trialdesk.protocol.loader import ProtocolError

        known = ", ".join(v.code for v in self.visits)
        raise ProtocolError(f"no visit {code!r} (visits: {known})")

    @property
    def infusion_visit(self) -> VisitDefinition:
        return next(v for v in self.visits if v.is_infusion)

    @property
    def is_single_arm(self) -> bool:
        return self.escalation is None

    def build_design(self) -> Design:
        """The engine's design over this plan's dose levels (escalating trials only)."""
        if self.escalation is None:
            from trialdesk.protocol.loader import ProtocolError

            raise ProtocolError("conduct.escalation: a single-arm trial has no escalation design")
        return self.escalation.build_design(len(self.dose_levels))
