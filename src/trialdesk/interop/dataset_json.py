"""CDISC Dataset-JSON v1.1 files of SDTM domains (CDISC, "Dataset-JSON v1.1", 2024), built
with odmlib's Dataset-JSON v1.1 model (``odmlib.dataset_json_1_1``), one dataset per file.

The file-level fields are ``datasetJSONCreationDateTime`` and ``dbLastModifiedDateTime``
(both the data cut, so identical data gives identical bytes), ``datasetJSONVersion``
"1.1.0", ``fileOID``, ``originator``, ``sourceSystem``, ``studyOID``, ``metaDataVersionOID``;
the dataset fields ``itemGroupOID`` ("IG.DM"), ``records``, ``name``, ``label``, ``columns``
(``itemOID`` "IT.DM.USUBJID", ``name``, ``label``, ``dataType``, ``length``, ``keySequence``)
and ``rows`` (arrays in column order, ``null`` for a missing value).

Checked here: every file is parsed back through odmlib's model, which enforces the required
fields, the ``dataType`` values and positive lengths, and each row's length against the
columns. No JSON schema of Dataset-JSON is shipped by a permissively licensed package, so the
published JSON schema is not applied (docs/exports.md).
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

from trialdesk import __version__
from trialdesk.interop.errors import ExportError
from trialdesk.interop.sdtm.model import Domain

VERSION = "1.1.0"
#: Dataset-JSON dataType of each variable kind.
DATA_TYPES = {"text": "string", "integer": "integer", "float": "double"}
#: The key variables of each domain, in key order (SDTMIG 3.3 domain models).
KEYS: dict[str, tuple[str, ...]] = {
    "DM": ("STUDYID", "USUBJID"),
    "EX": ("STUDYID", "USUBJID", "EXTRT", "EXSTDTC"),
    "AE": ("STUDYID", "USUBJID", "AEDECOD", "AESTDTC"),
    "DS": ("STUDYID", "USUBJID", "DSDECOD", "DSSTDTC"),
    "MH": ("STUDYID", "USUBJID", "MHTERM", "MHSTDTC"),
    "IE": ("STUDYID", "USUBJID", "IETESTCD"),
    "LB": ("STUDYID", "USUBJID", "LBTESTCD", "VISITNUM"),
    "VS": ("STUDYID", "USUBJID", "VSTESTCD", "VISITNUM"),
}


def _timestamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S")


def _value(kind: str, value: Any) -> Any:
    if value is None:
        return None
    if kind == "integer":
        return int(value)
    if kind == "float":
        return float(value)
    return str(value)


def dataset_json(domain: Domain, *, study_oid: str, created: datetime) -> dict[str, Any]:
    """The Dataset-JSON v1.1 document of ``domain`` as a dict (validated by odmlib)."""
    from odmlib.dataset_json_1_1 import model as dsj

    doc = dsj.DatasetJSON(
        datasetJSONCreationDateTime=_timestamp(created),
        datasetJSONVersion=VERSION,
        fileOID=f"{study_oid}.{domain.name}",
        dbLastModifiedDateTime=_timestamp(created),
        originator="trialdesk",
        sourceSystem=dsj.SourceSystem(name="trialdesk", version=__version__),
        studyOID=study_oid,
        metaDataVersionOID="MDV.SDTM",
        itemGroupOID=f"IG.{domain.name}",
        records=0,
        name=domain.name,
        label=domain.label,
    )
    keys = KEYS.get(domain.name, ())
    for v in domain.variables:
        column: dict[str, Any] = dict(
            itemOID=f"IT.{domain.name}.{v.name}",
            name=v.name,
            label=v.label,
            dataType=DATA_TYPES[v.kind],
        )
        if v.kind == "text":
            column["length"] = domain.length(v)
        if v.name in keys:
            column["keySequence"] = keys.index(v.name) + 1
        doc.add_column(dsj.Column(**column))
    for row in domain.rows:
        doc.add_row([_value(v.kind, x) for v, x in zip(domain.variables, row, strict=True)])
    doc.records = len(domain.rows)
    result = doc.to_dict()
    if not domain.rows:
        result["rows"] = []
    return result


def check(document: dict[str, Any], source: str) -> None:
    """Parse a Dataset-JSON v1.1 document back through odmlib's model and check each row has
    one value per column; raise :class:`ExportError` naming ``source`` otherwise."""
    from odmlib.dataset_json_1_1 import model as dsj

    try:
        parsed = dsj.DatasetJSON.from_dict(document)
    except Exception as exc:  # odmlib raises its own type errors and ValueError
        raise ExportError(source, f"not Dataset-JSON v1.1: {exc}") from None
    width = len(parsed.columns)
    for i, row in enumerate(document.get("rows", []), start=1):
        if len(row) != width:
            raise ExportError(source, f"row {i} has {len(row)} values for {width} columns")
    if document["records"] != len(document.get("rows", [])):
        raise ExportError(source, "records does not match the number of rows")


def write_dataset_json(domain: Domain, path: Path, *, study_oid: str, created: datetime) -> None:
    document = dataset_json(domain, study_oid=study_oid, created=created)
    check(document, str(path))
    path.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
