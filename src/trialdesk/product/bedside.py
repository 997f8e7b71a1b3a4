"""The bedside check before an infusion: is this the right unit for this participant, now?

The nurse scans the unit's label (the Code 128 dose unit id, or the Data Matrix) or types the
id. The app reads what was scanned with :func:`read_scanned` to find the unit's record, then
calls :func:`bedside_check` with the record's facts (:class:`UnitFacts`). The infusion goes
ahead only when every check passes:

1. the scanned text is a dose unit id whose check character is right (ISO 7064 MOD 37-2;
   a mistyped or misread id is refused, never looked up by a near match);
2. it is the id of this unit (the record the app found);
3. the unit was prepared for this participant (and, when the Data Matrix was scanned, the
   label's participant and chain of identity are this participant's);
4. its lot is released;
5. it has not expired (expiry is the protocol's preparation -> infusion limit);
6. it has not been infused already.

Each refusal is a sentence the nurse can act on. This follows the positive patient and
product identification at the bedside that transfusion practice requires (e.g. UK Red Book;
AABB Standards for Cellular Therapy Services: verification of the recipient's and the
product's identity immediately before administration).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from trialdesk.product.identifiers import ChainOfIdentityId, DoseUnitId, IdentifierError

__all__ = ["BedsideResult", "ScannedLabel", "UnitFacts", "bedside_check", "read_scanned"]

DATA_MATRIX_PREFIX = "TD1|"


@dataclass(frozen=True)
class ScannedLabel:
    """What a scan says: the unit id, and from a Data Matrix the participant, chain of
    identity and lot printed on the label."""

    unit_id: DoseUnitId
    participant_id: str | None = None
    chain_of_identity: ChainOfIdentityId | None = None
    lot: str | None = None


def read_scanned(text: str) -> ScannedLabel:
    """Read a scanned or typed label: a dose unit id (keyed or displayed) or the label's Data
    Matrix text (``TD1|unit|lot|participant|chain|expiry``; see
    :mod:`trialdesk.product.labels`). Raises :class:`IdentifierError` naming what is wrong.
    """
    if not isinstance(text, str) or not text.strip():
        raise IdentifierError("scanned id: nothing was scanned or entered")
    text = text.strip()
    if not text.startswith(DATA_MATRIX_PREFIX):
        return ScannedLabel(DoseUnitId.parse(text))
    parts = text.split("|")
    if len(parts) != 6:
        raise IdentifierError(
            f"scanned label: {len(parts)} fields; a trialdesk Data Matrix has 6 (TD1, unit, "
            "lot, participant, chain of identity, expiry)"
        )
    _, unit, lot, participant, coi, _expiry = parts
    return ScannedLabel(
        unit_id=DoseUnitId.parse(unit),
        participant_id=participant or None,
        chain_of_identity=ChainOfIdentityId.parse(coi) if coi else None,
        lot=lot or None,
    )


@dataclass(frozen=True)
class UnitFacts:
    """What the system knows about the unit (from its record) and what was scanned."""

    scanned: str
    unit_id: DoseUnitId
    participant_id: str
    lot: str
    lot_released: bool
    expires_at: datetime
    infused_at: datetime | None = None
    chain_of_identity: ChainOfIdentityId | None = None


@dataclass(frozen=True)
class BedsideResult:
    """``ok`` when every check passed; ``reasons`` are the refusals, ``checks`` every check
    made, as sentences."""

    ok: bool
    reasons: tuple[str, ...]
    checks: tuple[str, ...] = ()


def bedside_check(
    unit: UnitFacts,
    participant_id: str,
    now: datetime,
    *,
    participant_chain: ChainOfIdentityId | None = None,
) -> BedsideResult:
    """Check ``unit`` for ``participant_id`` at ``now`` (timezone-aware).

    ``participant_chain`` is the participant's chain-of-identity id when the app holds one;
    the unit's must then be the same.
    """
    if not isinstance(unit, UnitFacts):
        raise TypeError(f"bedside check: expected UnitFacts, got {type(unit).__name__}")
    if not isinstance(now, datetime) or not isinstance(unit.expires_at, datetime):
        raise ValueError("bedside check: now and the unit's expiry must be dates and times")
    if now.utcoffset() is None or unit.expires_at.utcoffset() is None:
        raise ValueError("bedside check: times must carry their time zone")
    reasons: list[str] = []
    checks: list[str] = []
    try:
        scanned = read_scanned(unit.scanned)
    except IdentifierError as exc:
        reason = (
            f"The scanned id was not accepted: {exc}. Scan again or type the id from the label."
        )
        return BedsideResult(False, (reason,), (reason,))
    checks.append(f"Scanned id {scanned.unit_id.display} read with a valid check character.")
    if scanned.unit_id != unit.unit_id:
        reasons.append(
            f"The scanned id {scanned.unit_id.keyed} is not this unit ({unit.unit_id.keyed})."
        )
    else:
        checks.append("The scanned id is this unit's.")
    if unit.participant_id != participant_id:
        reasons.append(
            f"This unit was prepared for participant {unit.participant_id}, not for "
            f"{participant_id}. Do not infuse."
        )
    elif scanned.participant_id is not None and scanned.participant_id != participant_id:
        reasons.append(
            f"The label names participant {scanned.participant_id}, not {participant_id}: "
            "the label does not match the unit's record. Do not infuse."
        )
    else:
        checks.append(f"The unit belongs to participant {participant_id}.")
    chains = {c for c in (unit.chain_of_identity, scanned.chain_of_identity) if c is not None}
    if participant_chain is not None:
        chains.add(participant_chain)
    if len(chains) > 1:
        reasons.append(
            "The chain-of-identity ids of the unit, its label and the participant differ ("
            + ", ".join(sorted(c.display for c in chains))
            + "). Do not infuse."
        )
    elif chains:
        checks.append(f"Chain of identity {next(iter(chains)).display} matches.")
    if scanned.lot is not None and scanned.lot != unit.lot:
        reasons.append(f"The label's lot {scanned.lot} is not the unit's lot {unit.lot}.")
    if not unit.lot_released:
        reasons.append(f"Lot {unit.lot} has not been released. Do not infuse.")
    else:
        checks.append(f"Lot {unit.lot} is released.")
    if now >= unit.expires_at:
        late = now - unit.expires_at
        minutes = int(late.total_seconds() // 60)
        reasons.append(
            f"The unit expired at {unit.expires_at.isoformat(timespec='minutes')} "
            f"({minutes // 60} h {minutes % 60:02d} min ago). Do not infuse."
        )
    else:
        checks.append(
            f"The unit is within its expiry ({unit.expires_at.isoformat(timespec='minutes')})."
        )
    if unit.infused_at is not None:
        reasons.append(
            f"This unit was already infused at {unit.infused_at.isoformat(timespec='minutes')}."
        )
    else:
        checks.append("The unit has not been infused before.")
    return BedsideResult(not reasons, tuple(reasons), tuple(checks))
