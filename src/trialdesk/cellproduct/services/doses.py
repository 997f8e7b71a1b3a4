"""Dose preparation: a unit from a released lot for an enrolled participant's assigned dose
(conduct's dose level of the participant's cohort; ``DoseLevel.total_cells`` through
``trialdesk.product.dose.plan_dose``), its ISBT 128-style unit id with check character, its
expiry (``trialdesk.product.timelimits.expiry``) and its label (``trialdesk.product.labels``)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from trialdesk.cellproduct.errors import CellProductError
from trialdesk.cellproduct.models import ChainOfIdentity, Collection, DoseUnit, ProductLot
from trialdesk.cellproduct.services.common import plan_for, require, require_site
from trialdesk.cellproduct.services.release import lot_verdict
from trialdesk.conduct.models import Participant, write
from trialdesk.conduct.services.enrolment import conduct_plan

#: ISBT 128 first-level division codes (ST-002, Data Structure 003): A0, B0, ... Z0.
DIVISIONS = [f"{letter}0" for letter in "ABCDEFGHIJKLMNOPQRSTUVWXYZ"]


def chain_for(participant: Participant, by: Any) -> ChainOfIdentity:
    """The participant's chain-of-identity id (made with their first dose unit)."""
    from trialdesk.product.identifiers import ChainOfIdentityId

    existing = ChainOfIdentity.objects.filter(participant=participant).first()
    if existing is not None:
        return existing
    return write(ChainOfIdentity(participant=participant, coi=ChainOfIdentityId.new().keyed), by)


def prepare_dose(
    lot: ProductLot,
    participant: Participant,
    by: Any,
    *,
    prepared_at: datetime | None = None,
    body_weight_kg: Decimal | None = None,
) -> DoseUnit:
    """One dose unit of ``lot`` for ``participant``'s assigned dose."""
    from trialdesk.product.dose import DoseError, plan_dose
    from trialdesk.product.identifiers import DoseUnitId
    from trialdesk.product.timelimits import expiry

    require(by, "prepare_dose", "prepare a dose unit")
    collection = lot.collection
    require_site(by, collection.donor.site)
    require_site(by, participant.site)
    prepared_at = prepared_at or timezone.now()
    if prepared_at > timezone.now():
        raise CellProductError("prepared at is in the future", field="prepared_at")
    if participant.study_id != collection.donor.study_id:
        raise CellProductError(
            f"lot {lot} is made for {collection.donor.study}, {participant} is in "
            f"{participant.study}"
        )
    if participant.status != Participant.ENROLLED or participant.slot_id is None:
        raise CellProductError(f"{participant} is not enrolled: no dose unit", field="participant")
    if not hasattr(lot, "release"):
        raise CellProductError(f"lot {lot} is not released: no dose unit from it", field="lot")
    if prepared_at < lot.release.released_at:
        raise CellProductError("prepared before the lot was released", field="prepared_at")
    if body_weight_kg is None:
        raise CellProductError(
            "enter the participant's body weight: the dose's endotoxin per kg is checked "
            "against the release specification",
            field="body_weight_kg",
        )
    with transaction.atomic():
        # One preparation at a time per donation: the lot's volume and the donation's
        # division codes are counted under the lock.
        Collection.objects.select_for_update().get(pk=collection.pk)
        plan = plan_for(participant.study)
        level = conduct_plan(participant.study).dose_level(participant.slot.cohort.dose_level)
        used = sum((u.lot_volume_ml for u in lot.units.all()), Decimal(0))
        available = None if lot.volume_ml is None else lot.volume_ml - used
        try:
            dose = plan_dose(
                f"{lot.viable_cells_per_ml} /mL",
                level,
                body_weight_kg,
                plan.volume_ml,
                lot_available_ml=available,
            )
        except DoseError as exc:
            raise CellProductError(str(exc), field="body_weight_kg") from None
        verdict = lot_verdict(lot, volume_ml=dose.volume_ml, weight_kg=body_weight_kg)
        if not verdict.dose_passed:
            raise CellProductError(
                f"this dose of lot {lot} for {participant} fails the release specification: "
                + "; ".join(verdict.reasons),
                field="body_weight_kg",
            )
        taken = set(
            DoseUnit.objects.filter(lot__collection=collection).values_list("division", flat=True)
        )
        free = [d for d in DIVISIONS if d not in taken]
        if not free:
            raise CellProductError(f"donation {collection}: all {len(DIVISIONS)} divisions used")
        unit_id = DoseUnitId(collection.din, plan.product_code, free[0])
        return write(
            DoseUnit(
                lot=lot,
                participant=participant,
                chain=chain_for(participant, by),
                division=free[0],
                unit_id=unit_id.keyed,
                dose_level=level.id,
                cells=dose.cells,
                volume_ml=dose.volume_ml,
                lot_volume_ml=dose.lot_volume_ml,
                cells_per_ml=int(dose.concentration),
                body_weight_kg=body_weight_kg,
                prepared_at=prepared_at,
                expires_at=expiry(prepared_at, plan),
            ),
            by,
        )


def label_data(unit: DoseUnit) -> Any:
    """What the unit's label carries (21 CFR 1271.370), as ``trialdesk.product.labels`` takes."""
    from trialdesk.product.identifiers import ChainOfIdentityId, DoseUnitId
    from trialdesk.product.labels import LabelData

    plan = plan_for(unit.participant.study)
    return LabelData(
        unit_id=DoseUnitId.parse(unit.unit_id),
        description=plan.description,
        lot=unit.lot.lot_number,
        participant_id=unit.participant.participant_id,
        chain_of_identity=ChainOfIdentityId.parse(unit.chain.coi),
        cells=unit.cells,
        volume_ml=unit.volume_ml,
        expiry=unit.expires_at,
        storage_temperature=plan.storage_temperature,
        releasing_establishment=plan.releasing_establishment,
        warnings=tuple(plan.warnings),
        product_code_assigned_by=plan.product_code_assigned_by,
    )


def label_pdf(unit: DoseUnit, user: Any) -> bytes:
    """The unit's label as PDF bytes (for someone who may see the participant)."""
    from trialdesk.product.labels import render_label_pdf

    require(user, "view_doseunit", "print a label")
    require_site(user, unit.participant.site)
    return render_label_pdf(label_data(unit))
