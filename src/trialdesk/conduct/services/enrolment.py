"""Enrolment into dose cohorts, the safety review committee's decisions and DLT outcomes.

NCT05227846 (3+3): the first cohort opens at the protocol's start level; every later cohort
is opened by a signed safety review committee decision that starts from the dose-finding
engine's recommendation (``EscalationPlan.build_design(...).next_dose(outcomes)``) on the
cohorts so far. A single-arm trial (NCT05331872) has one cohort of ``max_enrolment`` slots.

The cohort limit holds under concurrent enrolment: the cohort row is locked
(``select_for_update``) inside the transaction, and each participant holds one of the
cohort's fixed ``CohortSlot`` rows through a one-to-one key (docs/conduct.md).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from trialdesk.conduct.errors import ConductError
from trialdesk.conduct.models import (
    Cohort,
    CohortSlot,
    Participant,
    SafetyReviewDecision,
    SiteMembership,
    Study,
    TrialSite,
    write,
)
from trialdesk.conduct.services.access import require_member, require_perm
from trialdesk.conduct.services.consent import require_consent
from trialdesk.conduct.services.signing import (  # noqa: F401 - DECISION_MEANING re-exported
    DECISION_MEANING,
    sign,
    verify_signer,
)
from trialdesk.dosefinding.outcomes import Cohort as OutcomeCohort
from trialdesk.dosefinding.outcomes import Outcomes


def conduct_plan(study: Study) -> Any:
    plan = study.protocol().conduct
    if plan is None:
        raise ConductError(f"{study}: the protocol file has no conduct section")
    return plan


def _open_cohort(study: Study, by: Any, level: Any, capacity: int, decision=None) -> Cohort:  # noqa: ANN001
    number = (study.cohorts.order_by("-number").values_list("number", flat=True).first() or 0) + 1
    cohort = write(
        Cohort(
            study=study,
            number=number,
            dose_level=level.id,
            dose_order=level.order,
            capacity=capacity,
            opened_by=decision,
        ),
        by,
    )
    CohortSlot.objects.bulk_create(
        CohortSlot(cohort=cohort, number=n) for n in range(1, capacity + 1)
    )
    return cohort


def _first_cohort(study: Study, by: Any) -> Cohort:
    plan = conduct_plan(study)
    if plan.escalation is None:
        level = plan.dose_levels[0]
    else:
        level = plan.dose_level(plan.escalation.start_level)
    return _open_cohort(study, by, level, plan.first_cohort_capacity())


def enrol(participant: Participant, by: Any, *, at: datetime | None = None) -> Participant:
    """Give an eligible, consented participant an id and the next slot of the open cohort.

    ``at``: when the enrolment happened, for entry after the fact (default: now); not in the
    future, not before the consent."""
    require_perm(by, "enrol_participant", "enrol participants")
    require_member(by, participant.site)
    at = at or timezone.now()
    if at > timezone.now():
        raise ConductError("the enrolment time is in the future")
    study = participant.study
    try:
        with transaction.atomic():
            # Lock the study row: one enrolment (and one cohort opening) at a time per study.
            study = Study.objects.select_for_update().get(pk=study.pk)
            p = Participant.objects.select_for_update().get(pk=participant.pk)
            if p.status == Participant.ENROLLED:
                raise ConductError(f"{p} is already enrolled as {p.participant_id}")
            if p.status != Participant.ELIGIBLE:
                raise ConductError(
                    f"{p}: eligibility is not signed as eligible ({p.get_status_display()})"
                )
            require_consent(p)
            if at < p.first_consent().consented_at:
                raise ConductError("the enrolment time is before the consent")
            if study.enrolment_closed:
                raise ConductError(f"{study}: enrolment is closed")
            cohort = study.cohorts.select_for_update().order_by("-number").first()
            if cohort is None:
                cohort = _first_cohort(study, by)
            slot = (
                CohortSlot.objects.filter(cohort=cohort, participant__isnull=True)
                .order_by("number")
                .first()
            )
            if slot is None:
                raise ConductError(
                    f"cohort {cohort.number} ({cohort.dose_level}) is full ({cohort.capacity} of "
                    f"{cohort.capacity}); "
                    + (
                        "the safety review committee must decide the next dose level first"
                        if cohort.capacity < conduct_plan(study).max_enrolment
                        else "the trial has reached its maximum enrolment"
                    )
                )
            n = Participant.objects.filter(study=study, site=p.site, participant_id__isnull=False)
            p.participant_id = f"{study.nct_id[-4:]}-{p.site.code}-{n.count() + 1:03d}"
            p.slot = slot
            p.status = Participant.ENROLLED
            p.enrolled_at = at
            write(p, by, f"enrolled in cohort {cohort.number} at {cohort.dose_level}")
    except IntegrityError as exc:
        raise ConductError(f"{participant}: enrolment collided with another one: {exc}") from None
    participant.refresh_from_db()
    return participant


def record_dlt_outcome(participant: Participant, by: Any, outcome: str, reason: str) -> Participant:
    """The investigator records whether the participant had a DLT in the DLT window."""
    require_perm(by, "record_dlt_outcome", "record DLT outcomes")
    require_member(by, participant.site)
    if outcome not in dict(Participant.DLT_CHOICES):
        raise ConductError(f"unknown DLT outcome {outcome!r}", field="outcome")
    if participant.status != Participant.ENROLLED or participant.slot_id is None:
        raise ConductError(f"{participant} is not enrolled in a cohort")
    if not participant.doses.exists() and outcome != "pending":
        raise ConductError(f"{participant} has not been dosed: no DLT outcome yet")
    participant.dlt_outcome = outcome
    with transaction.atomic():
        return write(participant, by, reason)


def outcomes_so_far(study: Study) -> tuple[str, list[str]]:
    """(outcome string of the complete cohorts, problems that keep the review from starting).

    A cohort is complete when all its slots are taken and each participant's DLT outcome is
    known."""
    outcomes, problems = Outcomes(), []
    for cohort in study.cohorts.order_by("number"):
        taken = list(Participant.objects.filter(slot__cohort=cohort).order_by("slot__number"))
        if len(taken) < cohort.capacity:
            problems.append(
                f"cohort {cohort.number} has {len(taken)} of {cohort.capacity} participants"
            )
        pending = [p for p in taken if p.dlt_outcome == "pending"]
        if pending:
            names = ", ".join(str(p) for p in pending)
            problems.append(f"cohort {cohort.number}: DLT outcome pending for {names}")
        # The engine's own notation (trialdesk.dosefinding.outcomes), not a copy of it here.
        outcomes = outcomes.then(
            OutcomeCohort(cohort.dose_order, tuple(p.dlt_outcome == "dlt" for p in taken))
        )
    return str(outcomes), problems


def recommendation(study: Study) -> tuple[str, Any, list[str]]:
    """(outcomes, the engine's decision, problems). The engine runs only without problems."""
    plan = conduct_plan(study)
    if plan.escalation is None:
        raise ConductError(f"{study} is single arm: no dose escalation")
    outcomes, problems = outcomes_so_far(study)
    if not study.cohorts.exists():
        problems.append("no cohort has been enrolled yet")
    if problems:
        return outcomes, None, problems
    design = plan.escalation.build_design(len(plan.dose_levels))
    return outcomes, design.next_dose(outcomes), []


def _kind(current: int, chosen: int | None) -> str:
    if chosen is None:
        return SafetyReviewDecision.STOP
    if chosen > current:
        return SafetyReviewDecision.ESCALATE
    if chosen < current:
        return SafetyReviewDecision.DEESCALATE
    return SafetyReviewDecision.STAY


def propose_decision(
    study: Study,
    by: Any,
    *,
    decision: str,
    dose_level: str,
    rationale: str,
    at: datetime | None = None,
) -> SafetyReviewDecision:
    """Record the committee's decision with the snapshot and the engine's recommendation;
    it takes effect when signed (:func:`sign_decision`). ``at``: when the committee met,
    for entry after the fact (default now; not in the future). The signatures carry the
    time they are given."""
    require_perm(by, "add_safetyreviewdecision", "record safety review decisions")
    require_study_member(by, study)
    at = at or timezone.now()
    if at > timezone.now():
        raise ConductError("the decision's time is in the future", field="at")
    with transaction.atomic():
        # Lock the study row first: two members proposing at once get one pending decision.
        study = Study.objects.select_for_update().get(pk=study.pk)
        return _propose(
            study, by, decision=decision, dose_level=dose_level, rationale=rationale, at=at
        )


def _propose(
    study: Study, by: Any, *, decision: str, dose_level: str, rationale: str, at: datetime
) -> SafetyReviewDecision:
    plan = conduct_plan(study)
    if study.decisions.filter(effective=False).exists():
        raise ConductError(f"{study}: a decision is already waiting for signatures")
    if study.enrolment_closed:
        raise ConductError(f"{study}: enrolment is closed")
    outcomes, engine, problems = recommendation(study)
    if problems:
        raise ConductError("the review cannot start: " + "; ".join(problems))
    current = study.cohorts.order_by("-number").first()
    chosen = None
    if decision != SafetyReviewDecision.STOP:
        try:
            chosen = plan.dose_level(dose_level)
        except Exception as exc:  # ProtocolError names the id
            raise ConductError(str(exc), field="dose_level") from None
    kind = _kind(current.dose_order, chosen.order if chosen else None)
    if kind != decision:
        raise ConductError(
            f"{dict(SafetyReviewDecision.DECISIONS)[decision]} does not match going from "
            f"{current.dose_level} to {dose_level or 'no dose'} ({kind.replace('_', '-')})",
            field="decision",
        )
    recommended = plan.dose_levels[engine.next_dose - 1] if engine.next_dose else None
    departs = (recommended.id if recommended else None) != (chosen.id if chosen else None)
    if departs and not (rationale or "").strip():
        raise ConductError(
            "the decision departs from the engine's recommendation "
            f"({recommended.id if recommended else 'stop'}): give the rationale",
            field="rationale",
        )
    if chosen is not None:
        _capacity_for(study, plan, chosen)
    return write(
        SafetyReviewDecision(
            study=study,
            outcomes=outcomes,
            current_dose_level=current.dose_level,
            recommended_dose_level=recommended.id if recommended else "",
            recommendation_reason=engine.reason,
            recommendation_rule=engine.rule,
            decision=decision,
            chosen_dose_level=chosen.id if chosen else "",
            rationale=rationale.strip(),
            departs_from_recommendation=departs,
            created_at=at,
        ),
        by,
    )


def _capacity_for(study: Study, plan: Any, level: Any) -> int:
    at_level = sum(c.capacity for c in study.cohorts.filter(dose_level=level.id))
    total = sum(c.capacity for c in study.cohorts.all())
    capacity = plan.next_cohort_capacity(at_level, total)  # the A+B arithmetic, in the core
    if capacity <= 0:
        raise ConductError(
            f"{level.id} already has {at_level} participants (at most "
            f"{plan.escalation.cohort_max}) or the trial is at its maximum enrolment "
            f"({total} of {plan.max_enrolment})",
            field="dose_level",
        )
    return capacity


def require_study_member(user: Any, study: Study) -> None:
    """Raise unless ``user`` works at a site that runs ``study``: the committee of a trial is
    drawn from the staff of its sites (there is no study-wide role without a site)."""
    sites = TrialSite.objects.filter(study=study).values("site_id")
    if not SiteMembership.objects.filter(user=user, site_id__in=sites).exists():
        raise ConductError(f"{user.get_username()} does not work at a site of {study}")


def src_quorum(study: Study) -> int:
    """Distinct members' signatures a decision needs (``conduct.escalation.src_quorum``)."""
    plan = conduct_plan(study)
    if plan.escalation is None:
        raise ConductError(f"{study} is single arm: no safety review decisions")
    return plan.escalation.src_quorum


def sign_decision(
    decision: SafetyReviewDecision, by: Any, *, password: str, meaning: str
) -> SafetyReviewDecision:
    """A committee member of one of the study's sites signs; when the protocol's quorum of
    distinct members has signed, the decision takes effect (opens the next cohort, or
    closes enrolment)."""
    require_perm(by, "sign_safetyreviewdecision", "sign safety review decisions")
    require_study_member(by, decision.study)
    verify_signer(by, password)  # outside the transaction: a refusal is logged
    with transaction.atomic():
        # Lock the study, then re-read the decision under the lock: a member signing what
        # another has just put into effect gets a clear refusal, not a second cohort.
        study = Study.objects.select_for_update().get(pk=decision.study_id)
        decision = SafetyReviewDecision.objects.select_for_update().get(pk=decision.pk)
        if decision.effective:
            raise ConductError("this decision is already in effect (signed by another member)")
        if decision.signatures.filter(signer=by).exists():
            raise ConductError(f"{by.get_username()} has already signed this decision")
        sign(by, password, meaning, decision=decision)
        signers = decision.signatures.values("signer").distinct().count()
        if signers >= src_quorum(study):
            decision.effective = True
            write(decision, by, f"signed by {signers} member(s): the quorum is reached")
            if decision.decision == SafetyReviewDecision.STOP:
                from trialdesk.conduct.services.study import close_enrolment

                close_enrolment(
                    study,
                    by,
                    reason=f"safety review committee decision {decision.pk}: stop",
                    decision=decision,
                )
            else:
                plan = conduct_plan(study)
                level = plan.dose_level(decision.chosen_dose_level)
                _open_cohort(study, by, level, _capacity_for(study, plan, level), decision)
    return decision
