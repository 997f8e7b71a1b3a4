"""SDTM datasets as plain values: a variable's metadata and a domain's rows.

A :class:`Domain` is what every writer (CSV, XPT v5, Dataset-JSON, ODM) reads, so the four
files of a domain hold the same rows in the same order. Variable names, labels and order
follow the SDTM Implementation Guide 3.3 domain models (CDISC, 2018, section 6).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

CHAR, NUM = "Char", "Num"


@dataclass(frozen=True, slots=True)
class Variable:
    """One SDTM variable: name (<= 8), label (<= 40), SAS type, the value kind a JSON or
    XML reader should expect (``text``, ``integer``, ``float``) and its CDISC codelist."""

    name: str
    label: str
    kind: str = "text"
    codelist: str | None = None

    @property
    def type(self) -> str:
        return CHAR if self.kind == "text" else NUM


def text(name: str, label: str, codelist: str | None = None) -> Variable:
    return Variable(name, label, "text", codelist)


def integer(name: str, label: str) -> Variable:
    return Variable(name, label, "integer")


def number(name: str, label: str) -> Variable:
    return Variable(name, label, "float")


#: The identifiers every domain starts with (SDTMIG 3.3 section 4.1.2).
STUDYID = text("STUDYID", "Study Identifier")
DOMAIN = text("DOMAIN", "Domain Abbreviation")
USUBJID = text("USUBJID", "Unique Subject Identifier")


@dataclass(frozen=True, slots=True)
class Domain:
    """A built SDTM dataset: its name, label, variables and rows (tuples in variable order;
    ``None`` for a null value)."""

    name: str
    label: str
    variables: tuple[Variable, ...]
    rows: tuple[tuple[Any, ...], ...]

    def column(self, name: str) -> tuple[Any, ...]:
        i = [v.name for v in self.variables].index(name)
        return tuple(r[i] for r in self.rows)

    def length(self, variable: Variable) -> int:
        """The SAS length: 8 for numbers, the longest value in bytes (at least 1) for text."""
        if variable.type == NUM:
            return 8
        i = self.variables.index(variable)
        return max([1, *(len(str(r[i]).encode("utf-8")) for r in self.rows if r[i] is not None)])

    def records(self) -> list[dict[str, Any]]:
        names = [v.name for v in self.variables]
        return [dict(zip(names, r, strict=True)) for r in self.rows]


def iso_date(value: date | None) -> str | None:
    """ISO 8601 date (SDTMIG 3.3 section 4.4.1)."""
    return None if value is None else value.isoformat()


def iso_datetime(value: datetime | None) -> str | None:
    """ISO 8601 date and time to the minute, in UTC (trialdesk stores UTC)."""
    return None if value is None else value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M")


def utc_date(value: datetime) -> date:
    """The UTC calendar date of a timezone-aware datetime."""
    return value.astimezone(UTC).date()


#: Symbols common in protocol and clinical text, written out in ASCII (what NFKD leaves).
_ASCII = str.maketrans(
    {
        "\u2265": ">=",  # ≥
        "\u2264": "<=",  # ≤
        "\u2260": "!=",  # ≠
        "\u03bc": "u",  # μ (NFKD turns the micro sign into it)
        "\u00d7": "x",  # ×
        "\u00b1": "+/-",  # ±
        "\u00b0": "deg",  # °
        "\u00b7": ".",  # ·
        "\u2013": "-",  # –
        "\u2014": "-",  # —
        "\u2212": "-",  # −
        "\u2018": "'",
        "\u2019": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u2026": "...",
    }
)


def ascii_text(value: str) -> str:
    """Text as SDTM submission data carry it: ASCII (the XPT v5 transport and FDA's Study
    Data Technical Conformance Guide). Compatibility forms are decomposed (NFKD: ``²`` ->
    ``2``, ``µ`` -> ``μ``), accents dropped (``Sjögren`` -> ``Sjogren``) and the symbols of
    clinical text written out (``≥`` -> ``>=``, ``μmol`` -> ``umol``). A character with no
    ASCII form is kept, and the XPT check refuses it naming the dataset, variable and row.

    >>> ascii_text("bilirubin ≥ 170 µmol/L, Sjögren, 10⁹/L")
    'bilirubin >= 170 umol/L, Sjogren, 109/L'
    """
    if value.isascii():
        return value
    decomposed = unicodedata.normalize("NFKD", value).translate(_ASCII)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def build(
    name: str,
    label: str,
    variables: tuple[Variable, ...],
    rows: list[dict[str, Any]],
    *,
    sort_key,
    seq: str | None,
) -> Domain:
    """Sort the rows (a stable, total key: identical data gives identical files), number
    ``--SEQ`` 1, 2, ... within each subject, and lay each row out in variable order, text
    as ASCII (:func:`ascii_text`)."""
    rows = sorted(rows, key=sort_key)
    counters: dict[str, int] = {}
    out = []
    for row in rows:
        if seq is not None:
            counters[row["USUBJID"]] = counters.get(row["USUBJID"], 0) + 1
            row[seq] = counters[row["USUBJID"]]
        unknown = set(row) - {v.name for v in variables}
        if unknown:  # a programming error in a builder, not bad data
            raise AssertionError(f"{name}: variables not in the domain model: {sorted(unknown)}")
        values = (row.get(v.name) for v in variables)
        out.append(tuple(ascii_text(x) if isinstance(x, str) else x for x in values))
    return Domain(name, label, variables, tuple(out))


def none_last(value: Any) -> tuple[bool, Any]:
    """A sort key part that puts None after every value."""
    return (value is None, "" if value is None else value)
