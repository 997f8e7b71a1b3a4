"""Two rules of the search text that every engine (``engines.py``) must follow alike
(issue 14, defects left from issue 11's review):

- a text made only of exclusions (``-cirrhosis``) finds every trial without the word,
  unranked, in NCT id order (it used to list all trials);
- a quoted phrase's leading and trailing stop words are dropped (PostgreSQL's
  ``websearch_to_tsquery`` drops them; FTS5 and Tantivy used to require them), so
  ``"liver failure of"`` is the phrase ``liver failure`` everywhere.
"""

from __future__ import annotations

import json

import pytest
from engines import ENGINES, route
from registry_studies import make_study

from trialdesk.registry.importer import import_bytes
from trialdesk.registry.models import Trial
from trialdesk.registry.search import SearchQuery, parse_text, search

pytestmark = pytest.mark.django_db

ADULTS = "NCT09000001"  # "Acute liver failure in adults": liver failure, no "of" after it
UNKNOWN = "NCT09000002"  # "Liver failure of unknown cause"
KIDNEY = "NCT09000003"  # "Failure of the kidney after cirrhosis": cirrhosis, no liver failure


@pytest.fixture(params=ENGINES)
def engine(request, monkeypatch, db):
    for calls in route(request.param, monkeypatch):
        studies = [
            make_study(ADULTS, title="Acute liver failure in adults",
                       conditions=("Acute Liver Failure",), summary="Cell therapy.",
                       criteria="Inclusion Criteria:\n\n* Adults"),
            make_study(UNKNOWN, title="Liver failure of unknown cause", status="COMPLETED",
                       conditions=("Liver Failure",), summary="Cell therapy.",
                       criteria="Inclusion Criteria:\n\n* Adults"),
            make_study(KIDNEY, title="Failure of the kidney after cirrhosis",
                       conditions=("Kidney Failure",), summary="Cell therapy.",
                       criteria="Inclusion Criteria:\n\n* Adults"),
        ]  # fmt: skip
        report = import_bytes(json.dumps({"studies": studies}).encode(), "rules.json")
        assert report.created == 3, report.summary()
        yield calls


def _ids(page) -> list[str]:
    return [h.nct_id for h in page.results]


def _all_ids() -> list[str]:
    return sorted(Trial.objects.values_list("nct_id", flat=True))


@pytest.mark.parametrize(
    ("text", "excluded_by"),
    [
        ("-cirrhosis", ["cirrhosis"]),
        ('-"liver failure"', ['"liver failure"']),
        ("-cirrhosis -adults", ["cirrhosis OR adults"]),
        # Either alternative may hold: dropped are the trials with both words.
        ("-cirrhosis OR -kidney", ["cirrhosis kidney"]),
    ],
)
def test_a_text_of_exclusions_only_finds_every_trial_without_them(engine, text, excluded_by):
    dropped = {
        h for words in excluded_by for h in _ids(search(SearchQuery(text=words, per_page=100)))
    }
    assert dropped  # the words are in some trials, so the exclusion is tested
    page = search(SearchQuery(text=text, per_page=100))
    expected = [n for n in _all_ids() if n not in dropped]
    assert _ids(page) == expected  # NCT id order: nothing to rank
    assert page.total == len(expected) and page.total_exact
    assert all(h.score is None for h in page.results)
    assert page.text_query == parse_text(text).websearch() != ""


def test_exclusions_combine_with_filters_and_the_condition(engine):
    page = search(SearchQuery(text="-adults", statuses=("RECRUITING",), per_page=100))
    recruiting = {
        h.nct_id for h in search(SearchQuery(statuses=("RECRUITING",), per_page=100)).results
    }
    with_adults = set(_ids(search(SearchQuery(text="adults", per_page=100))))
    assert _ids(page) == sorted(recruiting - with_adults)
    assert ADULTS in with_adults and UNKNOWN not in _ids(page)  # COMPLETED
    page = search(SearchQuery(text="-cirrhosis", condition="failure"))
    assert _ids(page) == [ADULTS, UNKNOWN]
    page = search(SearchQuery(text="-unknown", condition="liver failure"))
    assert _ids(page) == [ADULTS]


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ('"liver failure of"', {ADULTS, UNKNOWN}),
        ('"of the liver failure"', {ADULTS, UNKNOWN}),
        ('"failure of the"', {ADULTS, UNKNOWN, KIDNEY}),
        ('"failure of the kidney"', {KIDNEY}),  # a stop word inside a phrase stays
        ('-"liver failure of"', None),
    ],
)
def test_a_phrase_ending_in_stop_words_is_the_phrase_without_them(engine, text, found):
    page = search(SearchQuery(text=text, per_page=100))
    ids = set(_ids(page))
    if found is None:  # excluded: the same trials as without the stop word
        assert ids == set(_all_ids()) - {ADULTS, UNKNOWN}
    else:
        assert found <= ids
        assert {ADULTS, UNKNOWN, KIDNEY} & ids == found


def test_parse_text_keeps_the_rules():
    assert parse_text('"liver failure of the"').websearch() == '"liver failure"'
    assert parse_text('"the failure"').websearch() == "failure"
    assert parse_text('"failure of the kidney"').websearch() == '"failure of the kidney"'
    query = parse_text('-cirrhosis -"liver failure" OR -kidney')
    assert query.empty and query.exclusions
    assert query.websearch() == '-cirrhosis -"liver failure" or -kidney'
    assert query.fts5_excluded() == '("cirrhosis" OR "liver failure") AND ("kidney")'
    # Next to an alternative with words, an alternative of exclusions only is dropped.
    assert parse_text("stem OR -kidney").websearch() == "stem"


def test_a_stop_word_inside_a_phrase_is_the_known_difference(engine):
    """Inside a phrase SQLite's engines (FTS5, Tantivy) need the stop words themselves;
    PostgreSQL does not index them and keeps only the gap (``'failur' <3> 'kidney'``)."""
    study = make_study("NCT09000004", title="Failure in a kidney", conditions=("Kidney Failure",))
    assert import_bytes(json.dumps({"studies": [study]}).encode(), "gap.json").created == 1
    ids = set(_ids(search(SearchQuery(text='"failure of the kidney"', per_page=100))))
    if engine["name"] == "postgresql":
        assert ids == {KIDNEY, "NCT09000004"}
    else:
        assert ids == {KIDNEY}
