"""A study's data as a :class:`trialdesk.analysis.dataset.TrialDataset` (read-only).

The caller checks permission: this reads every site (or the ``sites`` given) without asking
who wants it. A handful of queries whatever the number of participants (everything is
prefetched). Scores come from :func:`trialdesk.conduct.services.visits.scores`, the very call
the participant page makes.

Derivations (docs/analysis.md, "Dataset"):

- ``subject_id``: the participant id once enrolled, else the screening number.
- ``consented_at`` / ``consent_version``: the first consent event (the informed consent date,
  SDTM RFICDTC) and the form version signed then.
- ``criteria``: the per-criterion outcomes of the signed assessment, else (a participant
  never signed, e.g. a screen failure found by the engine) of the latest assessment.
- ``history``: the episodes of the screening data (plain format or FHIR bundle) as the
  eligibility reader parses them.
- ``end_status``: "died" when an adverse event has a fatal outcome (end date: its resolution
  date, else its onset); else "withdrawn" when an adverse event's action was "participant
  withdrawn" (end date: its onset); else "completed" when the schedule's last visit is
  recorded (end date: that visit); else None (in follow-up). Conduct keeps no other
  end-of-study record.
- ``data_cut``: records dated after it are left out (screenings, consents, enrolments,
  doses, visits, adverse events by onset, decisions by signing time, deviations).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime
from typing import Any

from django.db.models import Prefetch
from django.utils import timezone

from trialdesk.analysis.dataset import (
    AdverseEvent,
    Criterion,
    Decision,
    Deviation,
    Dose,
    DoseLevelInfo,
    HistoryItem,
    Lab,
    Participant,
    Scores,
    TrialDataset,
    Visit,
    VisitPlan,
    Vitals,
)
from trialdesk.conduct.errors import ConductError
from trialdesk.conduct.models import EligibilityAssessment, SafetyReviewDecision, Study
from trialdesk.conduct.models import Participant as ParticipantRow
from trialdesk.conduct.models import Visit as VisitRow
from trialdesk.conduct.services.enrolment import conduct_plan

__all__ = ["load_dataset"]

_OUTCOME = {"MET": "met", "NOT_MET": "not met", "UNKNOWN": "unknown"}


def _float(value: Any) -> float | None:
    return None if value is None else float(value)


def _age(born: date, on: date) -> int:
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def _criteria(assessment: EligibilityAssessment | None) -> tuple[Criterion, ...]:
    if assessment is None:
        return ()
    return tuple(
        Criterion(c["id"], c["kind"], c.get("text") or "", _OUTCOME[c["status"]])
        for c in assessment.result.get("criteria", ())
    )


def _history(assessment: EligibilityAssessment | None) -> tuple[HistoryItem, ...]:
    """The episodes of the stored screening document, read by the eligibility readers
    (the document is already parsed: no text parsing again)."""
    if assessment is None:
        return ()
    from trialdesk.eligibility import PatientError
    from trialdesk.eligibility.fhir import patient_from_bundle
    from trialdesk.eligibility.plain import patient_from_mapping

    where = f"screening data of {assessment.participant}"
    read = patient_from_bundle if assessment.source == "fhir" else patient_from_mapping
    try:
        patient = read(assessment.patient_data, where)
    except PatientError as exc:
        raise ConductError(str(exc), field="patient_data") from None
    items = {HistoryItem(e.concept, e.start, e.ongoing) for e in patient.episodes}
    return tuple(sorted(items, key=lambda h: (h.start or date.min, h.term)))


def _scores(visit: VisitRow) -> Scores:
    from trialdesk.conduct.services.visits import scores

    s = scores(visit)
    value = lambda o: int(o.value) if o.known else None  # noqa: E731
    return Scores(
        meld=value(s.meld),
        meld_na=value(s.meld_na),
        meld3=value(s.meld3),
        ctp_points=value(s.child_pugh),
        ctp_class=s.child_pugh.klass if s.child_pugh.known else None,
    )


def _end(aes: Iterable[AdverseEvent], visits: list[Visit], last_code: str | None):
    aes = list(aes)
    fatal = [a for a in aes if a.fatal]
    if fatal:
        return "died", min(a.resolution_date or a.onset_date for a in fatal)
    withdrawn = [a for a in aes if a.action_taken == "withdrawn"]
    if withdrawn:
        return "withdrawn", min(a.onset_date for a in withdrawn)
    last = next((v for v in visits if v.code == last_code), None)
    if last is not None:
        return "completed", last.visit_date
    return None, None


def load_dataset(
    study: Study, *, data_cut: datetime | None = None, sites: Iterable[Any] | None = None
) -> TrialDataset:
    """The study's data at ``data_cut`` (default: now, UTC), all sites or ``sites`` only
    (participants and their records; the committee's decisions are the study's, whole)."""
    if data_cut is not None and (data_cut.tzinfo is None or data_cut.utcoffset() is None):
        raise ValueError(f"data_cut {data_cut!r}: give a timezone-aware datetime (UTC)")
    cut = (data_cut or timezone.now()).astimezone(UTC)
    cut_day = cut.date()
    plan = conduct_plan(study)
    protocol = study.protocol()
    schedule = tuple(
        VisitPlan(v.code, v.label, v.day, v.window_before, v.window_after, v.is_infusion)
        for v in plan.visits
    )
    last_code = max(schedule, key=lambda v: v.target_day).code if schedule else None
    rows = (
        ParticipantRow.objects.filter(study=study, screened_on__lte=cut_day)
        .select_related("site", "slot__cohort", "study")
        .prefetch_related(
            "consents__form_version",
            "assessments__signatures",
            "doses",
            "adverse_events",
            "deviations__visit",
            Prefetch(
                "visits",
                queryset=VisitRow.objects.filter(visit_date__lte=cut_day).prefetch_related("labs"),
            ),
        )
    )
    if sites is not None:
        rows = rows.filter(site__in=list(sites))
    participants, doses, visits, aes, deviations = [], [], [], [], []
    for row in rows:
        enrolled = row.enrolled_at is not None and row.enrolled_at <= cut
        sid = row.participant_id if (enrolled and row.participant_id) else row.screening_number
        level = row.slot.cohort.dose_level if (enrolled and row.slot_id) else None
        consents = [c for c in row.consents.all() if c.consented_at <= cut]
        first = min(consents, key=lambda c: c.consented_at, default=None)
        assessments = sorted(row.assessments.all(), key=lambda a: a.created_at)
        signed = [a for a in assessments if a.signatures.all() and a.created_at <= cut]
        assessment = (signed or assessments or [None])[-1]
        status = row.status
        if status == "enrolled" and not enrolled:
            status = "eligible"
        my_doses = [
            Dose(
                sid,
                d.product_lot,
                d.dose_level,
                int(d.cells),
                _float(d.body_weight_kg),
                d.started_at.astimezone(UTC),
                d.ended_at.astimezone(UTC),
                d.route,
                float(d.volume_ml),
                d.premedication,
                d.infusion_reactions,
            )  # fmt: skip
            for d in row.doses.all()
            if d.started_at <= cut
        ]
        day1 = min((d.started_at for d in my_doses), default=None)
        day1 = day1.date() if day1 else None
        my_visits = [_visit(sid, v, day1) for v in row.visits.all()]
        my_aes = [
            AdverseEvent(
                sid,
                a.term,
                a.grade,
                a.ctcae_version,
                a.onset_date,
                a.resolution_date if a.resolution_date and a.resolution_date <= cut_day else None,
                a.serious,
                tuple(a.seriousness or ()),
                a.related,
                a.action_taken,
                a.outcome,
                a.dlt,
                level,
            )  # fmt: skip
            for a in row.adverse_events.all()
            if a.onset_date <= cut_day
        ]
        deviations += [
            Deviation(
                sid,
                d.visit.code if d.visit_id else None,
                d.kind,
                d.description,
                d.recorded_at.astimezone(UTC).date() if d.recorded_at else None,
            )
            for d in row.deviations.all()
            if d.recorded_at is None or d.recorded_at <= cut
        ]
        end_status, end_date = _end(my_aes, my_visits, last_code)
        participants.append(
            Participant(
                subject_id=sid,
                screening_number=row.screening_number,
                site_code=row.site.code,
                site_name=row.site.name,
                country=row.site.country,
                sex=row.sex,
                birth_date=row.birth_date,
                age_at_screening=_age(row.birth_date, row.screened_on),
                screened_on=row.screened_on,
                status=status,
                screen_failure_reasons=tuple(
                    line for line in row.screen_failure_reasons.splitlines() if line.strip()
                ),
                consented_at=first.consented_at.astimezone(UTC) if first else None,
                consent_version=first.form_version.version if first else None,
                enrolled_at=row.enrolled_at.astimezone(UTC) if enrolled else None,
                cohort=row.slot.cohort.number if (enrolled and row.slot_id) else None,
                dose_level=level,
                dlt_outcome=row.dlt_outcome if enrolled else "pending",
                criteria=_criteria(assessment),
                history=_history(assessment),
                end_status=end_status,
                end_date=end_date,
                participant_id=row.participant_id if enrolled else None,
                eligible=status in ("eligible", "enrolled"),
            )
        )
        doses += my_doses
        visits += my_visits
        aes += my_aes
    return TrialDataset(
        nct_id=study.nct_id,
        title=protocol.title if hasattr(protocol, "title") else study.title,
        design="escalation" if plan.escalation is not None else "single_arm",
        dose_levels=tuple(
            DoseLevelInfo(d.id, d.label, d.order, _float(d.cells), _float(d.cells_per_kg))
            for d in plan.dose_levels
        ),
        schedule=schedule,
        participants=tuple(participants),
        doses=tuple(doses),
        visits=tuple(visits),
        adverse_events=tuple(aes),
        decisions=_decisions(study, cut),
        deviations=tuple(deviations),
        data_cut=cut,
    )


def _visit(sid: str, v: VisitRow, day1: date | None) -> Visit:
    from trialdesk.protocol import study_day

    return Visit(
        subject_id=sid,
        code=v.code,
        visit_date=v.visit_date,
        study_day=study_day(v.visit_date, day1) if day1 else None,
        window_status=v.window_status,
        ascites=v.ascites or None,
        encephalopathy=v.encephalopathy,
        vitals=Vitals(
            temperature_c=_float(v.temperature_c),
            heart_rate=_float(v.heart_rate),
            systolic_bp=_float(v.systolic_bp),
            diastolic_bp=_float(v.diastolic_bp),
            respiratory_rate=_float(v.respiratory_rate),
            spo2=_float(v.spo2),
        ),
        labs=tuple(
            Lab(
                lab.analyte,
                float(lab.canonical_value),
                lab.canonical_unit,
                lab.comparator,
                lab.entered,
            )  # fmt: skip
            for lab in sorted(v.labs.all(), key=lambda lab: lab.analyte)
        ),
        scores=_scores(v),
    )


def _decisions(study: Study, cut: datetime) -> tuple[Decision, ...]:
    out = []
    for d in SafetyReviewDecision.objects.filter(study=study, effective=True).prefetch_related(
        "signatures"
    ):
        signed = [s.signed_at for s in d.signatures.all()]
        if not signed or max(signed) > cut:
            continue
        out.append(
            Decision(
                cohort=len(d.outcomes.split()),
                dose_level=d.current_dose_level,
                outcomes=d.outcomes,
                recommended=d.recommended_dose_level,
                decision=d.decision,
                chosen=d.chosen_dose_level,
                decided_at=max(signed).astimezone(UTC),
                departs_from_recommendation=d.departs_from_recommendation,
            )
        )
    return tuple(out)
