"""`trialdesk registry import / export / search`: exit codes, messages, JSON output."""

from __future__ import annotations

import json
import zipfile

import pytest
from click.testing import CliRunner
from registry_studies import make_study, write_json

from trialdesk.cli import main

pytestmark = pytest.mark.django_db


def run(*args):
    return CliRunner().invoke(main, ["registry", *map(str, args)], catch_exceptions=False)


@pytest.fixture
def batch(tmp_path):
    folder = tmp_path / "batch"
    write_json(folder / "a.json", {"studies": [make_study("NCT00000001")]})
    bad = make_study("NCT00000003")
    bad["protocolSection"]["statusModule"]["overallStatus"] = "OPEN"
    write_json(folder / "b.json", [make_study("NCT00000002"), bad])
    write_json(
        folder / "c.json",
        make_study("NCT00000004", title="Knee chondrocytes", conditions=("Osteoarthritis",)),
    )
    return folder


def test_import_summary_and_failed_file_exit_code(batch):
    result = run("import", batch)
    assert result.exit_code == 1
    assert "2 file(s) imported: 2 created, 0 updated, 0 unchanged" in result.stdout
    assert "1 file(s) failed and imported nothing" in result.stdout
    assert (
        f"FAILED {batch / 'b.json'}: $[1].protocolSection.statusModule.overallStatus: "
        "overallStatus 'OPEN' is not one of" in result.stderr
    )
    assert f"Error: 1 file(s) failed: {batch / 'b.json'}" in result.stderr
    assert f"{batch / 'a.json'}: ok" in result.stderr  # progress on stderr

    (batch / "b.json").unlink()
    again = run("import", batch, "--json")
    assert again.exit_code == 0, again.output
    report = json.loads(again.stdout)
    assert (report["created"], report["unchanged"], report["failures"]) == (0, 2, [])


def test_import_missing_path_fails(tmp_path):
    result = run("import", tmp_path / "nope.json")
    assert result.exit_code == 1
    assert "no such file or folder" in result.stderr


def test_import_folder_without_json_fails_with_a_message(tmp_path):
    empty = tmp_path / "downloads"
    empty.mkdir()
    (empty / "study.xml").write_text("<study/>")
    result = run("import", empty)
    assert result.exit_code == 1
    assert f"FAILED {empty}: the folder holds no .json files" in result.stderr
    assert f"Error: 1 file(s) failed: {empty}" in result.stderr
    assert "0 file(s) imported" in result.stdout


def test_import_zip_with_a_member_outside_the_archive_imports_nothing(tmp_path):
    from trialdesk.registry.models import Trial

    archive = tmp_path / "slip.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("good.json", json.dumps(make_study("NCT00000011")))
        zf.writestr("../evil.json", json.dumps(make_study("NCT00000012")))
    result = run("import", archive)
    assert result.exit_code == 1
    assert f"FAILED {archive}: refused: member '../evil.json' has a '..' part" in result.stderr
    assert not Trial.objects.filter(nct_id__in=["NCT00000011", "NCT00000012"]).exists()


def test_export_round_trip(batch, tmp_path):
    (batch / "b.json").unlink()
    assert run("import", batch).exit_code == 0
    one = run("export", "NCT00000004")
    assert one.exit_code == 0
    assert json.loads(one.stdout) == json.loads((batch / "c.json").read_text())

    out = tmp_path / "out.json"
    several = run("export", "NCT00000004", "nct00000001", "--out", out)
    assert several.exit_code == 0
    assert json.loads(out.read_text()) == {
        "studies": [
            json.loads((batch / "c.json").read_text()),
            json.loads((batch / "a.json").read_text())["studies"][0],
        ]
    }

    missing = run("export", "NCT00000001", "NCT09999999", "--out", tmp_path / "never.json")
    assert missing.exit_code == 1
    assert "unknown NCT id(s): NCT09999999" in missing.stderr
    assert not (tmp_path / "never.json").exists()


def test_search_json_and_table(batch):
    (batch / "b.json").unlink()
    run("import", batch)
    result = run("search", "chondrocytes AND (", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert (data["total"], data["page"], data["pages"]) == (1, 1, 1)
    assert data["results"][0]["nct_id"] == "NCT00000004"

    near = run(
        "search",
        "--near-city",
        "Beijing",
        "--within-km",
        "10",
        "--status",
        "RECRUITING",
        "--age",
        "30",
        "--phase",
        "PHASE1,PHASE2",
        "--sex",
        "female",
        "--json",
    )
    data = json.loads(near.stdout)
    assert [r["nct_id"] for r in data["results"]] == ["NCT00000001", "NCT00000004"]
    assert data["results"][0]["nearest_site"]["distance_km"] == 0.0

    table = run("search", "--near", "39.9,116.4", "--within-km", "50")
    assert table.exit_code == 0
    assert "NCT00000001" in table.stdout and "page 1 of 1, 2 trial(s)" in table.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--status", "OPEN"], "status 'OPEN'"),
        (["--near", "abc"], "is not LAT,LON"),
        (["--within-km", "5"], "within_km needs"),
        (["--per-page", "500"], "per_page"),
        (["--near-city", "Atlantis", "--within-km", "5"], "no geocoded trial site"),
    ],
)
def test_search_errors_exit_non_zero(args, message):
    result = run("search", *args)
    assert result.exit_code != 0
    assert message in result.stderr
