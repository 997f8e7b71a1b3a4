"""The participant flow (CONSORT 2010, Schulz KF et al., BMJ 2010;340:c332, item 13; the
ClinicalTrials.gov results "Participant Flow" module): screened -> eligible -> consented ->
enrolled -> dosed -> completed, the screen-failure reasons counted, and how the dosed
participants' follow-up ended, overall and per dose level (as treated).

Each stage counts the participants who reached it and every stage before it, so the counts
never rise along the flow: "consented" = eligible and consented (conduct may take consent
before the eligibility is signed). Eligible = the investigator signed the assessment as
eligible. Completed = end status "completed" (the schedule's last visit done; see
``trialdesk.conduct.services.dataset``). Screen-failure reasons are the criteria that excluded
the participant (an inclusion not met, an exclusion met), or the recorded reason lines when
no criterion results are held; a participant with several reasons counts under each.
"""

from __future__ import annotations

from dataclasses import dataclass

from trialdesk.analysis.dataset import Participant, TrialDataset

__all__ = ["ArmFlow", "FlowStage", "ParticipantFlow", "ScreenFailureReason", "participant_flow"]

STAGES = ("screened", "eligible", "consented", "enrolled", "dosed", "completed")


@dataclass(frozen=True, slots=True)
class FlowStage:
    name: str
    subject_ids: tuple[str, ...]

    @property
    def n(self) -> int:
        return len(self.subject_ids)


@dataclass(frozen=True, slots=True)
class ScreenFailureReason:
    reason: str  # the criterion id, or the reason text
    text: str
    subject_ids: tuple[str, ...]

    @property
    def n(self) -> int:
        return len(self.subject_ids)


@dataclass(frozen=True, slots=True)
class ArmFlow:
    """One dose level's dosed participants and how their follow-up stands."""

    dose_level: str
    label: str
    dosed: FlowStage
    completed: FlowStage
    died: FlowStage
    withdrawn: FlowStage
    ongoing: FlowStage


@dataclass(frozen=True, slots=True)
class ParticipantFlow:
    stages: tuple[FlowStage, ...]  # in STAGES order
    screen_failed: FlowStage
    in_screening: FlowStage  # screened, neither failed nor signed eligible yet
    screen_failure_reasons: tuple[ScreenFailureReason, ...]
    arms: tuple[ArmFlow, ...]
    died: FlowStage  # dosed participants whose follow-up ended by death
    withdrawn: FlowStage
    ongoing: FlowStage

    def stage(self, name: str) -> FlowStage:
        for s in self.stages:
            if s.name == name:
                return s
        raise KeyError(f"no flow stage {name!r} ({', '.join(STAGES)})")


def _stage(name: str, people: list[Participant]) -> FlowStage:
    return FlowStage(name, tuple(p.subject_id for p in people))


def _reasons(failed: list[Participant]) -> tuple[ScreenFailureReason, ...]:
    found: dict[str, tuple[str, list[str]]] = {}
    for p in failed:
        if p.failed_criteria:
            keys = [(c.id, c.text) for c in p.criteria if c.excludes]
        else:
            keys = [(line, line) for line in p.screen_failure_reasons] or [
                ("not recorded", "no reason recorded")
            ]
        for key, text in keys:
            found.setdefault(key, (text, []))[1].append(p.subject_id)
    rows = [ScreenFailureReason(k, t, tuple(ids)) for k, (t, ids) in found.items()]
    return tuple(sorted(rows, key=lambda r: (-r.n, r.reason)))


def _ends(people: list[Participant]) -> tuple[FlowStage, ...]:
    return (
        _stage("completed", [p for p in people if p.end_status == "completed"]),
        _stage("died", [p for p in people if p.end_status == "died"]),
        _stage("withdrawn", [p for p in people if p.end_status == "withdrawn"]),
        _stage("ongoing", [p for p in people if p.end_status is None]),
    )


def participant_flow(ds: TrialDataset) -> ParticipantFlow:
    """The flow of every participant screened up to the data cut."""
    dosed_ids = {p.subject_id for p in ds.dosed()}
    screened = list(ds.participants)
    eligible = [p for p in screened if p.eligible]
    consented = [p for p in eligible if p.consented_at is not None]
    enrolled = [p for p in consented if p.enrolled]
    dosed = [p for p in enrolled if p.subject_id in dosed_ids]
    completed, died, withdrawn, ongoing = _ends(dosed)
    failed = [p for p in screened if p.status == "screen_failed"]
    pending = [p for p in screened if p.status == "screening"]
    level = {d.subject_id: d.dose_level for d in reversed(ds.doses)}  # first dose
    arms = []
    for d in ds.dose_levels:
        mine = [p for p in dosed if level.get(p.subject_id) == d.id]
        if mine:
            c, di, w, o = _ends(mine)
            arms.append(ArmFlow(d.id, d.label, _stage("dosed", mine), c, di, w, o))
    return ParticipantFlow(
        stages=(
            _stage("screened", screened),
            _stage("eligible", eligible),
            _stage("consented", consented),
            _stage("enrolled", enrolled),
            _stage("dosed", dosed),
            completed,
        ),
        screen_failed=_stage("screen failed", failed),
        in_screening=_stage("in screening", pending),
        screen_failure_reasons=_reasons(failed),
        arms=tuple(arms),
        died=died,
        withdrawn=withdrawn,
        ongoing=ongoing,
    )
