"""The bedside check before an infusion, and the infusion it allows.

The scanned or keyed unit id is checked by ``trialdesk.product.bedside.bedside_check``
(check character, this participant, lot released, not expired, not used); every check is
kept (``BedsideCheck``), a refusal too, with its reasons. On success the infusion is recorded
through conduct's dosing service and the unit is linked to the dosing record."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from trialdesk.cellproduct.errors import CellProductError
from trialdesk.cellproduct.models import BedsideCheck, ChainOfIdentity, DoseUnit, ProductDeviation
from trialdesk.cellproduct.services.common import limit_between, plan_for, require
from trialdesk.conduct.models import DosingRecord, Participant, write
from trialdesk.conduct.services.access import require_member
from trialdesk.conduct.services.dosing import record_dose


def find_unit(scanned: str) -> tuple[DoseUnit | None, str]:
    """The unit a scan names (a dose unit id keyed or displayed, or the label's Data Matrix
    text: ``trialdesk.product.bedside.read_scanned``), or None and why not."""
    from trialdesk.product.bedside import read_scanned
    from trialdesk.product.identifiers import IdentifierError

    try:
        label = read_scanned(scanned)
    except IdentifierError as exc:
        return None, f"The scanned id was not accepted: {exc}. Scan again or type the id."
    unit = (
        DoseUnit.objects.select_related(
            "lot__collection", "lot__release", "participant", "chain", "dosing_record"
        )
        .filter(unit_id=label.unit_id.keyed)
        .first()
    )
    if unit is None:
        return None, f"No dose unit {label.unit_id.keyed} is recorded. Do not infuse."
    return unit, ""


def unit_facts(unit: DoseUnit, scanned: str) -> Any:
    """The unit's record as the core's bedside check reads it."""
    from trialdesk.product.bedside import UnitFacts
    from trialdesk.product.identifiers import ChainOfIdentityId, DoseUnitId

    return UnitFacts(
        scanned=scanned,
        unit_id=DoseUnitId.parse(unit.unit_id),
        participant_id=unit.participant.participant_id or "",
        lot=unit.lot.lot_number,
        lot_released=hasattr(unit.lot, "release"),
        expires_at=unit.expires_at,
        infused_at=unit.dosing_record.started_at if unit.dosing_record_id else None,
        chain_of_identity=ChainOfIdentityId.parse(unit.chain.coi),
    )


def thaw_check(unit: DoseUnit, infusion_start: datetime) -> Any:
    """The protocol's thaw -> infusion_start limit for a unit from a thawed lot (None: no
    thaw, or the protocol sets no such limit)."""
    from trialdesk.product.timelimits import check_time_limit

    thawed = [c.thawed_at for c in unit.lot.cryo.all() if c.thawed_at]
    limit = limit_between(plan_for(unit.participant.study), "thaw", "infusion_start")
    if not thawed or limit is None:
        return None
    return check_time_limit(limit, max(thawed), infusion_start)


def check_unit(
    participant: Participant, scanned: str, by: Any, *, now: datetime | None = None
) -> BedsideCheck:
    """Check ``scanned`` for ``participant`` (``trialdesk.product.bedside.bedside_check``)
    and keep the result, accepted or refused, with its reasons."""
    from trialdesk.product.bedside import bedside_check
    from trialdesk.product.identifiers import ChainOfIdentityId

    require(by, "bedside_check", "check a dose unit at the bedside")
    require_member(by, participant.site)
    now = now or timezone.now()
    scanned = (scanned or "").strip()[:80]
    unit, why_not = find_unit(scanned)
    if unit is None:
        reasons = [why_not]
    else:
        chain = ChainOfIdentity.objects.filter(participant=participant).first()
        result = bedside_check(
            unit_facts(unit, scanned),
            participant.participant_id or str(participant),
            now,
            participant_chain=ChainOfIdentityId.parse(chain.coi) if chain else None,
        )
        reasons = list(result.reasons)
        tc = thaw_check(unit, now)
        if not reasons and tc is not None and tc.blocks:
            reasons.append(tc.message)
    mine = unit is not None and unit.participant_id == participant.pk
    return write(
        BedsideCheck(
            participant=participant,
            scanned=scanned,
            unit=unit if mine else None,
            ok=not reasons,
            reasons="\n".join(reasons),
            checked_at=now,
        ),
        by,
    )


def infuse(
    participant: Participant,
    scanned: str,
    by: Any,
    *,
    started_at: datetime,
    ended_at: datetime,
    route: str,
    body_weight_kg: Decimal | None = None,
    premedication: str = "",
    infusion_reactions: str = "",
) -> DoseUnit:
    """Check the unit at the bedside and, when accepted, record the infusion (conduct's
    ``record_dose``) and link the unit to it. A refusal is kept and raised with its reasons."""
    check = check_unit(participant, scanned, by, now=started_at)
    if not check.ok:
        raise CellProductError(
            f"unit {check.scanned or '(nothing scanned)'} refused for {participant}: "
            + "; ".join(check.reasons.splitlines()),
            field="scanned",
        )
    unit = check.unit
    with transaction.atomic():
        unit = DoseUnit.objects.select_for_update().get(pk=unit.pk)
        if unit.dosing_record_id is not None:
            raise CellProductError(f"unit {unit} has already been infused", field="scanned")
        dosing = record_dose(
            participant,
            by,
            product_lot=unit.unit_id,
            cells=unit.cells,
            started_at=started_at,
            ended_at=ended_at,
            route=route,
            volume_ml=unit.volume_ml,
            body_weight_kg=body_weight_kg if body_weight_kg is not None else unit.body_weight_kg,
            premedication=premedication,
            infusion_reactions=infusion_reactions,
        )
        unit.dosing_record = dosing
        write(unit, by, f"infused (dosing record {dosing.pk})")
        tc = thaw_check(unit, started_at)
        if tc is not None and tc.is_deviation:
            write(
                ProductDeviation(
                    lot=unit.lot,
                    collection=unit.lot.collection,
                    limit=tc.limit.id,
                    description=f"unit {unit.unit_id}: {tc.message}"[:400],
                ),
                by,
            )
        return unit


def link_infusion(unit: DoseUnit, dosing: DosingRecord, by: Any) -> DoseUnit:
    """Link a dosing record entered on conduct's dosing page (or an earlier system) to the
    unit that was given: the same bedside check is made at the infusion's start time, and the
    record must be this unit's participant's, with this unit's cells and volume."""
    if dosing.participant_id != unit.participant_id:
        raise CellProductError(
            f"dosing record {dosing.pk} is {dosing.participant}'s; unit {unit} was prepared for "
            f"{unit.participant}"
        )
    if (dosing.cells, dosing.volume_ml) != (unit.cells, unit.volume_ml):
        raise CellProductError(
            f"dosing record {dosing.pk} gave {dosing.cells} cells in {dosing.volume_ml} ml; "
            f"unit {unit} holds {unit.cells} in {unit.volume_ml} ml"
        )
    if DoseUnit.objects.filter(dosing_record=dosing).exists():
        raise CellProductError(f"dosing record {dosing.pk} is already linked to a unit")
    check = check_unit(unit.participant, unit.unit_id, by, now=dosing.started_at)
    if not check.ok:
        raise CellProductError(
            f"unit {unit} refused for {unit.participant}: " + "; ".join(check.reasons.splitlines())
        )
    with transaction.atomic():
        unit = DoseUnit.objects.select_for_update().get(pk=unit.pk)
        if unit.dosing_record_id is not None:
            raise CellProductError(f"unit {unit} has already been infused")
        unit.dosing_record = dosing
        return write(unit, by, f"infusion recorded earlier linked (dosing record {dosing.pk})")
