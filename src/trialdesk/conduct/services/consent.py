"""Consent events and the guard that nothing but screening is recorded before consent."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from trialdesk.conduct.errors import ConductError
from trialdesk.conduct.models import ConsentFormVersion, ConsentRecord, Participant, write
from trialdesk.conduct.services.access import require_member, require_perm


def consent_problem(participant: Participant) -> str | None:
    """Why the participant's consent does not cover new trial procedures (None: it does).

    No consent recorded, or a later form version that forces reconsent and that the
    participant has not consented to."""
    latest = participant.latest_consent()
    if latest is None:
        return f"{participant}: no consent recorded"
    newer = (
        ConsentFormVersion.objects.filter(
            study_id=participant.study_id,
            forces_reconsent=True,
            approved_on__gt=latest.form_version.approved_on,
        )
        .order_by("-approved_on")
        .first()
    )
    if newer is not None:
        return (
            f"{participant}: consent form v{newer.version} forces reconsent; the last consent "
            f"was on v{latest.form_version.version}"
        )
    return None


def require_consent(participant: Participant) -> None:
    """For new interventions (enrolment, dosing): consent on the current form version."""
    problem = consent_problem(participant)
    if problem:
        raise ConductError(problem + ": only screening may be recorded before consent")


def require_any_consent(participant: Participant) -> ConsentRecord:
    """For follow-up and safety data (visits, labs, adverse events): *a* consent on record.

    A pending reconsent must never stop a site from recording what happens to a participant
    who is already in the trial (an SAE above all); it only blocks new interventions.
    Returns the first consent event, from which such data may be dated."""
    first = participant.first_consent()
    if first is None:
        raise ConductError(
            f"{participant}: no consent recorded: only screening may be recorded before consent"
        )
    return first


def record_consent(
    participant: Participant,
    by: Any,
    *,
    form_version: ConsentFormVersion,
    consented_at: datetime,
    note: str = "",
) -> ConsentRecord:
    """One consent event, obtained by ``by``; never overwrites an earlier one."""
    require_perm(by, "add_consentrecord", "record consent")
    require_member(by, participant.site)
    if form_version.study_id != participant.study_id:
        raise ConductError(
            f"consent form v{form_version.version} belongs to {form_version.study}, "
            f"not {participant.study}",
            field="form_version",
        )
    if participant.status == Participant.SCREEN_FAILED:
        raise ConductError(f"{participant} is a screen failure: no consent is taken")
    if consented_at > timezone.now():
        raise ConductError("the consent time is in the future", field="consented_at")
    if consented_at.date() < form_version.approved_on:
        raise ConductError(
            f"consent on {consented_at.date()} precedes the approval of form "
            f"v{form_version.version} ({form_version.approved_on})",
            field="consented_at",
        )
    if consented_at.date() < participant.birth_date:
        raise ConductError("the consent date is before the birth date", field="consented_at")
    with transaction.atomic():
        record = ConsentRecord(
            participant=participant,
            form_version=form_version,
            consented_at=consented_at,
            obtained_by=by,
            note=note,
        )
        return write(record, by)
