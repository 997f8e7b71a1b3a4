"""The Tantivy text index (SQLite): the same matches and totals as the SQL plans, ranked
and paged consistently, and used only while it holds the database's current state."""

from __future__ import annotations

import copy
import dataclasses
import json
import random

import pytest
from click.testing import CliRunner
from django.db import connection
from test_registry_fastsearch import _random_query

from trialdesk.interop.synthetic import generate_studies
from trialdesk.registry import fastsearch, textindex, textsync
from trialdesk.registry import search as registry_search
from trialdesk.registry.importer import import_bytes, import_paths
from trialdesk.registry.models import Trial, TrialLocation
from trialdesk.registry.search import SearchQuery, search
from trialdesk.registry.stamp import bump_version, current_stamp

pytestmark = [pytest.mark.django_db, pytest.mark.sqlite_only]


@pytest.fixture(autouse=True)
def fresh_index():
    """Each test starts with no index folder (it is created on first use)."""
    textindex.forget(connection, remove=True)
    yield
    textindex.forget(connection, remove=True)


@pytest.fixture
def used(monkeypatch):
    """Counts the ranked searches the text index answered."""
    calls = {"index": 0, "fts5": 0}
    real = fastsearch._ranked_by_text_index

    def spy(*args, **kwargs):
        out = real(*args, **kwargs)
        calls["index" if out is not None else "fts5"] += 1
        return out

    monkeypatch.setattr(fastsearch, "_ranked_by_text_index", spy)
    return calls


def _stamps():
    with connection.cursor() as cursor:
        db = current_stamp(cursor)
    return textindex.for_connection().stamp(), db


def _all(query: SearchQuery) -> list:
    """Every hit of ``query``, page after page of 100."""
    hits, page = [], 1
    while True:
        result = search(dataclasses.replace(query, page=page, per_page=100))
        hits.extend(result.results)
        if page >= result.pages:
            return hits
        page += 1


def _sql_plans(monkeypatch, query: SearchQuery):
    monkeypatch.setattr(registry_search, "FAST_INDEX", False)
    try:
        return search(query)
    finally:
        monkeypatch.setattr(registry_search, "FAST_INDEX", True)


def test_same_matches_and_totals_as_the_sql_plans_on_random_queries(monkeypatch, used):
    studies = list(generate_studies(300, seed=7))
    import_bytes(json.dumps({"studies": studies}).encode(), "synthetic.json")
    index_stamp, db_stamp = _stamps()
    assert index_stamp == db_stamp != ""
    points = list(TrialLocation.objects.exclude(lat=None).values_list("lat", "lon").distinct()[:40])
    rng = random.Random(11)
    checked = 0
    while checked < 120:
        query = _random_query(rng, points)
        if not query.text:
            continue
        checked += 1
        page = search(query)
        sql = _sql_plans(monkeypatch, query)
        assert page.total == sql.total and page.pages == sql.pages, query
        everything = _all(query)
        assert {h.nct_id for h in everything} == {h.nct_id for h in _all_sql(monkeypatch, query)}
        # Ranked by score (ties in the index's order, the same for every page size); the
        # asked page is that order's slice.
        scores = [h.score for h in everything]
        assert scores == sorted(scores, reverse=True), query
        start = (query.page - 1) * query.per_page
        assert [h.nct_id for h in page.results] == [
            h.nct_id for h in everything[start : start + query.per_page]
        ]
        if query.near is not None:
            assert [h.nearest_site for h in page.results] == [
                h.nearest_site for h in everything[start : start + query.per_page]
            ]
    assert used["fts5"] == 0 and used["index"] > 120


def _all_sql(monkeypatch, query):
    monkeypatch.setattr(registry_search, "FAST_INDEX", False)
    try:
        return _all(query)
    finally:
        monkeypatch.setattr(registry_search, "FAST_INDEX", True)


def _study(nct: str, title: str, summary: str = "Summary.") -> dict:
    study = copy.deepcopy(next(iter(generate_studies(1, seed=5))))
    ps = study["protocolSection"]
    ps["identificationModule"].update(nctId=nct, briefTitle=title, officialTitle="", acronym="")
    ps["descriptionModule"] = {"briefSummary": summary}
    ps["conditionsModule"] = {"conditions": ["Condition"]}
    ps.pop("armsInterventionsModule", None)
    ps["eligibilityModule"]["eligibilityCriteria"] = "None."
    return study


@pytest.mark.parametrize(
    "text, expected",
    [
        ("sjogren", {"NCT00000001"}),  # accents folded both ways
        ("Sjögren", {"NCT00000001"}),
        ("cell", {"NCT00000002", "NCT00000003"}),  # English stemming
        ('"stem cells"', {"NCT00000002"}),  # a phrase keeps word order
        ("covid-19", {"NCT00000004"}),  # the hyphenated word is the phrase "covid 19"
        ("cells -stem", {"NCT00000003"}),
        ("sjogren OR covid", {"NCT00000001", "NCT00000004"}),
        ("the of", set()),  # only stop words: no text, all trials (checked below)
    ],
)
def test_words_match_as_in_fts5(import_records, monkeypatch, used, text, expected):
    import_records(
        _study("NCT00000001", "Sjögren's syndrome"),
        _study("NCT00000002", "Mesenchymal stem cells"),
        _study("NCT00000003", "A cell line", summary="Cells of the liver."),
        _study("NCT00000004", "COVID-19 vaccine"),
    )
    page = search(SearchQuery(text=text))
    sql = _sql_plans(monkeypatch, SearchQuery(text=text))
    if expected:
        assert {h.nct_id for h in page.results} == expected == {h.nct_id for h in sql.results}
        assert used["index"] == 1
    else:
        assert page.total == sql.total == 4


def test_changes_through_the_models_follow_the_index(
    seed_trials, used, django_capture_on_commit_callbacks
):
    assert _stamps()[0] == _stamps()[1]
    trial = Trial.objects.get(nct_id="NCT05227846")
    with django_capture_on_commit_callbacks(execute=True):
        trial.brief_title = "Xylophone therapy"
        trial.save()
    assert _stamps()[0] == _stamps()[1]
    assert [h.nct_id for h in search(SearchQuery(text="xylophone")).results] == ["NCT05227846"]
    with django_capture_on_commit_callbacks(execute=True):
        TrialLocation.objects.filter(trial=trial).delete()
    page = search(SearchQuery(text="xylophone", near=(39.9, 116.4), within_km=50))
    assert page.total == 0
    with django_capture_on_commit_callbacks(execute=True):
        trial.delete()
    assert search(SearchQuery(text="xylophone")).total == 0
    assert used == {"index": 3, "fts5": 0}
    assert _stamps()[0] == _stamps()[1]


def test_an_index_behind_the_database_is_not_used(seed_trials, used):
    before = search(SearchQuery(text="cirrhosis"))
    assert used["index"] == 1 and before.total == 2
    Trial.objects.filter(nct_id="NCT05331872").update(brief_title="Quokka study")
    with connection.cursor() as cursor:  # a write without signals, as RegistryState asks
        bump_version(cursor)
    index_stamp, db_stamp = _stamps()
    assert index_stamp != db_stamp
    page = search(SearchQuery(text="quokka"))
    assert [h.nct_id for h in page.results] == ["NCT05331872"]  # found by FTS5
    assert used["fts5"] == 1
    assert textsync.rebuild() == 2
    assert [h.nct_id for h in search(SearchQuery(text="quokka")).results] == ["NCT05331872"]
    assert used["index"] == 2


def _pages(tmp_path, n_files: int, per_file: int = 5, start: int = 0) -> list:
    paths = []
    for k in range(n_files):
        studies = list(generate_studies(per_file, seed=9, start=start + k * per_file))
        path = tmp_path / f"page-{start + k}.json"
        path.write_text(json.dumps({"studies": studies}), encoding="utf-8")
        paths.append(path)
    return paths


def _retitle(paths, title: str) -> None:
    for path in paths:
        data = json.loads(path.read_text())
        for study in data["studies"]:
            study["protocolSection"]["identificationModule"]["briefTitle"] = title
        path.write_text(json.dumps(data))


def test_the_index_reads_the_fts5_columns_in_the_order_of_the_weights():
    """``TEXT_FIELDS`` repeats the FTS5 table's columns (a migration is frozen history,
    not imported by code): they must stay the same, in the order of ``BM25_WEIGHTS``."""
    import importlib

    fulltext = importlib.import_module("trialdesk.registry.migrations.0011_identifiers_text")
    assert textindex.TEXT_FIELDS == fulltext.FTS_COLUMNS
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM pragma_table_info('registry_trial_fts') ORDER BY cid")
        assert tuple(r[0] for r in cursor.fetchall()) == textindex.TEXT_FIELDS
    assert len(registry_search.BM25_WEIGHTS) == len(textindex.TEXT_FIELDS)


def _agrees_with_fts5(monkeypatch) -> None:
    for text in ("cancer", "vaccine", "liver OR heart", "placebo -vaccine"):
        fast = _all(SearchQuery(text=text))
        assert {h.nct_id for h in fast} == {
            h.nct_id for h in _all_sql(monkeypatch, SearchQuery(text=text))
        }


def test_an_import_follows_file_by_file(tmp_path, monkeypatch, used):
    report = import_paths(_pages(tmp_path, 6), workers=0)
    assert report.ok and report.created == 30
    assert _stamps()[0] == _stamps()[1]
    # Re-import with changed records: replaced documents, not duplicates.
    changed = _pages(tmp_path, 2, start=100)
    _retitle(changed, "Okapi research")
    assert import_paths(changed, workers=0).created == 10
    _retitle(changed, "Narwhal research")
    assert import_paths(changed, workers=0).updated == 10
    assert _stamps()[0] == _stamps()[1]
    assert search(SearchQuery(text="okapi")).total == 0
    assert search(SearchQuery(text="narwhal")).total == 10
    _agrees_with_fts5(monkeypatch)
    assert used["fts5"] == 0


def test_another_change_between_files_makes_the_import_rebuild(tmp_path, monkeypatch, used):
    """A change the importer did not make breaks its chain of stamps: the index is rebuilt
    from the database at the end, so it holds that change too."""
    seen = []

    def progress(p):
        if p.sources_done == 2:
            trial = Trial.objects.order_by("id").first()
            trial.brief_title = "Pangolin study"
            trial.save()  # its own follow-up cannot run: the importer holds the writer
        seen.append(p.sources_done)

    report = import_paths(_pages(tmp_path, 5), workers=0, progress=progress)
    assert report.ok and seen == [1, 2, 3, 4, 5]
    assert _stamps()[0] == _stamps()[1]
    assert search(SearchQuery(text="pangolin")).total == 1
    _agrees_with_fts5(monkeypatch)
    assert used["fts5"] == 0


def test_an_index_held_by_another_writer_is_left_behind(tmp_path, monkeypatch, used):
    index = textindex.for_connection()
    other = index.writer()  # as another process's import would hold it
    try:
        report = import_paths(_pages(tmp_path, 4), workers=0)
        assert report.ok
        assert _stamps()[0] != _stamps()[1]
        _agrees_with_fts5(monkeypatch)  # answered by FTS5
        assert used["index"] == 0
        with pytest.raises(textindex.IndexBusy):
            textsync.rebuild()
    finally:
        other.close()
    assert textsync.rebuild() == 20
    _agrees_with_fts5(monkeypatch)
    assert used["index"] > 0


def test_an_import_that_could_not_follow_catches_up_when_the_writer_is_free(
    tmp_path, monkeypatch, used
):
    other = textindex.for_connection().writer()

    def release(p):
        if p.sources_done == 2:
            other.close()  # the other writer finishes while this import still runs

    report = import_paths(_pages(tmp_path, 4), workers=0, progress=release)
    assert report.ok
    assert _stamps()[0] == _stamps()[1]  # rebuilt at the end
    _agrees_with_fts5(monkeypatch)
    assert used["fts5"] == 0


def test_an_interrupted_import_leaves_a_consistent_index(tmp_path, monkeypatch, used):
    from trialdesk.registry import importer

    monkeypatch.setattr(importer, "GROUP_SOURCES", 2)  # files 1-2 commit, then the stop

    def stop(p):
        if p.sources_done == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        import_paths(_pages(tmp_path, 4), workers=0, progress=stop)
    assert Trial.objects.count() == 10
    _agrees_with_fts5(monkeypatch)  # whatever the index holds, the answers are right
    report = import_paths(_pages(tmp_path, 4), workers=0)
    assert report.ok and report.created == 10
    assert _stamps()[0] == _stamps()[1]
    _agrees_with_fts5(monkeypatch)


def test_a_new_index_beside_an_existing_registry_waits_for_a_reindex(
    seed_trials, used, monkeypatch
):
    from trialdesk.cli import main

    textindex.forget(connection, remove=True)  # e.g. an upgrade from before the index
    assert search(SearchQuery(text="cirrhosis")).total == 2
    assert used == {"index": 0, "fts5": 1}
    result = CliRunner().invoke(main, ["registry", "reindex"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "indexed 2 trial(s)" in result.output
    assert search(SearchQuery(text="cirrhosis")).total == 2
    assert used["index"] == 1


def test_switched_off_every_search_uses_fts5(seed_trials, monkeypatch, used):
    monkeypatch.setattr(textindex, "ENABLED", False)
    assert search(SearchQuery(text="cirrhosis")).total == 2
    assert used == {"index": 0, "fts5": 1}


def test_an_empty_registry_has_a_current_empty_index(used):
    assert _stamps() == ("", "")
    page = search(SearchQuery(text="cirrhosis", statuses=("RECRUITING",)))
    assert page.total == 0 and used == {"index": 1, "fts5": 0}


def test_a_damaged_index_falls_back_to_fts5_and_a_reindex_replaces_it(seed_trials, used):
    path = textindex.for_connection().path
    textindex.forget(connection)  # as a process starting after the damage would
    for f in path.iterdir():
        if f.suffix in (".idx", ".fast"):
            f.write_bytes(b"garbage")
    assert [h.nct_id for h in search(SearchQuery(text="umbilical cirrhosis")).results] == [
        "NCT05331872", "NCT05227846"]  # fmt: skip
    assert used == {"index": 0, "fts5": 1}
    assert textsync.rebuild() == 2
    assert search(SearchQuery(text="umbilical cirrhosis")).total == 2
    assert used["index"] == 1


def test_the_changes_of_one_transaction_are_one_index_commit(
    seed_trials, used, monkeypatch, django_capture_on_commit_callbacks
):
    trial = Trial.objects.get(nct_id="NCT05227846")
    with django_capture_on_commit_callbacks(execute=True):
        for k in range(60):
            TrialLocation.objects.create(trial=trial, position=10 + k, city=f"Town {k}",
                                         lat=30 + k / 10, lon=100.0)  # fmt: skip
    assert _stamps()[0] == _stamps()[1]
    commits = []
    real = textindex.Writer.commit
    monkeypatch.setattr(textindex.Writer, "commit", lambda w, s: (commits.append(s), real(w, s)))
    with django_capture_on_commit_callbacks(execute=True):
        trial.delete()  # the trial, its conditions, interventions and 61 sites
    assert len(commits) == 1
    assert _stamps()[0] == _stamps()[1]
    assert search(SearchQuery(text="mesenchymal")).total == 1
    assert used["fts5"] == 0


def test_filters_select_without_changing_the_scores(tmp_path, used):
    import_paths(_pages(tmp_path, 4, per_file=50), workers=0)
    scores = {h.nct_id: h.score for h in _all(SearchQuery(text="study"))}
    for filters in ({"sex": "FEMALE"}, {"statuses": ("RECRUITING", "WITHDRAWN")},
                    {"phases": ("PHASE1",), "age": 40}, {"condition": "cancer"}):  # fmt: skip
        hits = _all(SearchQuery(text="study", **filters))
        assert hits and all(h.score == scores[h.nct_id] for h in hits), filters
    assert used["fts5"] == 0


def test_a_site_moved_to_another_trial_leaves_the_old_trials_document(
    seed_trials, used, django_capture_on_commit_callbacks
):
    hanoi = SearchQuery(text="cirrhosis", near=(21.0, 105.8), within_km=50)
    assert [h.nct_id for h in search(hanoi).results] == ["NCT05331872"]
    site = TrialLocation.objects.get(trial__nct_id="NCT05331872")
    with django_capture_on_commit_callbacks(execute=True):
        site.trial = Trial.objects.get(nct_id="NCT05227846")
        site.save()
    assert [h.nct_id for h in search(hanoi).results] == ["NCT05227846"]
    assert used == {"index": 2, "fts5": 0}


def test_a_save_and_its_registry_stamp_are_one_transaction(seed_trials, monkeypatch):
    from trialdesk.registry import stamp

    def fail(*args, **kwargs):
        raise RuntimeError("stamp not written")

    monkeypatch.setattr(stamp, "bump_version", fail)
    trial = Trial.objects.get(nct_id="NCT05331872")
    trial.brief_title = "Never stored"
    with pytest.raises(RuntimeError):
        trial.save()
    assert Trial.objects.get(nct_id="NCT05331872").brief_title != "Never stored"


@pytest.mark.parametrize(
    "word, fts5_only, tantivy_only",
    [
        # FTS5 stems with the original Porter algorithm, Tantivy (like PostgreSQL) with
        # Snowball English: a few words fall together on one side only (docs/registry.md).
        ("general", {"NCT00000002"}, set()),  # porter: generic -> gener
        ("sky", set(), {"NCT00000003"}),  # snowball: skies -> sky
    ],
)
def test_known_stemming_differences_between_the_engines(
    import_records, monkeypatch, word, fts5_only, tantivy_only
):
    import_records(
        _study("NCT00000001", f"A {word} title"),
        _study("NCT00000002", "A generic drug"),
        _study("NCT00000003", "Under open skies"),
    )
    tantivy = {h.nct_id for h in search(SearchQuery(text=word)).results}
    fts5 = {h.nct_id for h in _sql_plans(monkeypatch, SearchQuery(text=word)).results}
    assert fts5 - tantivy == fts5_only and tantivy - fts5 == tantivy_only


REBUILD_WHILE_WRITING = """
import sqlite3, sys
import django
django.setup()
from django.conf import settings
from django.core.management import call_command
from trialdesk.registry import textindex, textsync
from trialdesk.registry.importer import import_paths

call_command("migrate", verbosity=0)
assert import_paths(sys.argv[1:]).ok
real = textindex.Writer.add

def add(self, row):
    # Another process writes while the rebuild reads: it must not wait for the rebuild.
    other = sqlite3.connect(settings.DATABASES["default"]["NAME"], timeout=0)
    other.execute("UPDATE registry_trial SET acronym = acronym WHERE id = ?", (row.id,))
    other.commit()
    other.close()
    real(self, row)

textindex.Writer.add = add
print("indexed", textsync.rebuild())
"""


def test_a_rebuild_does_not_hold_back_other_writers(tmp_path):
    """A rebuild reads one snapshot without taking SQLite's write lock (a real database
    file, a second connection writing with no busy timeout)."""
    import os
    import subprocess
    import sys

    from conftest import seed_record_paths

    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(TRIALDESK_VAR=str(tmp_path), DJANGO_SETTINGS_MODULE="trialdesk.web.settings")
    done = subprocess.run(
        [sys.executable, "-c", REBUILD_WHILE_WRITING, *map(str, seed_record_paths())],
        env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    assert "indexed 2" in done.stdout


def test_an_unreadable_index_held_by_a_writer_is_not_replaced(seed_trials):
    index = textindex.for_connection()
    other = index.writer()
    try:
        textindex.forget(connection)
        for f in index.path.iterdir():
            if f.suffix in (".idx", ".fast"):
                f.write_bytes(b"garbage")
        with pytest.raises(textindex.IndexBusy):
            textsync.rebuild()
        assert (index.path / ".tantivy-writer.lock").exists()
    finally:
        other.close()
    assert textsync.rebuild() == 2


def test_the_segments_of_many_saves_are_merged(import_records, django_capture_on_commit_callbacks):
    """Each followed save commits one small segment; the writer lets Tantivy's merges finish
    before it lets go, so they do not pile up (rolled back instead, 20 saves left 20)."""
    import_records(*(_study(f"NCT{k:08d}", f"Trial {k}") for k in range(20)))
    for k, trial in enumerate(Trial.objects.order_by("id")):
        with django_capture_on_commit_callbacks(execute=True):
            trial.brief_title = f"Retitled {k}"
            trial.save()
    assert _stamps()[0] == _stamps()[1]
    index = textindex.for_connection()
    index.index.reload()
    assert index.index.searcher().num_segments <= 8
