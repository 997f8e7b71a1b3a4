"""The cell_product section of protocol.yaml: the seed plans and every load-time error."""

from __future__ import annotations

import copy
from decimal import Decimal
from pathlib import Path

import pytest
import yaml

from trialdesk.protocol import CellProductPlan, ProtocolError, load_protocol
from trialdesk.protocol.cellproduct import parse_spec_quantity

ROOT = Path(__file__).resolve().parents[2]


def _data(nct: str) -> dict:
    return yaml.safe_load((ROOT / "protocols" / nct / "protocol.yaml").read_text())


def _load(data: dict):
    return load_protocol(data, name="test.yaml")


def test_nct05331872_listing_facts():
    c = _load(_data("NCT05331872")).cell_product
    assert isinstance(c, CellProductPlan)
    # Listing: processed within 24 h of vaginal delivery; 15 ml of saline.
    limit = c.time_limit("delivery_to_processing")
    assert (limit.start, limit.end, limit.hours) == ("delivery", "processing_start", Decimal(24))
    assert limit.on_breach == "deviation"
    assert c.volume_ml == Decimal(15) and "saline" in c.diluent
    assert c.expiry_limit.on_breach == "block"
    assert c.product_code_assigned_by == "trial"  # configured, not an ICCBBA code
    assert c.use == "allogeneic"
    assert [lv.id for lv in c.dose_levels] == ["DL1"]


def test_nct05227846_volume_is_the_conducts_and_marked_assumption():
    p = _load(_data("NCT05227846"))
    c = p.cell_product
    assert c.volume_ml == p.conduct.volume_ml == Decimal(100)
    assert "ASSUMPTION" in c.volume_source
    assert c.time_limit("thaw_to_infusion").hours == Decimal(2)
    assert [lv.cells for lv in c.dose_levels] == [50_000_000, 100_000_000, 150_000_000, 200_000_000]


@pytest.mark.parametrize("nct", ["NCT05227846", "NCT05331872"])
def test_isct_minimal_criteria_are_the_identity_spec(nct):
    # Dominici M et al., Cytotherapy 2006;8:315-317: CD73, CD90, CD105 >= 95%; CD45, CD34,
    # CD14 or CD11b, CD79a or CD19, HLA-DR <= 2%.
    spec = _load(_data(nct)).cell_product.release
    identity = {it.name: it for it in spec.items if it.group == "identity"}
    assert {n: identity[n].limit_text for n in identity} == {
        "CD73": ">= 95 %",
        "CD90": ">= 95 %",
        "CD105": ">= 95 %",
        "CD34": "<= 2 %",
        "CD45": "<= 2 %",
        "CD14 or CD11b": "<= 2 %",
        "CD79a or CD19": "<= 2 %",
        "HLA-DR": "<= 2 %",
    }
    assert identity["CD14 or CD11b"].tests == ("CD14", "CD11b")
    assert spec.item("endotoxin_dose").per_kg_of == "endotoxin"
    assert spec.item("endotoxin_dose").limit_text == "<= 5 EU/kg"  # USP <85>, K = 5 EU/kg
    assert "endotoxin_dose" not in spec.test_names and "CD19" in spec.test_names


def test_endotoxin_spelling_is_not_the_ehrlich_unit():
    q = parse_spec_quantity("0.25 EU/mL")
    assert q.unit == "{EU}/mL"
    assert q.to("{EU}/L").value == Decimal(250)


def _mutate(path, value=None, *, delete=False, nct="NCT05331872"):
    data = copy.deepcopy(_data(nct))
    node = data["cell_product"]
    for key in path[:-1]:
        node = node[key]
    if delete:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return data


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        (
            ("time_limits", 0, "from"),
            "birth",
            r"cell_product\.time_limits\[0\]\.from: unknown event 'birth'",
        ),
        (("time_limits", 0, "to"), "delivery", r"time_limits\[0\]: delivery does not come before"),
        (("time_limits", 0, "hours"), 0, r"time_limits\[0\]\.hours: must be positive"),
        (("time_limits", 1, "id"), "delivery_to_processing", r"duplicate time limit id"),
        (("time_limits", 0, "on_breach"), "warn", r"cell_product\.time_limits\[0\]\.on_breach"),
        (
            ("release", "tests", 1, "limit"),
            "70 %",
            r"release\.tests\[1\]\.limit: .*needs a comparator",
        ),
        (
            ("release", "tests", 1, "limit"),
            ">= 70 furlongs",
            r"release\.tests\[1\]\.limit: .*furlongs",
        ),
        (
            ("release", "tests", 5, "per_kg_of"),
            "viability",
            r"tests\[5\]\.per_kg_of: viability is in %",
        ),
        (
            ("release", "tests", 5, "per_kg_of"),
            "sterility",
            r"tests\[5\]\.per_kg_of: 'sterility' is not a measured",
        ),
        (
            ("release", "tests", 5, "limit"),
            "<= 5 {EU}/mL",
            r"tests\[5\]\.limit: a per-kg dose limit is per kg",
        ),
        (
            ("release", "tests", 7, "name"),
            "CD73",
            r"tests\[7\]\.name: test 'CD73' is specified twice",
        ),
        (("volume", "ml"), 20, r"volume\.ml: 20 ml differs from conduct\.volume_ml 15"),
        (("product_code", "code"), "S-001", r"cell_product\.product_code\.code"),
        (("warnings",), ["For intravenous use only."], r"warnings: .*21 CFR 312\.6"),
        (
            ("use",),
            "autologous",
            r"warnings: an autologous product carries 'FOR AUTOLOGOUS USE ONLY'",
        ),
    ],
)
def test_load_errors_name_the_field(path, value, message):
    with pytest.raises(ProtocolError, match=message):
        _load(_mutate(path, value))


def test_missing_product_code_is_a_schema_error():
    with pytest.raises(ProtocolError, match=r"cell_product: 'product_code' is a required"):
        _load(_mutate(("product_code",), delete=True))


def test_a_spec_item_needs_a_limit_or_accepted_results():
    with pytest.raises(ProtocolError, match=r"cell_product\.release\.tests\[2\]"):
        _load(_mutate(("release", "tests", 2, "accept"), delete=True))
