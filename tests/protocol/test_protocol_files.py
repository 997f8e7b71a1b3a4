"""protocol.yaml: schema, versions, every criterion of both seed trials present."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
import yaml

from trialdesk.protocol import ProtocolError, find_protocol, load_protocol

ROOT = Path(__file__).resolve().parents[2]


def _criteria_texts(nct: str) -> tuple[list[str], list[str]]:
    """Inclusion and exclusion texts as written in protocol.yaml."""
    text = (ROOT / "protocols" / nct / "protocol.yaml").read_text()
    data = yaml.safe_load(text)
    inc = [c["text"] for c in data["eligibility"]["inclusion"]]
    exc = [c["text"] for c in data["eligibility"]["exclusion"]]
    return inc, exc


@pytest.mark.parametrize("nct,n_inc,n_exc", [("NCT05227846", 4, 20), ("NCT05331872", 3, 4)])
def test_every_registry_criterion_is_present(nct, n_inc, n_exc):
    p = load_protocol(ROOT / "protocols" / nct / "protocol.yaml")
    assert p.version == 1 and p.revision["number"]
    assert sorted({c.number for c in p.inclusion}) == list(range(1, n_inc + 1))
    assert sorted({c.number for c in p.exclusion}) == list(range(1, n_exc + 1))
    for c in p.criteria:
        assert (c.rule is None) != (c.attestation is None)


def test_objective_criteria_of_nct05227846_are_rules():
    p = load_protocol(ROOT / "protocols" / "NCT05227846" / "protocol.yaml")
    rules = {c.id: c.rule_text for c in p.criteria if c.rule is not None}
    for cid, needle in [
        ("inc-2", "age between 18 and 75 years"),
        ("inc-4", "child_pugh.score between 7 and 12"),
        ("exc-3", "hbv_dna.detected"),
        ("exc-7", "procedure(tips, within 6"),
        ("exc-9", "bilirubin >= 170 umol/L"),
        ("exc-9", "1.2 * ULN"),
        ("exc-9", "sodium < 125 mmol/L"),
        ("exc-9", "wbc < 1 10*9/L"),
        ("exc-2", "within 2 weeks"),
        ("exc-1", "within 1 month"),
        ("exc-19", "within 3 months"),
        ("exc-4.2", "< 12 months"),
        ("exc-12", "malignancy"),
        ("exc-13.1", "organ_transplant"),
        ("exc-15", "condition(hiv)"),
        ("exc-17.1", "pregnancy"),
    ]:
        assert needle in " ".join(rules[cid].split()), cid
    attest = {c.id for c in p.criteria if c.rule is None}
    assert attest == {"inc-1", "exc-4.1", "exc-5.1", "exc-8", "exc-13.2", "exc-17.2", "exc-20"}


@pytest.mark.parametrize("nct", ["NCT05227846", "NCT05331872"])
def test_texts_are_verbatim_from_the_registry_record(nct):
    record = json.loads((ROOT / "protocols" / nct / "record.json").read_text())
    listing = record["protocolSection"]["eligibilityModule"]["eligibilityCriteria"]
    flat = " ".join(listing.split())
    inc, exc = _criteria_texts(nct)
    for text in inc + exc:
        assert " ".join(text.split()) in flat, text[:60]


def _base() -> dict:
    return yaml.safe_load((ROOT / "protocols" / "NCT05331872" / "protocol.yaml").read_text())


def test_bad_rule_fails_at_load_naming_file_criterion_and_position(tmp_path):
    data = _base()
    data["eligibility"]["exclusion"][1]["rule"] = "condition(infection, within 1 month) or x > 1"
    path = tmp_path / "NCT05331872" / "protocol.yaml"
    path.parent.mkdir()
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(ProtocolError) as info:
        load_protocol(path)
    msg = str(info.value)
    assert str(path) in msg and "eligibility.exclusion[1].rule" in msg
    assert "criterion exc-2: rule position 1:41: unknown name 'x'" in msg


@pytest.mark.parametrize(
    "mutate,message",
    [
        (lambda d: d.pop("version"), "'version' is a required property"),
        (lambda d: d.__setitem__("version", 2), "1 was expected"),
        (
            lambda d: d["eligibility"]["inclusion"][0].pop("rule"),
            "needs either a rule or an attest",
        ),
        (lambda d: d["eligibility"]["inclusion"][0].__setitem__("attestation", "x"), "both a rule"),
        (lambda d: d["eligibility"]["exclusion"].pop(1), "criterion numbers [2] are missing"),
        (lambda d: d["eligibility"]["exclusion"][0].__setitem__("id", "exc-2"), "duplicate"),
        (
            lambda d: d["eligibility"]["exclusion"][0].__setitem__("id", "inc-9"),
            "start with 'exc-'",
        ),
        (lambda d: d.__setitem__("extra", 1), "Additional properties"),
        (
            lambda d: d["eligibility"].__setitem__(
                "reference_ranges", {"creatinine": {"uln": "1.2 U/L"}}
            ),
            "reference_ranges.creatinine.uln",
        ),
    ],
)
def test_schema_and_consistency_errors(mutate, message):
    data = copy.deepcopy(_base())
    mutate(data)
    with pytest.raises(ProtocolError, match="NCT05331872") as info:
        load_protocol(data, name="NCT05331872/protocol.yaml")
    assert message in str(info.value)


def test_other_sections_are_reserved_top_level_keys():
    data = _base()
    data["endpoints"] = [{"anything": 0}]
    assert load_protocol(data).nct_id == "NCT05331872"


def test_find_protocol_uses_env(tmp_path, monkeypatch):
    monkeypatch.setenv("TRIALDESK_PROTOCOLS", str(ROOT / "protocols"))
    assert find_protocol("nct05227846").name == "protocol.yaml"
    monkeypatch.setenv("TRIALDESK_PROTOCOLS", str(tmp_path))
    with pytest.raises(ProtocolError, match="no protocol file"):
        find_protocol("NCT05227846")
