"""Visits: the participant's calendar from the infusion date (the protocol's schedule, placed
by ``trialdesk.protocol.visit_calendar``), window status (``window_status``), recording a
visit with labs in any unit (``trialdesk.clinical.units``), vitals and the Child-Pugh grades,
the scores at each visit (``trialdesk.clinical.visit_scores``), and a protocol deviation for
a visit done outside its window."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from trialdesk.conduct.errors import ConductError
from trialdesk.conduct.models import LabResult, Participant, ProtocolDeviation, Visit, write
from trialdesk.conduct.services.access import require_member, require_perm
from trialdesk.conduct.services.consent import require_any_consent
from trialdesk.conduct.services.enrolment import conduct_plan

VITALS = ("temperature_c", "heart_rate", "systolic_bp", "diastolic_bp", "respiratory_rate", "spo2")


@dataclass(frozen=True)
class CalendarRow:
    scheduled: Any  # trialdesk.protocol.ScheduledVisit
    visit: Visit | None
    status: Any  # trialdesk.protocol.WindowStatus


def infusion_date(participant: Participant) -> date | None:
    """The date (UTC) of the participant's first dose: study day 1. Reads the doses through
    ``participant.doses.all()``, so a page listing many participants prefetches them once
    (``prefetch_related("doses", "visits")``) instead of one query each."""
    first = min(participant.doses.all(), key=lambda d: d.started_at, default=None)
    return first.started_at.astimezone(UTC).date() if first else None


def calendar(participant: Participant, today: date | None = None) -> list[CalendarRow]:
    """Every protocol visit with its window and status (empty before the infusion)."""
    from trialdesk.protocol import visit_calendar, window_status

    day1 = infusion_date(participant)
    if day1 is None:
        return []
    today = today or timezone.localdate()
    done = {v.code: v for v in participant.visits.all()}
    rows = []
    for scheduled in visit_calendar(conduct_plan(participant.study), day1):
        visit = done.get(scheduled.code)
        status = window_status(scheduled, visit.visit_date if visit else None, today)
        rows.append(CalendarRow(scheduled, visit, status))
    return rows


def _lab(analyte: str, text: str) -> Any:
    from trialdesk.clinical.units import parse_quantity

    try:
        return parse_quantity(text, analyte)
    except ValueError as exc:
        raise ConductError(str(exc), field=f"lab_{analyte}") from None


def record_visit(
    participant: Participant,
    by: Any,
    *,
    code: str,
    visit_date: date,
    labs: dict[str, str],
    ascites: str = "",
    encephalopathy: int | None = None,
    **vitals: Any,
) -> Visit:
    """Record a visit once; labs are entered as text with a unit (``"2.0 mg/dL"``)."""
    require_perm(by, "record_visit", "record visits")
    require_member(by, participant.site)
    consent = require_any_consent(participant)
    unknown = set(vitals) - set(VITALS)
    if unknown:
        raise ConductError(f"unknown vital signs: {', '.join(sorted(unknown))}")
    rows = {r.scheduled.code: r for r in calendar(participant)}
    if not rows:
        raise ConductError(f"{participant} has no infusion recorded: no visit calendar yet")
    if code not in rows:
        raise ConductError(f"no visit {code!r} in the protocol ({', '.join(rows)})", field="code")
    if rows[code].visit is not None:
        raise ConductError(f"visit {code} is already recorded on {rows[code].visit.visit_date}")
    if visit_date > timezone.localdate():
        raise ConductError("the visit date is in the future", field="visit_date")
    if visit_date < consent.consented_at.astimezone(UTC).date():
        raise ConductError(
            f"the visit date is before the consent ({consent.consented_at:%Y-%m-%d})",
            field="visit_date",
        )
    panel = conduct_plan(participant.study).lab_panel
    parsed = {}
    for analyte, text in labs.items():
        if analyte not in panel:
            raise ConductError(f"{analyte} is not in the protocol's lab panel")
        if (text or "").strip():
            parsed[analyte] = _lab(analyte, text.strip())
    from trialdesk.protocol import window_status

    status = window_status(rows[code].scheduled, visit_date, timezone.localdate())
    with transaction.atomic():
        visit = write(
            Visit(
                participant=participant,
                code=code,
                visit_date=visit_date,
                window_status=str(status),
                window_reason=status.reason[:300],
                ascites=ascites or "",
                encephalopathy=encephalopathy,
                **vitals,
            ),
            by,
        )
        for analyte, q in parsed.items():
            canonical = q.to(_canonical_unit(analyte))
            write(
                LabResult(
                    visit=visit,
                    analyte=analyte,
                    entered=labs[analyte].strip()[:60],
                    canonical_value=canonical.decimal(prec=20).quantize(Decimal("0.000001")),
                    canonical_unit=canonical.unit,
                    comparator=q.comparator or "",
                ),
                by,
            )
        from trialdesk.conduct.services.lab_events import propose

        propose(visit, by)
        if status.is_deviation:
            write(
                ProtocolDeviation(
                    participant=participant,
                    visit=visit,
                    kind=f"visit {status}",
                    description=status.reason[:400],
                ),
                by,
            )
    return visit


def _canonical_unit(analyte: str) -> str:
    from trialdesk.clinical.units import get_analyte

    return get_analyte(analyte).unit


def lab_quantities(visit: Visit) -> dict[str, Any]:
    from trialdesk.clinical.units import quantity

    return {
        lab.analyte: quantity(
            str(lab.canonical_value),
            lab.canonical_unit,
            lab.analyte,
            comparator=lab.comparator or None,
        )  # fmt: skip
        for lab in visit.labs.all()
    }


def scores(visit: Visit) -> Any:
    """MELD, MELD-Na, MELD 3.0 and Child-Pugh at the visit, each with its reasons."""
    from trialdesk.clinical import visit_scores

    p = visit.participant
    age = (
        visit.visit_date.year
        - p.birth_date.year
        - ((visit.visit_date.month, visit.visit_date.day) < (p.birth_date.month, p.birth_date.day))
    )
    protocol = p.study.protocol()
    return visit_scores(
        lab_quantities(visit),
        visit.ascites or None,
        visit.encephalopathy,
        sex=p.sex,
        age=age,
        child_pugh_variant=protocol.child_pugh_variant,
    )
