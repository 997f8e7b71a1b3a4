"""Computable eligibility: screen one patient (three-valued, with reasons) or whole cohorts.

Pure core: no Django. Protocol files and the rule language live in :mod:`trialdesk.protocol`;
see docs/eligibility.md and docs/protocol-format.md.
"""

from __future__ import annotations

import json
from pathlib import Path

from trialdesk.eligibility.patient import (
    NESTED_TOO_DEEPLY,
    Patient,
    PatientError,
    read_patient_text,
)
from trialdesk.eligibility.screen import (
    ELIGIBLE,
    INCOMPLETE,
    INELIGIBLE,
    MET,
    NOT_MET,
    UNKNOWN,
    CriterionResult,
    ScreeningResult,
    screen,
)

__all__ = [
    "ELIGIBLE",
    "INCOMPLETE",
    "INELIGIBLE",
    "MET",
    "NOT_MET",
    "UNKNOWN",
    "CriterionResult",
    "Patient",
    "PatientError",
    "ScreeningResult",
    "load_patient",
    "screen",
]


def load_patient(path: str | Path, *, history_complete: bool | None = None) -> Patient:
    """Read a patient file: a FHIR R4 Bundle (JSON with ``resourceType: Bundle``) or the plain
    JSON/YAML format. ``history_complete`` overrides what the file says."""
    from dataclasses import replace

    path = Path(path)
    text = read_patient_text(path)
    data = None
    if path.suffix.lower() == ".json" or text.lstrip().startswith("{"):
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise PatientError(f"{path}: not valid JSON: {exc}") from None
        except RecursionError:
            raise PatientError(f"{path}: not valid JSON: {NESTED_TOO_DEEPLY}") from None
    if isinstance(data, dict) and data.get("resourceType") is not None:
        from trialdesk.eligibility.fhir import patient_from_bundle

        patient = patient_from_bundle(data, str(path))
    elif data is not None:
        from trialdesk.eligibility.plain import patient_from_mapping

        patient = patient_from_mapping(data, str(path))
    else:
        from trialdesk.eligibility.plain import load_plain

        patient = load_plain(path, text)
    if history_complete is not None:
        patient = replace(patient, history_complete=history_complete)
    return patient
