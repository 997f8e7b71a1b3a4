"""Search: ranking, every filter, per-site distance, safe text, pagination, places."""

from __future__ import annotations

import json

import pytest
from registry_studies import make_study

from trialdesk.registry import geo
from trialdesk.registry.importer import import_bytes
from trialdesk.registry.search import (
    SearchError,
    SearchQuery,
    cities,
    locations_tree,
    parse_text,
    resolve_city,
    search,
)

pytestmark = pytest.mark.django_db


def site(city, country, lat, lon, facility=None, status="RECRUITING"):
    return {
        "facility": facility or f"{city} General Hospital",
        "status": status,
        "city": city,
        "country": country,
        "geoPoint": {"lat": lat, "lon": lon},
    }


# City coordinates as CT.gov geocodes them (GeoNames).
HANOI = site("Hanoi", "Vietnam", 21.0245, 105.84117)
HAI_PHONG = site("Hai Phong", "Vietnam", 20.86481, 106.68345)
PARIS = site("Paris", "France", 48.85341, 2.3488)
BEIJING = site("Beijing", "China", 39.9075, 116.39723)
SPRINGFIELD_US = site("Springfield", "United States", 39.80172, -89.64371)
SPRINGFIELD_AU = site("Springfield", "Australia", -27.65, 152.9)


def _import(*studies):
    report = import_bytes(json.dumps({"studies": list(studies)}).encode(), "test.json")
    assert report.ok, report.failures


def _ids(page):
    return [h.nct_id for h in page.results]


@pytest.fixture
def corpus():
    _import(
        make_study(
            "NCT00000001",
            title="Mesenchymal stem cells for decompensated cirrhosis",
            phases=("PHASE1",),
            min_age="18 Years",
            max_age="75 Years",
            conditions=("Decompensated Cirrhosis",),
            criteria="Inclusion Criteria:\n\n* Child-Pugh B",
            locations=(PARIS, HANOI),  # a far site and a near site
        ),
        make_study(
            "NCT00000002",
            title="Cartilage repair with chondrocytes",
            status="COMPLETED",
            phases=("PHASE1", "PHASE2"),
            sex="FEMALE",
            min_age="40 Years",
            max_age=None,
            conditions=("Knee Osteoarthritis",),
            criteria="Exclusion Criteria:\n\n* Cirrhosis of the liver",  # criteria-only match
            locations=(PARIS,),
        ),
        make_study(
            "NCT00000003",
            title="Observational registry of heart failure",
            status="RECRUITING",
            phases=(),
            study_type="OBSERVATIONAL",
            sex="MALE",
            min_age=None,
            max_age="17 Years",
            conditions=("Heart Failure",),
            summary="Long term follow-up of cirrhosis patients with heart failure.",
            locations=(HAI_PHONG, BEIJING),
        ),
        make_study(
            "NCT00000004",
            title="Umbilical cord MSC in liver failure",
            status="NOT_YET_RECRUITING",
            phases=("PHASE2",),
            min_age="6 Months",
            max_age="18 Years",
            conditions=("Acute-on-chronic Liver Failure", "Liver Cirrhosis"),
            locations=(),
        ),
    )


def test_title_match_outranks_criteria_only_match(corpus):
    page = search(SearchQuery(text="cirrhosis"))
    ids = _ids(page)
    assert set(ids) == {"NCT00000001", "NCT00000002", "NCT00000003", "NCT00000004"}
    assert ids[0] == "NCT00000001"  # in the title (and conditions)
    assert ids.index("NCT00000004") < ids.index("NCT00000002")  # conditions > criteria
    scores = [h.score for h in page.results]
    assert scores == sorted(scores, reverse=True) and scores[-1] > 0


def test_without_text_results_are_by_nct_id_without_score(corpus):
    page = search(SearchQuery())
    assert _ids(page) == ["NCT00000001", "NCT00000002", "NCT00000003", "NCT00000004"]
    assert all(h.score is None for h in page.results)
    assert page.total == 4 and page.pages == 1 and page.total_exact


def test_text_semantics_and_phrase_or_not(corpus):
    assert _ids(search(SearchQuery(text="stem cells cirrhosis"))) == ["NCT00000001"]
    assert _ids(search(SearchQuery(text='"cells for decompensated"'))) == ["NCT00000001"]
    assert search(SearchQuery(text='"decompensated stem"')).total == 0
    assert set(_ids(search(SearchQuery(text="chondrocytes OR umbilical")))) == {
        "NCT00000002",
        "NCT00000004",
    }
    assert set(_ids(search(SearchQuery(text="cirrhosis -heart -cartilage")))) == {
        "NCT00000001",
        "NCT00000004",
    }
    # Stemming: "failures" finds "failure".
    assert set(_ids(search(SearchQuery(text="failures")))) == {"NCT00000003", "NCT00000004"}


@pytest.mark.parametrize(
    "text",
    [
        "cirrhosis AND (",
        'cirrhosis"',
        "cirrhosis)",
        "cirrhosis*",
        "cirrhosis OR",
        "OR cirrhosis",
        "cirrhosis NOT",
        "- cirrhosis",
        "cirrhosis ^ & | ! : ' \\",
        "cirrhosis -",
    ],
)
def test_user_text_never_breaks_the_engine(corpus, text):
    page = search(SearchQuery(text=text))
    assert "NCT00000001" in _ids(page)


@pytest.mark.parametrize(
    "text, words, found",
    [
        # Read by an engine these are a NEAR group or column filters (NCT00000001 has
        # "cirrhosis" near "stem" and in its title); read as words, no trial holds them.
        ("NEAR(cirrhosis stem)", '"NEAR cirrhosis" stem', []),
        ("title:cirrhosis", '"title cirrhosis"', []),
        ("{brief_title}: cirrhosis", '"brief title" cirrhosis', []),
        ("brief_title : cirrhosis", '"brief title" cirrhosis', []),
        # Operators without operands are dropped, the words kept.
        ('"cells for decompensated" AND (', '"cells for decompensated"', ["NCT00000001"]),
        ("heart OR AND NOT (", "heart", ["NCT00000003"]),
    ],
)
def test_engine_syntax_is_read_as_words(corpus, text, words, found):
    page = search(SearchQuery(text=text))
    assert page.text_query == words
    assert _ids(page) == found
    assert _ids(search(SearchQuery(text=words))) == found  # the same as typing the words


@pytest.mark.parametrize("text", ["(", ")", '"', "AND", "OR", "-", "the of and", "* ^ :", "'"])
def test_text_without_words_lists_everything(corpus, text):
    page = search(SearchQuery(text=text))
    assert page.total == 4 and page.text_query == ""


def test_parse_text_reads_web_search_syntax():
    q = parse_text('stem -rat "cord blood" OR covid-19 AND (')
    assert q.websearch() == 'stem -rat "cord blood" or "covid 19"'
    assert q.fts5() == '(("stem" AND "cord blood") NOT "rat") OR (("covid 19"))'
    assert parse_text("-only -negative").empty
    assert parse_text('x"y').fts5() == '(("x y"))'


def test_status_phase_type_filters(corpus):
    assert _ids(search(SearchQuery(statuses=("RECRUITING",)))) == ["NCT00000001", "NCT00000003"]
    assert _ids(search(SearchQuery(statuses="COMPLETED,NOT_YET_RECRUITING"))) == [
        "NCT00000002",
        "NCT00000004",
    ]
    # A Phase 1/2 trial is found by PHASE1 and by PHASE2.
    assert _ids(search(SearchQuery(phases=("PHASE1",)))) == ["NCT00000001", "NCT00000002"]
    assert _ids(search(SearchQuery(phases=("PHASE2",)))) == ["NCT00000002", "NCT00000004"]
    assert _ids(search(SearchQuery(study_type="observational"))) == ["NCT00000003"]
    assert _ids(search(SearchQuery(text="cirrhosis", statuses=("RECRUITING",)))) == [
        "NCT00000001",
        "NCT00000003",
    ]


def test_sex_filter_is_the_patients_sex(corpus):
    assert _ids(search(SearchQuery(sex="FEMALE"))) == ["NCT00000001", "NCT00000002", "NCT00000004"]
    assert _ids(search(SearchQuery(sex="MALE"))) == ["NCT00000001", "NCT00000003", "NCT00000004"]
    assert _ids(search(SearchQuery(sex="ALL"))) == ["NCT00000001", "NCT00000004"]


@pytest.mark.parametrize(
    ("age", "expected"),
    [
        (0.4, ["NCT00000003"]),  # below 6 months
        (0.5, ["NCT00000003", "NCT00000004"]),  # 6 months, inclusive
        (17, ["NCT00000003", "NCT00000004"]),  # max 17 years, inclusive
        (17.5, ["NCT00000004"]),
        (18, ["NCT00000001", "NCT00000004"]),  # min 18 and max 18, both inclusive
        (18.5, ["NCT00000001"]),
        (39.9, ["NCT00000001"]),
        (40, ["NCT00000001", "NCT00000002"]),  # min 40, no max
        (75, ["NCT00000001", "NCT00000002"]),  # max 75 inclusive
        (75.5, ["NCT00000002"]),
        (120, ["NCT00000002"]),
    ],
)
def test_age_limits_are_inclusive_and_open_ended(corpus, age, expected):
    assert _ids(search(SearchQuery(age=age))) == expected


def test_condition_filter(corpus):
    assert _ids(search(SearchQuery(condition="cirrhosis"))) == ["NCT00000001", "NCT00000004"]
    assert _ids(search(SearchQuery(condition="Decompensated Cirrhosis"))) == ["NCT00000001"]
    assert _ids(search(SearchQuery(condition="liver failure"))) == ["NCT00000004"]
    assert _ids(search(SearchQuery(text="stem", condition="cirrhosis"))) == ["NCT00000001"]
    assert search(SearchQuery(condition="AND (")).total == 4  # no words: no filter


def test_country_and_city_filters(corpus):
    assert _ids(search(SearchQuery(country="vietnam"))) == ["NCT00000001", "NCT00000003"]
    assert _ids(search(SearchQuery(city="Paris"))) == ["NCT00000001", "NCT00000002"]
    assert _ids(search(SearchQuery(country="China", city="Beijing"))) == ["NCT00000003"]


def test_distance_is_per_site_and_reports_the_nearest(corpus):
    # Hoan Kiem lake, central Hanoi.
    lake = (21.0287, 105.8524)
    page = search(SearchQuery(near=lake, within_km=50))
    assert _ids(page) == ["NCT00000001"]  # its Paris site is 9,000 km away, its Hanoi site near
    nearest = page.results[0].nearest_site
    assert nearest.city == "Hanoi"
    assert nearest.distance_km == pytest.approx(
        geo.haversine_km(*lake, 21.0245, 105.84117), abs=1e-3
    )
    assert nearest.distance_km < 2
    # Hai Phong is ~90 km from Hanoi: inside 120 km, outside 50 km.
    wider = search(SearchQuery(near=lake, within_km=120))
    assert _ids(wider) == ["NCT00000001", "NCT00000003"]
    assert wider.results[1].nearest_site.city == "Hai Phong"
    assert 80 < wider.results[1].nearest_site.distance_km < 100
    # near without within_km: no filter, but each hit has its nearest site (or none).
    everything = search(SearchQuery(near=lake))
    assert everything.total == 4
    by_id = {h.nct_id: h.nearest_site for h in everything.results}
    assert by_id["NCT00000002"].city == "Paris" and by_id["NCT00000004"] is None


def test_near_city_and_combined_filters(corpus):
    page = search(
        SearchQuery(
            text="cirrhosis", statuses=("RECRUITING",), age=30, near_city="hanoi", within_km=50
        )
    )
    assert _ids(page) == ["NCT00000001"]
    assert page.origin == (21.0245, 105.84117)
    assert page.results[0].nearest_site.distance_km == 0.0
    assert _ids(search(SearchQuery(near_city="Hanoi, Vietnam", within_km=5))) == ["NCT00000001"]


def test_resolve_city_errors_and_ambiguity(corpus):
    _import(
        make_study("NCT00000005", locations=(SPRINGFIELD_US,)),
        make_study("NCT00000006", locations=(SPRINGFIELD_AU,)),
    )
    with pytest.raises(SearchError, match="several countries"):
        resolve_city("Springfield")
    assert resolve_city("springfield, australia").lat == pytest.approx(-27.65)
    with pytest.raises(SearchError, match="no geocoded trial site"):
        resolve_city("Atlantis")
    with pytest.raises(SearchError, match="no geocoded"):
        search(SearchQuery(near_city="Atlantis", within_km=10))


def test_pagination(corpus):
    _import(*[make_study(f"NCT1000{k:04d}", title=f"Stem cell study {k}") for k in range(25)])
    first = search(SearchQuery(text="stem", per_page=10))
    assert first.total == 26 and first.pages == 3 and len(first.results) == 10
    third = search(SearchQuery(text="stem", per_page=10, page=3))
    assert len(third.results) == 6
    seen = set()
    for page in (1, 2, 3):
        seen |= set(_ids(search(SearchQuery(text="stem", per_page=10, page=page))))
    assert len(seen) == 26
    beyond = search(SearchQuery(text="stem", per_page=10, page=9))
    assert beyond.results == () and beyond.total == 26 and beyond.pages == 3
    plain = search(SearchQuery(per_page=7, page=2))
    assert plain.total == 29 and plain.pages == 5
    assert _ids(plain)[0] == "NCT10000003"  # 8th by NCT id


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"statuses": ("OPEN",)}, "status 'OPEN'"),
        ({"phases": ("PHASE9",)}, "phase 'PHASE9'"),
        ({"study_type": "trial"}, "study_type"),
        ({"sex": "X"}, "sex"),
        ({"age": -1}, "age"),
        ({"per_page": 101}, "per_page"),
        ({"per_page": 0}, "per_page"),
        ({"page": 0}, "page"),
        ({"within_km": 10}, "within_km needs"),
        ({"near": (91, 0), "within_km": 5}, "latitude"),
        ({"near": (10, 10), "near_city": "Hanoi"}, "not both"),
        ({"near": (10, 10), "within_km": -5}, "within_km"),
    ],
)
def test_invalid_queries_name_the_parameter(kwargs, message):
    with pytest.raises(SearchError, match=message):
        SearchQuery(**kwargs)


def test_locations_tree_and_cities(corpus):
    tree = {c.name: c for c in locations_tree()}
    assert tree["France"].trials == 2
    assert tree["Vietnam"].trials == 2
    assert [(c.name, c.trials) for c in tree["Vietnam"].cities] == [("Hai Phong", 1), ("Hanoi", 1)]
    labels = {c.label: c for c in cities()}
    assert labels["Paris, France"].trials == 2
    assert (labels["Hanoi, Vietnam"].lat, labels["Hanoi, Vietnam"].lon) == (21.0245, 105.84117)
    # Cached per registry version: a new import shows up.
    _import(make_study("NCT00000009", locations=(PARIS,)))
    assert {c.name: c.trials for c in locations_tree()}["France"] == 3


def test_to_dict_is_json_ready(corpus):
    page = search(SearchQuery(text="cirrhosis", near_city="Hanoi", within_km=50))
    data = json.loads(json.dumps(page.to_dict()))
    assert set(data) >= {"total", "page", "pages", "results"}
    hit = data["results"][0]
    assert hit["nct_id"] == "NCT00000001" and hit["nearest_site"]["city"] == "Hanoi"


@pytest.mark.parametrize("sites_first", [True, False])
def test_both_sqlite_plans_give_the_same_page(corpus, monkeypatch, sites_first):
    from django.db import connection

    from trialdesk.registry import search as search_module

    probes = []

    def probe(self, *args):
        probes.append(sites_first)
        return 0 if sites_first else 10**9

    # Force the driving side (SQLite picks it by probing; PostgreSQL ignores the probes).
    # The SQL plans, not the in-memory index, answer here.
    monkeypatch.setattr(search_module.SearchPlan, "_probe_sites", probe)
    monkeypatch.setattr(search_module, "FAST_INDEX", False)
    page = search(
        SearchQuery(text="cirrhosis OR failure", near=(21.0287, 105.8524), within_km=120, age=10)
    )
    assert _ids(page) == ["NCT00000003"]
    assert page.results[0].nearest_site.city == "Hai Phong"
    page = search(SearchQuery(text="cirrhosis", near=(21.0287, 105.8524), within_km=120))
    assert _ids(page) == ["NCT00000001", "NCT00000003"] and page.total == 2
    assert bool(probes) == (connection.vendor == "sqlite")  # the forced probe was asked


def test_the_text_index_is_sqlites_only(seed_trials, django_capture_on_commit_callbacks):
    """PostgreSQL ranks with its own tsvector: no Tantivy index is opened, and saves
    (whose signals follow the index on SQLite) work the same."""
    from django.db import connection

    from trialdesk.registry import textindex
    from trialdesk.registry.models import Trial

    assert (textindex.for_connection() is not None) == (connection.vendor == "sqlite")
    trial = Trial.objects.get(nct_id="NCT05331872")
    with django_capture_on_commit_callbacks(execute=True):
        trial.brief_title = "Wombat trial"
        trial.save()
    assert [h.nct_id for h in search(SearchQuery(text="wombat")).results] == ["NCT05331872"]
