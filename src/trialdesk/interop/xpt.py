"""SAS transport (XPORT) version 5 files of SDTM domains, the format FDA's Study Data
Technical Conformance Guide asks SDTM datasets to be submitted in.

Written by pyreadstat with ``file_format_version=5`` (its default is version 8, which FDA
does not accept). Version 5 limits (SAS Institute, TS-140 "The record layout of a data set in
SAS transport (XPORT) format"; FDA Study Data Technical Conformance Guide section 3.3) are
checked BEFORE anything is written, and a breach names the dataset, the variable and the row:

- dataset and variable names: at most 8 characters, letters, digits and ``_``, not starting
  with a digit;
- dataset and variable labels: at most 40 characters;
- character values: at most 200 bytes;
- everything ASCII (the FDA guide: names, labels and values in ASCII).

The header records hold a creation and a modification time; both are set to the data cut so
that the same data gives the same bytes.
"""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

from trialdesk.interop.errors import ExportError
from trialdesk.interop.sdtm.model import NUM, Domain

NAME_MAX, LABEL_MAX, VALUE_MAX = 8, 40, 200
_NAME = re.compile(r"^[A-Z_][A-Z0-9_]*$")
#: A SAS datetime as the XPORT headers write it: ddMMMyy:hh:mm:ss.
_STAMP = re.compile(rb"\d\d[A-Z]{3}\d\d:\d\d:\d\d:\d\d")
_MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")


def _ascii(text: str) -> bool:
    return text.isascii()


def check_v5(domain: Domain) -> None:
    """Refuse a domain that XPT v5 cannot hold; the error names dataset, variable and row."""
    ds = domain.name
    if not (len(ds) <= NAME_MAX and _NAME.match(ds)):
        raise ExportError(f"dataset {ds!r}", f"name must be 1-{NAME_MAX} letters/digits/_ (XPT v5)")
    if len(domain.label) > LABEL_MAX or not _ascii(domain.label):
        raise ExportError(
            f"dataset {ds}", f"label {domain.label!r} is over {LABEL_MAX} characters or not ASCII"
        )
    for v in domain.variables:
        if not (len(v.name) <= NAME_MAX and _NAME.match(v.name)):
            raise ExportError(
                f"dataset {ds}, variable {v.name!r}",
                f"name must be 1-{NAME_MAX} letters/digits/_ (XPT v5)",
            )
        if len(v.label) > LABEL_MAX or not _ascii(v.label):
            raise ExportError(
                f"dataset {ds}, variable {v.name}",
                f"label {v.label!r} is over {LABEL_MAX} characters or not ASCII (XPT v5)",
            )
    for row_number, row in enumerate(domain.rows, start=1):
        for v, value in zip(domain.variables, row, strict=True):
            if value is None or v.type == NUM:
                continue
            text = str(value)
            if not _ascii(text):
                raise ExportError(
                    f"dataset {ds}, variable {v.name}, row {row_number}",
                    f"value {text!r} is not ASCII (XPT v5)",
                )
            if len(text.encode("ascii")) > VALUE_MAX:
                raise ExportError(
                    f"dataset {ds}, variable {v.name}, row {row_number}",
                    f"value is {len(text)} bytes, over the XPT v5 limit of {VALUE_MAX}",
                )


def sas_stamp(moment: datetime) -> bytes:
    """``ddMMMyy:hh:mm:ss`` as the XPORT header records write a datetime."""
    month = _MONTHS[moment.month - 1]
    return f"{moment:%d}{month}{moment:%y}:{moment:%H:%M:%S}".encode("ascii")


def write_xpt(domain: Domain, path: Path, *, created: datetime) -> None:
    """Write ``domain`` as an XPT v5 file at ``path`` (checked first; see :func:`check_v5`)."""
    import polars as pl
    import pyreadstat

    check_v5(domain)
    columns = {}
    for i, v in enumerate(domain.variables):
        values = [r[i] for r in domain.rows]
        if v.type == NUM:
            columns[v.name] = pl.Series(
                v.name, [None if x is None else float(x) for x in values], pl.Float64
            )
        else:
            columns[v.name] = pl.Series(
                v.name, [None if x is None else str(x) for x in values], pl.String
            )
    frame = pl.DataFrame(columns)
    pyreadstat.write_xport(
        frame,
        str(path),
        file_label=domain.label,
        column_labels=[v.label for v in domain.variables],
        table_name=domain.name,
        file_format_version=5,
    )
    data = path.read_bytes()
    head = data.find(b"HEADER RECORD*******NAMESTR")
    stamp = sas_stamp(created)
    fixed = _STAMP.sub(stamp, data[:head]) + data[head:]
    path.write_bytes(fixed)
