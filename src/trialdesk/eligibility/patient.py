"""One patient as the eligibility rules see it: demographics, lab results, history.

Built from a FHIR R4 Bundle (:mod:`trialdesk.eligibility.fhir`), the plain JSON/YAML format
(:mod:`trialdesk.eligibility.plain`) or a cohort row. Lab values are
:class:`~trialdesk.clinical.units.Quantity` objects (converted at the edge by
:mod:`trialdesk.clinical.units`); history is a list of episodes of named concepts
(``data/concepts.yaml``) and medication courses.

Missing is not false: a concept that is not in the record is *not documented* (UNKNOWN),
unless the record says the concept is absent (``absent``), the record declares its history
complete (``history_complete``), or the concept counts as absent when unmentioned (ascites,
hepatic encephalopathy) and the source has not said it does not know (``unknown``: the
prescreener's "I don't know" stays UNKNOWN).
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from trialdesk.clinical.units import Quantity

__all__ = [
    "Episode",
    "LabResult",
    "MedicationCourse",
    "Patient",
    "PatientError",
    "check_birth_date",
    "read_patient_text",
]

#: What a patient file must be, for messages about files that are not.
PATIENT_FILE_KINDS = (
    "a FHIR R4 Bundle (JSON) or the plain patient format (JSON or YAML), as UTF-8 text"
)
#: The reason given for a file whose brackets nest past the parsers' recursion limit (a
#: patient file nests a few levels; a hostile one, thousands).
NESTED_TOO_DEEPLY = "nested too deeply (brackets or indentation thousands of levels deep)"


class PatientError(ValueError):
    """Patient input that cannot be read; the message names the file, resource and field."""


@dataclass(frozen=True)
class LabResult:
    """One lab result. ``quantity`` may carry a comparator (``<`` = below detection limit);
    ``detected`` is set for qualitative results (e.g. HBV DNA "not detected")."""

    analyte: str
    quantity: Quantity | None
    date: date | None
    uln: Quantity | None = None
    detected: bool | None = None
    source: str = ""

    def is_detected(self) -> bool | None:
        if self.detected is not None:
            return self.detected
        if self.quantity is None:
            return None
        return self.quantity.comparator not in ("<", "<=")

    def describe(self) -> str:
        what = (
            str(self.quantity)
            if self.quantity is not None
            else ("detected" if self.detected else "not detected")
        )
        when = f" on {self.date.isoformat()}" if self.date else ""
        return f"{what}{when}"


@dataclass(frozen=True)
class Episode:
    """An episode of a condition, procedure or event.

    ``start`` is the onset / performed date, ``end`` the abatement date (a procedure ends the
    day it starts). ``ongoing`` is True when the episode is known not to have ended, False when
    it ended (possibly on an unknown date), None when the record does not say.
    """

    concept: str
    start: date | None = None
    end: date | None = None
    ongoing: bool | None = None
    severity: str | None = None  # none | mild | moderate | severe
    source: str = ""

    def describe(self) -> str:
        parts = [self.concept]
        if self.severity:
            parts.append(self.severity)
        if self.start:
            parts.append(f"from {self.start.isoformat()}")
        if self.end:
            parts.append(f"to {self.end.isoformat()}")
        elif self.ongoing:
            parts.append("ongoing")
        return " ".join(parts)


@dataclass(frozen=True)
class MedicationCourse:
    """A course of a medication concept; ``end`` None means still taken."""

    concept: str
    start: date | None = None
    end: date | None = None
    source: str = ""

    def describe(self) -> str:
        start = self.start.isoformat() if self.start else "?"
        end = self.end.isoformat() if self.end else "ongoing"
        return f"{self.concept} {start} to {end}"


@dataclass(frozen=True)
class Patient:
    """Everything screening needs about one patient. Immutable."""

    id: str = "patient"
    birth_date: date | None = None
    age_years: int | None = None  # when only an age (at the screening date) is known
    sex: str | None = None  # male | female
    labs: tuple[LabResult, ...] = ()
    episodes: tuple[Episode, ...] = ()
    medications: tuple[MedicationCourse, ...] = ()
    absent: frozenset[str] = frozenset()  # recorded absent, or answered in full (no other episode)
    # concepts the source says it does not know (the prescreener's "I don't know"): never read
    # as absent, not even ascites / hepatic encephalopathy (which count as none unmentioned)
    unknown: frozenset[str] = frozenset()
    history_complete: bool = False
    attestations: dict[str, bool] = field(default_factory=dict)
    screening_date: date | None = None
    notes: tuple[str, ...] = ()

    def labs_of(self, analyte: str) -> list[LabResult]:
        return [r for r in self.labs if r.analyte == analyte]

    def episodes_of(self, concept: str) -> list[Episode]:
        """Episodes of ``concept`` and of the narrower concepts it includes."""
        from trialdesk.protocol.vocabulary import expand

        names = set(expand(concept))
        return [e for e in self.episodes if e.concept in names]

    def courses_of(self, concept: str) -> list[MedicationCourse]:
        return [m for m in self.medications if m.concept == concept]

    def knows_absent(self, concept: str) -> bool:
        """Is ``concept`` known to be absent (complete history, or recorded as absent)?"""
        if concept in self.unknown:
            return False
        return self.history_complete or concept in self.absent

    def counts_absent(self, concept: str) -> bool:
        """Is ``concept`` absent when no episode is recorded? Known absent, or a concept that
        counts as absent when unmentioned (``absent_means_none``) and not declared unknown."""
        from trialdesk.protocol.vocabulary import concept as concept_info

        if concept in self.unknown:
            return False
        info = concept_info(concept)
        return self.knows_absent(concept) or (info is not None and info.absent_means_none)


def parse_date(value: Any, where: str) -> date | None:
    """A date from ``YYYY-MM-DD`` (or the date part of a FHIR dateTime); None stays None."""
    if value is None or value == "":
        return None
    if isinstance(value, date):
        return value if type(value) is date else value.date()  # type: ignore[attr-defined]
    text = str(value).strip()
    try:
        if len(text) == 4:  # FHIR partial date: a year
            return date(int(text), 1, 1)
        if len(text) == 7:  # year-month
            return date(int(text[:4]), int(text[5:7]), 1)
        return date.fromisoformat(text[:10])
    except ValueError:
        raise PatientError(f"{where}: {value!r} is not a date (YYYY-MM-DD)") from None


def check_birth_date(born: date | None, where: str, on: date | None = None) -> date | None:
    """``born``, unless it lies after today or after the screening date ``on``: an error
    naming ``where``. Nobody is screened before they are born, and a later birth date would
    otherwise give a negative age."""
    if born is None:
        return None
    today = date.today()
    if born > today:
        raise PatientError(
            f"{where}: {born.isoformat()} is in the future (today is {today.isoformat()})"
        )
    if on is not None and born > on:
        raise PatientError(
            f"{where}: {born.isoformat()} is after the screening date {on.isoformat()}"
        )
    return born


def read_patient_text(path: str | Path) -> str:
    """The text of a patient file; a binary file (a zip archive, an image, any file with NUL
    bytes or that is not UTF-8) is a :class:`PatientError` naming the file and what was
    expected."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise PatientError(f"{path}: cannot read: {exc.strerror}") from None
    found = None
    if zipfile.is_zipfile(io.BytesIO(raw)):
        found = "a zip archive"
    elif b"\x00" in raw:
        found = "a binary file"
    else:
        try:
            return raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            found = f"not UTF-8 text (byte {exc.start}: 0x{raw[exc.start]:02x}; a binary file?)"
    raise PatientError(f"{path}: {found}, not a patient file: expected {PATIENT_FILE_KINDS}")
