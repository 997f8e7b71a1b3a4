"""Lot release against the protocol's specification (ISCT 2006 identity, USP <85> endotoxin)."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import pytest

from trialdesk.clinical.units import parse_quantity
from trialdesk.product.release import ReleaseError, endotoxin_per_kg, evaluate_release
from trialdesk.protocol import load_protocol
from trialdesk.protocol.cellproduct import parse_spec_quantity

ROOT = Path(__file__).resolve().parents[2]
SPEC = load_protocol(ROOT / "protocols" / "NCT05331872" / "protocol.yaml").cell_product.release
SPEC_46 = load_protocol(ROOT / "protocols" / "NCT05227846" / "protocol.yaml").cell_product.release

GOOD = {
    "viable_cell_concentration": "2.5 x10^6/mL",
    "viability": "92 %",
    "sterility": "No growth",
    "mycoplasma": "not detected",
    "endotoxin": "0.12 EU/mL",
    "CD73": "99.1 %",
    "CD90": "98.7 %",
    "CD105": "97.2 %",
    "CD34": "0.3 %",
    "CD45": "0.8 %",
    "CD14": "0.5 %",
    "CD19": "0.2 %",
    "HLA-DR": "1.1 %",
}


def _with(**changes):
    out = dict(GOOD)
    for k, v in changes.items():
        k = k.replace("HLA_DR", "HLA-DR")
        if v is None:
            out.pop(k, None)
        else:
            out[k] = v
    return out


def test_a_lot_meeting_every_item_is_releasable():
    verdict = evaluate_release(SPEC, GOOD)
    assert verdict.passed and not verdict.failed and not verdict.missing
    # the per-kg endotoxin is pending until a dose is prepared
    per_dose = [i for i in verdict.items if i.per_dose]
    assert [i.name for i in per_dose] == ["endotoxin_dose"] and per_dose[0].passed is None
    assert not verdict.dose_passed


def test_a_failed_endotoxin_test_blocks_release():
    verdict = evaluate_release(SPEC, _with(endotoxin="0.8 EU/mL"))
    assert not verdict.passed
    assert [i.name for i in verdict.failed] == ["endotoxin"]
    assert "0.8 EU/mL does not meet <= 0.5 EU/mL" in verdict.failed[0].reason


def test_endotoxin_per_kg_of_the_dose():
    # USP <85>: EU/kg = EU/mL x mL / kg, against K = 5 EU/kg. Independent arithmetic:
    # 0.12 x 15 / 60 = 0.03; 0.45 x 100 / 45 = 1.0; 0.5 x 100 / 8 = 6.25 (> 5: fails).
    v = evaluate_release(SPEC, GOOD, volume_ml=15, weight_kg=60)
    item = next(i for i in v.items if i.name == "endotoxin_dose")
    assert item.passed is True and item.value == "0.03" and v.dose_passed
    assert "0.12 EU/mL x 15 mL / 60 kg = 0.03 EU/kg" in item.reason
    v = evaluate_release(SPEC_46, _with(endotoxin="0.45 EU/mL"), volume_ml=100, weight_kg=45)
    assert next(i for i in v.items if i.name == "endotoxin_dose").value == "1"
    v = evaluate_release(SPEC_46, _with(endotoxin="0.5 EU/mL"), volume_ml=100, weight_kg=8)
    item = next(i for i in v.items if i.name == "endotoxin_dose")
    assert item.passed is False and item.value == "6.25"
    assert v.passed and not v.dose_passed  # the lot passes; this dose for 8 kg does not
    assert endotoxin_per_kg(parse_spec_quantity("0.5 EU/mL"), Decimal(100), Decimal(8)) == Fraction(
        25, 4
    )


@pytest.mark.parametrize(
    ("changes", "failing"),
    [
        ({"CD73": "94.9 %"}, "CD73"),
        ({"CD90": "0.90"}, None),  # no unit: an error, below
        ({"CD105": "94 %"}, "CD105"),
        ({"CD34": "2.1 %"}, "CD34"),
        ({"CD45": "3 %"}, "CD45"),
        ({"CD14": "2.5 %"}, "CD14 or CD11b"),
        ({"CD19": "4 %"}, "CD79a or CD19"),
        ({"HLA_DR": "2.01 %"}, "HLA-DR"),
        ({"viability": "69.9 %"}, "viability"),
        ({"sterility": "growth of Staphylococcus epidermidis"}, "sterility"),
        ({"mycoplasma": "detected"}, "mycoplasma"),
        ({"viable_cell_concentration": "900000 /mL"}, "viable_cell_concentration"),
    ],
)
def test_each_isct_and_safety_limit_fails_alone(changes, failing):
    if failing is None:
        with pytest.raises(ReleaseError, match="CD90 '0.90': .*has no unit"):
            evaluate_release(SPEC, _with(**changes))
        return
    verdict = evaluate_release(SPEC, _with(**changes))
    assert not verdict.passed
    assert [i.name for i in verdict.failed] == [failing]


def test_limits_are_inclusive_as_written():
    # ISCT: ">= 95%" and "<= 2%": exactly 95 % and exactly 2 % meet them.
    assert evaluate_release(SPEC, _with(CD73="95 %", CD34="2 %", HLA_DR="2.0 %")).passed


def test_either_alternative_marker_answers_and_both_must_pass_when_both_given():
    assert evaluate_release(SPEC, _with(CD14=None, CD11b="0.4 %")).passed
    v = evaluate_release(SPEC, _with(CD11b="3 %"))
    assert [i.name for i in v.failed] == ["CD14 or CD11b"]


def test_a_missing_test_is_not_releasable():
    verdict = evaluate_release(SPEC, _with(mycoplasma=None, CD14=None))
    assert not verdict.passed and not verdict.failed
    assert {i.name for i in verdict.missing} == {"mycoplasma", "CD14 or CD11b"}
    assert any("no result for CD14 or CD11b" in r for r in verdict.reasons)


def test_results_in_other_units_are_converted():
    # 2.5 x10^6/mL = 2500000 /mL = 2500 x10^6/L; 0.12 EU/mL = 120 EU/L; 92 % = 0.92 (ratio 1)
    v = evaluate_release(
        SPEC,
        _with(
            viable_cell_concentration="2500 10*6/L",
            endotoxin="120 EU/L",
            viability=parse_quantity("92 %"),
        ),
    )
    assert v.passed
    conc = next(i for i in v.items if i.name == "viable_cell_concentration")
    assert conc.value == "2.5" and conc.unit == "10*6/mL"


def test_censored_results_are_three_valued():
    # "< 0.05 EU/mL" shows <= 0.5; "< 1 EU/mL" cannot (undecided: not releasable, not failed).
    assert evaluate_release(SPEC, _with(endotoxin="< 0.05 EU/mL")).passed
    v = evaluate_release(SPEC, _with(endotoxin="< 1 EU/mL"))
    assert not v.passed and not v.failed
    assert "detection limit" in next(i for i in v.items if i.name == "endotoxin").reason
    assert not evaluate_release(SPEC, _with(CD34="> 2 %")).passed
    assert evaluate_release(SPEC, _with(CD73="> 99 %")).passed
    # the per-kg worst case uses the detection limit: < 0.05 x 100 / 50 = < 0.1 EU/kg
    v = evaluate_release(SPEC_46, _with(endotoxin="< 0.05 EU/mL"), volume_ml=100, weight_kg=50)
    item = next(i for i in v.items if i.name == "endotoxin_dose")
    assert item.passed is True and item.value == "< 0.1"


@pytest.mark.parametrize(
    ("results", "kwargs", "message"),
    [
        ({"CD3": "1 %"}, {}, r"unknown test 'CD3' \(the specification's tests: .*CD73"),
        ({"endotoxin_dose": "1 EU/kg"}, {}, r"unknown test 'endotoxin_dose'"),
        ({"CD73": "97 mg/dL"}, {}, r"release result CD73 '97 mg/dL': .*specification is in %"),
        ({"endotoxin": "0.1 [EU]/mL"}, {}, r"release result endotoxin"),  # Ehrlich, not endotoxin
        ({"CD73": "104 %"}, {}, r"CD73 '104 %': a percentage cannot exceed 100"),
        ({"viability": "-3 %"}, {}, r"viability '-3 %': .*cannot be negative"),
        ({"CD73": 97}, {}, r"CD73: give a value with its unit as text"),
        ({"sterility": 0}, {}, r"sterility: expected text"),
        ({"cd73": "97 %", "CD73": "98 %"}, {}, r"'CD73' given twice"),
        ({}, {"volume_ml": 15}, r"need both volume_ml and weight_kg"),
        ({}, {"volume_ml": 15, "weight_kg": 0}, r"weight_kg must be a positive number of kg"),
        ({}, {"volume_ml": "lots", "weight_kg": 60}, r"volume_ml 'lots' is not a number"),
    ],
)
def test_bad_input_names_the_test(results, kwargs, message):
    with pytest.raises(ReleaseError, match=message):
        evaluate_release(SPEC, results, **kwargs)
