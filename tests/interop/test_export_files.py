"""The export files re-read and checked: CSV by the csv module, XPT v5 by pandas' own SAS
reader (independent of pyreadstat, which writes them), Dataset-JSON by json and odmlib's
model, ODM by xmlschema against the ODM 1.3.2 XSD odmlib ships; determinism; the XPT v5
limits refused before anything is written; unwritable output folders."""

from __future__ import annotations

import csv
import json
import math
import os
import re
from dataclasses import replace

import pytest
from export_fixtures import TREATMENT, fixed_dataset

from trialdesk.interop.dataset_json import check
from trialdesk.interop.errors import ExportError
from trialdesk.interop.exports import export_odm, export_results, export_sdtm
from trialdesk.interop.sdtm import DOMAINS, build_sdtm
from trialdesk.interop.sdtm.model import Domain, Variable, text
from trialdesk.interop.xpt import check_v5, write_xpt

pandas = pytest.importorskip("pandas")


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    out = tmp_path_factory.mktemp("sdtm")
    data = fixed_dataset()
    written = export_sdtm(data, out, treatment=TREATMENT)
    return out, written, build_sdtm(data, treatment=TREATMENT)


def test_the_files_written(exported):
    out, written, _ = exported
    names = sorted(p.name for p in written)
    expected = sorted(
        [f"{d.lower()}.{ext}" for d in DOMAINS for ext in ("csv", "xpt", "json")]
        + ["define.json", "define.csv"]
    )
    assert names == expected
    assert sorted(p.name for p in out.iterdir()) == expected  # no temporary folder left


def test_csv_reread(exported):
    out, _, domains = exported
    for name, domain in domains.items():
        with open(out / f"{name.lower()}.csv", newline="", encoding="utf-8") as f:
            rows = list(csv.reader(f))
        assert rows[0] == [v.name for v in domain.variables]
        assert len(rows) - 1 == len(domain.rows)
        for line, row in zip(rows[1:], domain.rows, strict=True):  # every cell, read back
            for v, cell, value in zip(domain.variables, line, row, strict=True):
                if value is None:
                    assert cell == "", (name, v.name)
                elif v.kind == "float":
                    assert float(cell) == value, (name, v.name)
                elif v.kind == "integer":
                    assert int(cell) == value, (name, v.name)
                else:
                    assert cell == value, (name, v.name)
    with open(out / "ae.csv", newline="", encoding="utf-8") as f:
        sepsis = list(csv.DictReader(f))[1]
    assert (sepsis["AETERM"], sepsis["AESER"], sepsis["AESHOSP"], sepsis["AESTDY"]) == (
        "Sepsis",
        "Y",
        "Y",
        "20",
    )
    assert (sepsis["AEENDTC"], sepsis["AEACNOTH"]) == ("2026-02-25", "TREATMENT GIVEN")


def test_xpt_reread_by_pandas(exported):
    out, _, domains = exported
    for name, domain in domains.items():
        frame = pandas.read_sas(out / f"{name.lower()}.xpt", format="xport", encoding="ascii")
        assert list(frame.columns) == [v.name for v in domain.variables], name
        assert len(frame) == len(domain.rows), name
        for row_index, row in enumerate(domain.rows):
            for v, expected in zip(domain.variables, row, strict=True):
                got = frame.iloc[row_index][v.name]
                if expected is None:
                    assert got in ("", None) or (isinstance(got, float) and math.isnan(got)), (
                        name,
                        v.name,
                    )
                elif v.type == "Num":
                    assert float(got) == pytest.approx(float(expected)), (name, v.name)
                else:
                    assert got == expected, (name, v.name)


def test_xpt_is_version_5_with_labels(exported):
    out, _, _ = exported
    head = (out / "dm.xpt").read_bytes()[: 80 * 8]
    assert head.startswith(b"HEADER RECORD*******LIBRARY HEADER RECORD!!!!!!!")
    assert b"LIBV8" not in head  # the v8 library header says LIBV8
    # every created/modified time in the library and member headers is the data cut, not
    # the clock (so two runs a second apart still give the same bytes)
    stamps = re.findall(rb"\d\d[A-Z]{3}\d\d:\d\d:\d\d:\d\d", head)
    assert len(stamps) == 4 and set(stamps) == {b"30JUN27:00:00:00"}
    reader = pandas.read_sas(out / "dm.xpt", format="xport", iterator=True, encoding="ascii")
    labels = {f["name"].decode().strip(): f["label"].decode().strip() for f in reader.fields}
    member = reader.member_info
    reader.close()
    assert labels["USUBJID"] == "Unique Subject Identifier"
    assert labels["RFSTDTC"] == "Subject Reference Start Date/Time"
    assert (member["set_name"].strip(), member["label"].strip()) == ("DM", "Demographics")
    assert member["created"].isoformat() == "2027-06-30T00:00:00"  # the data cut


def test_dataset_json_reread(exported):
    out, _, domains = exported
    for name, domain in domains.items():
        document = json.loads((out / f"{name.lower()}.json").read_text(encoding="utf-8"))
        check(document, name)  # odmlib's Dataset-JSON v1.1 model
        assert document["datasetJSONVersion"] == "1.1.0"
        assert document["datasetJSONCreationDateTime"] == "2027-06-30T00:00:00"
        assert document["itemGroupOID"] == f"IG.{name}"
        assert [c["name"] for c in document["columns"]] == [v.name for v in domain.variables]
        assert document["records"] == len(document["rows"]) == len(domain.rows)
        assert [tuple(r) for r in document["rows"]] == list(domain.rows)
    ae = json.loads((out / "ae.json").read_text())
    types = {c["name"]: c["dataType"] for c in ae["columns"]}
    assert (types["AESEQ"], types["AETERM"], types["AESTDY"]) == ("integer", "string", "integer")


def test_define_metadata(exported):
    out, _, _ = exported
    meta = json.loads((out / "define.json").read_text())
    assert meta["controlled_terminology"] == "CDISC SDTM Controlled Terminology 2024-03-29"
    lb = next(d for d in meta["datasets"] if d["dataset"] == "LB")
    testcd = next(v for v in lb["variables"] if v["variable"] == "LBTESTCD")
    assert testcd == {
        "variable": "LBTESTCD",
        "order": 5,
        "label": "Lab Test or Examination Short Name",
        "type": "Char",
        "data_type": "string",
        "length": 5,
        "codelist": "LBTESTCD",
    }
    with open(out / "define.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert {
        "dataset": "AE",
        "variable": "AESEQ",
        "order": "4",
        "label": "Sequence Number",
        "type": "Num",
        "data_type": "integer",
        "length": "8",
        "codelist": "",
    } in rows


def test_same_data_same_bytes(tmp_path):
    data = fixed_dataset()
    for run in ("a", "b"):
        export_sdtm(data, tmp_path / run, treatment=TREATMENT)
        export_odm(data, tmp_path / run, treatment=TREATMENT)
        export_results(data, tmp_path / run)
    names = sorted(p.name for p in (tmp_path / "a").iterdir())
    assert names == sorted(p.name for p in (tmp_path / "b").iterdir())
    for name in names:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name


def test_odm_valid_against_the_xsd(tmp_path):
    import xmlschema

    from trialdesk.interop.odm import schema_path

    (path,) = export_odm(fixed_dataset(), tmp_path, treatment=TREATMENT)
    schema = xmlschema.XMLSchema(str(schema_path()))
    schema.validate(str(path))  # raises on any violation
    tree = schema.to_dict(str(path))
    subjects = tree["ClinicalData"][0]["SubjectData"]
    assert [s["@SubjectKey"] for s in subjects] == [
        "NCT00000000-P01",
        "NCT00000000-P02",
        "NCT00000000-S03",
    ]
    p01_events = [e["@StudyEventOID"] for e in subjects[0]["StudyEventData"]]
    assert p01_events == ["SE.SUBJECT", "SE.D1", "SE.D7"]
    assert tree["@CreationDateTime"] == "2027-06-30T00:00:00+00:00"


def _domain(**over) -> Domain:
    values = dict(name="XX", label="Test", variables=(text("XXTEST", "Label"),), rows=(("ok",),))
    values.update(over)
    return Domain(**values)


@pytest.mark.parametrize(
    ("domain", "message"),
    [
        (_domain(name="TOOLONGNAME"), r"dataset 'TOOLONGNAME': name must be 1-8"),
        (_domain(label="L" * 41), r"dataset XX: label 'L+' is over 40"),
        (
            _domain(variables=(text("XXTESTCD99", "Label"),)),
            r"variable 'XXTESTCD99': name must be 1-8",
        ),
        (_domain(variables=(text("XXTEST", "A" * 41),)), r"dataset XX, variable XXTEST: label"),
        (
            _domain(rows=(("ok",), ("x" * 201,))),
            r"dataset XX, variable XXTEST, row 2: value is 201 bytes",
        ),
        (
            _domain(rows=(("Hép",),)),
            r"dataset XX, variable XXTEST, row 1: value 'Hép' is not ASCII",
        ),
    ],
)
def test_xpt_v5_limits_refused_before_writing(tmp_path, domain, message):
    with pytest.raises(ExportError, match=message):
        check_v5(domain)
    with pytest.raises(ExportError):
        write_xpt(domain, tmp_path / "xx.xpt", created=fixed_dataset().data_cut)
    assert not (tmp_path / "xx.xpt").exists()


def test_v5_limits_are_exactly_at_the_limit():
    check_v5(
        _domain(label="L" * 40, variables=(Variable("ABCDEFGH", "A" * 40),), rows=(("x" * 200,),))
    )


def test_nothing_half_written_when_a_value_breaks_the_limits(tmp_path):
    data = fixed_dataset()
    long_term = "Fever " + "x" * 200  # AETERM over 200 bytes
    bad = replace(
        data,
        adverse_events=(replace(data.adverse_events[0], term=long_term), *data.adverse_events[1:]),
    )
    out = tmp_path / "out"
    with pytest.raises(ExportError, match="dataset AE, variable AETERM, row 1"):
        export_sdtm(bad, out, treatment=TREATMENT)
    assert not out.exists() or list(out.iterdir()) == []


def test_unwritable_output_folder_is_named(tmp_path):
    if os.geteuid() == 0:
        blocker = tmp_path / "file"
        blocker.write_text("x")
        out = blocker / "sub"  # a folder under a file cannot be made, even by root
    else:
        out = tmp_path / "ro"
        out.mkdir()
        out.chmod(0o500)
    with pytest.raises(ExportError, match=f"output folder {out}: cannot be written"):
        export_sdtm(fixed_dataset(), out, treatment=TREATMENT)


def test_existing_files_are_kept_on_failure(tmp_path):
    data = fixed_dataset()
    export_sdtm(data, tmp_path, treatment=TREATMENT)
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    bad = replace(data, doses=(replace(data.doses[0], route="intrathecal"), *data.doses[1:]))
    with pytest.raises(ExportError):
        export_sdtm(bad, tmp_path, treatment=TREATMENT)
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before
