"""Trace both ways: a donation to every lot, dose unit and participant; a participant back
to the donations and donors whose cells they received.

With a ``user``, what the user may not see is left out (site scoping: donors of their sites,
participants of their sites), and the trace says how many entries were left out; without one
(the ``trialdesk trace`` command, run by whoever runs the server) everything is shown."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from trialdesk.cellproduct.errors import CellProductError
from trialdesk.cellproduct.models import ChainOfIdentity, Collection, Donor, DoseUnit
from trialdesk.conduct.models import Participant


@dataclass(frozen=True)
class UnitLine:
    unit_id: str
    lot: str
    participant: str
    participant_pk: int | None
    site: str
    chain_of_identity: str
    cells: int
    prepared_at: datetime
    expires_at: datetime
    infused_at: datetime | None


@dataclass(frozen=True)
class LotLine:
    lot: str
    released: bool
    released_by: str
    units: tuple[UnitLine, ...]


@dataclass(frozen=True)
class DonationTrace:
    donation_id: str
    donor: str
    study: str
    delivered_at: datetime
    lots: tuple[LotLine, ...]
    hidden: int = 0

    @property
    def participants(self) -> list[str]:
        return sorted({u.participant for lot in self.lots for u in lot.units})


@dataclass(frozen=True)
class SourceLine:
    unit: UnitLine
    donation_id: str
    donor: str
    delivered_at: datetime


@dataclass(frozen=True)
class ParticipantTrace:
    participant: str
    participant_pk: int
    study: str
    site: str
    chain_of_identity: str
    sources: tuple[SourceLine, ...] = field(default=())

    @property
    def donors(self) -> list[str]:
        return sorted({s.donor for s in self.sources})


def _unit_line(unit: DoseUnit, shown: bool = True) -> UnitLine:
    p = unit.participant
    return UnitLine(
        unit_id=unit.unit_id,
        lot=unit.lot.lot_number,
        participant=str(p),
        participant_pk=p.pk if shown else None,
        site=p.site.code,
        chain_of_identity=unit.chain.coi,
        cells=unit.cells,
        prepared_at=unit.prepared_at,
        expires_at=unit.expires_at,
        infused_at=unit.dosing_record.started_at if unit.dosing_record_id else None,
    )


def find_collection(text: str, user: Any = None) -> Collection:
    """The donation a keyed, displayed or scanned DIN names (check character verified)."""
    from trialdesk.product.identifiers import DonationId, IdentifierError

    try:
        din = DonationId.parse(text)
    except IdentifierError as exc:
        raise CellProductError(str(exc), field="query") from None
    found = Collection.objects.select_related("donor__study").filter(
        din_facility=din.facility, din_year=din.year, din_sequence=din.sequence
    )
    if user is not None:
        found = found.filter(donor__in=Donor.objects.visible_to(user))
    collection = found.first()
    if collection is None:
        raise CellProductError(f"no donation {din.keyed} recorded", field="query")
    return collection


def trace_donation(text: str, user: Any = None) -> DonationTrace:
    collection = find_collection(text, user)
    visible = (
        None
        if user is None
        else set(Participant.objects.visible_to(user).values_list("pk", flat=True))
    )
    hidden = 0
    lots = []
    for lot in collection.lots.select_related("release").order_by("lot_number"):
        units = []
        for unit in lot.units.select_related(
            "participant__site", "chain", "dosing_record", "lot"
        ).order_by("division"):
            if visible is not None and unit.participant_id not in visible:
                hidden += 1
                continue
            units.append(_unit_line(unit))
        release = getattr(lot, "release", None)
        lots.append(
            LotLine(
                lot=lot.lot_number,
                released=release is not None,
                released_by=release.printed_name if release else "",
                units=tuple(units),
            )
        )
    return DonationTrace(
        donation_id=collection.din.keyed,
        donor=collection.donor.code,
        study=collection.donor.study.nct_id,
        delivered_at=collection.delivered_at,
        lots=tuple(lots),
        hidden=hidden,
    )


def find_participants(text: str, user: Any = None) -> list[Participant]:
    """Participants by participant id, screening number or chain-of-identity id."""
    text = (text or "").strip()
    found = Participant.objects.select_related("study", "site")
    if user is not None:
        found = found.visible_to(user)
    by_id = list(found.filter(participant_id=text)) or list(found.filter(screening_number=text))
    if by_id:
        return by_id
    compact = text.replace("-", "").replace(" ", "").upper()
    chain = ChainOfIdentity.objects.filter(coi=compact).first()
    if chain is not None and found.filter(pk=chain.participant_id).exists():
        return [chain.participant]
    return []


def trace_participant(participant: Participant) -> ParticipantTrace:
    chain = ChainOfIdentity.objects.filter(participant=participant).first()
    sources = []
    for unit in participant.dose_units.select_related(
        "lot__collection__donor", "chain", "dosing_record", "participant__site", "lot"
    ).order_by("prepared_at"):
        c = unit.lot.collection
        sources.append(SourceLine(_unit_line(unit), c.din.keyed, c.donor.code, c.delivered_at))
    return ParticipantTrace(
        participant=str(participant),
        participant_pk=participant.pk,
        study=participant.study.nct_id,
        site=participant.site.code,
        chain_of_identity=chain.coi if chain else "",
        sources=tuple(sources),
    )


def trace(text: str, user: Any = None) -> list[DonationTrace | ParticipantTrace]:
    """Whatever ``text`` names: a donation id (if it parses as one and is recorded), else
    participants by id or chain of identity. Raises naming what was not found."""
    from trialdesk.product.identifiers import DonationId, IdentifierError

    try:
        DonationId.parse(text)
    except IdentifierError as exc:
        din_error = str(exc)
    else:
        return [trace_donation(text, user)]
    people = find_participants(text, user)
    if not people:
        raise CellProductError(
            f"{text!r} is neither a recorded donation id ({din_error}) nor a participant "
            "id, screening number or chain-of-identity id"
            + (" you may see" if user is not None else ""),
            field="query",
        )
    return [trace_participant(p) for p in people]
