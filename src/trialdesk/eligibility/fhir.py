"""Read a patient from a FHIR R4 Bundle (JSON) with fhir.resources.

fhir.resources 8 ships R5 at the top level and an ``R4B`` subpackage; there is no separate R4
package. R4B (4.3) keeps the R4 (4.0.1) structure of every resource read here (Patient,
Observation, Condition, Procedure, MedicationStatement, ResearchSubject), so R4 Bundles are
validated with ``fhir.resources.R4B``.

What is read (docs/protocol-format.md, "FHIR input"):

- Patient: ``birthDate``, ``gender`` (male/female; other values leave sex unknown).
- Observation with a LOINC code the units registry maps (bilirubin 1975-2/14631-6, creatinine
  2160-0/14682-9, albumin 1751-7, INR 6301-6, sodium 2951-2, WBC 6690-2, platelets 777-3,
  ALT 1742-6, AST 1920-8, HBV DNA 29615-2 ...): ``valueQuantity`` (UCUM ``code`` preferred to
  ``unit``) with ``comparator`` (``<`` = below the detection limit), ``referenceRange.high``
  (the ULN), ``effectiveDateTime`` / ``effectivePeriod.start`` / ``issued``. A coded result
  "not detected" (SNOMED 260415000) or "detected" (260373001) sets HBV DNA detection.
- Condition: codes mapped by ``trialdesk/protocol/data/concepts.yaml`` (SNOMED CT, ICD-10-CM),
  ``onset[x]``, ``abatement[x]``, ``clinicalStatus`` (active/recurrence/relapse = ongoing),
  ``verificationStatus`` (refuted = recorded absent; entered-in-error ignored), ``severity``
  (SNOMED 255604002 mild, 6736007 moderate, 24484000 severe).
- Procedure (status completed / in-progress): ``performed[x]``.
- MedicationStatement: ``medicationCodeableConcept`` (ATC, RxNorm), ``effectivePeriod`` or
  ``effectiveDateTime``, ``status`` (not-taken / entered-in-error ignored with a note).
- ResearchSubject: ``period`` -> event clinical_trial_participation.
- Bundle ``meta.tag`` code ``history-complete`` (system
  https://trialdesk.org/fhir/CodeSystem/concept): the record lists every condition, procedure
  and medication, so what is not in it is absent.

Codes that map to no concept are ignored with a note; malformed resources raise
:class:`PatientError` naming the entry, the resource and the field.
"""

from __future__ import annotations

from datetime import date, datetime
from functools import lru_cache
from typing import Any

from trialdesk.clinical import units
from trialdesk.eligibility.patient import (
    Episode,
    LabResult,
    MedicationCourse,
    Patient,
    PatientError,
    check_birth_date,
)
from trialdesk.protocol import vocabulary

__all__ = ["patient_from_bundle", "concepts_for_code"]

LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
SNOMED = "http://snomed.info/sct"
TRIALDESK_SYSTEM = "https://trialdesk.org/fhir/CodeSystem/concept"
HISTORY_COMPLETE = "history-complete"
_SEVERITY_CODES = {"255604002": "mild", "6736007": "moderate", "24484000": "severe"}
_SEVERITY_WORDS = {"mild": "mild", "moderate": "moderate", "severe": "severe"}
_DETECTED_CODES = {"260415000": False, "260373001": True}
_DETECTED_WORDS = {
    "not detected": False,
    "undetectable": False,
    "negative": False,
    "detected": True,
    "positive": True,
}
_ONGOING = {
    "active": True,
    "recurrence": True,
    "relapse": True,
    "inactive": False,
    "remission": False,
    "resolved": False,
}
_READ = (
    "Patient",
    "Observation",
    "Condition",
    "Procedure",
    "MedicationStatement",
    "ResearchSubject",
)


def _norm(code: str) -> str:
    return code.strip().upper().replace(".", "")


@lru_cache(maxsize=1)
def _code_index() -> tuple[
    dict[tuple[str, str], tuple[str, ...]], tuple[tuple[str, str, str], ...]
]:
    systems = vocabulary.systems()
    exact: dict[tuple[str, str], list[str]] = {}
    prefixes: list[tuple[str, str, str]] = []
    for concept in vocabulary.concepts().values():
        for key, code in concept.codes:
            uri = systems[key]
            if code.endswith("*"):
                prefixes.append((uri, _norm(code[:-1]), concept.name))
            else:
                exact.setdefault((uri, _norm(code)), []).append(concept.name)
    return {k: tuple(v) for k, v in exact.items()}, tuple(prefixes)


def concepts_for_code(system: str | None, code: str | None) -> tuple[str, ...]:
    """The concepts a coded value stands for (exact codes, then ``*`` prefixes)."""
    if not system or not code:
        return ()
    exact, prefixes = _code_index()
    key = (system.strip(), _norm(code))
    found = list(exact.get(key, ()))
    for uri, prefix, name in prefixes:
        if uri == key[0] and key[1].startswith(prefix) and name not in found:
            found.append(name)
    return tuple(found)


def _day(value: Any) -> date | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = str(value)
    try:
        if len(text) == 4:
            return date(int(text), 1, 1)
        if len(text) == 7:
            return date(int(text[:4]), int(text[5:7]), 1)
        return date.fromisoformat(text[:10])
    except ValueError:
        return None


def _codings(concept: Any) -> list[Any]:
    return list(getattr(concept, "coding", None) or []) if concept is not None else []


def _concepts_of(codeable: Any) -> tuple[tuple[str, ...], list[str]]:
    names: list[str] = []
    seen_codes: list[str] = []
    for coding in _codings(codeable):
        seen_codes.append(f"{coding.system or '?'}|{coding.code or '?'}")
        for name in concepts_for_code(coding.system, coding.code):
            if name not in names:
                names.append(name)
    return tuple(names), seen_codes


class _Reader:
    def __init__(self, source: str) -> None:
        self.source = source
        self.notes: list[str] = []
        self.birth_date: date | None = None
        self.sex: str | None = None
        self.patient_id = "patient"
        self.labs: list[LabResult] = []
        self.episodes: list[Episode] = []
        self.meds: list[MedicationCourse] = []
        self.absent: set[str] = set()

    def where(self, index: int, resource: Any) -> str:
        rid = getattr(resource, "id", None)
        kind = type(resource).__name__
        return f"{self.source}: entry[{index}] {kind}" + (f"/{rid}" if rid else "")

    def patient(self, r: Any, where: str) -> None:
        self.patient_id = r.id or self.patient_id
        self.birth_date = check_birth_date(_day(r.birthDate), f"{where}: birthDate")
        if r.gender in ("male", "female"):
            self.sex = r.gender
        elif r.gender is not None:
            self.notes.append(f"{where}: gender {r.gender!r} leaves sex unknown for the rules")

    def observation(self, r: Any, where: str) -> None:
        if r.status in ("cancelled", "entered-in-error"):
            self.notes.append(f"{where}: status {r.status}: ignored")
            return
        analyte = None
        for coding in _codings(r.code):
            if coding.system == LOINC and coding.code:
                try:
                    analyte = units.analyte_for_loinc(coding.code).name
                    break
                except units.UnitError:
                    continue
        if analyte is None:
            codes = ", ".join(f"{c.system}|{c.code}" for c in _codings(r.code)) or "no code"
            self.notes.append(f"{where}: code {codes} is not a lab the rules use: ignored")
            return
        when = (
            _day(r.effectiveDateTime)
            or _day(r.effectivePeriod.start if r.effectivePeriod else None)
            or _day(r.issued)
        )
        if when is None:
            self.notes.append(f"{where}: no effective date: the {analyte} result counts as missing")
        quantity = None
        detected = None
        vq = r.valueQuantity
        if vq is not None:
            if vq.value is None:
                raise PatientError(f"{where}: valueQuantity.value is missing")
            unit = vq.code if (vq.system == UCUM and vq.code) else (vq.unit or vq.code)
            try:
                if unit is None:
                    quantity = units.as_quantity(vq.value, analyte)
                    if vq.comparator:
                        quantity = units.quantity(
                            quantity.exact, quantity.unit, analyte, comparator=vq.comparator
                        )
                else:
                    quantity = units.quantity(vq.value, unit, analyte, comparator=vq.comparator)
            except (units.UnitError, units.ImplausibleValueError) as exc:
                raise PatientError(f"{where}: valueQuantity: {exc}") from None
        elif r.valueCodeableConcept is not None:
            for coding in _codings(r.valueCodeableConcept):
                if coding.system == SNOMED and coding.code in _DETECTED_CODES:
                    detected = _DETECTED_CODES[coding.code]
            text = (r.valueCodeableConcept.text or "").strip().lower()
            if detected is None and text in _DETECTED_WORDS:
                detected = _DETECTED_WORDS[text]
        elif r.valueString is not None and r.valueString.strip().lower() in _DETECTED_WORDS:
            detected = _DETECTED_WORDS[r.valueString.strip().lower()]
        if quantity is None and detected is None:
            self.notes.append(f"{where}: {analyte} without a usable value: ignored")
            return
        uln = None
        for rr in r.referenceRange or []:
            if rr.high is not None and rr.high.value is not None:
                hu = (
                    rr.high.code
                    if (rr.high.system == UCUM and rr.high.code)
                    else (rr.high.unit or rr.high.code)
                )
                try:
                    uln = (
                        units.quantity(rr.high.value, hu, analyte)
                        if hu
                        else units.as_quantity(rr.high.value, analyte)
                    )
                except (units.UnitError, units.ImplausibleValueError) as exc:
                    raise PatientError(f"{where}: referenceRange.high: {exc}") from None
                break
        self.labs.append(LabResult(analyte, quantity, when, uln, detected, where))

    def condition(self, r: Any, where: str) -> None:
        names, codes = _concepts_of(r.code)
        if not names:
            self.notes.append(
                f"{where}: code(s) {', '.join(codes) or 'none'} map to no concept: ignored"
            )
            return
        verification = _first_code(r.verificationStatus)
        if verification == "entered-in-error":
            self.notes.append(f"{where}: entered in error: ignored")
            return
        if verification == "refuted":
            self.absent.update(names)
            return
        start = (
            _day(r.onsetDateTime)
            or _day(r.onsetPeriod.start if r.onsetPeriod else None)
            or _day(
                r.recordedDate
                if r.onsetDateTime is None
                and r.onsetPeriod is None
                and r.onsetString is None
                and r.onsetAge is None
                else None
            )
        )
        end = (
            _day(r.abatementDateTime)
            or _day(r.abatementPeriod.end if r.abatementPeriod else None)
            or _day(r.abatementPeriod.start if r.abatementPeriod else None)
        )
        status = _first_code(r.clinicalStatus)
        ongoing = _ONGOING.get(status) if status else None
        if end is not None:
            ongoing = False
        elif r.abatementString is not None or r.abatementAge is not None:
            ongoing = False
        severity = None
        for coding in _codings(r.severity):
            if coding.code in _SEVERITY_CODES:
                severity = _SEVERITY_CODES[coding.code]
        if severity is None and r.severity is not None and r.severity.text:
            severity = _SEVERITY_WORDS.get(r.severity.text.strip().lower())
        for name in names:
            info = vocabulary.concept(name)
            if info is None or info.kind not in ("condition", "procedure", "event"):
                continue
            sev = severity if info.severity else None
            if info.kind == "procedure":
                self.episodes.append(Episode(name, start, end or start, False, None, where))
            else:
                self.episodes.append(Episode(name, start, end, ongoing, sev, where))

    def procedure(self, r: Any, where: str) -> None:
        names, codes = _concepts_of(r.code)
        if not names:
            self.notes.append(
                f"{where}: code(s) {', '.join(codes) or 'none'} map to no concept: ignored"
            )
            return
        if r.status not in ("completed", "in-progress"):
            self.notes.append(f"{where}: status {r.status}: ignored")
            return
        start = _day(r.performedDateTime) or _day(
            r.performedPeriod.start if r.performedPeriod else None
        )
        end = _day(r.performedPeriod.end if r.performedPeriod else None) or start
        for name in names:
            self.episodes.append(Episode(name, start, end, False, None, where))

    def medication(self, r: Any, where: str) -> None:
        names, codes = _concepts_of(r.medicationCodeableConcept)
        if not names:
            what = ", ".join(codes) if codes else "medicationReference (not read)"
            self.notes.append(f"{where}: {what} maps to no concept: ignored")
            return
        if r.status in ("not-taken", "entered-in-error", "unknown"):
            self.notes.append(f"{where}: status {r.status}: ignored")
            return
        if r.effectivePeriod is not None:
            start, end = _day(r.effectivePeriod.start), _day(r.effectivePeriod.end)
        else:
            start, end = _day(r.effectiveDateTime), None
        if end is None and r.status in ("completed", "stopped"):
            end = _day(r.dateAsserted) or start
            self.notes.append(
                f"{where}: {r.status} without an end date: taken to end "
                f"{end.isoformat() if end else 'on an unknown date'}"
            )
        for name in names:
            self.meds.append(MedicationCourse(name, start, end, where))

    def research_subject(self, r: Any, where: str) -> None:
        if r.period is None:
            self.notes.append(f"{where}: no period: ignored")
            return
        start, end = _day(r.period.start), _day(r.period.end)
        ongoing = end is None and r.status not in (
            "off-study",
            "withdrawn",
            "not-registered",
            "ineligible",
        )
        self.episodes.append(
            Episode(
                "clinical_trial_participation",
                start,
                end,
                True if ongoing else (False if end else None),
                None,
                where,
            )
        )


def _first_code(codeable: Any) -> str | None:
    for coding in _codings(codeable):
        if coding.code:
            return str(coding.code)
    return None


def patient_from_bundle(data: dict[str, Any], source: str = "<bundle>") -> Patient:
    """Build a :class:`Patient` from a FHIR R4 Bundle already parsed from JSON."""
    from fhir.resources.R4B import get_fhir_model_class
    from pydantic import ValidationError

    if not isinstance(data, dict) or data.get("resourceType") != "Bundle":
        raise PatientError(
            f"{source}: expected a FHIR Bundle, got resourceType "
            f"{data.get('resourceType') if isinstance(data, dict) else None!r}"
        )
    reader = _Reader(source)
    entries = data.get("entry") or []
    if not isinstance(entries, list):
        raise PatientError(f"{source}: Bundle.entry must be a list")
    history_complete = False
    for tag in (data.get("meta") or {}).get("tag") or []:
        if tag.get("system") == TRIALDESK_SYSTEM and tag.get("code") == HISTORY_COMPLETE:
            history_complete = True
    patients = 0
    for index, entry in enumerate(entries):
        raw = entry.get("resource") if isinstance(entry, dict) else None
        if not isinstance(raw, dict) or "resourceType" not in raw:
            raise PatientError(f"{source}: entry[{index}]: no resource with a resourceType")
        kind = raw["resourceType"]
        if kind not in _READ:
            reader.notes.append(f"{source}: entry[{index}] {kind}: not read")
            continue
        try:
            resource = get_fhir_model_class(kind).model_validate(raw)
        except ValidationError as exc:
            first = exc.errors()[0]
            loc = ".".join(str(p) for p in first.get("loc", ()))
            rid = raw.get("id")
            raise PatientError(
                f"{source}: entry[{index}] {kind}"
                + (f"/{rid}" if rid else "")
                + f": {loc}: {first.get('msg')} "
                f"({len(exc.errors())} error(s))"
            ) from None
        where = reader.where(index, resource)
        if kind == "Patient":
            patients += 1
            reader.patient(resource, where)
        elif kind == "Observation":
            reader.observation(resource, where)
        elif kind == "Condition":
            reader.condition(resource, where)
        elif kind == "Procedure":
            reader.procedure(resource, where)
        elif kind == "MedicationStatement":
            reader.medication(resource, where)
        else:
            reader.research_subject(resource, where)
    if patients != 1:
        raise PatientError(f"{source}: the Bundle must hold exactly one Patient, found {patients}")
    return Patient(
        id=reader.patient_id,
        birth_date=reader.birth_date,
        sex=reader.sex,
        labs=tuple(reader.labs),
        episodes=tuple(reader.episodes),
        medications=tuple(reader.meds),
        absent=frozenset(reader.absent),
        history_complete=history_complete,
        notes=tuple(reader.notes),
    )
