"""trialdesk.interop.synthetic: valid, varied, deterministic synthetic registry records."""

import collections
import json

import pytest

from trialdesk.interop import synthetic_vocab
from trialdesk.interop.ctgov import (
    age_to_days,
    dump_study,
    iter_sources,
    load_studies,
    parse_studies,
    split_eligibility,
)
from trialdesk.interop.synthetic import generate_studies, load_cities, write_pages

N = 1500


@pytest.fixture(scope="module")
def records():
    return list(generate_studies(N, seed=11))


@pytest.fixture(scope="module")
def studies(records):
    return parse_studies(records, "synthetic")


def test_every_record_is_valid_and_round_trips(records, studies):
    assert len(studies) == N
    assert all(dump_study(s) == r for s, r in zip(studies, records, strict=True))


def test_deterministic_prefix_and_seed_dependent(records):
    assert list(generate_studies(200, seed=11)) == records[:200]
    other = list(generate_studies(200, seed=12))
    assert other != records[:200]
    ids = [s["protocolSection"]["identificationModule"]["nctId"] for s in records]
    assert len(set(ids)) == N and ids[0] == "NCT90000000"
    shifted = next(generate_studies(1, seed=11, start=5000))
    assert shifted["protocolSection"]["identificationModule"]["nctId"] == "NCT90005000"


def test_variety_of_types_phases_statuses_and_sex(studies):
    types = collections.Counter(s.study_type.value for s in studies)
    assert set(types) == {"INTERVENTIONAL", "OBSERVATIONAL", "EXPANDED_ACCESS"}
    assert types["INTERVENTIONAL"] > types["OBSERVATIONAL"] > types["EXPANDED_ACCESS"]
    phases = {tuple(p.value for p in s.phases) for s in studies}
    assert {("PHASE1",), ("PHASE1", "PHASE2"), ("PHASE3",), ("NA",)} <= phases
    assert all(s.phases == ["NA"] for s in studies if s.study_type.value == "OBSERVATIONAL")
    statuses = collections.Counter(s.overall_status.value for s in studies)
    assert statuses.most_common(1)[0][0] == "COMPLETED"
    assert {"RECRUITING", "NOT_YET_RECRUITING", "TERMINATED", "WITHDRAWN"} <= set(statuses)
    assert {s.sex.value for s in studies} == {"ALL", "FEMALE", "MALE"}
    assert len({c for s in studies for c in s.conditions}) > 200
    kinds = {
        i.type.value
        for s in studies
        for i in s.protocol_section.arms_interventions_module.interventions
    }
    assert {"DRUG", "BIOLOGICAL", "DEVICE", "PROCEDURE"} <= kinds


def _std_ages(min_days, max_days):
    # ClinicalTrials.gov age groups: child 0-17, adult 18-64, older adult 65+ years
    lo = min_days or 0.0
    hi = max_days if max_days is not None else float("inf")
    groups = []
    if lo < 18 * 365.25:
        groups.append("CHILD")
    if lo < 65 * 365.25 and hi >= 18 * 365.25:
        groups.append("ADULT")
    if hi >= 65 * 365.25:
        groups.append("OLDER_ADULT")
    return groups


def test_age_ranges_are_varied_and_consistent_with_std_ages(studies):
    kinds = set()
    for s in studies:
        elig = s.protocol_section.eligibility_module
        lo, hi = s.min_age_days, s.max_age_days
        assert [a.value for a in elig.std_ages] == _std_ages(lo, hi), s.nct_id
        if lo is not None and hi is not None:
            assert lo < hi
        kinds.add(
            "none" if lo is None and hi is None
            else "child-only" if hi is not None and hi < 18 * 365.25
            else "older" if lo is not None and lo >= 65 * 365.25
            else "adult"
        )  # fmt: skip
    assert kinds == {"none", "child-only", "older", "adult"}
    # sex-specific areas keep their sex
    for s in studies:
        if "Prostate Cancer" in s.conditions:
            assert s.sex.value == "MALE"


def test_criteria_text_splits_into_items(studies):
    nested = 0
    styles = set()
    for s in studies:
        text = s.eligibility_criteria
        styles.add(text.split("\n\n")[1][:2])
        split = split_eligibility(text)
        assert split.other == [], s.nct_id
        assert 3 <= len(split.inclusion) <= 9 and 3 <= len(split.exclusion) <= 11
        nested += any("\n" in item for item in split.inclusion)
    assert styles == {"* ", "- ", "1."}
    assert nested > N * 0.1


def test_sites_use_real_city_coordinates(studies):
    table = {(c.name, c.country): (c.lat, c.lon) for c in load_cities()}
    counts = collections.Counter(len(s.locations) for s in studies)
    assert counts[1] > N * 0.4 and max(counts) > 20
    for s in studies:
        for loc in s.locations:
            assert table[(loc.city, loc.country)] == (loc.geo_point.lat, loc.geo_point.lon)
            if s.overall_status.value == "COMPLETED":
                assert loc.status.value == "COMPLETED"


def test_city_table():
    cities = load_cities()
    assert 280 <= len(cities) <= 320
    assert len({(c.name, c.country) for c in cities}) == len(cities)
    by_name = {(c.name, c.country): c for c in cities}
    # ClinicalTrials.gov geoPoints (GeoNames) for the two seed sites
    assert (by_name["Beijing", "China"].lat, by_name["Beijing", "China"].lon) == (
        39.9075,
        116.39723,
    )
    assert (by_name["Hanoi", "Vietnam"].lat, by_name["Hanoi", "Vietnam"].lon) == (
        21.0245,
        105.84117,
    )
    assert all(-90 <= c.lat <= 90 and -180 <= c.lon <= 180 for c in cities)
    assert len({c.country for c in cities}) >= 50


def test_vocabulary_size():
    conditions = {c for names, _, _ in synthetic_vocab.AREAS.values() for c in names}
    assert len(conditions) >= 300


def test_write_pages(tmp_path):
    paths = write_pages(1200, tmp_path / "pages", seed=3, page_size=500)
    assert [p.name for p in paths] == ["page-00001.json", "page-00002.json", "page-00003.json"]
    assert not list((tmp_path / "pages").glob("*.part"))
    pages = [json.loads(p.read_text(encoding="utf-8")) for p in paths]
    assert [len(p["studies"]) for p in pages] == [500, 500, 200]
    assert all(p["totalCount"] == 1200 for p in pages)
    assert pages[0]["studies"][:3] == list(generate_studies(3, seed=3))
    loaded = [
        s for src in iter_sources([tmp_path / "pages"]) for s in load_studies(src.read(), src.name)
    ]
    assert [s.nct_id for s in loaded] == [
        s["protocolSection"]["identificationModule"]["nctId"]
        for s in generate_studies(1200, seed=3)
    ]


def test_bad_arguments():
    with pytest.raises(ValueError, match="n must be"):
        list(generate_studies(-1))
    with pytest.raises(ValueError, match="page_size"):
        write_pages(10, "unused", page_size=0)


def test_age_helper_agrees_with_generator_units():
    assert age_to_days("32 Weeks") == 224.0
