"""The bedside check: the right unit, for this participant, released, unexpired, once."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from trialdesk.product.bedside import UnitFacts, bedside_check, read_scanned
from trialdesk.product.identifiers import (
    ChainOfIdentityId,
    DonationId,
    DoseUnitId,
    IdentifierError,
)
from trialdesk.product.labels import LabelData

UNIT = DoseUnitId(DonationId("G1234", "26", "000042"), "VR001", "A0")
OTHER = DoseUnitId(DonationId("G1234", "26", "000042"), "VR001", "B0")
COI = ChainOfIdentityId("7K3M9QX2H4TB")
EXPIRES = datetime(2026, 3, 2, 15, 15, tzinfo=UTC)
NOW = EXPIRES - timedelta(hours=2)
FACTS = UnitFacts(
    scanned=UNIT.keyed,
    unit_id=UNIT,
    participant_id="NCT05331872-003",
    lot="LOT-2026-007",
    lot_released=True,
    expires_at=EXPIRES,
    chain_of_identity=COI,
)


def _label_matrix(**changes) -> str:
    fields = dict(
        unit_id=UNIT, description="UC-MSC", lot="LOT-2026-007", participant_id="NCT05331872-003",
        chain_of_identity=COI, cells=1, volume_ml=Decimal(15), expiry=EXPIRES,
        storage_temperature="2-8 C", releasing_establishment="Lab", warnings=("Caution",),
    )  # fmt: skip
    fields.update(changes)
    return LabelData(**fields).data_matrix_text


def test_the_right_unit_for_the_right_participant_passes():
    for scanned in (UNIT.keyed, UNIT.display, _label_matrix()):
        result = bedside_check(replace(FACTS, scanned=scanned), "NCT05331872-003", NOW,
                               participant_chain=COI)  # fmt: skip
        assert result.ok and result.reasons == ()
        assert "Lot LOT-2026-007 is released." in result.checks


def test_the_wrong_participant_is_refused():
    result = bedside_check(FACTS, "NCT05331872-004", NOW)
    assert not result.ok
    assert result.reasons == (
        "This unit was prepared for participant NCT05331872-003, not for NCT05331872-004. "
        "Do not infuse.",
    )


def test_a_mistyped_id_is_refused_with_the_reason():
    typo = UNIT.keyed[:-1] + ("0" if UNIT.keyed[-1] != "0" else "1")
    result = bedside_check(replace(FACTS, scanned=typo), "NCT05331872-003", NOW)
    assert not result.ok and len(result.reasons) == 1
    assert "bad check character" in result.reasons[0] and "Scan again" in result.reasons[0]


def test_another_units_label_is_refused():
    result = bedside_check(replace(FACTS, scanned=OTHER.keyed), "NCT05331872-003", NOW)
    assert not result.ok
    assert f"The scanned id {OTHER.keyed} is not this unit ({UNIT.keyed})." in result.reasons


def test_a_label_naming_someone_else_or_another_chain_is_refused():
    scanned = _label_matrix(participant_id="NCT05331872-009")
    result = bedside_check(replace(FACTS, scanned=scanned), "NCT05331872-003", NOW)
    assert any("The label names participant NCT05331872-009" in r for r in result.reasons)
    result = bedside_check(FACTS, "NCT05331872-003", NOW,
                           participant_chain=ChainOfIdentityId("AAAABBBBCCCC"))  # fmt: skip
    assert any("chain-of-identity ids" in r for r in result.reasons)


def test_unreleased_expired_and_already_infused_units_are_refused():
    r = bedside_check(replace(FACTS, lot_released=False), "NCT05331872-003", NOW)
    assert r.reasons == ("Lot LOT-2026-007 has not been released. Do not infuse.",)
    r = bedside_check(FACTS, "NCT05331872-003", EXPIRES + timedelta(minutes=75))
    assert r.reasons == (
        "The unit expired at 2026-03-02T15:15+00:00 (1 h 15 min ago). Do not infuse.",
    )
    assert not bedside_check(FACTS, "NCT05331872-003", EXPIRES).ok  # expired at the minute
    r = bedside_check(replace(FACTS, infused_at=NOW - timedelta(hours=1)), "NCT05331872-003", NOW)
    assert r.reasons == ("This unit was already infused at 2026-03-02T12:15+00:00.",)


def test_every_failure_is_listed_together():
    facts = replace(FACTS, lot_released=False, infused_at=NOW)
    r = bedside_check(facts, "NCT05331872-004", EXPIRES + timedelta(hours=1))
    assert len(r.reasons) == 4 and not r.ok


def test_read_scanned_errors():
    with pytest.raises(IdentifierError, match="nothing was scanned"):
        read_scanned("  ")
    with pytest.raises(IdentifierError, match="6"):
        read_scanned("TD1|" + UNIT.keyed)
    assert read_scanned(_label_matrix()).participant_id == "NCT05331872-003"
    with pytest.raises(ValueError, match="time zone"):
        bedside_check(FACTS, "NCT05331872-003", datetime(2026, 3, 2, 12))
