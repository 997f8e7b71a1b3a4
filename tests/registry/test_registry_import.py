"""Import: idempotent upserts, one transaction per file, folders and zips, stored JSON."""

from __future__ import annotations

import json
import zipfile

import pytest
from registry_studies import make_study, write_json

from trialdesk.registry.importer import import_bytes, import_paths
from trialdesk.registry.models import Trial, TrialCondition, TrialIntervention, TrialLocation
from trialdesk.registry.parsing import _study_texts
from trialdesk.registry.search import SearchQuery, search

pytestmark = pytest.mark.django_db

HANOI = {
    "facility": "Vinmec Times City",
    "status": "RECRUITING",
    "city": "Hanoi",
    "country": "Vietnam",
    "geoPoint": {"lat": 21.0245, "lon": 105.84117},
}


def _counts() -> tuple[int, int, int, int]:
    return (
        Trial.objects.count(),
        TrialCondition.objects.count(),
        TrialIntervention.objects.count(),
        TrialLocation.objects.count(),
    )


def test_reimport_is_idempotent_and_updates_in_place(tmp_path):
    studies = [make_study("NCT00000001"), make_study("NCT00000002", title="Knee cartilage")]
    path = write_json(tmp_path / "page.json", {"studies": studies})

    first = import_paths([path])
    assert (first.created, first.updated, first.unchanged) == (2, 0, 0)
    assert first.ok and first.files == 1 and first.records_per_second > 0
    counts = _counts()
    assert counts == (2, 2, 2, 2)
    ids = dict(Trial.objects.values_list("nct_id", "id"))

    again = import_paths([path])
    assert (again.created, again.updated, again.unchanged) == (0, 0, 2)
    assert _counts() == counts

    # A changed record: new title, status, one more site, a different condition.
    changed = make_study(
        "NCT00000002",
        title="Osteoarthritis of the knee treated with chondrocytes",
        status="COMPLETED",
        conditions=("Knee Osteoarthritis",),
        locations=(HANOI, {**HANOI, "facility": "Bach Mai Hospital"}),
    )
    write_json(path, {"studies": [studies[0], changed]})
    third = import_paths([path])
    assert (third.created, third.updated, third.unchanged) == (0, 1, 1)
    trial = Trial.objects.get(nct_id="NCT00000002")
    assert trial.id == ids["NCT00000002"]  # updated in place, not re-created
    assert trial.overall_status == "COMPLETED"
    assert list(trial.conditions.values_list("name", flat=True)) == ["Knee Osteoarthritis"]
    assert trial.locations.count() == 2
    assert _counts() == (2, 2, 2, 3)
    # The full-text index followed the update in the same transaction.
    assert [h.nct_id for h in search(SearchQuery(text="chondrocytes")).results] == ["NCT00000002"]
    assert search(SearchQuery(text="cartilage")).total == 0


def test_stored_record_is_the_input_json(tmp_path):
    study = make_study("NCT00000007", acronym="MSC-7")
    study["protocolSection"]["oversightModule"] = {"isFdaRegulatedDrug": False}  # not modelled
    study["derivedSection"] = {"miscInfoModule": {"versionHolder": "2024-01-01"}}
    path = tmp_path / "one.json"
    path.write_text(json.dumps(study, indent=2), encoding="utf-8")
    assert import_paths([path]).created == 1
    trial = Trial.objects.get(nct_id="NCT00000007")
    assert trial.record == study
    assert trial.acronym == "MSC-7"
    assert trial.source == str(path)
    assert (trial.min_age_days, trial.max_age_days) == (6574, 27393)  # 18 y, 75 y floor(x 365.25)
    assert trial.phases == "PHASE1" and trial.phase_mask == 4
    assert trial.healthy_volunteers is False and trial.enrollment_count == 12


def _bad_file(tmp_path, name, mutate):
    bad = make_study("NCT00000099")
    mutate(bad)
    # A valid study first: it must not be imported either.
    return write_json(tmp_path / name, {"studies": [make_study("NCT00000098"), bad]})


BAD_FILES = {
    "missing_id.json": (
        lambda s: s["protocolSection"]["identificationModule"].pop("nctId"),
        "$.studies[1].protocolSection.identificationModule.nctId",
    ),
    "bad_id.json": (
        lambda s: s["protocolSection"]["identificationModule"].update(nctId="NCT123"),
        "$.studies[1].protocolSection.identificationModule.nctId",
    ),
    "bad_enum.json": (
        lambda s: s["protocolSection"]["statusModule"].update(overallStatus="OPEN"),
        "$.studies[1].protocolSection.statusModule.overallStatus",
    ),
    "bad_type.json": (
        lambda s: s["protocolSection"]["designModule"]["enrollmentInfo"].update(count="twelve"),
        "$.studies[1].protocolSection.designModule.enrollmentInfo.count",
    ),
}


def test_a_bad_file_imports_nothing_and_the_others_import(tmp_path):
    folder = tmp_path / "batch"
    write_json(folder / "a_good.json", {"studies": [make_study("NCT00000001")]})
    for name, (mutate, _) in BAD_FILES.items():
        _bad_file(folder, name, mutate)
    (folder / "broken.json").write_text('{"studies": [ {"protocolSection": ', encoding="utf-8")
    write_json(folder / "z_good.json", [make_study("NCT00000002"), make_study("NCT00000003")])

    report = import_paths([folder])

    assert report.created == 3 and report.files == 2
    assert set(Trial.objects.values_list("nct_id", flat=True)) == {
        "NCT00000001",
        "NCT00000002",
        "NCT00000003",
    }
    failed = dict(report.failures)
    assert len(failed) == 5
    for name, (_, json_path) in BAD_FILES.items():
        assert failed[str(folder / name)].startswith(json_path + ": "), failed
    assert "malformed JSON" in failed[str(folder / "broken.json")]
    assert "5 file(s) failed" in report.summary()
    assert not report.ok


def _refuse_on_insert(nct_id: str):
    """A database trigger that fails the insert of one trial (a database error mid-file)."""
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "CREATE FUNCTION refuse_one() RETURNS trigger AS $$ BEGIN "
                f"IF NEW.nct_id = '{nct_id}' THEN RAISE EXCEPTION 'refused by the test'; "
                "END IF; RETURN NEW; END $$ LANGUAGE plpgsql"
            )
            cursor.execute(
                "CREATE TRIGGER refuse_one BEFORE INSERT ON registry_trial "
                "FOR EACH ROW EXECUTE FUNCTION refuse_one()"
            )
        else:
            cursor.execute(
                "CREATE TRIGGER refuse_one BEFORE INSERT ON registry_trial "
                f"WHEN NEW.nct_id = '{nct_id}' BEGIN SELECT RAISE(ABORT, 'refused by the test'); END"
            )


def test_a_database_error_rolls_back_its_file_alone_and_the_group_commits(tmp_path):
    folder = tmp_path / "group"
    write_json(folder / "a.json", {"studies": [make_study("NCT00000001")]})
    # b.json: its first study is fine, its second is refused by the database
    write_json(folder / "b.json", [make_study("NCT00000002"), make_study("NCT00000003")])
    write_json(folder / "c.json", [make_study("NCT00000004")])
    _refuse_on_insert("NCT00000003")
    seen = []

    report = import_paths([folder], progress=lambda p: seen.append((p.source, p.ok)))

    assert set(Trial.objects.values_list("nct_id", flat=True)) == {"NCT00000001", "NCT00000004"}
    assert (report.created, report.files) == (2, 2)
    ((name, error),) = report.failures
    assert name == str(folder / "b.json") and error.startswith("database error: ")
    assert "refused by the test" in error
    assert seen == [(str(folder / n), ok) for n, ok in (("a.json", True), ("b.json", False),
                                                        ("c.json", True))]  # fmt: skip
    # nothing of b.json: neither its rows nor its full-text entries
    assert search(SearchQuery(text="cirrhosis")).total == Trial.objects.count()


def test_files_commit_in_groups_and_every_group_is_counted(tmp_path, monkeypatch):
    from django.db import connection

    from trialdesk.registry import importer
    from trialdesk.registry.stamp import current_stamp

    monkeypatch.setattr(importer, "GROUP_SOURCES", 2)
    folder = tmp_path / "many"
    for i in range(5):
        write_json(folder / f"p{i}.json", [make_study(f"NCT0000010{i}")])

    def version() -> int:
        with connection.cursor() as cursor:
            cursor.execute("SELECT version FROM registry_registrystate")
            row = cursor.fetchone()
            return row[0] if row else 0

    before = version()
    report = import_paths([folder])
    assert (report.created, report.files, report.failures) == (5, 5, [])
    assert version() == before + 5  # one change per file, each in its own savepoint
    with connection.cursor() as cursor:
        assert current_stamp(cursor)
    assert import_paths([folder]).unchanged == 5


def test_missing_path_is_a_failure_of_that_path_only(tmp_path):
    good = write_json(tmp_path / "good.json", make_study("NCT00000001"))
    report = import_paths([tmp_path / "nowhere", good])
    assert report.created == 1
    assert report.failures == [(str(tmp_path / "nowhere"), "no such file or folder")]


def test_zip_and_folder_input(tmp_path):
    archive = tmp_path / "batch.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("inner/a.json", json.dumps({"studies": [make_study("NCT00000011")]}))
        zf.writestr("inner/b.json", json.dumps(make_study("NCT00000012")))
        zf.writestr("inner/readme.txt", "not json, skipped")
    folder = tmp_path / "folder"
    write_json(folder / "x.json", make_study("NCT00000013"))
    write_json(folder / "deeper" / "y.json", [make_study("NCT00000014")])

    report = import_paths([archive, folder])
    assert report.ok and report.created == 4 and report.files == 4
    assert Trial.objects.get(nct_id="NCT00000011").source == f"{archive}!inner/a.json"


def test_bad_zip_member_fails_alone(tmp_path):
    archive = tmp_path / "batch.zip"
    bad = make_study("NCT00000022")
    bad["protocolSection"]["designModule"]["phases"] = ["PHASE9"]
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("a.json", json.dumps(make_study("NCT00000021")))
        zf.writestr("b.json", json.dumps(bad))
    report = import_paths([archive])
    assert report.created == 1
    assert report.failures[0][0] == f"{archive}!b.json"
    assert report.failures[0][1].startswith("$.protocolSection.designModule.phases[0]: ")


def test_duplicate_ids_in_one_file_last_wins():
    data = json.dumps(
        [make_study("NCT00000031", title="first"), make_study("NCT00000031", title="second")]
    ).encode()
    report = import_bytes(data, "dups.json")
    assert report.created == 1
    assert Trial.objects.get().brief_title == "second"
    assert TrialCondition.objects.count() == 1


def test_study_texts_keep_each_studys_own_text():
    a, b = make_study("NCT00000041"), make_study("NCT00000042")
    page = (
        '{ "nextPageToken": "x",\n "studies" : [\n '
        + json.dumps(a, indent=1)
        + " ,\n"
        + json.dumps(b, ensure_ascii=False)
        + ' ] , "totalCount": 2 }'
    )
    texts = _study_texts(page.encode())
    assert texts == [json.dumps(a, indent=1), json.dumps(b, ensure_ascii=False)]
    assert _study_texts(b"\xef\xbb\xbf" + json.dumps(a).encode()) == [json.dumps(a)]
    assert _study_texts(b" [" + json.dumps(a).encode() + b"]\n") == [json.dumps(a)]
    assert _study_texts(b"[]") == []


def test_optimize_after_import_keeps_search_working(tmp_path):
    path = write_json(tmp_path / "a.json", [make_study("NCT00000051", title="Chondrocytes")])
    report = import_paths([path], optimize=True)
    assert report.ok
    assert [h.nct_id for h in search(SearchQuery(text="chondrocytes")).results] == ["NCT00000051"]


def test_bulk_import_defers_fts_merging_and_restores_it(tmp_path):
    """From BULK_SOURCES files on, FTS5 automerge is off while writing and back on after;
    every trial is still found by full-text search and re-importing changes nothing."""
    import gc

    from django.db import connection

    from trialdesk.registry import importer

    folder = tmp_path / "bulk"
    for i in range(importer.BULK_SOURCES):
        write_json(
            folder / f"p{i}.json",
            [make_study(f"NCT0000010{i}", title=f"Osteoblast trial {i}")],
        )
    seen = []

    def progress(_):
        if connection.vendor == "sqlite":
            with connection.cursor() as cursor:
                cursor.execute("SELECT v FROM registry_trial_fts_config WHERE k = 'automerge'")
                seen.append(cursor.fetchone()[0])

    thresholds = gc.get_threshold()
    report = import_paths([folder], progress=progress)
    assert report.ok and report.created == importer.BULK_SOURCES
    assert gc.get_threshold() == thresholds
    hits = {h.nct_id for h in search(SearchQuery(text="osteoblast")).results}
    assert hits == {f"NCT0000010{i}" for i in range(importer.BULK_SOURCES)}
    if connection.vendor == "sqlite":
        assert seen == [0] * importer.BULK_SOURCES
        with connection.cursor() as cursor:
            cursor.execute("SELECT v FROM registry_trial_fts_config WHERE k = 'automerge'")
            assert cursor.fetchone()[0] == importer.FTS5_AUTOMERGE_DEFAULT
    again = import_paths([folder])
    assert again.unchanged == importer.BULK_SOURCES and again.created == 0


def test_batched_fts_insert_matches_the_trigger_and_keeps_it(tmp_path):
    """The importer indexes new trials with one INSERT ... SELECT per batch (the insert
    trigger dropped inside the file's transaction). The index must pass FTS5's integrity
    check against its content, the trigger must exist after a good and after a failed file,
    and trials saved outside the importer must still be indexed by it."""
    from django.db import connection

    from trialdesk.registry.models import Trial

    sqlite = connection.vendor == "sqlite"

    def trigger_exists() -> bool:
        if not sqlite:  # PostgreSQL: a generated tsvector column, no trigger
            return True
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM sqlite_master WHERE type = 'trigger' "
                "AND name = 'registry_trial_fts_ai'"
            )
            return cursor.fetchone()[0] == 1

    good = write_json(
        tmp_path / "good.json",
        [make_study(f"NCT000002{i:02d}", title=f"Hepatocyte study {i}") for i in range(30)],
    )
    bad = write_json(
        tmp_path / "bad.json",
        [make_study("NCT00000299", title="Hepatocyte bad"), {"protocolSection": {}}],
    )
    report = import_paths([good, bad])
    assert report.created == 30 and len(report.failures) == 1
    assert trigger_exists()
    _fts_integrity_check(connection)
    assert search(SearchQuery(text="hepatocyte", per_page=50)).total == 30

    # An update goes through the update trigger; an ORM save through the insert trigger.
    changed = json.loads(good.read_text())
    changed[0] = make_study("NCT00000200", title="Cholangiocyte study")
    write_json(good, changed)
    assert import_paths([good]).updated == 1
    orm = Trial.objects.get(nct_id="NCT00000201")
    orm.pk, orm.nct_id, orm.brief_title = None, "NCT00000298", "Sinusoidal study"
    orm.save()
    assert {h.nct_id for h in search(SearchQuery(text="cholangiocyte")).results} == {"NCT00000200"}
    assert {h.nct_id for h in search(SearchQuery(text="sinusoidal")).results} == {"NCT00000298"}
    assert search(SearchQuery(text="hepatocyte", per_page=50)).total == 29
    assert trigger_exists()
    _fts_integrity_check(connection)


def _fts_integrity_check(connection) -> None:
    """SQLite: FTS5 compares its index with the content table (raises if they differ)."""
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO registry_trial_fts(registry_trial_fts, rank) "
                "VALUES ('integrity-check', 1)"
            )


def _index_names(connection) -> set[str]:
    """Every index of the registry's tables (Django's introspection: SQLite and PostgreSQL)."""
    from trialdesk.registry.bulk import TABLES

    with connection.cursor() as cursor:
        return {
            name
            for table in TABLES
            for name, info in connection.introspection.get_constraints(cursor, table).items()
            if info["index"]
        }


def test_large_import_defers_secondary_indexes_and_builds_them_again(tmp_path):
    """A bulk import into a small registry drops the non-append indexes, records them,
    and builds them at the end: afterwards every index exists, nothing stays recorded,
    and searches that use them (status, age, place) give the right trials."""
    from django.db import connection

    from trialdesk.registry import bulk
    from trialdesk.registry.models import DeferredIndex

    before = _index_names(connection)
    folder = tmp_path / "many"
    for i in range(bulk.DEFER_MIN_SOURCES):
        status = "RECRUITING" if i % 2 else "COMPLETED"
        write_json(folder / f"p{i:02d}.json", [make_study(f"NCT000003{i:02d}", status=status)])
    seen = []
    report = import_paths(
        [folder],
        progress=lambda _: seen.append(
            (DeferredIndex.objects.count(), len(before - _index_names(connection)))
        ),
    )
    assert report.ok and report.created == bulk.DEFER_MIN_SOURCES
    assert DeferredIndex.objects.count() == 0
    assert _index_names(connection) == before
    page = search(SearchQuery(statuses=("RECRUITING",), per_page=50))
    assert page.total == bulk.DEFER_MIN_SOURCES // 2
    if connection.vendor == "sqlite":
        # While writing, the deferred indexes were gone and recorded.
        assert seen[0][0] == seen[0][1] > 0
        deferrable = {name for name, _, _ in bulk.deferrable_indexes(connection.cursor().cursor)}
        assert {"registry_location_place", "registry_trial_by_status"} <= deferrable
        # Kept: append-only leads, and the indexes the SQL plans and version check name.
        assert not deferrable & {"registry_location_trial", *bulk.ALWAYS_KEEP}
    else:
        assert seen == [(0, 0)] * bulk.DEFER_MIN_SOURCES


def test_an_interrupted_bulk_import_is_repaired_by_the_next_import(tmp_path):
    from django.db import connection

    from trialdesk.registry import bulk
    from trialdesk.registry.models import DeferredIndex

    before = _index_names(connection)
    dropped = bulk.defer_indexes()  # as a crashed bulk import would leave it
    if connection.vendor != "sqlite":
        assert dropped == [] and DeferredIndex.objects.count() == 0
        return
    assert dropped and DeferredIndex.objects.count() == len(dropped)
    assert not (set(dropped) & _index_names(connection))
    path = write_json(tmp_path / "one.json", [make_study("NCT00000401")])
    assert import_paths([path]).created == 1
    assert _index_names(connection) == before
    assert DeferredIndex.objects.count() == 0
