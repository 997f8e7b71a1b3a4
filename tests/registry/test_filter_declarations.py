"""Every filter declaration (``filters.FILTERS``) is complete: the engine-agreement tests
can draw it, the indexes can store it, the form and the API offer it (issue 14, item 1).

The agreement of the engines themselves is tested on random queries drawn from these
declarations (test_registry_fastsearch.py, test_registry_textindex.py)."""

from __future__ import annotations

import random

import pytest

from trialdesk.registry import filters
from trialdesk.registry.filters import BY_NAME, FILTERS, SitePlace
from trialdesk.registry.forms import TrialSearchForm
from trialdesk.registry.models import Trial
from trialdesk.registry.parsing import TRIAL_COLUMNS
from trialdesk.registry.search import SearchQuery
from trialdesk.registry.textrow import ROW_COLUMNS, TextRow


def _names(f) -> tuple[str, ...]:
    return f.names if isinstance(f, SitePlace) else (f.name,)


@pytest.mark.parametrize("f", [f for f in FILTERS if f.indexed], ids=lambda f: f.name)
def test_every_indexed_filter_is_drawn_for_the_agreement_tests(f):
    rng = random.Random(5)
    points = [(21.0245, 105.84117), (48.85341, 2.3488)]
    drawn = [f.sample(rng, points) for _ in range(200)]
    used = [d for d in drawn if f.name in d]
    assert len(used) >= 10  # drawn often enough to be compared on every engine
    for kwargs in drawn:
        query = SearchQuery(**kwargs)  # valid values
        assert f.active(query) == (f.name in kwargs)


def test_the_indexes_store_every_indexed_filter():
    trial_columns = {field.column for field in Trial._meta.fields}
    for f in FILTERS:
        if f.indexed:
            # The distance reads the sites' positions, not a trial column.
            assert f.row_columns or f is filters.DISTANCE, f.name
            assert set(f.row_columns) <= trial_columns, f.name
            assert set(f.row_columns) <= set(TRIAL_COLUMNS), f.name  # the importer writes it
            assert set(f.row_columns) <= set(ROW_COLUMNS), f.name  # the text row holds it
            assert f.index_fields, f.name
    assert set(filters.ROW_COLUMNS) <= set(TextRow._fields)


def test_every_filter_is_a_query_attribute_a_form_field_and_an_api_parameter(client):
    form = TrialSearchForm()
    api = client.get("/api/openapi.json").json()
    params = {p["name"] for p in api["paths"]["/api/trials"]["get"]["parameters"]}
    for f in FILTERS:
        for name in _names(f):
            assert hasattr(SearchQuery(), name), name
            param = name if isinstance(f, SitePlace) else f.parameter
            assert param in form.fields and param in params, param
        if not isinstance(f, SitePlace):
            assert form.fields[f.parameter].label == f.label


def test_every_filter_is_a_cli_option_helped_by_its_declaration():
    from trialdesk.cli.registry import search

    options = {p.name: p for p in search.params}
    for f in FILTERS:
        for name in _names(f):
            option = options[name]
            param = name if isinstance(f, SitePlace) else f.parameter
            assert option.opts == [f"--{param.replace('_', '-')}"], name
            assert f.help in option.help and all(code in option.help for code in f.codes)
            assert option.multiple == f.multiple, name
            assert option.type.name == {str: "text", float: "float"}[f.value_type], name


def test_choices_and_descriptions_come_from_the_declarations(client):
    form = TrialSearchForm()
    assert [c for c, _ in form.fields["status"].widget.choices if c] == list(
        BY_NAME["statuses"].codes
    )
    assert [c for c, _ in form.fields["phase"].widget.choices if c] == list(BY_NAME["phases"].codes)
    api = client.get("/api/openapi.json").json()
    described = {
        p["name"]: p.get("description", "")
        for p in api["paths"]["/api/trials"]["get"]["parameters"]
    }
    for code in BY_NAME["study_type"].codes:
        assert code in described["study_type"]


def test_one_place_chooses_the_engine(monkeypatch):
    from trialdesk.registry import search as registry_search

    assert registry_search.engine_for(SearchQuery(age=40, sex="FEMALE"), "sqlite") == "index"
    assert registry_search.engine_for(SearchQuery(country="France"), "sqlite") == "sql"
    assert registry_search.engine_for(SearchQuery(age=40), "postgresql") == "sql"
    monkeypatch.setattr(registry_search, "FAST_INDEX", False)
    assert registry_search.engine_for(SearchQuery(age=40), "sqlite") == "sql"


def test_the_text_index_schema_is_the_one_before_the_declarations(tmp_path):
    """An index folder written before the filters were declared (fields added by hand, in
    this order) opens without "the schema does not match", so no rebuild is needed."""
    import tantivy

    from trialdesk.registry.textindex import TEXT_FIELDS, TextIndex

    TextIndex(tmp_path, db_empty=True, db_stamp="s")
    builder = tantivy.SchemaBuilder()
    builder.add_integer_field("id", stored=True, indexed=True, fast=True)
    for name in TEXT_FIELDS:
        builder.add_text_field(name, stored=False, tokenizer_name="trialdesk_text")
    for name in ("status", "study_type", "sex", "phase", "point", "meta"):
        builder.add_text_field(name, stored=False, tokenizer_name="raw")
    builder.add_integer_field("min_age", indexed=True, fast=True)
    builder.add_integer_field("max_age", indexed=True, fast=True)
    builder.add_text_field("stamp", stored=True, tokenizer_name="raw")
    tantivy.Index(builder.build(), path=str(tmp_path), reuse=True)  # raises on a mismatch


def test_cli_option_values_become_query_keywords(monkeypatch):
    import dataclasses

    from trialdesk.cli.registry import _filter_values

    given = {name: None for f in FILTERS for name in _names(f)}
    given |= {"statuses": ("RECRUITING,COMPLETED", "WITHDRAWN"), "phases": (), "age": 30.0}
    given["country"] = ""
    assert _filter_values(dict(given)) == {
        "statuses": ("RECRUITING", "COMPLETED", "WITHDRAWN"),
        "age": 30.0,
    }
    SearchQuery(**_filter_values(dict(given)))  # valid keywords
    # A repeatable number (none declared yet) is kept as numbers, not split as text.
    ages = dataclasses.replace(BY_NAME["age"], multiple=True)
    monkeypatch.setattr(filters, "FILTERS", (ages,))
    assert _filter_values({"age": (30.0, 45.5)}) == {"age": (30.0, 45.5)}
