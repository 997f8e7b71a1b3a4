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
    Site,
    Study,
    TrialSite,
    write,
)
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
    """Correct the participant's screening details; the reason is required and kept."""
    require_perm(by, "correct_clinical_data", "correct clinical data")
    require_member(by, participant.site)
    unknown = set(values) - set(CORRECTABLE)
    if unknown:
        raise ConductError(f"not correctable here: {', '.join(sorted(unknown))}")
    if not (reason or "").strip():
        raise ConductError("a reason is required for any change", field="reason")
    for name, value in values.items():
        setattr(participant, name, value)
    if participant.birth_date >= participant.screened_on:
        raise ConductError("the birth date is not before the screening date", field="birth_date")
    with transaction.atomic():
        return write(participant, by, reason)
