"""The msgspec structures generated from the pydantic record models (interop.ctgov_structs).

The contract: whatever the structures accept, the pydantic models accept too, with the same
values (so the registry rows built from either are the same); what they refuse is validated
again by pydantic. Pinned here on the seed records, synthetic pages, and mutated studies
drawn by hypothesis from the models' own fields.
"""

from __future__ import annotations

import copy
import json
from enum import Enum
from pathlib import Path

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from trialdesk.interop import ctgov_structs as cs
from trialdesk.interop.ctgov import AgencyClass, RecordError, Study, load_studies
from trialdesk.interop.synthetic import generate_studies
from trialdesk.registry import parsing

ROOT = Path(__file__).resolve().parents[2]
SEEDS = sorted((ROOT / "protocols").glob("*/record.json"))


def _reachable(model: type[BaseModel], seen: set) -> set:
    seen.add(model)
    for info in model.model_fields.values():
        for sub in _models_in(info.annotation):
            if sub not in seen:
                _reachable(sub, seen)
    return seen


def _models_in(tp) -> list:
    from typing import get_args

    if isinstance(tp, type) and issubclass(tp, BaseModel):
        return [tp]
    return [m for a in get_args(tp) for m in _models_in(a)]


def _same(struct_value, model_value) -> bool:
    """The struct's value equals the model's, field by field (models keep unknown fields;
    structs drop them, so only the models' declared fields are compared)."""
    if isinstance(model_value, BaseModel):
        return type(struct_value) is cs.GENERATED[type(model_value)] and all(
            _same(getattr(struct_value, name), getattr(model_value, name))
            for name in type(model_value).model_fields
        )
    if isinstance(model_value, list):
        return (
            isinstance(struct_value, list)
            and len(struct_value) == len(model_value)
            and all(_same(a, b) for a, b in zip(struct_value, model_value, strict=True))
        )
    if isinstance(model_value, Enum):
        return struct_value is model_value
    return type(struct_value) is type(model_value) and struct_value == model_value


def test_every_model_has_a_struct_with_the_same_fields():
    models = _reachable(Study, set())
    assert set(cs.GENERATED) >= models
    for model in models:
        struct = cs.GENERATED[model]
        info = msgspec.structs.fields(struct)
        assert [f.name for f in info] == list(model.model_fields), model.__name__
        for f in info:
            field = model.model_fields[f.name]
            assert f.encode_name == (field.alias or f.name), (model.__name__, f.name)
            assert f.required == field.is_required(), (model.__name__, f.name)


def test_agency_class_is_read_from_class():
    doc = {"protocolSection": {"identificationModule": {"nctId": "NCT12345678"},
           "sponsorCollaboratorsModule": {"leadSponsor": {"name": "X", "class": "NIH"}}}}  # fmt: skip
    (study,) = cs.decode_studies(json.dumps(doc).encode())
    sponsor = study.protocol_section.sponsor_collaborators_module.lead_sponsor
    assert sponsor.agency_class is AgencyClass.NIH


@pytest.mark.parametrize("path", SEEDS, ids=lambda p: p.parent.name)
def test_seed_records_decode_to_the_same_values(path):
    data = path.read_bytes()
    (struct,) = cs.decode_studies(data)
    (model,) = load_studies(data, str(path))
    assert _same(struct, model)
    assert parsing.prepare(data, "x") == [parsing._trial_row(model, data.decode().strip(), "x")]


def test_a_synthetic_page_gives_the_same_rows_either_way():
    studies = list(generate_studies(300, seed=7))
    data = json.dumps({"studies": studies, "totalCount": 300}).encode()
    structs = cs.decode_studies(data)
    models = load_studies(data, "page")
    assert len(structs) == len(models) == 300
    for s, m in zip(structs, models, strict=True):
        assert _same(s, m)
        text = json.dumps(json.loads(msgspec.json.encode(m.model_dump(by_alias=True))))
        assert parsing._trial_row(s, text, "p") == parsing._trial_row(m, text, "p")
    # the three document shapes
    assert len(cs.decode_studies(json.dumps(studies[:3]).encode())) == 3
    assert len(cs.decode_studies(json.dumps(studies[0]).encode())) == 1


# Values that sit at the models' edges: patterns nearly matched, impossible dates, wrong
# types, out-of-range numbers, other enumerations' values, a final newline after a match.
TRICKY = [
    None, True, False, 0, -1, 1.0, 1.5, 2**64, -(2**63) - 1, 90.0, 90.5, -180.0, -180.01,
    "", " ", "NCT12345678", "NCT12345678\n", "nct12345678", "NCT1234567", "NCT١٢٣٤٥٦٧٨",
    "NCT123456789", "2024", "2024-02", "2024-02-29", "2023-02-29", "2024-13", "2024-1",
    "2024-02-30\n", "18 Years", "18 years", "18 Years\n", "0 Days", "1 Decade", "RECRUITING",
    "recruiting", "PHASE1", "NIH", "ALL", "ACTUAL", "DRUG", "EXPERIMENTAL", "12", "true",
    [], ["x"], [1], {}, {"date": "2024-01"}, {"lat": 1.0, "lon": 2.0}, {"lat": 91.0, "lon": 0},
]  # fmt: skip


def _paths(value, prefix=()) -> list[tuple]:
    """Every place in a JSON value (dict keys and list positions), the root excluded."""
    out = []
    if isinstance(value, dict):
        for key, sub in value.items():
            out.append((*prefix, key))
            out += _paths(sub, (*prefix, key))
    elif isinstance(value, list):
        for i, sub in enumerate(value):
            out.append((*prefix, i))
            out += _paths(sub, (*prefix, i))
    return out


BASES = [json.loads(p.read_text()) for p in SEEDS] + list(generate_studies(20, seed=11))


@st.composite
def mutated(draw):
    study = copy.deepcopy(draw(st.sampled_from(BASES)))
    for _ in range(draw(st.integers(1, 3))):
        paths = _paths(study)
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        parent = study
        for step in path[:-1]:
            parent = parent[step]
        action = draw(st.sampled_from(["set", "set", "set", "delete"]))
        if action == "delete":
            del parent[path[-1]]
        else:
            parent[path[-1]] = copy.deepcopy(draw(st.sampled_from(TRICKY)))
    return study


@settings(max_examples=400, derandomize=True, deadline=None,
          suppress_health_check=[HealthCheck.too_slow])  # fmt: skip
@given(mutated())
def test_what_the_structs_accept_pydantic_accepts_with_the_same_values(study):
    data = json.dumps(study, ensure_ascii=False).encode()
    try:
        structs = cs.decode_studies(data)
    except (msgspec.ValidationError, msgspec.DecodeError):
        structs = None
    try:
        models = load_studies(data, "m")
    except RecordError:
        models = None
    if structs is not None:
        assert models is not None, "the structs accepted what pydantic refuses"
        assert _same(structs[0], models[0])
    if models is None:
        # then prepare() must fail naming the place, exactly as load_studies does
        with pytest.raises(RecordError):
            parsing.prepare(data, "m")


@pytest.mark.parametrize(
    ("where", "value"),
    [
        (("identificationModule", "nctId"), "NCT12345678\n"),
        (("identificationModule", "nctId"), "NCT1234567"),
        (("statusModule", "overallStatus"), "recruiting"),
        (("statusModule", "startDateStruct"), {"date": "2023-02-29"}),
        (("statusModule", "studyFirstSubmitDate"), "2024-02"),
        (("eligibilityModule", "minimumAge"), "18 Years\n"),
        (("designModule", "enrollmentInfo"), {"count": "12"}),
        (("designModule", "enrollmentInfo"), {"count": -1}),
        (("designModule", "enrollmentInfo"), {"count": 12.0}),
        (("eligibilityModule", "healthyVolunteers"), "true"),
        (("contactsLocationsModule", "locations"), [{"geoPoint": {"lat": 91.0, "lon": 0}}]),
        (("contactsLocationsModule", "locations"), [{"geoPoint": {"lat": True, "lon": 0}}]),
        (("designModule", "phases"), ["PHASE1", "PHASE9"]),
    ],
)
def test_both_refuse(where, value):
    study = {"protocolSection": {"identificationModule": {"nctId": "NCT12345678"}}}
    section = study["protocolSection"]
    section.setdefault(where[0], {})[where[1]] = value
    data = json.dumps(study).encode()
    with pytest.raises((msgspec.ValidationError, msgspec.DecodeError)):
        cs.decode_studies(data)
    with pytest.raises(RecordError) as caught:
        parsing.prepare(data, "bad.json")
    assert caught.value.path.startswith(f"$.protocolSection.{where[0]}")


def test_a_document_that_is_not_json_is_refused_even_where_pydantic_reads_it():
    # NaN in a field the models do not declare: pydantic's JSON reader accepts it, but it is
    # not JSON (RFC 8259), and the stored record must be: the file is refused, naming it.
    data = (
        b'{"protocolSection": {"identificationModule": {"nctId": "NCT12345678", '
        b'"briefTitle": "T"}}, "extra": NaN}'
    )
    load_studies(data, "nan.json")
    with pytest.raises(msgspec.DecodeError):
        cs.decode_studies(data)
    with pytest.raises(RecordError, match=r"nan\.json: \$: malformed JSON"):
        parsing.prepare(data, "nan.json")


def test_pydantic_decides_what_the_structs_refuse(monkeypatch):
    # Should the structs ever refuse a document pydantic accepts, pydantic's studies are used.
    def refuse(data):
        raise msgspec.ValidationError("refused")

    monkeypatch.setattr(parsing, "decode_studies", refuse)
    data = SEEDS[0].read_bytes()
    (model,) = load_studies(data, "seed")
    assert parsing.prepare(data, "x") == [parsing._trial_row(model, data.decode().strip(), "x")]


def test_an_untranslatable_field_is_refused_at_generation():
    from pydantic import ConfigDict

    class Odd(BaseModel):
        model_config = ConfigDict(strict=True)
        when: dict[str, int] | None = None

    with pytest.raises(TypeError, match=r"Odd\.when"):
        cs.struct_for(Odd)
