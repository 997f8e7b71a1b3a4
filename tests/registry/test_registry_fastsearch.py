"""The in-memory filter index (SQLite) must answer exactly as the SQL plans do.

These tests are about the FTS5 strategies of ``fastsearch``: the Tantivy text index
(``textindex``, tested in test_registry_textindex.py) is switched off here."""

from __future__ import annotations

import json
import random

import pytest

from trialdesk.interop.synthetic import generate_studies
from trialdesk.registry import filters
from trialdesk.registry import search as registry_search
from trialdesk.registry.importer import import_bytes
from trialdesk.registry.models import Trial, TrialLocation
from trialdesk.registry.search import SearchQuery, search

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fts5_only(monkeypatch):
    from trialdesk.registry import textindex

    monkeypatch.setattr(textindex, "ENABLED", False)


WORDS = ["cancer", "cirrhosis", "vaccine", "stem cells", "diabetes", "liver", "pain",
         "healthy", "placebo -vaccine", "heart OR lung", "zzzunknown"]  # fmt: skip


def _both(monkeypatch, query: SearchQuery):
    monkeypatch.setattr(registry_search, "FAST_INDEX", True)
    fast = search(query)
    monkeypatch.setattr(registry_search, "FAST_INDEX", False)
    sql = search(query)
    return fast, sql


def _key(page):
    return (
        page.total,
        [(h.nct_id, h.score, h.nearest_site) for h in page.results],
    )


def _random_query(rng: random.Random, points: list[tuple[float, float]]) -> SearchQuery:
    """Text and condition words, and every declared filter (``filters.FILTERS``) drawn by
    its own declaration: a new filter is covered here without editing this test."""
    kwargs: dict = {"per_page": rng.choice((5, 20)), "page": rng.choice((1, 1, 2))}
    if rng.random() < 0.6:
        kwargs["text"] = rng.choice(WORDS)
    if rng.random() < 0.15:
        kwargs["condition"] = rng.choice(["cancer", "hepatitis", "diabetes"])
    kwargs.update(filters.sample_query(rng, points))
    return SearchQuery(**kwargs)


@pytest.mark.parametrize(
    "in_list_max, top_first",
    [(20_000, 256), (0, 1)],
    ids=["as-configured", "best-matches-strategy-widening"],
)
def test_filter_index_agrees_with_the_sql_plans_on_random_queries(
    monkeypatch, in_list_max, top_first
):
    """150 random queries, each answered by both engines. The second run forces the
    best-matches strategy with a first LIMIT of one page, so ranked queries widen."""
    from trialdesk.registry import fastsearch

    monkeypatch.setattr(fastsearch, "IN_LIST_MAX", in_list_max)
    monkeypatch.setattr(fastsearch, "TOP_FIRST", top_first)
    studies = list(generate_studies(300, seed=7))
    report = import_bytes(json.dumps({"studies": studies}).encode(), "synthetic.json")
    assert report.created == 300
    points = list(TrialLocation.objects.exclude(lat=None).values_list("lat", "lon").distinct()[:40])
    rng = random.Random(11)
    for _ in range(150):
        query = _random_query(rng, points)
        fast, sql = _both(monkeypatch, query)
        assert _key(fast) == _key(sql), query
        assert fast.total_exact


def test_filter_index_follows_changes_to_the_registry(monkeypatch):
    """Saves, deletes and imports through the ORM or the importer rebuild the index."""
    studies = list(generate_studies(40, seed=3))
    import_bytes(json.dumps({"studies": studies}).encode(), "a.json")
    query = SearchQuery(statuses=("RECRUITING",), per_page=100)
    before = search(query).total
    trial = Trial.objects.filter(overall_status="RECRUITING").first()
    trial.overall_status = "COMPLETED"
    trial.save()
    assert search(query).total == before - 1
    Trial.objects.filter(overall_status="RECRUITING").first().delete()
    assert search(query).total == before - 2
    more = list(generate_studies(10, seed=3, start=40))
    import_bytes(json.dumps({"studies": more}).encode(), "b.json")
    fast, sql = _both(monkeypatch, query)
    assert _key(fast) == _key(sql)
    assert fast.total == sql.total > before - 2


def test_filter_index_on_an_empty_registry():
    page = search(SearchQuery(text="cirrhosis", statuses=("RECRUITING",), near=(21.0, 105.8),
                              within_km=50))  # fmt: skip
    assert page.total == 0 and page.results == ()
    assert search(SearchQuery()).total == 0


@pytest.mark.parametrize("in_list_max", [0, 20_000])
def test_an_index_older_than_the_registry_answers_without_failing(monkeypatch, in_list_max):
    """An import can commit while (or after) a process reads its index: the trials it does
    not hold yet are left out of that search, never an error."""
    from django.db import connection

    from trialdesk.registry import fastsearch, filterindex
    from trialdesk.registry.search import SearchPlan, parse_text

    monkeypatch.setattr(fastsearch, "IN_LIST_MAX", in_list_max)
    monkeypatch.setattr(fastsearch, "TOP_FIRST", 1)
    sqlite = connection.vendor == "sqlite"  # the index exists on SQLite only
    older = list(generate_studies(30, seed=5))
    import_bytes(json.dumps({"studies": older}).encode(), "a.json")
    if sqlite:
        with connection.cursor() as cursor:
            old = filterindex.build_index(cursor)
    more = list(generate_studies(30, seed=5, start=30))
    import_bytes(json.dumps({"studies": more}).encode(), "b.json")
    # Words of the new trials' conditions: the full-text index already holds them.
    first = [
        s["protocolSection"]["conditionsModule"]["conditions"][0] for s in (*older[:8], *more[:8])
    ]
    word = " OR ".join(sorted({c.split()[0] for c in first}))
    newer = {s["protocolSection"]["identificationModule"]["nctId"] for s in more}
    page = search(SearchQuery(text=word, per_page=100))
    assert len(newer & {h.nct_id for h in page.results}) >= 2  # the current index sees them
    if not sqlite:
        return
    held = set(Trial.objects.filter(id__in=old.ids.tolist()).values_list("nct_id", flat=True))
    statuses = registry_search.STATUSES
    for kwargs in ({"text": word}, {"text": word, "statuses": statuses}, {"condition": word.split()[0]},
                   {"statuses": statuses}):  # fmt: skip
        query = SearchQuery(per_page=50, **kwargs)
        plan = SearchPlan(query, parse_text(query.text), None, "sqlite")
        with connection.cursor() as cursor:
            rows, total = fastsearch.run(query, plan, old, cursor, None)
        assert {row[1] for row in rows} <= held and len(rows) <= total


def test_sql_plans_work_while_indexes_are_deferred(monkeypatch):
    """The SQL plans name some indexes (INDEXED BY): those are never deferred."""
    from django.db import connection

    from trialdesk.registry import bulk

    studies = list(generate_studies(60, seed=9))
    import_bytes(json.dumps({"studies": studies}).encode(), "a.json")
    site = TrialLocation.objects.exclude(lat=None).first()
    word = site.trial.conditions_text.split()[0]  # so that the site's trial is found
    query = SearchQuery(country=site.country, near=(site.lat, site.lon), within_km=100,
                        text=f"{word} OR cancer", per_page=50)  # fmt: skip
    near = SearchQuery(near=(site.lat, site.lon), within_km=50)
    monkeypatch.setattr(registry_search, "FAST_INDEX", False)
    before, near_before = _key(search(query)), _key(search(near))
    assert site.trial.nct_id in {h[0] for h in before[1]}
    assert site.trial.nct_id in {h[0] for h in near_before[1]}
    dropped = bulk.defer_indexes()
    if connection.vendor == "sqlite":
        assert dropped
    assert _key(search(query)) == before
    assert _key(search(near)) == near_before
    bulk.restore_indexes()


def test_a_site_saved_through_the_orm_gets_its_grid_cell():
    from trialdesk.registry.geo import cell_of

    import_bytes(json.dumps({"studies": list(generate_studies(3, seed=2))}).encode(), "a.json")
    site = TrialLocation.objects.exclude(lat=None).first()
    site.lat, site.lon = -33.86785, 151.20732
    site.save()
    site.refresh_from_db()
    assert site.cell == cell_of(-33.86785, 151.20732)
    site.lat = site.lon = None
    site.save()
    site.refresh_from_db()
    assert site.cell is None


def test_texts_of_exclusions_only_agree_with_the_sql_plans(monkeypatch):
    """A text made only of exclusions with random declared filters: the filter index (the
    excluded trials' FTS5 matches removed from its mask) and the SQL plans agree."""
    studies = list(generate_studies(300, seed=7))
    import_bytes(json.dumps({"studies": studies}).encode(), "synthetic.json")
    points = list(TrialLocation.objects.exclude(lat=None).values_list("lat", "lon").distinct()[:40])
    rng = random.Random(13)
    texts = ["-cancer", '-"stem cells" -vaccine', "-pain OR -healthy", "-zzzunknown"]
    for _ in range(40):
        query = SearchQuery(
            text=rng.choice(texts),
            per_page=rng.choice((5, 20)),
            page=rng.choice((1, 2)),
            condition=rng.choice([None, None, "cancer"]),
            **filters.sample_query(rng, points),
        )
        fast, sql = _both(monkeypatch, query)
        assert _key(fast) == _key(sql), query
        assert all(h.score is None for h in fast.results)
    everything = search(SearchQuery(per_page=100)).total
    assert search(SearchQuery(text="-zzzunknown", per_page=100)).total == everything
    assert 0 < search(SearchQuery(text="-cancer")).total < everything
