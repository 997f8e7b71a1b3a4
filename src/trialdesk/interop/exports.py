"""The export folders: SDTM (CSV, XPT v5, Dataset-JSON and metadata per domain), ODM 1.3.2,
and the ClinicalTrials.gov results-style summary, each written all or nothing.

Every file is built and checked in a temporary folder inside the output folder first (XPT v5
limits, Dataset-JSON re-parsed by odmlib, ODM validated against its XSD); only when all of
them are ready are they moved into place (``os.replace``, one rename per file on the same
file system). A failure leaves the output folder as it was.
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

from trialdesk.analysis.dataset import TrialDataset
from trialdesk.interop.dataset_json import write_dataset_json
from trialdesk.interop.errors import ExportError
from trialdesk.interop.sdtm import CT_VERSION, SDTMIG_VERSION, Domain, build_sdtm
from trialdesk.interop.xpt import check_v5, write_xpt

METADATA_COLUMNS = (
    "dataset",
    "variable",
    "order",
    "label",
    "type",
    "data_type",
    "length",
    "codelist",
)


def _csv_value(kind: str, value: object) -> str:
    if value is None:
        return ""
    if kind == "float":
        return repr(float(value))
    return str(value)


def domain_csv(domain: Domain) -> str:
    """The domain as CSV: a header of variable names, one line per row, empty for null."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([v.name for v in domain.variables])
    for row in domain.rows:
        writer.writerow([_csv_value(v.kind, x) for v, x in zip(domain.variables, row, strict=True)])
    return buffer.getvalue()


def metadata(dataset: TrialDataset, domains: dict[str, Domain]) -> dict:
    """Define-like dataset metadata: standards and versions, each dataset with its label and
    record count, each variable with label, SAS type, Dataset-JSON data type, length and
    CDISC codelist."""
    from trialdesk.interop.dataset_json import DATA_TYPES

    return {
        "study": dataset.nct_id,
        "standard": SDTMIG_VERSION,
        "controlled_terminology": CT_VERSION,
        "data_cut": dataset.data_cut.isoformat(),
        "datasets": [
            {
                "dataset": name,
                "label": d.label,
                "records": len(d.rows),
                "files": [f"{name.lower()}.csv", f"{name.lower()}.xpt", f"{name.lower()}.json"],
                "variables": [
                    {
                        "variable": v.name,
                        "order": i,
                        "label": v.label,
                        "type": v.type,
                        "data_type": DATA_TYPES[v.kind],
                        "length": d.length(v),
                        "codelist": v.codelist,
                    }
                    for i, v in enumerate(d.variables, start=1)
                ],
            }
            for name, d in domains.items()
        ],
    }


def metadata_csv(meta: dict) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(METADATA_COLUMNS)
    for ds in meta["datasets"]:
        for v in ds["variables"]:
            writer.writerow(
                [ds["dataset"], *(v[c] if v[c] is not None else "" for c in METADATA_COLUMNS[1:])]
            )
    return buffer.getvalue()


def publish(out: Path, fill: Callable[[Path], None]) -> list[Path]:
    """Run ``fill(tmp)`` in a fresh temporary folder inside ``out``, then move every file it
    wrote into ``out``; on any error remove the temporary folder and leave ``out`` as it was.
    Returns the paths written."""
    try:
        out.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=".trialdesk-export-", dir=out))
    except OSError as exc:
        raise ExportError(
            f"output folder {out}", f"cannot be written: {exc.strerror or exc}"
        ) from None
    try:
        fill(tmp)
        written = []
        for path in sorted(tmp.iterdir()):
            target = out / path.name
            os.replace(path, target)
            written.append(target)
        return written
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def export_sdtm(dataset: TrialDataset, out: Path, *, treatment: str) -> list[Path]:
    """Write every SDTM domain as ``dm.csv``, ``dm.xpt`` (v5) and ``dm.json``
    (Dataset-JSON v1.1), plus ``define.json`` and ``define.csv`` (dataset metadata)."""
    domains = build_sdtm(dataset, treatment=treatment)
    for domain in domains.values():  # refuse before writing anything
        check_v5(domain)
    study_oid = f"ST.{dataset.nct_id}"

    def fill(tmp: Path) -> None:
        for name, domain in domains.items():
            stem = name.lower()
            (tmp / f"{stem}.csv").write_text(domain_csv(domain), encoding="utf-8")
            write_xpt(domain, tmp / f"{stem}.xpt", created=dataset.data_cut)
            write_dataset_json(
                domain, tmp / f"{stem}.json", study_oid=study_oid, created=dataset.data_cut
            )
        meta = metadata(dataset, domains)
        (tmp / "define.json").write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
        (tmp / "define.csv").write_text(metadata_csv(meta), encoding="utf-8")

    return publish(out, fill)


def export_odm(dataset: TrialDataset, out: Path, *, treatment: str) -> list[Path]:
    """Write ``<NCT>_odm.xml`` (ODM 1.3.2, validated against its XSD)."""
    from trialdesk.interop.odm import build_odm

    domains = build_sdtm(dataset, treatment=treatment)
    xml = build_odm(dataset, domains)
    return publish(
        out, lambda tmp: (tmp / f"{dataset.nct_id}_odm.xml").write_text(xml, encoding="utf-8")
    )


def export_results(
    dataset: TrialDataset, out: Path, *, threshold: float = 5.0, window_rule: str = "include"
) -> list[Path]:
    """Write ``<NCT>_results.json`` (ClinicalTrials.gov results-style summary)."""
    from trialdesk.interop.ctgov_results import results_section

    document = results_section(dataset, other_threshold=threshold, window_rule=window_rule)
    text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    return publish(
        out, lambda tmp: (tmp / f"{dataset.nct_id}_results.json").write_text(text, encoding="utf-8")
    )
