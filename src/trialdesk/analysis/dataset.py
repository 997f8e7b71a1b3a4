"""A trial's clinical data as plain, immutable, typed values: what the endpoints, the safety
tables, the plots, the report and the CDISC / ClinicalTrials.gov exports are computed from.

The values are frozen, slotted dataclasses holding tuples (never lists), ``datetime.date``
and timezone-aware UTC ``datetime`` values, floats for measured values and ``None`` for
missing (never 0 or ""). The shell fills them from the database
(``trialdesk.conduct.services.dataset.load_dataset``); :mod:`trialdesk.analysis.synthetic`
builds small ones by hand for tests and notebooks. The contract the report and export code
relies on is docs/analysis.md ("Dataset").

Every collection is kept in one stable order (participants by subject id; visits, doses,
adverse events and deviations by subject id then date), so identical data gives identical
output.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from trialdesk.analysis.records import (
    CRITERION_OUTCOMES,
    END_STATUSES,
    STATUSES,
    AdverseEvent,
    Criterion,
    DatasetError,
    Decision,
    Deviation,
    Dose,
    DoseLevelInfo,
    HistoryItem,
    Lab,
    Participant,
    Scores,
    Visit,
    VisitPlan,
    Vitals,
    check_aware,
)

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
    "TrialDataset",
    "Visit",
    "VisitPlan",
    "Vitals",
]


def _sorted(items: Iterable, key) -> tuple:  # noqa: ANN001
    return tuple(sorted(items, key=key))


@dataclass(frozen=True, slots=True)
class TrialDataset:
    """All of one trial's data at a data cut. The constructor sorts every collection into
    its stable order and checks that records point at known participants."""

    nct_id: str
    title: str
    design: str  # "escalation" | "single_arm"
    dose_levels: tuple[DoseLevelInfo, ...]
    schedule: tuple[VisitPlan, ...]
    participants: tuple[Participant, ...]
    doses: tuple[Dose, ...]
    visits: tuple[Visit, ...]
    adverse_events: tuple[AdverseEvent, ...]
    decisions: tuple[Decision, ...]
    deviations: tuple[Deviation, ...]
    data_cut: datetime
    # per-subject lookups, built once (the lookups below are then O(1), not a scan)
    _index: dict = field(init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        if self.design not in ("escalation", "single_arm"):
            raise DatasetError(f"{self.nct_id}: design {self.design!r}")
        check_aware(f"{self.nct_id} data_cut", self.data_cut)
        put = object.__setattr__
        put(self, "dose_levels", _sorted(self.dose_levels, lambda d: (d.order, d.id)))
        put(self, "participants", _sorted(self.participants, lambda p: p.subject_id))
        put(self, "doses", _sorted(self.doses, lambda d: (d.subject_id, d.started_at)))
        day = {v.code: v.target_day for v in self.schedule}
        put(
            self,
            "visits",
            _sorted(self.visits, lambda v: (v.subject_id, v.visit_date, day.get(v.code, 0))),
        )
        put(
            self,
            "adverse_events",
            _sorted(
                self.adverse_events,
                lambda a: (a.subject_id, a.onset_date, a.term, -(a.grade or 0)),
            ),
        )
        put(self, "decisions", _sorted(self.decisions, lambda d: (d.decided_at, d.cohort)))
        put(
            self,
            "deviations",
            _sorted(
                self.deviations,
                lambda d: (d.subject_id, d.recorded_on or date.min, d.visit_code or "", d.kind),
            ),
        )
        ids = [p.subject_id for p in self.participants]
        if len(set(ids)) != len(ids):
            dup = sorted({i for i in ids if ids.count(i) > 1})
            raise DatasetError(f"{self.nct_id}: duplicate subject ids {', '.join(dup)}")
        known = set(ids)
        for kind, records in (
            ("dose", self.doses),
            ("visit", self.visits),
            ("adverse event", self.adverse_events),
            ("deviation", self.deviations),
        ):
            for r in records:
                if r.subject_id not in known:
                    raise DatasetError(f"{self.nct_id}: {kind} of unknown subject {r.subject_id}")
        levels = {d.id for d in self.dose_levels}
        for p in self.participants:
            if p.dose_level is not None and p.dose_level not in levels:
                raise DatasetError(
                    f"participant {p.subject_id}: dose level {p.dose_level!r} is not in the "
                    f"protocol ({', '.join(sorted(levels))})"
                )
        self._build_index()

    # -- lookups ---------------------------------------------------------------------------

    def _build_index(self) -> None:
        by: dict[str, dict[str, list]] = {
            p.subject_id: {"doses": [], "visits": [], "aes": []} for p in self.participants
        }
        for kind, records in (
            ("doses", self.doses),
            ("visits", self.visits),
            ("aes", self.adverse_events),
        ):
            for r in records:
                by[r.subject_id][kind].append(r)
        index = {
            "participant": {p.subject_id: p for p in self.participants},
            "doses": {s: tuple(v["doses"]) for s, v in by.items()},
            "visits": {s: tuple(v["visits"]) for s, v in by.items()},
            "aes": {s: tuple(v["aes"]) for s, v in by.items()},
            "visit": {},
        }
        for v in reversed(self.visits):  # the first visit of a code wins
            index["visit"][(v.subject_id, v.code)] = v
        object.__setattr__(self, "_index", index)

    def participant(self, subject_id: str) -> Participant:
        try:
            return self._index["participant"][subject_id]
        except KeyError:
            raise KeyError(f"{self.nct_id}: no participant {subject_id!r}") from None

    def enrolled(self) -> tuple[Participant, ...]:
        return tuple(p for p in self.participants if p.enrolled)

    def dosed(self) -> tuple[Participant, ...]:
        """Enrolled participants with at least one dose (the safety population)."""
        return tuple(p for p in self.participants if self._index["doses"][p.subject_id])

    def doses_of(self, subject_id: str) -> tuple[Dose, ...]:
        return self._index["doses"].get(subject_id, ())

    def first_dose_date(self, subject_id: str) -> date | None:
        """The UTC date of the first infusion: study day 1."""
        doses = self.doses_of(subject_id)
        return doses[0].started_at.astimezone(UTC).date() if doses else None

    def treated_dose_level(self, subject_id: str) -> str | None:
        """The dose level as treated (the first dose's), else as enrolled (None if neither)."""
        doses = self.doses_of(subject_id)
        return doses[0].dose_level if doses else self.participant(subject_id).dose_level

    def visits_of(self, subject_id: str) -> tuple[Visit, ...]:
        return self._index["visits"].get(subject_id, ())

    def visit(self, subject_id: str, code: str) -> Visit | None:
        return self._index["visit"].get((subject_id, code))

    def adverse_events_of(self, subject_id: str) -> tuple[AdverseEvent, ...]:
        return self._index["aes"].get(subject_id, ())

    def visit_plan(self, code: str) -> VisitPlan:
        for v in self.schedule:
            if v.code == code:
                return v
        known = ", ".join(v.code for v in self.schedule)
        raise KeyError(f"{self.nct_id}: no visit {code!r} in the schedule ({known})")

    def dose_level(self, id: str) -> DoseLevelInfo:  # noqa: A002 - the protocol's word
        for d in self.dose_levels:
            if d.id == id:
                return d
        known = ", ".join(d.id for d in self.dose_levels)
        raise KeyError(f"{self.nct_id}: no dose level {id!r} ({known})")

    @property
    def baseline_code(self) -> str | None:
        """The infusion visit (labs drawn before the infusion are the baseline), else None."""
        return next((v.code for v in self.schedule if v.is_infusion), None)
