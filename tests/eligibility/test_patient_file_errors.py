"""Patient input that cannot be a patient: binary files, zips, birth dates in the future.

Each is a clear error naming the file and the field (issue 15, item 5), raised where the
patient is read (the pure core: ``load_patient``, the FHIR and plain readers), so every
caller gets it; ``trialdesk screen`` and ``match`` print it and exit non-zero, with no
traceback.
"""

from __future__ import annotations

import json
import zipfile
from datetime import date, timedelta
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from fhir_builders import bundle

from trialdesk.cli import main
from trialdesk.eligibility import load_patient
from trialdesk.eligibility.patient import PatientError, check_birth_date

ROOT = Path(__file__).resolve().parents[2]
EXPECTED = "expected a FHIR R4 Bundle (JSON) or the plain patient format (JSON or YAML)"


@pytest.fixture
def cli(monkeypatch):
    monkeypatch.setenv("TRIALDESK_PROTOCOLS", str(ROOT / "protocols"))
    runner = CliRunner()

    def invoke(*args: str):
        return runner.invoke(main, list(args))

    return invoke


def _zip(path: Path) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("patient.json", json.dumps(bundle("1970-06-15", "male", [])))
    return path


def _png(path: Path) -> Path:
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    return path


def _latin1(path: Path) -> Path:
    path.write_bytes("id: Sébastien\nsex: male\n".encode("latin-1"))
    return path


@pytest.mark.parametrize(
    ("name", "make", "what"),
    [
        ("patient.zip", _zip, "a zip archive"),
        ("patient.json", _zip, "a zip archive"),  # the name does not decide
        ("scan.png", _png, "a binary file"),
        ("patient.yaml", _latin1, "not UTF-8 text (byte 5: 0xe9"),
    ],
)
def test_binary_or_zip_patient_file_is_a_clear_error(tmp_path, cli, name, make, what):
    path = make(tmp_path / name)
    with pytest.raises(PatientError) as info:
        load_patient(path)
    assert str(info.value).startswith(f"{path}: {what}")
    assert EXPECTED in str(info.value)
    for command in (["screen", "NCT05227846"], ["match"]):
        result = cli(*command, str(path))
        assert result.exit_code == 1, result.output
        assert result.exception is None or isinstance(result.exception, SystemExit)
        assert f"Error: {path}: {what}" in result.output
        assert "Traceback" not in result.output


def test_utf8_with_a_byte_order_mark_still_reads(tmp_path):
    path = tmp_path / "bom.json"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps(bundle("1970-06-15", "male", [])).encode())
    assert load_patient(path).birth_date == date(1970, 6, 15)


def test_fhir_birth_date_in_the_future_names_the_entry_and_field(tmp_path, cli):
    tomorrow = date.today() + timedelta(days=1)
    path = tmp_path / "bundle.json"
    path.write_text(json.dumps(bundle(tomorrow.isoformat(), "female", [])))
    with pytest.raises(PatientError) as info:
        load_patient(path)
    assert str(info.value) == (
        f"{path}: entry[0] Patient/p: birthDate: {tomorrow.isoformat()} is in the future "
        f"(today is {date.today().isoformat()})"
    )
    result = cli("screen", "NCT05227846", str(path))
    assert result.exit_code == 1
    assert f"{path}: entry[0] Patient/p: birthDate: {tomorrow.isoformat()}" in result.output


def test_plain_birth_date_in_the_future_or_after_its_screening_date(tmp_path, cli):
    tomorrow = date.today() + timedelta(days=1)
    path = tmp_path / "p.yaml"
    path.write_text(yaml.safe_dump({"id": "P-1", "birth_date": tomorrow}))
    result = cli("screen", "NCT05331872", str(path))
    assert result.exit_code == 1
    assert f"{path}: birth_date: {tomorrow.isoformat()} is in the future" in result.output

    path.write_text(
        yaml.safe_dump(
            {"id": "P-1", "birth_date": date(2020, 1, 1), "screening_date": date(2019, 5, 1)}
        )
    )
    with pytest.raises(PatientError, match="birth_date: 2020-01-01 is after the screening date"):
        load_patient(path)


def test_birth_date_after_the_command_line_screening_date(tmp_path, cli):
    path = tmp_path / "p.yaml"
    path.write_text(yaml.safe_dump({"id": "P-1", "birth_date": date(2020, 1, 1)}))
    for command in (["screen", "NCT05331872"], ["match"]):
        result = cli(*command, str(path), "--date", "2019-12-31")
        assert result.exit_code == 1, result.output
        assert (
            f"Error: {path}: birth date: 2020-01-01 is after the screening date 2019-12-31"
            in result.output
        )
    # Born on the screening date: age 0, screened (and not old enough).
    ok = cli("screen", "NCT05331872", str(path), "--date", "2020-01-01", "--json")
    assert ok.exit_code == 0, ok.output
    inc1 = next(c for c in json.loads(ok.output)["criteria"] if c["id"] == "inc-1")
    assert inc1["status"] == "NOT_MET" and "age 0 years" in inc1["reason"]


def test_check_birth_date_bounds():
    today = date.today()
    assert check_birth_date(None, "x") is None
    assert check_birth_date(today, "x") == today
    assert check_birth_date(date(2000, 1, 1), "x", date(2000, 1, 1)) == date(2000, 1, 1)
    with pytest.raises(PatientError, match=r"^where: .* is in the future"):
        check_birth_date(today + timedelta(days=1), "where")
    with pytest.raises(PatientError, match=r"^where: 2000-01-02 is after the screening date"):
        check_birth_date(date(2000, 1, 2), "where", date(2000, 1, 1))


@pytest.mark.parametrize(
    ("name", "text", "kind"),
    [
        ("deep.json", "[" * 100_000 + "]" * 100_000, "JSON"),
        ("deep.yaml", "a: " + "[" * 100_000, "YAML"),
        # JSON read as YAML (a .yaml name, but the text starts like JSON)
        ("deep-flow.yaml", "x: " + "{a: " * 50_000 + "1" + "}" * 50_000, "YAML"),
    ],
)
def test_a_patient_file_nested_too_deeply_is_a_clear_error(tmp_path, cli, name, text, kind):
    """A hostile file of 100,000 nested brackets overflows the parsers' recursion: a clear
    error naming the file, never a RecursionError traceback (found by the issue-15 pass)."""
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(PatientError) as info:
        load_patient(path)
    assert str(info.value).startswith(f"{path}: not valid {kind}: nested too deeply")
    result = cli("screen", "NCT05227846", str(path))
    assert result.exit_code == 1, result.output
    assert f"Error: {path}: not valid {kind}: nested too deeply" in result.output
    assert "Traceback" not in result.output
