"""Issue 13's scenario through the pure core (no database): one donor -> two lots -> four
doses -> four participants; processing at 25 h is flagged; a failed endotoxin test blocks
release; the wrong participant is refused at the bedside. Also run without Django."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from trialdesk.product import (
    ChainOfIdentityId,
    DonationId,
    DoseUnitId,
    LabelData,
    UnitFacts,
    bedside_check,
    check_time_limit,
    evaluate_release,
    expiry,
    plan_dose,
    read_scanned,
    render_label_pdf,
)
from trialdesk.protocol import load_protocol

ROOT = Path(__file__).resolve().parents[2]
PROTOCOL = load_protocol(ROOT / "protocols" / "NCT05331872" / "protocol.yaml")
PLAN = PROTOCOL.cell_product
LOT_RESULTS = {
    "viable_cell_concentration": "8 10*6/mL", "viability": "91 %", "sterility": "no growth",
    "mycoplasma": "not detected", "endotoxin": "< 0.05 EU/mL", "CD73": "99.2 %",
    "CD90": "99.0 %", "CD105": "97.8 %", "CD34": "0.2 %", "CD45": "0.4 %", "CD11b": "0.6 %",
    "CD79a": "0.1 %", "HLA-DR": "0.9 %",
}  # fmt: skip


def test_one_donor_two_lots_four_doses_four_participants():
    delivery = datetime(2026, 3, 1, 6, 30, tzinfo=UTC)
    donation = DonationId("G1234", "26", "000042")
    assert DonationId.parse(donation.display) == donation
    processing = check_time_limit(
        PLAN.time_limit("delivery_to_processing"), delivery, delivery + timedelta(hours=20)
    )
    assert processing.ok

    lots = {"LOT-A": dict(LOT_RESULTS), "LOT-B": dict(LOT_RESULTS, endotoxin="0.1 EU/mL")}
    for results in lots.values():
        assert evaluate_release(PLAN.release, results).passed

    level = PROTOCOL.conduct.dose_level("DL1")
    participants = [("P-001", "61"), ("P-002", "74.5"), ("P-003", "58"), ("P-004", "80")]
    prepared = datetime(2026, 3, 20, 8, 0, tzinfo=UTC)
    units = []
    for i, (pid, weight) in enumerate(participants):
        lot = "LOT-A" if i < 2 else "LOT-B"
        dose = plan_dose(LOT_RESULTS["viable_cell_concentration"], level, Decimal(weight),
                         PLAN.volume_ml)  # fmt: skip
        assert dose.cells == int(Decimal(1_000_000) * Decimal(weight))  # 1 x10^6 cells/kg
        verdict = evaluate_release(PLAN.release, lots[lot], volume_ml=dose.volume_ml,
                                   weight_kg=Decimal(weight))  # fmt: skip
        assert verdict.dose_passed
        unit = DoseUnitId(donation, PLAN.product_code, f"{'AB'[i // 2]}{i % 2}")
        coi = ChainOfIdentityId.new()
        expires = expiry(prepared, PLAN)
        label = LabelData(unit, PLAN.description, lot, pid, coi, dose.cells, dose.volume_ml,
                          expires, PLAN.storage_temperature, PLAN.releasing_establishment,
                          PLAN.warnings)  # fmt: skip
        assert render_label_pdf(label).startswith(b"%PDF")
        units.append((pid, coi, UnitFacts(label.data_matrix_text, unit, pid, lot, True,
                                          expires, chain_of_identity=coi)))  # fmt: skip
    # four distinct units, every one traceable to the one donation
    assert len({facts.unit_id for _, _, facts in units}) == 4
    assert {read_scanned(f.scanned).unit_id.donation for _, _, f in units} == {donation}
    at_bedside = prepared + timedelta(hours=2)
    for pid, coi, facts in units:
        assert bedside_check(facts, pid, at_bedside, participant_chain=coi).ok
    # the wrong participant is refused at the bedside
    _, _, first = units[0]
    refused = bedside_check(first, "P-002", at_bedside)
    assert not refused.ok and "prepared for participant P-001, not for P-002" in refused.reasons[0]
    # an infused unit cannot be infused again
    again = bedside_check(replace(first, infused_at=at_bedside), "P-001", at_bedside)
    assert not again.ok


def test_processing_at_25_hours_is_flagged_and_failed_endotoxin_blocks_release():
    delivery = datetime(2026, 3, 1, 6, 30, tzinfo=UTC)
    late = check_time_limit(
        PLAN.time_limit("delivery_to_processing"), delivery, delivery + timedelta(hours=25)
    )
    assert not late.ok and late.is_deviation
    verdict = evaluate_release(PLAN.release, dict(LOT_RESULTS, endotoxin="1.2 EU/mL"))
    assert not verdict.passed and [i.name for i in verdict.failed] == ["endotoxin"]


SCRIPT = """
import sys
from datetime import datetime, timezone
from trialdesk.product import DonationId, evaluate_release, expiry, plan_dose, render_label_pdf
from trialdesk.product import bedside, labels
from trialdesk.protocol import load_protocol
p = load_protocol("NCT05331872")
DonationId.parse("G123498654321H")
expiry(datetime(2026, 1, 1, tzinfo=timezone.utc), p.cell_product)
plan_dose("5 10*6/mL", p.conduct.dose_level("DL1"), 60, 15)
bad = sorted(m for m in sys.modules if m == "django" or m.startswith("django."))
print("DJANGO:" + ",".join(bad))
"""


def test_the_product_core_does_not_import_django():
    env = {"TRIALDESK_PROTOCOLS": str(ROOT / "protocols"), "PYTHONPATH": str(ROOT / "src")}
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, env=env, check=True
    )
    assert out.stdout.strip().splitlines()[-1] == "DJANGO:", out.stdout + out.stderr
