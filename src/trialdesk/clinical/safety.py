"""Seriousness of an adverse event (ICH E2A) and the safety-reporting clocks.

Sources:

- ICH E2A, "Clinical Safety Data Management: Definitions and Standards for Expedited
  Reporting" (Step 4, 27 October 1994), section II.B (serious adverse event: results in
  death, is life-threatening, requires inpatient hospitalisation or prolongation of existing
  hospitalisation, results in persistent or significant disability/incapacity, is a
  congenital anomaly/birth defect; and medical and scientific judgement for important
  medical events) and section III.A (expedited reporting: fatal or life-threatening
  unexpected adverse drug reactions no later than 7 calendar days after first knowledge,
  followed by as complete a report as possible within 8 additional calendar days; other
  serious unexpected reactions no later than 15 calendar days).
- 21 CFR 312.32(c)(1) (IND safety report within 15 calendar days) and 312.32(c)(2)
  (unexpected fatal or life-threatening suspected adverse reaction within 7 calendar days).
- 21 CFR 312.64(b) and ICH E6(R2) 4.11.1: the investigator reports every serious adverse
  event to the sponsor immediately; the seed protocols operationalise "immediately" as within
  24 hours of the site's awareness, the usual convention.

Clocks run from the **awareness** date-time (when the site first knew the event met the
criteria), kept apart from the onset. In an investigator-initiated trial the site is also
the sponsor, so the expedited clocks start from the same awareness.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum

__all__ = [
    "SeriousnessAssessment",
    "SeriousnessCriterion",
    "assess_seriousness",
    "event_date_problems",
    "is_serious",
    "report_deadlines",
]


class SeriousnessCriterion(StrEnum):
    """The ICH E2A (1994) section II.B criteria that make an adverse event serious."""

    death = "death"
    life_threatening = "life_threatening"
    hospitalisation = "hospitalisation"
    disability = "disability"
    congenital_anomaly = "congenital_anomaly"
    important_medical_event = "important_medical_event"

    @property
    def text(self) -> str:
        """The ICH E2A wording of the criterion."""
        return _TEXTS[self]


_TEXTS = {
    SeriousnessCriterion.death: "results in death",
    SeriousnessCriterion.life_threatening: (
        "is life-threatening (the patient was at risk of death at the time of the event)"
    ),
    SeriousnessCriterion.hospitalisation: (
        "requires inpatient hospitalisation or prolongation of existing hospitalisation"
    ),
    SeriousnessCriterion.disability: "results in persistent or significant disability/incapacity",
    SeriousnessCriterion.congenital_anomaly: "is a congenital anomaly/birth defect",
    SeriousnessCriterion.important_medical_event: (
        "is an important medical event that may jeopardise the patient or may require "
        "intervention to prevent one of the other outcomes (medical and scientific judgement)"
    ),
}


def _criteria(criteria: Iterable[SeriousnessCriterion | str]) -> tuple[SeriousnessCriterion, ...]:
    if isinstance(criteria, str | SeriousnessCriterion):
        criteria = (criteria,)
    out: list[SeriousnessCriterion] = []
    for c in criteria:
        try:
            crit = SeriousnessCriterion(c)
        except ValueError:
            known = ", ".join(m.value for m in SeriousnessCriterion)
            raise ValueError(
                f"seriousness criterion {c!r}: expected one of {known} (ICH E2A II.B)"
            ) from None
        if crit not in out:
            out.append(crit)
    return tuple(out)


@dataclass(frozen=True)
class SeriousnessAssessment:
    serious: bool
    criteria: tuple[SeriousnessCriterion, ...]
    reasons: tuple[str, ...]
    reference: str = "ICH E2A (1994) section II.B"


def assess_seriousness(criteria: Iterable[SeriousnessCriterion | str]) -> SeriousnessAssessment:
    """Serious when at least one ICH E2A II.B criterion is recorded, with the reasons.

    Seriousness is not severity: a grade 3 headache can be non-serious and a grade 2 event
    that prolongs a hospital stay is serious (ICH E2A II.B).
    """
    crits = _criteria(criteria)
    if crits:
        return SeriousnessAssessment(True, crits, tuple(f"the event {c.text}" for c in crits))
    return SeriousnessAssessment(
        False, (), ("no ICH E2A seriousness criterion is recorded for the event",)
    )


def is_serious(criteria: Iterable[SeriousnessCriterion | str]) -> bool:
    """True when any ICH E2A (1994) II.B seriousness criterion is recorded."""
    return assess_seriousness(criteria).serious


INVESTIGATOR_REPORT = "investigator_24h"
EXPEDITED_7_DAY = "expedited_7d"
EXPEDITED_15_DAY = "expedited_15d"


def report_deadlines(
    awareness: datetime,
    *,
    fatal_or_life_threatening: bool,
    unexpected: bool,
    suspected_reaction: bool = True,
) -> dict[str, datetime]:
    """The reporting deadlines (UTC) of a serious adverse event, from the site's awareness.

    - ``"investigator_24h"``: the investigator's initial report to the sponsor, 24 hours
      after awareness (21 CFR 312.64(b), ICH E6(R2) 4.11.1 "immediately", operationalised
      as 24 hours by the protocols).
    - ``"expedited_7d"``: only for an unexpected fatal or life-threatening suspected reaction,
      7 calendar days (ICH E2A III.A.1; 21 CFR 312.32(c)(2)).
    - ``"expedited_15d"``: for every unexpected suspected reaction, 15 calendar days (ICH
      E2A III.A.2; 21 CFR 312.32(c)(1)); for a fatal or life-threatening one this is the
      complete report due 8 days after the 7-day report (ICH E2A III.A.1).

    An expected event, or one with no reasonable possibility of a causal relationship
    (``suspected_reaction=False``), has no expedited deadline, only the investigator's.
    ``awareness`` must carry a time zone (the audit trail keeps UTC).
    """
    if not isinstance(awareness, datetime):
        raise TypeError(f"awareness: expected a datetime, got {type(awareness).__name__}")
    if awareness.tzinfo is None or awareness.utcoffset() is None:
        raise ValueError(
            f"awareness {awareness.isoformat()}: needs a time zone (give it in UTC, e.g. "
            "datetime(..., tzinfo=datetime.UTC))"
        )
    start = awareness.astimezone(UTC)
    out = {INVESTIGATOR_REPORT: start + timedelta(hours=24)}
    if unexpected and suspected_reaction:
        if fatal_or_life_threatening:
            out[EXPEDITED_7_DAY] = start + timedelta(days=7)
        out[EXPEDITED_15_DAY] = start + timedelta(days=15)
    return out


def event_date_problems(
    onset: date,
    awareness: datetime,
    resolution: date | None,
    *,
    consented_on: date | None,
    now: datetime,
) -> list[tuple[str, str]]:
    """The date rules of an adverse event, as ``(field, message)`` pairs (empty: none broken).

    - An adverse event is an untoward occurrence in a participant of a clinical
      investigation (ICH E2A II.A.1; ICH E6(R2) 1.2): one with onset before the consent
      (before the participant entered the trial) is medical history, not an adverse event.
    - Onset, resolution and awareness are not in the future; resolution is not before onset.
    - Awareness (when the site first knew, the start of the reporting clocks, ICH E2A III.A)
      is not before the onset's date: no one knows of an event before it starts.

    Dates compare in UTC; ``awareness`` and ``now`` must carry a time zone.

    >>> from datetime import UTC, date, datetime
    >>> now = datetime(2026, 12, 4, 12, tzinfo=UTC)
    >>> event_date_problems(date(2026, 11, 30), datetime(2026, 11, 29, 8, tzinfo=UTC),
    ...                     date(2026, 11, 29), consented_on=date(2026, 11, 1), now=now)
    [('resolution_date', 'the resolution is before the onset'), ('awareness_at', 'the site cannot know of the event before its onset')]
    """
    for name, value in (("awareness", awareness), ("now", now)):
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"{name} {value.isoformat()}: needs a time zone")
    today = now.astimezone(UTC).date()
    out: list[tuple[str, str]] = []
    if onset > today:
        out.append(("onset_date", "the onset is in the future"))
    if consented_on is not None and onset < consented_on:
        out.append(
            (
                "onset_date",
                f"the onset is before the consent ({consented_on:%Y-%m-%d}): record it as "
                "medical history",
            )
        )
    if resolution is not None and resolution < onset:
        out.append(("resolution_date", "the resolution is before the onset"))
    if resolution is not None and resolution > today:
        out.append(("resolution_date", "the resolution is in the future"))
    if awareness > now:
        out.append(("awareness_at", "the awareness time is in the future"))
    if awareness.astimezone(UTC).date() < onset:
        out.append(("awareness_at", "the site cannot know of the event before its onset"))
    return out
