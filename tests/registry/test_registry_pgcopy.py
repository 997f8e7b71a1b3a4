"""PostgreSQL import with COPY (registry/pgcopy.py): it stores exactly what executemany
stores, updates stay upserts, and a failing COPY rolls back its file alone."""

from __future__ import annotations

from itertools import zip_longest

import pytest
from registry_studies import make_study, write_json

from trialdesk.interop.synthetic import generate_studies
from trialdesk.registry import pgcopy
from trialdesk.registry.importer import import_paths
from trialdesk.registry.models import Trial, TrialCondition, TrialIntervention, TrialLocation
from trialdesk.registry.search import SearchQuery, search

pytestmark = [pytest.mark.django_db, pytest.mark.postgres, pytest.mark.postgres_only]


def _snapshot() -> dict:
    """Everything stored, keyed by NCT id and position (row ids and import times aside)."""
    skip = {"id", "trial_id", "imported_at", "updated_at"}
    nct_of = dict(Trial.objects.values_list("id", "nct_id"))
    out = {
        "trials": {
            t["nct_id"]: {k: v for k, v in t.items() if k not in skip}
            for t in Trial.objects.values()
        }
    }
    for model in (TrialCondition, TrialIntervention, TrialLocation):
        out[model.__name__] = sorted(
            (nct_of[r["trial_id"]], r["position"], sorted((k, v) for k, v in r.items()
                                                          if k not in skip))
            for r in model.objects.values()
        )  # fmt: skip
    return out


def _pages(tmp_path, studies, per_file=40):
    folder = tmp_path / "pages"
    for i in range(0, len(studies), per_file):
        write_json(folder / f"page-{i:05}.json", {"studies": studies[i : i + per_file]})
    return folder


def _import_both_ways(tmp_path, studies, monkeypatch, then=None):
    """Import ``studies`` (then ``then``) with COPY, then again from scratch without; the
    same files both times (the stored ``source`` is the file's path)."""
    first = _pages(tmp_path / "first", studies)
    second = _pages(tmp_path / "then", then) if then is not None else None
    snapshots = []
    for enabled in (True, False):
        monkeypatch.setattr(pgcopy, "ENABLED", enabled)
        Trial.objects.all().delete()
        report = import_paths([first])
        assert report.ok, report.summary()
        if second is not None:
            again = import_paths([second])
            assert again.ok and again.updated > 0, again.summary()
        snapshots.append(_snapshot())
    return snapshots


def test_copy_stores_exactly_what_executemany_stores(tmp_path, monkeypatch):
    studies = list(generate_studies(300, seed=7))
    with_copy, without = _import_both_ways(tmp_path, studies, monkeypatch)
    assert len(with_copy["trials"]) == 300
    assert sum(len(with_copy[k]) for k in ("TrialCondition", "TrialLocation")) > 300
    for nct, row in with_copy["trials"].items():
        assert row == without["trials"][nct], nct
    assert with_copy == without
    # The full-text column (generated) is filled for copied rows too.
    hit = next(iter(with_copy["trials"].values()))
    assert search(SearchQuery(text=hit["brief_title"].split()[0])).total >= 1


def test_updates_mixed_with_new_trials_in_one_batch(tmp_path, monkeypatch):
    studies = list(generate_studies(120, seed=11))
    changed = [dict(s) for s in studies[::3]]  # every third changes its title
    for s in changed:
        ident = dict(s["protocolSection"]["identificationModule"])
        ident["briefTitle"] = "Revised: " + ident["briefTitle"]
        s["protocolSection"] = {**s["protocolSection"], "identificationModule": ident}
    new = list(generate_studies(150, seed=12))[120:]  # and 30 new ones, in the same files
    later = [s for pair in zip_longest(changed, new) for s in pair if s is not None]
    with_copy, without = _import_both_ways(tmp_path, studies, monkeypatch, then=later)
    assert with_copy == without
    assert len(with_copy["trials"]) == 150
    assert sum(t["brief_title"].startswith("Revised: ") for t in with_copy["trials"].values()) == 40


def test_copied_ids_come_from_the_sequence(tmp_path):
    report = import_paths([_pages(tmp_path, list(generate_studies(50, seed=3)))])
    assert report.created == 50
    top = max(Trial.objects.values_list("id", flat=True))
    # The ORM's next insert takes the sequence's next id, past the copied ones.
    made = Trial.objects.create(nct_id="NCT09999999", brief_title="x", record={}, record_hash="-")
    assert made.id > top


def test_a_new_trial_stored_by_another_writer_fails_its_file_alone(tmp_path, monkeypatch):
    """COPY has no ON CONFLICT: a new NCT id inserted by someone else between the lookup and
    the COPY fails that file (its savepoint rolls back); the other files commit."""
    folder = tmp_path / "race"
    write_json(folder / "a.json", [make_study("NCT00000001")])
    write_json(folder / "b.json", [make_study("NCT00000002"), make_study("NCT00000003")])
    write_json(folder / "c.json", [make_study("NCT00000004")])
    reserve = pgcopy.reserve_ids

    def racing_reserve(cursor, table, n):
        ids = reserve(cursor, table, n)
        cursor.execute("SELECT 1 FROM registry_trial WHERE nct_id = 'NCT00000003'")
        if n == 2 and cursor.fetchone() is None:  # b.json: the other writer got there first
            cursor.execute(
                "INSERT INTO registry_trial (nct_id, brief_title, official_title, acronym, "
                "overall_status, phases, phase_mask, study_type, sex, enrollment_type, "
                "lead_sponsor, brief_summary, conditions_text, interventions_text, "
                "criteria_text, identifiers_text, record, record_hash, source, imported_at, "
                "updated_at) VALUES ('NCT00000003', 'other', '', '', '', '', 0, '', '', '', "
                "'', '', '', '', '', '', '{}', '-', 'other', now(), now())"
            )
        return ids

    monkeypatch.setattr(pgcopy, "reserve_ids", racing_reserve)
    report = import_paths([folder])

    ((name, error),) = report.failures
    assert name == str(folder / "b.json") and error.startswith("database error: ")
    assert "duplicate key" in error
    # a.json and c.json committed; nothing of b.json (the racing row went with its savepoint)
    assert set(Trial.objects.values_list("nct_id", flat=True)) == {"NCT00000001", "NCT00000004"}
    assert (report.created, report.files) == (2, 2)


def _vacuumed_and_analyzed() -> tuple[bool, bool]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute(
            "SELECT last_vacuum IS NOT NULL, last_analyze IS NOT NULL "
            "FROM pg_stat_user_tables WHERE relname = 'registry_trial'"
        )
        return cursor.fetchone()


@pytest.mark.django_db(transaction=True)
def test_a_large_import_vacuums_and_analyzes_outside_a_transaction(tmp_path):
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_reset_single_table_counters('registry_trial'::regclass)")
    assert _vacuumed_and_analyzed() == (False, False)
    report = import_paths([_pages(tmp_path, list(generate_studies(30, seed=4)))], optimize=True)
    assert report.created == 30
    assert _vacuumed_and_analyzed() == (True, True)


def test_inside_a_transaction_an_import_only_analyzes(tmp_path):
    # the test runs inside a transaction (pytest-django), where VACUUM would fail
    report = import_paths([_pages(tmp_path, list(generate_studies(30, seed=4)))], optimize=True)
    assert report.ok and report.created == 30
