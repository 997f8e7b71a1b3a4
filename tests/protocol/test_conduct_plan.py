"""The conduct section of protocol.yaml: the seed plans and every load-time error."""

from __future__ import annotations

import copy
import os
import time
from decimal import Decimal
from pathlib import Path

import pytest
import yaml

from trialdesk.protocol import (
    ConductPlan,
    DoseLevel,
    EscalationPlan,
    ProtocolError,
    VisitDefinition,
    load_protocol,
)

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _protocols_env(monkeypatch):
    monkeypatch.setenv("TRIALDESK_PROTOCOLS", str(ROOT / "protocols"))


def _data(nct: str) -> dict:
    return yaml.safe_load((ROOT / "protocols" / nct / "protocol.yaml").read_text())


def test_nct05227846_plan_by_nct_id():
    p = load_protocol("NCT05227846")
    c = p.conduct
    assert isinstance(c, ConductPlan)
    assert c.max_enrolment == 24 and c.route == "intravenous infusion"
    assert c.ctcae_version == "5.0" and c.volume_ml == Decimal("100")
    # registry arm: 5, 10, 15 and 20 x10^7 cells
    assert [(d.id, d.order, d.cells, d.cells_per_kg) for d in c.dose_levels] == [
        ("DL1", 1, 50_000_000, None),
        ("DL2", 2, 100_000_000, None),
        ("DL3", 3, 150_000_000, None),
        ("DL4", 4, 200_000_000, None),
    ]
    assert c.dose_level("DL3") == DoseLevel("DL3", 3, "15 x10^7 cells", 150_000_000, None)
    esc = c.escalation
    assert isinstance(esc, EscalationPlan)
    assert (esc.design, esc.start_level, esc.cohort_min, esc.cohort_max) == ("3+3", "DL1", 3, 6)
    assert esc.dlt_window_days == 28
    assert [d.id for d in esc.dlt_definition] == ["dlt-1", "dlt-2", "dlt-3", "dlt-4"]
    assert esc.dlt_definition[0].exclude_terms[0] == "Neutrophil count decreased"
    assert [v.code for v in c.visits] == ["SCR", "D1", "D7", "D14", "D28", "M3", "M6", "M12"]
    assert [v.day for v in c.visits] == [-1, 1, 7, 14, 28, 91, 181, 366]
    scr = c.visit("SCR")
    assert (scr.first_day, scr.last_day) == (-28, -1)
    assert c.infusion_visit.code == "D1" and c.infusion_visit.is_infusion
    d28 = c.visit("D28")
    assert (d28.first_day, d28.last_day) == (28, 35)  # the DLT window is fully observed
    assert "ascites" in c.visit("M3").assessments and "encephalopathy" in d28.assessments
    assert c.lab_panel[:5] == ("bilirubin", "albumin", "inr", "creatinine", "sodium")
    assert not c.is_single_arm


def test_nct05331872_plan_single_arm_per_kg():
    c = load_protocol("nct05331872").conduct
    assert c.max_enrolment == 20 and c.escalation is None and c.is_single_arm
    assert c.volume_ml == Decimal("15")  # "suspended in 15 ml of saline buffer"
    (dl,) = c.dose_levels
    assert (dl.id, dl.order, dl.cells, dl.cells_per_kg) == ("DL1", 1, None, 1_000_000)
    assert "ASSUMPTION" in dl.notes
    # registry time frame: baseline, 3, 6 and 12 months after transplantation
    assert {"D1", "M3", "M6", "M12"} <= {v.code for v in c.visits}
    with pytest.raises(ProtocolError, match="single-arm trial has no escalation design"):
        c.build_design()


def test_load_by_nct_id_is_cached_until_the_file_changes(tmp_path, monkeypatch):
    folder = tmp_path / "NCT05331872"
    folder.mkdir()
    src = (ROOT / "protocols" / "NCT05331872" / "protocol.yaml").read_text()
    (folder / "protocol.yaml").write_text(src)
    monkeypatch.setenv("TRIALDESK_PROTOCOLS", str(tmp_path))
    first = load_protocol("NCT05331872")
    assert load_protocol("NCT05331872") is first
    (folder / "protocol.yaml").write_text(src.replace("max_enrolment: 20", "max_enrolment: 19"))
    later = time.time() + 5
    os.utime(folder / "protocol.yaml", (later, later))
    assert load_protocol("NCT05331872").conduct.max_enrolment == 19


def test_unknown_nct_id_names_the_missing_file(tmp_path, monkeypatch):
    monkeypatch.setenv("TRIALDESK_PROTOCOLS", str(tmp_path))
    with pytest.raises(ProtocolError, match="NCT00000001: no protocol file"):
        load_protocol("NCT00000001")


def test_dose_level_lookup_names_the_id():
    c = load_protocol("NCT05227846").conduct
    with pytest.raises(ProtocolError, match=r"no dose level 'DL9' \(dose levels: DL1, DL2"):
        c.dose_level("DL9")
    with pytest.raises(ProtocolError, match="no visit 'M24'"):
        c.visit("M24")


def test_file_without_conduct_section_loads_with_none():
    data = _data("NCT05331872")
    del data["conduct"]
    assert load_protocol(data, name="x").conduct is None


def _visit(code, day, before=0, after=0, assessments=("labs",), **kw):
    return {
        "code": code,
        "label": code,
        "day": day,
        "window_before": before,
        "window_after": after,
        "assessments": list(assessments),
        **kw,
    }


def _set(path, value):
    def mutate(d):
        node = d["conduct"]
        *head, last = path
        for key in head:
            node = node[key]
        node[last] = value

    return mutate


def _delete(path):
    def mutate(d):
        node = d["conduct"]
        *head, last = path
        for key in head:
            node = node[key]
        del node[last]

    return mutate


CASES = [
    # dose levels
    (
        _set(("dose_levels", 1, "id"), "DL1"),
        "conduct.dose_levels[1].id: duplicate dose level id 'DL1'",
    ),
    (
        _set(("dose_levels", 0, "cells_per_kg"), 5),
        "conduct.dose_levels[0]: dose level DL1 needs exactly one of cells",
    ),
    (_delete(("dose_levels", 0, "cells")), "(neither given)"),
    (
        _set(("dose_levels", 2, "cells"), 100_000_000),
        "conduct.dose_levels[2]: DL3 is not above DL2",
    ),
    (
        _set(("dose_levels", 0, "cells"), 0),
        "conduct.dose_levels[0].cells: 0 is less than the minimum of 1",
    ),
    # escalation
    (
        _set(("escalation", "start_level"), "DL7"),
        "conduct.escalation.start_level: 'DL7' is not a dose level",
    ),
    (
        _set(("escalation", "cohort_min"), 7),
        "conduct.escalation.cohort_min: cohort_min 7 is larger than cohort_max 6",
    ),
    (_set(("escalation", "design"), "boin"), "conduct.escalation"),
    (
        _set(("escalation", "dlt_window_days"), 0),
        "dlt_window_days: 0 is less than the minimum of 1",
    ),
    (
        _set(("escalation", "dlt_definition", 1, "id"), "dlt-1"),
        "dlt_definition[1].id: duplicate DLT criterion id",
    ),
    (
        _set(("escalation", "dlt_definition", 0, "terms"), ["Fever"]),
        "dlt_definition[0]: dlt-1 gives both terms and exclude_terms",
    ),
    (
        _set(("escalation", "dlt_definition", 1, "terms", 0), "Nosebleed"),
        "dlt_definition[1].terms[0]: unknown CTCAE term 'Nosebleed'",
    ),
    (
        _set(("escalation", "dlt_definition", 0, "min_grade"), 6),
        "min_grade: 6 is greater than the maximum of 5",
    ),
    (
        _set(("escalation", "dlt_definition", 0, "relatedness"), ["maybe"]),
        "relatedness[0]: 'maybe' is not one of",
    ),
    (
        _set(("dose_levels",), [{"id": "DL1", "label": "x", "cells": 5}]),
        "escalation design needs at least two dose levels",
    ),
    # enrolment
    (
        _set(("max_enrolment",), 2),
        "conduct.max_enrolment: 2 is smaller than one cohort (cohort_min 3)",
    ),
    (_set(("max_enrolment",), 0), "conduct.max_enrolment: 0 is less than the minimum of 1"),
    # visits
    (_set(("visits", 2, "day"), 0), "conduct.visits[2].day: D7: there is no study day 0"),
    (
        _set(("visits", 3, "day"), 7),
        "conduct.visits[3].day: D14: day 7 is not after D7 (day 7): days must strictly increase",
    ),
    (
        _set(("visits", 2, "window_before"), -1),
        "conduct.visits[2].window_before: D7: a window is a number of days >= 0, not -1",
    ),
    (
        _set(("visits", 2, "window_after"), -2),
        "conduct.visits[2].window_after: D7: a window is a number of days >= 0, not -2",
    ),
    (
        _set(("visits", 3, "window_before"), 6),
        "conduct.visits[3].window_before: D14: window starts on day 8, inside D7's window (ends day 9)",
    ),
    (
        _set(("visits", 2, "window_before"), 6),
        "D7: the window of a follow-up visit must start after day 1 (starts on day 1)",
    ),
    (
        _set(("visits", 0, "window_after"), 1),
        "conduct.visits[0].window_after: SCR: the window of a pre-infusion visit must end by day -1",
    ),
    (
        _set(("visits", 1, "day"), 2),
        "conduct.visits[1].day: D1: the infusion visit is study day 1, not 2",
    ),
    (_set(("visits", 1, "window_after"), 1), "D1: the infusion day defines day 1"),
    (
        _set(("visits", 1, "is_infusion"), False),
        "conduct.visits[1].day: D1: only the infusion visit (is_infusion: true) is on day 1",
    ),
    (_set(("visits", 1, "assessments"), ["labs"]), "D1: the infusion visit must list 'infusion'"),
    (
        _set(("visits", 2, "assessments"), ["labs", "xray"]),
        "conduct.visits[2].assessments: D7: unknown assessment 'xray'",
    ),
    (_set(("visits", 2, "assessments"), ["labs", "labs"]), "D7: an assessment is listed twice"),
    (_set(("visits", 3, "code"), "D7"), "conduct.visits[3].code: duplicate visit code 'D7'"),
    (_set(("visits", 3, "code"), "d14"), "conduct.visits[3].code: 'd14' does not match"),
    (
        _set(("visits",), [_visit("SCR", -1, 27)]),
        "conduct.visits: exactly one visit must be the infusion (is_infusion: true); found 0",
    ),
    (_delete(("visits", 0, "window_before")), "'window_before' is a required property"),
    # lab panel, other fields
    (_set(("lab_panel", 1), "albumen"), "conduct.lab_panel[1]: unknown analyte 'albumen'"),
    (_set(("lab_panel", 1), "Bilirubin"), "conduct.lab_panel[1]: bilirubin is listed twice"),
    (_set(("ctcae_version",), "v5"), "conduct.ctcae_version: 'v5' does not match"),
    (_set(("volume_ml",), -5), "conduct.volume_ml: -5 is less than or equal to the minimum of 0"),
    (_set(("colour",), "blue"), "Additional properties are not allowed ('colour' was unexpected)"),
]


@pytest.mark.parametrize("mutate,message", CASES)
def test_conduct_errors_name_the_field(mutate, message):
    data = copy.deepcopy(_data("NCT05227846"))
    mutate(data)
    with pytest.raises(ProtocolError) as info:
        load_protocol(data, name="NCT05227846/protocol.yaml")
    text = str(info.value)
    assert text.startswith("NCT05227846/protocol.yaml: ")
    assert message in text, text


def test_single_arm_needs_one_dose_level():
    data = _data("NCT05331872")
    data["conduct"]["dose_levels"].append({"id": "DL2", "label": "2", "cells_per_kg": 2_000_000})
    with pytest.raises(ProtocolError, match="conduct.dose_levels: a single-arm trial"):
        load_protocol(data, name="x")


def test_mixed_dose_kinds_are_refused():
    data = _data("NCT05227846")
    data["conduct"]["dose_levels"][1] = {"id": "DL2", "label": "x", "cells_per_kg": 10**9}
    with pytest.raises(ProtocolError, match="DL2 mixes a fixed dose and a per-kg dose with DL1"):
        load_protocol(data, name="x")


def test_visit_definition_window_days():
    v = VisitDefinition("M3", "Month 3", 91, 14, 14, ("labs",))
    assert (v.first_day, v.last_day) == (77, 105)


def test_build_design_is_the_engines_3_plus_3():
    from trialdesk.dosefinding import ThreePlusThree

    c = load_protocol("NCT05227846").conduct
    design = c.build_design()
    assert design == ThreePlusThree(doses=4, a=3, b=3)
    assert c.escalation.build_design(4) == design
    # 1NNN: 0/3 at DL1 -> escalate; 2NNT: 1/3 at DL2 -> expand DL2 to 6 (Storer 1989 3+3)
    decision = design.next_dose("1NNN 2NNT")
    assert decision.next_dose == 2 and not decision.stop
    assert "1/3 DLTs at dose 2" in decision.reason and "expand dose 2 to 6" in decision.reason
    assert c.dose_levels[decision.next_dose - 1].id == "DL2"
    # 2 DLTs of 3 at DL2: too toxic, go back to DL1 and expand it to 6
    back = design.next_dose("1NNN 2NTT")
    assert back.next_dose == 1


def test_build_design_follows_cohort_sizes():
    c = load_protocol("NCT05227846").conduct
    plan = EscalationPlan("3+3", "DL1", 2, 4, 28, (), allow_deescalation=False)
    d = plan.build_design(len(c.dose_levels))
    assert (d.a, d.b, d.allow_deescalation, d.doses) == (2, 2, False, 4)
    with pytest.raises(ProtocolError, match="no engine design for 'boin'"):
        EscalationPlan("boin", "DL1", 3, 6, 28, ()).build_design(4)


def test_dose_level_total_cells_fixed_and_per_kg():
    from decimal import Decimal

    from trialdesk.protocol import load_protocol

    fixed = load_protocol("NCT05227846").conduct.dose_level("DL2")
    assert fixed.total_cells(None) == 100_000_000  # 10 x10^7 cells, whatever the weight
    per_kg = load_protocol("NCT05331872").conduct.dose_level("DL1")
    # 1 x10^6 cells/kg x 62.5 kg = 62,500,000 cells (computed by hand)
    assert per_kg.total_cells(Decimal("62.5")) == 62_500_000
    assert per_kg.total_cells(None) is None  # not computable, never 0
    with pytest.raises(ValueError, match="DL1: body weight must be positive"):
        per_kg.total_cells(Decimal("0"))


# --- cohort capacity and dose tolerance (moved from conduct's services into the core) ---


def _seed_plan(nct: str):
    from trialdesk.protocol import find_protocol, load_protocol

    return load_protocol(find_protocol(nct)).conduct


def test_next_cohort_capacity_follows_a_plus_b():
    # 3+3 as A+B with A = B = 3 (Lin & Shih, Biostatistics 2001;2:203-215): a cohort of 3,
    # at most 6 at a level; NCT05227846 enrols at most 24 (protocol.yaml).
    plan = _seed_plan("NCT05227846")
    assert plan.first_cohort_capacity() == 3
    assert plan.next_cohort_capacity(0, 3) == 3  # escalate to an empty level
    assert plan.next_cohort_capacity(3, 6) == 3  # the B cohort at the same level
    assert plan.next_cohort_capacity(6, 9) <= 0  # the level is full
    assert plan.next_cohort_capacity(0, 22) == 2  # only 2 of 24 left
    assert plan.next_cohort_capacity(0, 24) <= 0
    with pytest.raises(ValueError, match="negative"):
        plan.next_cohort_capacity(-1, 3)


def test_single_arm_capacity_is_the_maximum_enrolment():
    plan = _seed_plan("NCT05331872")  # single arm, at most 20
    assert plan.first_cohort_capacity() == 20


def test_src_quorum_and_dose_tolerance_defaults():
    plan = _seed_plan("NCT05227846")
    assert plan.escalation.src_quorum == 2
    from decimal import Decimal

    assert plan.dose_tolerance == Decimal("0.10")
    # 10% of 1e8 cells: 1.1e8 is within, 1.11e8 and 0.89e8 are not (computed by hand).
    assert plan.dose_difference(110_000_000, 100_000_000) is None
    assert plan.dose_difference(111_000_000, 100_000_000) == Decimal("0.11")
    assert plan.dose_difference(89_000_000, 100_000_000) == Decimal("-0.11")
    with pytest.raises(ValueError, match="positive"):
        plan.dose_difference(0, 100)


def test_src_quorum_and_dose_tolerance_from_the_file():
    data = _data("NCT05227846")
    data["conduct"]["escalation"]["src_quorum"] = 3
    data["conduct"]["dose_tolerance"] = 0.05
    c = load_protocol(data, name="x").conduct
    assert c.escalation.src_quorum == 3 and c.dose_tolerance == Decimal("0.05")
    assert c.dose_difference(106, 100) == Decimal("0.06")
    data["conduct"]["escalation"]["src_quorum"] = 0
    with pytest.raises(ProtocolError, match="src_quorum"):
        load_protocol(data, name="x")
    data["conduct"]["escalation"]["src_quorum"] = 2
    data["conduct"]["dose_tolerance"] = 1.5
    with pytest.raises(ProtocolError, match="dose_tolerance"):
        load_protocol(data, name="x")
