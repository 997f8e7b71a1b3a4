"""The in-memory filter index (SQLite) must answer exactly as the SQL plans do."""

from __future__ import annotations

import json
import random

import pytest

from trialdesk.interop.synthetic import generate_studies
from trialdesk.registry import search as registry_search
from trialdesk.registry.importer import import_bytes
from trialdesk.registry.models import Trial, TrialLocation
from trialdesk.registry.search import SearchQuery, search

pytestmark = pytest.mark.django_db

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
    kwargs: dict = {"per_page": rng.choice((5, 20)), "page": rng.choice((1, 1, 2))}
    if rng.random() < 0.6:
        kwargs["text"] = rng.choice(WORDS)
    if rng.random() < 0.5:
        kwargs["statuses"] = tuple(
            rng.sample(["RECRUITING", "COMPLETED", "NOT_YET_RECRUITING"], rng.randint(1, 2))
        )
    if rng.random() < 0.3:
        kwargs["phases"] = (rng.choice(registry_search.PHASES),)
    if rng.random() < 0.2:
        kwargs["study_type"] = rng.choice(registry_search.STUDY_TYPES)
    if rng.random() < 0.3:
        kwargs["sex"] = rng.choice(registry_search.SEXES)
    if rng.random() < 0.4:
        kwargs["age"] = rng.choice((0.5, 8, 17.99, 18, 45, 65, 75, 90))
    if rng.random() < 0.15:
        kwargs["condition"] = rng.choice(["cancer", "hepatitis", "diabetes"])
    if rng.random() < 0.5:
        lat, lon = rng.choice(points)
        kwargs["near"] = (lat + rng.uniform(-1, 1), lon + rng.uniform(-1, 1))
        if rng.random() < 0.8:
            kwargs["within_km"] = rng.choice((10, 50, 150, 500, 2000))
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
