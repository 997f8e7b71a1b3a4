"""The screening log: everyone screened gets a screening number; screening runs the
eligibility engine (``trialdesk.eligibility``) on the data entered or uploaded; the
investigator settles the attestations and signs eligibility; screen failures keep their
reasons."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date
from typing import Any

from django.db import transaction
from django.utils import timezone

from trialdesk.conduct.errors import ConductError
from trialdesk.conduct.models import (
    EligibilityAssessment,
    Participant,
    ProtocolDeviation,
    Site,
    Study,
    TrialSite,
    write,
)
from trialdesk.conduct.models.audit import check_reason_length, with_note
from trialdesk.conduct.services.access import require_member, require_perm
from trialdesk.conduct.services.signing import (  # noqa: F401 - ELIGIBILITY_MEANING re-exported
    ELIGIBILITY_MEANING,
    sign,
    verify_signer,
)


def parse_patient_data(source: str, text: str, name: str) -> tuple[Any, dict]:
    """(Patient, the parsed document) from a FHIR R4 bundle (JSON) or the plain format
    (JSON or YAML, docs/protocol-format.md). Errors name the file and field."""
    from trialdesk.eligibility import PatientError
    from trialdesk.eligibility.fhir import patient_from_bundle
    from trialdesk.eligibility.plain import parse_plain_text, patient_from_mapping

    where = name or "the data entered"
    if source == "fhir":
        try:
            document = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ConductError(f"{where}: not valid JSON: {exc}", field="data") from None
        except RecursionError:
            raise ConductError(
                f"{where}: not valid JSON: nested too deeply", field="data"
            ) from None
    else:
        try:
            document = parse_plain_text(text, where)
        except PatientError as exc:
            raise ConductError(str(exc), field="data") from None
    if not isinstance(document, dict):
        raise ConductError(f"{where}: expected a mapping (an object) at the top", field="data")
    try:
        if source == "fhir":
            if document.get("resourceType") != "Bundle":
                raise ConductError(f"{where}: not a FHIR Bundle (resourceType)", field="data")
            patient = patient_from_bundle(document, where)
        else:
            patient = patient_from_mapping(document, where)
    except PatientError as exc:
        raise ConductError(str(exc), field="data") from None
    # The plain reader returns dates as date objects; keep the document JSON-safe.
    return patient, json.loads(json.dumps(document, default=str))


def _merge_demographics(patient: Any, sex: str, birth_date: date) -> Any:
    if patient.birth_date is not None and patient.birth_date != birth_date:
        raise ConductError(
            f"the data's birth date {patient.birth_date} differs from the form's {birth_date}",
            field="birth_date",
        )
    if patient.sex is not None and patient.sex != sex:
        raise ConductError(
            f"the data's sex ({patient.sex}) differs from the form's ({sex})", field="sex"
        )
    return replace(patient, birth_date=birth_date, sex=sex, age_years=None)


def _run(participant: Participant, patient: Any, screening_date: date) -> Any:
    from trialdesk.eligibility import screen

    return screen(participant.study.protocol(), patient, screening_date)


def _assessment(
    participant: Participant,
    by: Any,
    *,
    source: str,
    source_name: str,
    document: dict,
    patient: Any,
    attestations: dict[str, bool],
    screening_date: date,
) -> EligibilityAssessment:
    patient = replace(
        _merge_demographics(patient, participant.sex, participant.birth_date),
        attestations={**patient.attestations, **attestations},
    )
    result = _run(participant, patient, screening_date)
    return write(
        EligibilityAssessment(
            participant=participant,
            screening_date=screening_date,
            source=source,
            source_name=source_name[:200],
            patient_data=document,
            attestations=dict(patient.attestations),
            overall=result.overall,
            result=result.to_dict(),
        ),
        by,
    )


def screen_participant(
    study: Study,
    site: Site,
    by: Any,
    *,
    initials: str,
    sex: str,
    birth_date: date,
    screened_on: date,
    source: str,
    data: str,
    source_name: str = "",
) -> Participant:
    """Log a new screening: a screening number, then the engine's assessment."""
    require_perm(by, "screen_participant", "screen participants")
    require_member(by, site)
    if not TrialSite.objects.filter(study=study, site=site).exists():
        raise ConductError(f"{site} does not run {study}", field="site")
    if screened_on > timezone.localdate():
        raise ConductError("the screening date is in the future", field="screened_on")
    if birth_date >= screened_on:
        raise ConductError("the birth date is not before the screening date", field="birth_date")
    if study.enrolment_closed:
        raise ConductError(f"{study}: enrolment is closed")
    patient, document = parse_patient_data(source, data, source_name)
    patient = _merge_demographics(patient, sex, birth_date)
    with transaction.atomic():
        link = TrialSite.objects.select_for_update().get(study=study, site=site)
        twin = Participant.objects.filter(
            study=study, initials=initials, birth_date=birth_date, sex=sex
        ).first()
        if twin is not None:
            raise ConductError(
                f"already screened for {study} as {twin.screening_number} ({initials}, born "
                f"{birth_date}): reassess that participant instead",
                field="initials",
            )
        n = Participant.objects.filter(study=study, site=link.site).count() + 1
        participant = write(
            Participant(
                study=study,
                site=site,
                screening_number=f"{site.code}-S{n:03d}",
                initials=initials,
                sex=sex,
                birth_date=birth_date,
                screened_on=screened_on,
            ),
            by,
        )
        assessment = _assessment(
            participant,
            by,
            source=source,
            source_name=source_name,
            document=document,
            patient=patient,
            attestations={},
            screening_date=screened_on,
        )
        _fail_if_ineligible(participant, assessment, by)
    return participant


def reassess(
    assessment: EligibilityAssessment, by: Any, *, attestations: dict[str, bool]
) -> EligibilityAssessment:
    """A new assessment of the same data with the investigator's attestation answers."""
    require_perm(by, "sign_eligibility", "settle attestations")
    participant = assessment.participant
    require_member(by, participant.site)
    _check_open(participant)
    patient, document = parse_patient_data(
        assessment.source, json.dumps(assessment.patient_data), assessment.source_name
    )
    with transaction.atomic():
        new = _assessment(
            participant,
            by,
            source=assessment.source,
            source_name=assessment.source_name,
            document=document,
            patient=patient,
            attestations={**assessment.attestations, **attestations},
            screening_date=assessment.screening_date,
        )
        _fail_if_ineligible(participant, new, by)
    return new


def _check_open(participant: Participant) -> None:
    if participant.status in (Participant.ELIGIBLE, Participant.ENROLLED):
        raise ConductError(f"{participant}: eligibility is already signed")


def _fail_if_ineligible(participant: Participant, assessment: EligibilityAssessment, by: Any):
    if assessment.overall == "INELIGIBLE":
        reasons = "\n".join(assessment.result["reasons"])
        if (participant.status, participant.screen_failure_reasons) == (
            Participant.SCREEN_FAILED,
            reasons,
        ):
            return  # already recorded: no empty change in the history
        participant.status = Participant.SCREEN_FAILED
        participant.screen_failure_reasons = reasons
        write(participant, by, "screen failure: the eligibility engine found it ineligible")
    elif participant.status == Participant.SCREEN_FAILED:
        participant.status = Participant.SCREENING
        participant.screen_failure_reasons = ""
        write(participant, by, "reassessed: no longer ineligible")


def sign_eligibility(
    assessment: EligibilityAssessment, by: Any, *, password: str, meaning: str
) -> EligibilityAssessment:
    """The investigator signs the latest, complete assessment: the participant becomes
    eligible (or a screen failure with the engine's reasons)."""
    require_perm(by, "sign_eligibility", "sign eligibility")
    require_member(by, assessment.participant.site)
    verify_signer(by, password)  # outside the transaction: a refusal is logged
    with transaction.atomic():
        # Lock the participant and check under the lock: two investigators signing at once
        # give one signature (and a unique constraint backs it).
        participant = Participant.objects.select_for_update().get(pk=assessment.participant_id)
        _check_open(participant)
        if participant.latest_assessment().pk != assessment.pk:
            raise ConductError("only the latest assessment can be signed")
        if assessment.overall == "INCOMPLETE":
            pending = "; ".join(assessment.result["reasons"][:3])
            raise ConductError(f"eligibility is incomplete, settle it before signing: {pending}")
        if assessment.signatures.exists():
            raise ConductError("this assessment is already signed")
        sign(by, password, meaning, assessment=assessment)
        if assessment.overall == "ELIGIBLE":
            participant.status = Participant.ELIGIBLE
            write(participant, by, "eligibility signed by the investigator")
        else:
            _fail_if_ineligible(participant, assessment, by)
    return assessment


CORRECTABLE = ("initials", "sex", "birth_date", "screened_on")


def correct_participant(participant: Participant, by: Any, *, reason: str, **values: Any):
    """Correct the participant's screening details; the reason is required and kept.

    For a participant whose eligibility is signed (eligible or enrolled), a correction of
    sex, birth date or screening date re-runs the eligibility engine on the signed
    assessment's data and attestations with the corrected details. If the result differs
    from the one signed, the new (unsigned) assessment is stored and a protocol deviation
    that needs the investigator's review is written (shown on the dashboard until
    reviewed); the participant's status is not changed by the software. Either way the
    correction's history reason says what the re-run found."""
    require_perm(by, "correct_clinical_data", "correct clinical data")
    require_member(by, participant.site)
    unknown = set(values) - set(CORRECTABLE)
    if unknown:
        raise ConductError(f"not correctable here: {', '.join(sorted(unknown))}")
    if not (reason or "").strip():
        raise ConductError("a reason is required for any change", field="reason")
    check_reason_length(reason.strip())
    before = {name: getattr(participant, name) for name in CORRECTABLE}
    for name, value in values.items():
        setattr(participant, name, value)
    if participant.birth_date >= participant.screened_on:
        raise ConductError("the birth date is not before the screening date", field="birth_date")
    changed = {
        n for n in ("sex", "birth_date", "screened_on") if getattr(participant, n) != before[n]
    }
    signed = (
        participant.assessments.filter(signatures__isnull=False).order_by("-pk").first()
        if participant.status in (Participant.ELIGIBLE, Participant.ENROLLED) and changed
        else None
    )
    with transaction.atomic():
        if signed is None:
            return write(participant, by, reason)
        rerun = _rerun(participant, signed)
        if rerun.overall == signed.overall:
            return write(participant, by, with_note(reason, f"re-run: still {signed.overall}"))
        write(participant, by, with_note(reason, f"re-run: {rerun.overall}, flagged"))
        new = write(
            EligibilityAssessment(
                participant=participant,
                screening_date=participant.screened_on,
                source=signed.source,
                source_name=signed.source_name,
                patient_data=signed.patient_data,
                attestations=signed.attestations,
                overall=rerun.overall,
                result=rerun.to_dict(),
            ),
            by,
        )
        fields = ", ".join(sorted(changed))
        write(
            ProtocolDeviation(
                participant=participant,
                kind=ProtocolDeviation.ELIGIBILITY_CHANGED,
                description=(
                    f"after a correction of {fields} ({reason.strip()}), eligibility is "
                    f"{rerun.overall} (assessment {new.pk}); {signed.overall} was signed "
                    f"(assessment {signed.pk}): the investigator must review"
                )[:400],
                needs_review=True,
            ),
            by,
        )
        return participant


def _rerun(participant: Participant, signed: EligibilityAssessment) -> Any:
    """The engine's result on the signed assessment's data with the corrected details
    (the correction replaces the data's own birth date and sex)."""
    patient, _ = parse_patient_data(
        signed.source, json.dumps(signed.patient_data), signed.source_name
    )
    patient = replace(patient, birth_date=None, sex=None)
    patient = replace(
        _merge_demographics(patient, participant.sex, participant.birth_date),
        attestations={**patient.attestations, **signed.attestations},
    )
    return _run(participant, patient, participant.screened_on)


def review_deviation(deviation: ProtocolDeviation, by: Any, *, note: str) -> ProtocolDeviation:
    """The investigator reviews a deviation that needs it (e.g. a changed eligibility):
    what was decided is kept in the note; it leaves the dashboard."""
    require_perm(by, "sign_eligibility", "review deviations")
    require_member(by, deviation.participant.site)
    note = (note or "").strip()
    if not note:
        raise ConductError("say what was decided", field="note")
    if not deviation.needs_review or deviation.reviewed_at is not None:
        raise ConductError("this deviation is not waiting for a review")
    deviation.reviewed_at = timezone.now()
    deviation.reviewed_by = by
    deviation.review_note = note
    with transaction.atomic():
        return write(deviation, by, with_note("reviewed by the investigator", note))
