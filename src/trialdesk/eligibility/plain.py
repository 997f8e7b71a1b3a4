"""The plain patient format (JSON or YAML) for hand entry; see docs/protocol-format.md.

Example::

    id: P-001
    birth_date: 1968-04-02        # or: age: 58 (completed years on the screening date)
    sex: male
    screening_date: 2026-11-20    # optional; the command line --date wins
    history_complete: true        # every condition, procedure and medication is listed
    labs:
      bilirubin: {value: 45, unit: umol/L, date: 2026-11-15}
      creatinine: {value: 1.0, unit: mg/dL, date: 2026-11-15, uln: 1.2 mg/dL}
      inr: {value: 1.6, date: 2026-11-15}
      hbv_dna: {value: "< 20", unit: "[IU]/mL", date: 2026-11-15}   # below detection limit
    conditions:
      - {concept: cirrhosis, onset: 2019-03-01}
      - {concept: ascites, onset: 2026-06-01, severity: mild}
      - {concept: hepatic_encephalopathy, onset: 2026-05-01, end: 2026-05-20, grade: 2}
    procedures:
      - {concept: tips, date: 2025-01-10}
    events:
      - {concept: clinical_trial_participation, start: 2025-01-01, end: 2025-06-01}
    medications:
      - {concept: hbv_antiviral, start: 2018-01-01}          # no end: still taken
    absent: [hiv, malignancy]     # explicitly absent (when history_complete is false)
    attestations: {inc-1: true}   # investigator answers, by criterion id
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from trialdesk.clinical import units
from trialdesk.eligibility.patient import (
    NESTED_TOO_DEEPLY,
    Episode,
    LabResult,
    MedicationCourse,
    Patient,
    PatientError,
    check_birth_date,
    parse_date,
    read_patient_text,
)
from trialdesk.protocol import vocabulary

__all__ = ["load_plain", "patient_from_mapping"]

_TOP_KEYS = {
    "id",
    "birth_date",
    "age",
    "sex",
    "screening_date",
    "history_complete",
    "labs",
    "conditions",
    "procedures",
    "events",
    "medications",
    "absent",
    "attestations",
    "resourceType",
}
_HE_GRADES = {0: None, 1: "mild", 2: "moderate", 3: "severe", 4: "severe"}
_SEX = {"male": "male", "m": "male", "female": "female", "f": "female"}


def load_plain(path: str | Path, text: str | None = None) -> Patient:
    """Read a plain-format patient from a .json, .yaml or .yml file (``text``: its content,
    when already read)."""
    path = Path(path)
    if text is None:
        text = read_patient_text(path)
    try:
        data = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as exc:
        raise PatientError(f"{path}: not valid {path.suffix.lstrip('.').upper()}: {exc}") from None
    except RecursionError:
        raise PatientError(
            f"{path}: not valid {path.suffix.lstrip('.').upper()}: {NESTED_TOO_DEEPLY}"
        ) from None
    return patient_from_mapping(data, str(path))


def _concept(name: Any, kinds: tuple[str, ...], where: str) -> str:
    info = vocabulary.concept(str(name))
    if info is None:
        raise PatientError(
            f"{where}: unknown concept {name!r} (see trialdesk/protocol/data/concepts.yaml)"
        )
    if info.kind not in kinds:
        raise PatientError(f"{where}: {name!r} is a {info.kind}, not a {' or '.join(kinds)}")
    return info.name


def _lab(analyte_key: str, spec: Any, where: str) -> LabResult:
    try:
        analyte = units.get_analyte(analyte_key).name
    except units.UnitError as exc:
        raise PatientError(f"{where}: {exc}") from None
    if not isinstance(spec, dict):
        raise PatientError(f"{where}: expected {{value, unit, date}}, got {spec!r}")
    unknown = set(spec) - {"value", "unit", "date", "uln", "detected"}
    if unknown:
        raise PatientError(f"{where}: unknown field(s) {', '.join(sorted(unknown))}")
    when = parse_date(spec.get("date"), f"{where}.date")
    try:
        quantity = None
        if spec.get("value") is not None:
            value, unit = spec["value"], spec.get("unit")
            if isinstance(value, str):
                text = value if unit is None else f"{value} {unit}"
                quantity = units.parse_quantity(text, analyte)
            elif unit is None:
                quantity = units.as_quantity(value, analyte)
            else:
                quantity = units.quantity(value, unit, analyte)
        uln = None
        if spec.get("uln") is not None:
            uln = units.parse_quantity(str(spec["uln"]), analyte)
    except (units.UnitError, units.ImplausibleValueError) as exc:
        raise PatientError(f"{where}: {exc}") from None
    detected = spec.get("detected")
    if detected is not None and not isinstance(detected, bool):
        raise PatientError(f"{where}.detected: expected true or false")
    if quantity is None and detected is None:
        raise PatientError(f"{where}: give a value (or detected: true/false)")
    return LabResult(analyte, quantity, when, uln, detected, where)


def _severity(item: dict[str, Any], concept: str, where: str) -> str | None:
    if "grade" in item:
        if concept != "hepatic_encephalopathy":
            raise PatientError(f"{where}.grade: only hepatic_encephalopathy has a grade")
        grade = item["grade"]
        if grade not in _HE_GRADES:
            raise PatientError(f"{where}.grade: West Haven grade 0-4, not {grade!r}")
        return _HE_GRADES[grade] or "none"
    sev = item.get("severity")
    if sev is None:
        return None
    if sev not in vocabulary.SEVERITIES:
        raise PatientError(f"{where}.severity: one of {', '.join(vocabulary.SEVERITIES)}")
    return str(sev)


def patient_from_mapping(data: Any, source: str = "<patient>") -> Patient:
    """Build a :class:`Patient` from the plain format already parsed into a mapping."""
    if not isinstance(data, dict):
        raise PatientError(f"{source}: expected a mapping at the top level")
    if data.get("resourceType") is not None:
        raise PatientError(f"{source}: this is FHIR ({data['resourceType']}); use the FHIR reader")
    unknown = set(data) - _TOP_KEYS
    if unknown:
        raise PatientError(f"{source}: unknown field(s) {', '.join(sorted(unknown))}")
    sex = data.get("sex")
    if sex is not None:
        if str(sex).lower() not in _SEX:
            raise PatientError(f"{source}: sex: 'male' or 'female', not {sex!r}")
        sex = _SEX[str(sex).lower()]
    age = data.get("age")
    if age is not None and (
        not isinstance(age, int) or isinstance(age, bool) or not 0 <= age <= 130
    ):
        raise PatientError(f"{source}: age: a whole number of years 0-130, not {age!r}")
    labs: list[LabResult] = []
    for key, spec in (data.get("labs") or {}).items():
        specs = spec if isinstance(spec, list) else [spec]
        for i, one in enumerate(specs):
            where = f"{source}: labs.{key}" + (f"[{i}]" if isinstance(spec, list) else "")
            labs.append(_lab(str(key), one, where))
    episodes: list[Episode] = []
    for section, kinds in (
        ("conditions", ("condition",)),
        ("procedures", ("procedure",)),
        ("events", ("event",)),
    ):
        for i, item in enumerate(data.get(section) or []):
            where = f"{source}: {section}[{i}]"
            if not isinstance(item, dict) or "concept" not in item:
                raise PatientError(f"{where}: expected a mapping with a concept")
            allowed = {"concept", "onset", "start", "end", "date", "severity", "grade", "resolved"}
            extra = set(item) - allowed
            if extra:
                raise PatientError(f"{where}: unknown field(s) {', '.join(sorted(extra))}")
            concept = _concept(item["concept"], kinds, f"{where}.concept")
            start = parse_date(
                item.get("onset", item.get("start", item.get("date"))), f"{where}.onset"
            )
            end = parse_date(item.get("end"), f"{where}.end")
            severity = _severity(item, concept, where)
            if severity == "none":
                continue  # grade 0 hepatic encephalopathy: not present
            if section == "procedures":
                episodes.append(Episode(concept, start, end or start, False, severity, where))
            else:
                ongoing = False if (end is not None or item.get("resolved")) else True
                episodes.append(Episode(concept, start, end, ongoing, severity, where))
    meds: list[MedicationCourse] = []
    for i, item in enumerate(data.get("medications") or []):
        where = f"{source}: medications[{i}]"
        if not isinstance(item, dict) or "concept" not in item:
            raise PatientError(f"{where}: expected a mapping with a concept")
        extra = set(item) - {"concept", "start", "end"}
        if extra:
            raise PatientError(f"{where}: unknown field(s) {', '.join(sorted(extra))}")
        concept = _concept(item["concept"], ("medication",), f"{where}.concept")
        meds.append(
            MedicationCourse(
                concept,
                parse_date(item.get("start"), f"{where}.start"),
                parse_date(item.get("end"), f"{where}.end"),
                where,
            )
        )
    absent = set()
    for i, name in enumerate(data.get("absent") or []):
        absent.add(_concept(name, vocabulary.CALL_KINDS, f"{source}: absent[{i}]"))
    attestations = {}
    for cid, answer in (data.get("attestations") or {}).items():
        if not isinstance(answer, bool):
            raise PatientError(f"{source}: attestations.{cid}: true or false, not {answer!r}")
        attestations[str(cid)] = answer
    history_complete = data.get("history_complete", False)
    if not isinstance(history_complete, bool):
        raise PatientError(f"{source}: history_complete: true or false")
    screening_date = parse_date(data.get("screening_date"), f"{source}: screening_date")
    return Patient(
        id=str(data.get("id", Path(source).stem)),
        birth_date=check_birth_date(
            parse_date(data.get("birth_date"), f"{source}: birth_date"),
            f"{source}: birth_date",
            screening_date,
        ),
        age_years=age,
        sex=sex,
        labs=tuple(labs),
        episodes=tuple(episodes),
        medications=tuple(meds),
        absent=frozenset(absent),
        history_complete=history_complete,
        attestations=attestations,
        screening_date=screening_date,
    )
