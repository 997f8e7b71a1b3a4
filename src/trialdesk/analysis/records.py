"""The records of a trial dataset, one frozen, slotted dataclass per kind: dose levels and the
visit schedule (from the protocol), participants with their eligibility criteria and
history, doses, visits with labs, vitals and scores, adverse events, committee decisions and
deviations. :class:`trialdesk.analysis.dataset.TrialDataset` holds them together (and
re-exports every name here: import them from there).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

__all__ = [
    "CRITERION_OUTCOMES",
    "END_STATUSES",
    "STATUSES",
    "AdverseEvent",
    "Criterion",
    "DatasetError",
    "Decision",
    "Deviation",
    "Dose",
    "DoseLevelInfo",
    "HistoryItem",
    "Lab",
    "Participant",
    "Scores",
    "Visit",
    "VisitPlan",
    "Vitals",
    "check_aware",
]

#: Participant.end_status values (None = still in follow-up).
END_STATUSES = ("completed", "withdrawn", "died")
#: Participant.status values, as conduct stores them.
STATUSES = ("screening", "screen_failed", "eligible", "enrolled")
CRITERION_OUTCOMES = ("met", "not met", "unknown")


class DatasetError(ValueError):
    """A dataset value that breaks the contract; the message names the record and field."""


def check_aware(where: str, value: datetime | None) -> None:
    if value is not None and (value.tzinfo is None or value.utcoffset() is None):
        raise DatasetError(f"{where}: expected a timezone-aware UTC datetime, got {value!r}")


@dataclass(frozen=True, slots=True)
class DoseLevelInfo:
    """A protocol dose level: a fixed total (``cells``) or a per-kilogram dose."""

    id: str
    label: str
    order: int
    cells: float | None
    cells_per_kg: float | None


@dataclass(frozen=True, slots=True)
class VisitPlan:
    """One visit of the protocol's schedule. ``target_day`` is the study day (day 1 = the
    infusion day, no day 0: CDISC SDTM IG v3.4 4.4.4, as ``trialdesk.protocol.schedule``);
    the window runs from ``target_day - window_before`` to ``target_day + window_after``."""

    code: str
    label: str
    target_day: int
    window_before: int
    window_after: int
    is_infusion: bool = False


@dataclass(frozen=True, slots=True)
class Criterion:
    """One eligibility criterion's outcome in the participant's signed assessment (for an
    exclusion criterion, "met" means the exclusion applies)."""

    id: str
    kind: str  # "inclusion" | "exclusion"
    text: str
    outcome: str  # "met" | "not met" | "unknown"

    def __post_init__(self) -> None:
        if self.kind not in ("inclusion", "exclusion"):
            raise DatasetError(f"criterion {self.id}: kind {self.kind!r}")
        if self.outcome not in CRITERION_OUTCOMES:
            raise DatasetError(f"criterion {self.id}: outcome {self.outcome!r}")

    @property
    def excludes(self) -> bool:
        """True when this criterion makes the participant ineligible."""
        bad = "not met" if self.kind == "inclusion" else "met"
        return self.outcome == bad


@dataclass(frozen=True, slots=True)
class HistoryItem:
    """A condition from the screening data (medical history)."""

    term: str
    start: date | None
    ongoing: bool | None


@dataclass(frozen=True, slots=True)
class Participant:
    subject_id: str
    screening_number: str
    site_code: str
    site_name: str
    country: str
    sex: str
    birth_date: date
    age_at_screening: int
    screened_on: date
    status: str
    screen_failure_reasons: tuple[str, ...]
    consented_at: datetime | None
    consent_version: str | None
    enrolled_at: datetime | None
    cohort: int | None
    dose_level: str | None
    dlt_outcome: str  # "pending" | "no_dlt" | "dlt"
    criteria: tuple[Criterion, ...]
    history: tuple[HistoryItem, ...]
    end_status: str | None
    end_date: date | None
    participant_id: str | None = None  # the enrolment id (= subject_id once enrolled)
    eligible: bool = False  # the investigator signed the assessment as eligible

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise DatasetError(f"participant {self.subject_id}: status {self.status!r}")
        if self.end_status is not None and self.end_status not in END_STATUSES:
            raise DatasetError(f"participant {self.subject_id}: end_status {self.end_status!r}")
        check_aware(f"participant {self.subject_id} consented_at", self.consented_at)
        check_aware(f"participant {self.subject_id} enrolled_at", self.enrolled_at)

    @property
    def enrolled(self) -> bool:
        return self.status == "enrolled"

    @property
    def failed_criteria(self) -> tuple[str, ...]:
        """Ids of the criteria that exclude the participant (screen-failure reasons)."""
        return tuple(c.id for c in self.criteria if c.excludes)


@dataclass(frozen=True, slots=True)
class Dose:
    subject_id: str
    lot: str
    dose_level: str
    cells: int
    body_weight_kg: float | None
    started_at: datetime
    ended_at: datetime
    route: str
    volume_ml: float
    premedication: str
    infusion_reactions: str

    def __post_init__(self) -> None:
        check_aware(f"dose of {self.subject_id} started_at", self.started_at)
        check_aware(f"dose of {self.subject_id} ended_at", self.ended_at)


@dataclass(frozen=True, slots=True)
class Lab:
    """A lab value in its analyte's canonical unit (``trialdesk.clinical.units``);
    ``entered`` is the text as typed, ``comparator`` "<", "<=", ">", ">=" or ""."""

    analyte: str
    value: float
    unit: str
    comparator: str
    entered: str


@dataclass(frozen=True, slots=True)
class Vitals:
    temperature_c: float | None = None
    heart_rate: float | None = None
    systolic_bp: float | None = None
    diastolic_bp: float | None = None
    respiratory_rate: float | None = None
    spo2: float | None = None
    weight_kg: float | None = None


@dataclass(frozen=True, slots=True)
class Scores:
    """The liver scores at a visit, as the participant page shows them
    (``trialdesk.clinical.visit_scores``); None where the score is unknown."""

    meld: int | None = None
    meld_na: int | None = None
    meld3: int | None = None
    ctp_points: int | None = None
    ctp_class: str | None = None


@dataclass(frozen=True, slots=True)
class Visit:
    subject_id: str
    code: str
    visit_date: date
    study_day: int | None
    window_status: str  # "early" | "in_window" | "late" (trialdesk.protocol.window_status)
    ascites: str | None
    encephalopathy: int | None
    vitals: Vitals = field(default_factory=Vitals)
    labs: tuple[Lab, ...] = ()
    scores: Scores = field(default_factory=Scores)

    def lab(self, analyte: str) -> Lab | None:
        return next((lab for lab in self.labs if lab.analyte == analyte), None)


@dataclass(frozen=True, slots=True)
class AdverseEvent:
    """An adverse event. A fatal ``outcome`` is how a death is known: conduct has no
    separate death record."""

    subject_id: str
    term: str
    grade: int | None
    ctcae_version: str
    onset_date: date
    resolution_date: date | None
    serious: bool
    seriousness: tuple[str, ...]
    related: str  # related | possibly | unlikely | unrelated | unknown
    action_taken: str
    outcome: str  # recovering | recovered | sequelae | not_recovered | fatal | unknown
    dlt: bool | None
    dose_level: str | None

    def __post_init__(self) -> None:
        if self.grade is not None and not 1 <= self.grade <= 5:
            raise DatasetError(
                f"adverse event {self.term} of {self.subject_id}: grade {self.grade}"
            )

    @property
    def fatal(self) -> bool:
        return self.outcome == "fatal" or self.grade == 5


@dataclass(frozen=True, slots=True)
class Decision:
    """A signed safety review committee decision. ``cohort`` is the number of the last
    cohort reviewed (0 for a decision before any cohort); ``decided_at`` is the signing time."""

    cohort: int
    dose_level: str
    outcomes: str
    recommended: str
    decision: str
    chosen: str
    decided_at: datetime
    departs_from_recommendation: bool

    def __post_init__(self) -> None:
        check_aware(f"decision after cohort {self.cohort} decided_at", self.decided_at)


@dataclass(frozen=True, slots=True)
class Deviation:
    subject_id: str
    visit_code: str | None
    kind: str
    description: str
    recorded_on: date | None = None
