"""Dose preparation from a released lot for an enrolled participant's assigned dose
(NCT05331872: 1 x10^6 cells/kg in 15 ml saline; expiry 6 h after preparation)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from tests.cellproduct.conftest import (
    GOOD_RESULTS,
    PASSWORD,
    donor_with_collection,
    enrolled_vinmec,
    lab,
    processed_lot,
    record_results,
)

from trialdesk.cellproduct.errors import CellProductError
from trialdesk.cellproduct.models import DoseUnit
from trialdesk.cellproduct.services import doses, release
from trialdesk.product.identifiers import DoseUnitId

pytestmark = pytest.mark.django_db


def released_lot(s, collection, number, results=None):
    lot = processed_lot(s, collection, number)
    record_results(s, lot, results)
    release.release_lot(lot, lab(s), password=PASSWORD, meaning=release.RELEASE_MEANING)
    lot.refresh_from_db()
    return lot


def test_a_dose_unit_for_the_assigned_dose(cell_setup):
    s = cell_setup
    (p,) = enrolled_vinmec(s, 1)
    _, collection = donor_with_collection(s)
    lot = released_lot(s, collection, "VM-L1")
    unit = doses.prepare_dose(lot, p, lab(s), body_weight_kg=Decimal("62.0"))
    # 1 x10^6 cells/kg x 62 kg = 6.2 x10^7 cells; lot 5 x10^6/ml -> 12.4 ml made up to 15 ml
    assert (unit.cells, unit.volume_ml, unit.lot_volume_ml) == (
        62_000_000,
        Decimal("15.0"),
        Decimal("12.40"),
    )
    assert unit.cells_per_ml == 62_000_000 // 15
    assert unit.expires_at - unit.prepared_at == timedelta(hours=6)
    parsed = DoseUnitId.parse(unit.unit_id)  # check character verified by the core
    assert parsed.donation.keyed == collection.din.keyed
    assert (parsed.product_code, parsed.division) == ("VR001", "A0")
    assert unit.chain.participant == p and unit.chain.coi.startswith("COI")
    second = doses.prepare_dose(lot, p, lab(s), body_weight_kg=Decimal("62.0"))
    assert second.division == "B0" and second.chain == unit.chain


def test_refused_from_an_unreleased_lot_or_for_someone_not_enrolled(cell_setup):
    s = cell_setup
    (p,) = enrolled_vinmec(s, 1)
    _, collection = donor_with_collection(s)
    lot = processed_lot(s, collection, "VM-L1")
    with pytest.raises(CellProductError, match="not released"):
        doses.prepare_dose(lot, p, lab(s), body_weight_kg=Decimal(60))
    lot = released_lot(s, collection, "VM-L2")
    with pytest.raises(CellProductError, match="body weight"):
        doses.prepare_dose(lot, p, lab(s))
    from trialdesk.conduct import services

    other = services.screen_participant(
        s.vm,
        s.sites["VINMEC"],
        s.users[("VINMEC", "coordinator")],
        initials="ZZ",
        sex="male",
        birth_date=p.birth_date,
        screened_on=p.screened_on,
        source="plain",
        data="labs: {}\n",
    )
    with pytest.raises(CellProductError, match="not enrolled"):
        doses.prepare_dose(lot, other, lab(s), body_weight_kg=Decimal(60))
    with pytest.raises(CellProductError, match="may not prepare"):
        doses.prepare_dose(lot, p, s.users[("VINMEC", "coordinator")], body_weight_kg=Decimal(60))
    assert not DoseUnit.objects.exists()


def test_the_dose_endotoxin_per_kg_is_checked(cell_setup):
    """USP <85>, K = 5 EU/kg: the dose gives EU/mL x 15 ml / weight. A lot at its 0.5 EU/mL
    limit gives 0.5 x 15 / 62 = 0.12 EU/kg to a 62 kg adult (passes) but 0.5 x 15 / 1.2 =
    6.25 EU/kg to a 1.2 kg body weight (refused, nothing prepared)."""
    s = cell_setup
    (p,) = enrolled_vinmec(s, 1)
    _, collection = donor_with_collection(s)
    lot = released_lot(s, collection, "VM-L1", {**GOOD_RESULTS, "endotoxin": ("0.5", "EU/mL")})
    with pytest.raises(CellProductError, match="endotoxin_dose: .*6.25 .*exceeds") as err:
        doses.prepare_dose(lot, p, lab(s), body_weight_kg=Decimal("1.2"))
    assert err.value.field == "body_weight_kg"
    assert not DoseUnit.objects.exists()
    unit = doses.prepare_dose(lot, p, lab(s), body_weight_kg=Decimal(62))
    assert unit.cells == 62_000_000


def test_the_lot_volume_runs_out(cell_setup):
    s = cell_setup
    people = enrolled_vinmec(s, 9)
    _, collection = donor_with_collection(s)
    lot = released_lot(s, collection, "VM-L1")  # 100 ml at 5 x10^6/ml
    for p in people[:8]:  # 12 ml each for 60 kg: 96 ml
        doses.prepare_dose(lot, p, lab(s), body_weight_kg=Decimal(60))
    with pytest.raises(CellProductError, match="has 4.00 mL left"):
        doses.prepare_dose(lot, people[8], lab(s), body_weight_kg=Decimal(60))
