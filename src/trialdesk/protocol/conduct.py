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
    "DEFAULT_DOSE_TOLERANCE",
    "DEFAULT_SRC_QUORUM",
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

#: Signatures of distinct safety review committee members that put a dose-escalation
#: decision into effect when ``escalation.src_quorum`` is not given. An assumption: the
#: seed listings do not say; two (not one) so that no single member decides alone, the usual
#: minimum of a committee's sign-off (FDA, Guidance for Clinical Trial Sponsors: Establishment
#: and Operation of Clinical Trial Data Monitoring Committees, 2006, section 4.3: decisions
#: by the committee, not one member). A protocol states its own with ``src_quorum``.
DEFAULT_SRC_QUORUM = 2

#: Relative difference between the cells given and the level's prescribed total above which
#: a dose is a protocol deviation, when ``conduct.dose_tolerance`` is not given. An
#: assumption (+/-10%): the seeds give no tolerance; cell-therapy release specifications
#: commonly accept a viable-cell dose within +/-10% of the target (FDA, Chemistry,
#: Manufacturing, and Control (CMC) Information for Human Gene Therapy INDs, 2020, dose
#: section; a protocol states its own with ``dose_tolerance``).
DEFAULT_DOSE_TOLERANCE = Decimal("0.10")


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
    src_quorum: int = DEFAULT_SRC_QUORUM

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
    dose_tolerance: Decimal = DEFAULT_DOSE_TOLERANCE

    def first_cohort_capacity(self) -> int:
        """Places of the first cohort: ``max_enrolment`` for a single-arm trial (one cohort
        for the arm); for an escalation, ``cohort_min`` (the A of an A+B design: Lin & Shih,
        Biostatistics 2001;2:203-215), never more than ``max_enrolment``."""
        if self.escalation is None:
            return self.max_enrolment
        return min(self.escalation.cohort_min, self.max_enrolment)

    def next_cohort_capacity(self, places_at_level: int, places_in_trial: int) -> int:
        """Places of a new cohort at a dose level that already has ``places_at_level``
        places, in a trial with ``places_in_trial`` places in all (every cohort so far).

        The A+B rule (Lin & Shih 2001; 3+3 when A = B = 3, Storer, Biometrics
        1989;45:925-937): a cohort has A = ``cohort_min`` places, a level at most A + B =
        ``cohort_max`` in all, and the trial at most ``max_enrolment``. 0 or less: no cohort
        may open (the level or the trial is full).

        >>> from trialdesk.protocol import load_protocol, find_protocol
        >>> plan = load_protocol(find_protocol("NCT05227846")).conduct  # 3+3, at most 24
        >>> plan.next_cohort_capacity(3, 6), plan.next_cohort_capacity(6, 9)
        (3, 0)
        >>> plan.next_cohort_capacity(0, 22)
        2
        """
        if places_at_level < 0 or places_in_trial < 0:
            raise ValueError(
                f"places must not be negative (at the level {places_at_level}, "
                f"in the trial {places_in_trial})"
            )
        if self.escalation is None:
            return self.max_enrolment - places_in_trial
        return min(
            self.escalation.cohort_min,
            self.escalation.cohort_max - places_at_level,
            self.max_enrolment - places_in_trial,
        )

    def dose_difference(self, given_cells: int, prescribed_cells: int) -> Decimal | None:
        """The relative difference (given - prescribed) / prescribed when it is beyond
        ``dose_tolerance`` (a protocol deviation); None when the dose is within it (ICH E3
        section 9.4.4 and ICH E6(R2) 4.5.3: a dose other than the protocol's is a protocol
        deviation to be recorded and explained).

        >>> from trialdesk.protocol import load_protocol, find_protocol
        >>> plan = load_protocol(find_protocol("NCT05227846")).conduct  # tolerance 10%
        >>> plan.dose_difference(110, 100) is None, plan.dose_difference(111, 100)
        (True, Decimal('0.11'))
        """
        if prescribed_cells <= 0 or given_cells <= 0:
            raise ValueError(
                f"cells must be positive (given {given_cells}, prescribed {prescribed_cells})"
            )
        diff = (Decimal(given_cells) - Decimal(prescribed_cells)) / Decimal(prescribed_cells)
        return diff if abs(diff) > self.dose_tolerance else None

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
