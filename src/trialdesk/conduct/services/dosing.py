"""The dosing record: refused for anyone not enrolled, not consented or not eligible. A dose
whose total cells differ from the level's prescribed total (``DoseLevel.total_cells``) by
more than the protocol's ``conduct.dose_tolerance`` (default ±10%) is recorded and a
protocol deviation is written with it (``ConductPlan.dose_difference``)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from trialdesk.conduct.errors import ConductError
from trialdesk.conduct.models import DosingRecord, Participant, ProtocolDeviation, write
from trialdesk.conduct.services.access import require_member, require_perm
from trialdesk.conduct.services.consent import require_consent
from trialdesk.conduct.services.enrolment import conduct_plan


def protocol_dose(participant: Participant, body_weight_kg: Decimal | None) -> int | None:
    """The total cells the protocol's dose level prescribes (None: not computable: a
    per-kilogram dose without a body weight)."""
    plan = conduct_plan(participant.study)
    return plan.dose_level(participant.slot.cohort.dose_level).total_cells(body_weight_kg)


def record_dose(
    participant: Participant,
    by: Any,
    *,
    product_lot: str,
    cells: int,
    started_at: datetime,
    ended_at: datetime,
    route: str,
    volume_ml: Decimal,
    body_weight_kg: Decimal | None = None,
    premedication: str = "",
    infusion_reactions: str = "",
) -> DosingRecord:
    """One administration of the cell product at the participant's cohort dose level."""
    require_perm(by, "add_dosingrecord", "record dosing")
    require_member(by, participant.site)
    if participant.status != Participant.ENROLLED or participant.slot_id is None:
        raise ConductError(
            f"{participant} is not enrolled ({participant.get_status_display()}): no dosing"
        )
    signed = participant.assessments.filter(overall="ELIGIBLE", signatures__isnull=False)
    if not signed.exists():
        raise ConductError(f"{participant}: no signed eligible assessment: no dosing")
    require_consent(participant)
    if ended_at < started_at:
        raise ConductError("the infusion ends before it starts", field="ended_at")
    if started_at > timezone.now():
        raise ConductError("the infusion start is in the future", field="started_at")
    consent = participant.first_consent()
    if started_at < consent.consented_at:
        raise ConductError(
            f"the infusion starts before the consent ({consent.consented_at:%Y-%m-%d %H:%M} UTC)",
            field="started_at",
        )
    if participant.enrolled_at and started_at < participant.enrolled_at:
        raise ConductError(
            f"the infusion starts before the enrolment ({participant.enrolled_at:%Y-%m-%d %H:%M}"
            " UTC)",
            field="started_at",
        )
    level = conduct_plan(participant.study).dose_level(participant.slot.cohort.dose_level)
    if level.cells_per_kg is not None and body_weight_kg is None:
        raise ConductError(
            f"{level.id} is dosed per kilogram: enter the body weight", field="body_weight_kg"
        )
    plan = conduct_plan(participant.study)
    prescribed = level.total_cells(body_weight_kg)
    with transaction.atomic():
        dose = write(
            DosingRecord(
                participant=participant,
                product_lot=product_lot.strip(),
                dose_level=level.id,
                cells=cells,
                body_weight_kg=body_weight_kg,
                started_at=started_at,
                ended_at=ended_at,
                route=route.strip(),
                volume_ml=volume_ml,
                premedication=premedication,
                infusion_reactions=infusion_reactions,
            ),
            by,
        )
        difference = plan.dose_difference(cells, prescribed) if prescribed else None
        if difference is not None:
            write(
                ProtocolDeviation(
                    participant=participant,
                    dose=dose,
                    kind=ProtocolDeviation.DOSE_DIFFERS,
                    description=(
                        f"{cells:.3g} cells given; {level.id} prescribes {prescribed:.3g} "
                        f"({difference:+.1%}, tolerance ±{plan.dose_tolerance:.0%})"
                    )[:400],
                ),
                by,
            )
        return dose


def dose_deviation(dose: DosingRecord) -> ProtocolDeviation | None:
    """The deviation recorded for a dose that differs from its level (None: within)."""
    return dose.deviations.filter(kind=ProtocolDeviation.DOSE_DIFFERS).first()
