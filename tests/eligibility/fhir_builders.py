"""Hand-built FHIR R4 patients for the eligibility tests.

The builders write plain FHIR JSON (dicts) exactly as a hospital system would send them:
Patient, Observation (LOINC code, UCUM valueQuantity, comparator, referenceRange), Condition
(SNOMED CT / ICD-10-CM, onset, abatement, clinicalStatus, verificationStatus, severity),
Procedure, MedicationStatement (ATC / RxNorm, effectivePeriod) and ResearchSubject.
"""

from __future__ import annotations

import itertools
from datetime import date, timedelta
from typing import Any

SCREEN = date(2026, 11, 20)
LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
SNOMED = "http://snomed.info/sct"
ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
ATC = "http://www.whocc.no/atc"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
TD = "https://trialdesk.org/fhir/CodeSystem/concept"
_ids = itertools.count(1)

SEVERITY = {"mild": "255604002", "moderate": "6736007", "severe": "24484000"}


def ago(days: int) -> str:
    return (SCREEN - timedelta(days=days)).isoformat()


def obs(
    loinc: str,
    value: float | int | str,
    unit: str | None,
    days: int = 5,
    comparator: str | None = None,
    high: tuple[Any, str] | None = None,
) -> dict:
    vq: dict[str, Any] = {"value": value}
    if unit is not None:
        vq.update({"unit": unit, "system": UCUM, "code": unit})
    if comparator:
        vq["comparator"] = comparator
    r: dict[str, Any] = {
        "resourceType": "Observation",
        "id": f"obs-{next(_ids)}",
        "status": "final",
        "code": {"coding": [{"system": LOINC, "code": loinc}]},
        "effectiveDateTime": f"{ago(days)}T08:30:00Z",
        "valueQuantity": vq,
    }
    if high is not None:
        r["referenceRange"] = [
            {"high": {"value": high[0], "unit": high[1], "system": UCUM, "code": high[1]}}
        ]
    return r


def cond(
    system: str,
    code: str,
    onset_days: int | None = 400,
    abated_days: int | None = None,
    status: str | None = None,
    severity: str | None = None,
    verification: str | None = None,
) -> dict:
    r: dict[str, Any] = {
        "resourceType": "Condition",
        "id": f"cond-{next(_ids)}",
        "subject": {"reference": "Patient/p"},
        "code": {"coding": [{"system": system, "code": code}]},
        "clinicalStatus": {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
                    "code": status or ("resolved" if abated_days is not None else "active"),
                }
            ]
        },
    }
    if onset_days is not None:
        r["onsetDateTime"] = ago(onset_days)
    if abated_days is not None:
        r["abatementDateTime"] = ago(abated_days)
    if severity:
        r["severity"] = {"coding": [{"system": SNOMED, "code": SEVERITY[severity]}]}
    if verification:
        r["verificationStatus"] = {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/condition-ver-status",
                    "code": verification,
                }
            ]
        }
    return r


def proc(system: str, code: str, days: int) -> dict:
    return {
        "resourceType": "Procedure",
        "id": f"proc-{next(_ids)}",
        "status": "completed",
        "subject": {"reference": "Patient/p"},
        "code": {"coding": [{"system": system, "code": code}]},
        "performedDateTime": ago(days),
    }


def med(
    system: str, code: str, start_days: int, end_days: int | None = None, status: str = "active"
) -> dict:
    period: dict[str, str] = {"start": ago(start_days)}
    if end_days is not None:
        period["end"] = ago(end_days)
        status = "completed"
    return {
        "resourceType": "MedicationStatement",
        "id": f"med-{next(_ids)}",
        "status": status,
        "subject": {"reference": "Patient/p"},
        "medicationCodeableConcept": {"coding": [{"system": system, "code": code}]},
        "effectivePeriod": period,
    }


def research(start_days: int, end_days: int | None) -> dict:
    period = {"start": ago(start_days)}
    if end_days is not None:
        period["end"] = ago(end_days)
    return {
        "resourceType": "ResearchSubject",
        "id": f"rs-{next(_ids)}",
        "status": "off-study" if end_days is not None else "on-study",
        "study": {"reference": "ResearchStudy/other"},
        "individual": {"reference": "Patient/p"},
        "period": period,
    }


def bundle(
    birth: str | None, gender: str | None, resources: list[dict], complete: bool = True
) -> dict:
    patient: dict[str, Any] = {"resourceType": "Patient", "id": "p"}
    if birth:
        patient["birthDate"] = birth
    if gender:
        patient["gender"] = gender
    b: dict[str, Any] = {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [{"resource": patient}] + [{"resource": r} for r in resources],
    }
    if complete:
        b["meta"] = {"tag": [{"system": TD, "code": "history-complete"}]}
    return b


def cirrhosis_labs(
    bili=("1975-2", 2.5, "mg/dL"),
    albumin=3.0,
    inr=1.5,
    creatinine=0.9,
    cr_uln=(1.2, "mg/dL"),
    sodium=136,
    wbc=5.0,
    hbv=("<", 20),
    days: int = 5,
) -> list[dict]:
    """A full set of screening labs (defaults: Child-Pugh bilirubin 2, albumin 2, INR 1)."""
    out = []
    if bili is not None:
        out.append(obs(bili[0], bili[1], bili[2], days))
    if albumin is not None:
        out.append(obs("1751-7", albumin, "g/dL", days))
    if inr is not None:
        out.append(obs("6301-6", inr, None, days))
    if creatinine is not None:
        out.append(obs("2160-0", creatinine, "mg/dL", days, high=cr_uln))
    if sodium is not None:
        out.append(obs("2951-2", sodium, "mmol/L", days))
    if wbc is not None:
        out.append(obs("6690-2", wbc, "10*9/L", days))
    if hbv is not None:
        out.append(obs("29615-2", hbv[1], "[IU]/mL", days, comparator=hbv[0]))
    return out
