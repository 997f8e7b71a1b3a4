"""trialdesk.interop.ctgov.iter_sources: files, folders and .zip archives."""

import json
import os
import zipfile

import pytest

from trialdesk.interop.ctgov import SourceError, iter_sources, load_studies


def _study(n: int) -> bytes:
    return json.dumps(
        {"protocolSection": {"identificationModule": {"nctId": f"NCT{n:08d}"}}}
    ).encode()


def test_files_folders_and_zips(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "folder" / "deep").mkdir(parents=True)
    (tmp_path / "folder" / "b.json").write_bytes(_study(2))
    (tmp_path / "folder" / "a.json").write_bytes(_study(1))
    (tmp_path / "folder" / "deep" / "c.JSON").write_bytes(_study(3))
    (tmp_path / "folder" / "notes.txt").write_text("ignored")
    (tmp_path / "single.json").write_bytes(_study(4))
    with zipfile.ZipFile(tmp_path / "batch.zip", "w") as zf:
        zf.writestr("inner/b.json", _study(6))
        zf.writestr("inner/a.json", _study(5))
        zf.writestr("inner/readme.md", "ignored")
        zf.writestr("__MACOSX/inner/._a.json", "junk")
    sources = list(iter_sources(["folder", "single.json", "batch.zip"]))
    names = [s.name for s in sources]
    assert names == [
        os.path.join("folder", "a.json"),
        os.path.join("folder", "b.json"),
        os.path.join("folder", "deep", "c.JSON"),
        "single.json",
        "batch.zip!inner/a.json",
        "batch.zip!inner/b.json",
    ]
    ids = [load_studies(s.read(), s.name)[0].nct_id for s in sources]
    assert ids == [f"NCT{n:08d}" for n in range(1, 7)]
    assert all(s.size and s.size > 0 for s in sources)
    # sources can be read again, later, in any order
    assert sources[-1].read() == _study(6)


def test_missing_path_is_named_before_anything_is_yielded(tmp_path):
    (tmp_path / "ok.json").write_bytes(_study(1))
    iterator = iter_sources([tmp_path / "ok.json", tmp_path / "missing-dir"])
    with pytest.raises(SourceError) as info:
        next(iterator)
    assert str(tmp_path / "missing-dir") in str(info.value)
    assert "no such file" in str(info.value)


def test_bad_zip_is_named(tmp_path):
    bad = tmp_path / "bad.zip"
    bad.write_bytes(b"not a zip")
    with pytest.raises(SourceError, match="bad.zip"):
        list(iter_sources([bad]))


def test_source_read_error_names_the_source(tmp_path):
    path = tmp_path / "gone.json"
    path.write_bytes(_study(1))
    (source,) = list(iter_sources([path]))
    path.unlink()
    with pytest.raises(SourceError, match="gone.json"):
        source.read()


def test_folder_without_json_is_an_error_naming_it(tmp_path):
    empty = tmp_path / "empty"
    (empty / "deep").mkdir(parents=True)
    (empty / "deep" / "notes.txt").write_text("not a record")
    with pytest.raises(SourceError) as info:
        list(iter_sources([empty]))
    assert info.value.source == str(empty)
    assert "holds no .json files" in str(info.value)


def test_zip_without_json_is_an_error_naming_it(tmp_path):
    archive = tmp_path / "docs.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("readme.md", "no records here")
    with pytest.raises(SourceError, match=r"docs\.zip: the archive holds no \.json files"):
        list(iter_sources([archive]))


@pytest.mark.parametrize(
    ("member", "why"),
    [
        ("../evil.json", "a '..' part"),
        ("inner/../../evil.json", "a '..' part"),
        ("inner\\..\\evil.json", "a '..' part"),
        ("/etc/evil.json", "an absolute path"),
        ("\\\\server\\share\\evil.json", "an absolute path"),
        ("C:/evil.json", "an absolute path"),
        ("../notes.txt", "a '..' part"),  # refused even when it is not a .json member
    ],
)
def test_zip_member_outside_the_archive_is_refused_by_name(tmp_path, member, why):
    archive = tmp_path / "slip.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("a.json", _study(1))  # a good member first: nothing of it is yielded
        zf.writestr(zipfile.ZipInfo(member), _study(2))
    iterator = iter_sources([archive])
    with pytest.raises(SourceError) as info:
        next(iterator)
    message = str(info.value)
    assert info.value.source == str(archive)
    assert repr(member) in message and why in message
    assert "nothing of this archive is read" in message


@pytest.mark.parametrize("member", ["a..b/c.json", "..json", "./inner/a.json", "inner/x..json"])
def test_dots_inside_a_name_are_not_a_parent_path(tmp_path, member):
    archive = tmp_path / "fine.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr(member, _study(1))
    (source,) = list(iter_sources([archive]))
    assert source.name == f"{archive}!{member}"
