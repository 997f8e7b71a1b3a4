"""An identifier typed in the search box finds its trial; ``q`` is another name for ``text``
(issue 15, item 4), on every engine (``engines.py``), on the page and the API.

Seed facts (protocols/*/record.json, identificationModule): NCT05227846 has the
organisation's study id "MSC-DLC-1" (also its acronym and in its title); NCT05331872 has
"ISC.19.29", which appears nowhere else in its record.
"""

from __future__ import annotations

import json
import re

import pytest
from engines import ENGINES, route

from trialdesk.registry.models import Trial
from trialdesk.registry.parsing import identifiers
from trialdesk.registry.textquery import parse_text

pytestmark = pytest.mark.django_db

BEIJING = "NCT05227846"
HANOI = "NCT05331872"


@pytest.fixture(params=ENGINES)
def engine(request, monkeypatch, db):
    yield from route(request.param, monkeypatch)


def _api(client, query: str) -> list[str]:
    response = client.get(f"/api/trials?{query}")
    assert response.status_code == 200, response.content[:500]
    return [r["nct_id"] for r in response.json()["results"]]


def _page(client, query: str) -> list[str]:
    response = client.get(f"/trials/?{query}")
    assert response.status_code == 200, response.content.decode()[:500]
    return re.findall(r'<li data-nct-id="(NCT\d{8})">', response.content.decode())


@pytest.mark.parametrize(
    ("typed", "found"),
    [
        ("NCT05227846", [BEIJING]),
        ("nct05227846", [BEIJING]),
        ("  NCT05331872  ", [HANOI]),
        ("NCT 05331872", [HANOI]),
        ("nct-05227846", [BEIJING]),
        ("ISC.19.29", [HANOI]),
        ("isc.19.29", [HANOI]),
        ("MSC-DLC-1", [BEIJING]),
        ("NCT05227846 OR NCT05331872", [BEIJING, HANOI]),
        ("NCT05227846 ISC.19.29", []),  # both words must be in one trial
        ("NCT05227847", []),
    ],
)
def test_an_identifier_in_the_search_box_finds_its_trial(client, engine, typed, found):
    query = f"text={typed.replace(' ', '+')}"
    assert sorted(_api(client, query)) == found
    assert sorted(_page(client, query)) == found
    if engine["name"] == "tantivy" and found:
        assert engine["tantivy"] >= 2  # the text index answered both


def test_an_identifier_ranks_its_trial_first(client, engine):
    """The identifiers weigh as much as the title: the Hanoi trial's study id beats the
    Beijing trial's words among them ("19" is in neither trial's other text)."""
    assert _api(client, "text=ISC.19.29+OR+cirrhosis")[0] == HANOI


@pytest.mark.parametrize("where", ["api", "page"])
def test_q_is_another_name_for_text(client, engine, where):
    get = _api if where == "api" else _page
    assert get(client, "q=ISC.19.29") == [HANOI]
    assert get(client, "q=NCT05227846&status=RECRUITING") == [BEIJING]
    assert get(client, "q=cirrhosis&text=cirrhosis") == get(client, "text=cirrhosis")
    assert sorted(get(client, "q=&text=cirrhosis")) == [BEIJING, HANOI]


def test_q_shows_in_the_search_box(client, engine):
    html = client.get("/trials/?q=ISC.19.29").content.decode()
    assert re.search(r'<input type="search" name="text" value="ISC.19.29"', html)
    assert 'name="q"' not in html  # the form sends text from now on


def test_q_and_text_that_differ_are_refused(client, engine):
    response = client.get("/api/trials?q=stem&text=cirrhosis")
    assert response.status_code == 422 and response["Content-Type"].startswith("application/json")
    detail = response.json()["detail"]
    assert detail == [
        {
            "loc": ["query", "text"],
            "msg": "Give the search words once: q is another name for text, and they differ.",
        }
    ]
    response = client.get("/trials/?q=stem&text=cirrhosis")
    assert response.status_code == 400
    error = re.search(r'<ul class="errorlist" id="id_text_error"[^>]*>(.*?)</ul>',
                      response.content.decode(), re.S)  # fmt: skip
    assert error and "q is another name for text" in error.group(1)


def test_the_api_schema_documents_q(client, db):
    schema = client.get("/api/openapi.json").json()
    params = {p["name"]: p for p in schema["paths"]["/api/trials"]["get"]["parameters"]}
    assert "another name for text" in params["q"]["description"].lower()
    assert params["page"]["schema"]["maximum"] == 1_000_000


def test_identifiers_are_stored_per_trial(engine):
    stored = dict(Trial.objects.values_list("nct_id", "identifiers_text"))
    assert stored == {BEIJING: "NCT05227846\nMSC-DLC-1", HANOI: "NCT05331872\nISC.19.29"}


def test_identifiers_lists_aliases_and_secondary_ids_once():
    from trialdesk.interop.ctgov_models import IdentificationModule

    ident = IdentificationModule.model_validate(
        json.loads(
            '{"nctId": "NCT00000001", "nctIdAliases": ["NCT00000002"],'
            ' "orgStudyIdInfo": {"id": " ABC-1 "},'
            ' "secondaryIdInfos": [{"id": "2020-001234-56", "type": "EUDRACT_NUMBER"},'
            ' {"id": "ABC-1"}, {"type": "OTHER"}]}'
        )
    )
    assert identifiers(ident) == ["NCT00000001", "NCT00000002", "ABC-1", "2020-001234-56"]


def test_an_nct_number_with_a_space_is_one_word():
    assert parse_text("NCT 05227846").websearch() == "NCT05227846"
    assert parse_text("nct:05227846 cells").websearch() == "NCT05227846 cells"
    assert parse_text("NCT 0522784").websearch() == "NCT 0522784"  # not an NCT number


@pytest.mark.sqlite_only
def test_a_text_index_with_the_old_fields_is_replaced_and_filled_by_the_next_import(
    db, monkeypatch
):
    """A Tantivy folder made before migration 0011 (no identifiers field) does not stop the
    search: it is replaced, FTS5 answers meanwhile, and the next import fills the new one."""
    import tantivy
    from django.db import connection

    from conftest import seed_record_paths
    from trialdesk.registry import fastsearch, textindex
    from trialdesk.registry.importer import import_paths
    from trialdesk.registry.search import SearchQuery, search

    textindex.forget(connection, remove=True)
    path = textindex.path_for(connection)
    builder = tantivy.SchemaBuilder()
    builder.add_integer_field("id", stored=True, indexed=True, fast=True)
    for name in textindex.TEXT_FIELDS[:-1]:
        builder.add_text_field(name, stored=False)
    path.mkdir(parents=True)
    tantivy.Index(builder.build(), path=str(path), reuse=False)
    answers = []
    real = fastsearch._ranked_by_text_index
    monkeypatch.setattr(
        fastsearch, "_ranked_by_text_index", lambda *a: answers.append(real(*a)) or answers[-1]
    )
    try:
        assert import_paths(seed_record_paths()).ok
        assert [h.nct_id for h in search(SearchQuery(text="ISC.19.29")).results] == [HANOI]
        assert answers and answers[-1] is not None  # the new index answered
    finally:
        textindex.forget(connection, remove=True)
