"""Dose units from a lot: the protocol's cells (DoseLevel.total_cells), volumes, refusals."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from trialdesk.clinical.units import parse_quantity
from trialdesk.product.dose import DoseError, plan_dose
from trialdesk.protocol import load_protocol

ROOT = Path(__file__).resolve().parents[2]
P46 = load_protocol(ROOT / "protocols" / "NCT05227846" / "protocol.yaml")
P72 = load_protocol(ROOT / "protocols" / "NCT05331872" / "protocol.yaml")


@pytest.mark.parametrize(
    ("level", "cells", "draw", "conc"),
    [
        # NCT05227846 fixed doses 5, 10, 15, 20 x10^7 cells in 100 mL (volume an ASSUMPTION),
        # from a lot at 4 x10^6 cells/mL: draw = cells / 4e6 mL, concentration = cells / 100.
        ("DL1", 50_000_000, Decimal("12.5"), Decimal(500_000)),
        ("DL2", 100_000_000, Decimal(25), Decimal(1_000_000)),
        ("DL3", 150_000_000, Decimal("37.5"), Decimal(1_500_000)),
        ("DL4", 200_000_000, Decimal(50), Decimal(2_000_000)),
    ],
)
def test_fixed_doses_of_nct05227846(level, cells, draw, conc):
    plan = plan_dose("4 10*6/mL", P46.conduct.dose_level(level), None, P46.cell_product.volume_ml)
    assert plan.cells == cells and plan.volume_ml == Decimal(100)
    assert plan.lot_volume_ml == draw and plan.diluent_ml == Decimal(100) - draw
    assert plan.concentration == conc


def test_per_kg_dose_of_nct05331872_in_15_ml():
    # 1 x10^6 cells/kg x 72.5 kg = 72 500 000 cells; in 15 mL = 4 833 333.3 cells/mL; from a
    # lot at 6.5 x10^6/mL the draw is 11.153846... mL, rounded up to 11.16 mL.
    level = P72.conduct.dose_level("DL1")
    plan = plan_dose(parse_quantity("6.5 10*6/mL"), level, Decimal("72.5"), 15)
    assert plan.cells == 72_500_000
    assert plan.lot_volume_ml == Decimal("11.16") and plan.diluent_ml == Decimal("3.84")
    assert plan.concentration.quantize(Decimal("0.1")) == Decimal("4833333.3")
    assert plan.weight_kg == Decimal("72.5")


def test_other_concentration_spellings():
    level = P46.conduct.dose_level("DL1")
    a = plan_dose("4 10*6/mL", level, None, 100)
    b = plan_dose("4000000 /mL", level, None, 100)
    c = plan_dose("4000 10*6/L", level, None, 100)
    assert a == b == c


def test_refuses_a_dose_the_lot_cannot_supply():
    level = P46.conduct.dose_level("DL4")  # 2 x10^8 cells
    with pytest.raises(DoseError, match=r"cannot supply 200,000,000 cells in 100 mL: .*200 mL"):
        plan_dose("1 10*6/mL", level, None, 100)
    with pytest.raises(DoseError, match=r"the lot has 30 mL left; 200,000,000 cells need 50 mL"):
        plan_dose("4 10*6/mL", level, None, 100, lot_available_ml=30)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("4 10*6/mL", "DL1", None, 15), r"DL1 .* is per kg: the participant's body weight"),
        ((4_000_000, "DL1", 60, 15), r"lot concentration needs its unit"),
        (("4 %", "DL1", 60, 15), r"lot concentration 4 %: .*cannot convert"),
        (("4 10*6/mL", "DL1", -60, 15), r"weight_kg must be positive"),
        (("4 10*6/mL", "DL1", 60, 0), r"volume_ml must be positive"),
        (("4 10*6/mL", "DL1", 60, "much"), r"volume_ml 'much' is not a number"),
        (("0 /mL", "DL1", 60, 15), r"lot concentration 0 /mL must be positive"),
    ],
)
def test_bad_input_is_refused_naming_it(args, message):
    conc, level, weight, volume = args
    with pytest.raises(DoseError, match=message):
        plan_dose(conc, P72.conduct.dose_level(level), weight, volume)
