"""Bands: table rows such as ``"1.5*ULN<x<=3.0*ULN"`` or ``"2<=x<=3"``, read like the source.

A band is an interval of ``x`` whose ends are numbers or multiples of a reference value
(``ULN``, ``LLN``, ``baseline``). Grading tables (CTCAE, Child-Pugh) are lists of bands loaded
from data files; :func:`check_partition` verifies at load time that consecutive rows meet
exactly (no overlap, no gap), so a reviewer can compare the data line by line with the
guideline and trust that every value falls in at most one row.

Grammar (spaces ignored)::

    band   := bound OP "x" OP bound | "x" OP bound | bound OP "x"
    OP     := "<" | "<="          (either direction: "a<x<=b" or "b>=x>a")
    bound  := NUMBER | REF | NUMBER "*" REF        REF := ULN | LLN | baseline
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction

__all__ = ["Band", "BandError", "Bound", "check_partition"]

REFERENCES = ("ULN", "LLN", "baseline")


class BandError(ValueError):
    """A band that cannot be parsed, or a table whose bands overlap or leave gaps."""


@dataclass(frozen=True)
class Bound:
    """``coefficient * reference`` (reference None: a plain number) and whether it is included."""

    coefficient: Fraction
    reference: str | None
    inclusive: bool

    def value(self, refs: Mapping[str, Fraction]) -> Fraction:
        if self.reference is None:
            return self.coefficient
        if refs.get(self.reference) is None:
            raise BandError(f"band needs {self.reference} but none was given")
        return self.coefficient * refs[self.reference]

    def same_point(self, other: Bound) -> bool:
        return self.coefficient == other.coefficient and self.reference == other.reference

    def __str__(self) -> str:
        if self.reference is None:
            return _num(self.coefficient)
        if self.coefficient == 1:
            return self.reference
        return f"{_num(self.coefficient)}*{self.reference}"


def _num(fr: Fraction) -> str:
    if fr.denominator == 1:
        return str(fr.numerator)
    return str(float(fr))


_BOUND = r"(?:-?\d+(?:\.\d+)?(?:\*(?:ULN|LLN|baseline))?|ULN|LLN|baseline)"
_TWO_SIDED = re.compile(rf"^(?P<a>{_BOUND})(?P<op1><=|<|>=|>)x(?P<op2><=|<|>=|>)(?P<b>{_BOUND})$")
_ONE_SIDED_RIGHT = re.compile(rf"^x(?P<op><=|<|>=|>)(?P<b>{_BOUND})$")
_ONE_SIDED_LEFT = re.compile(rf"^(?P<a>{_BOUND})(?P<op><=|<|>=|>)x$")


def _bound(text: str, inclusive: bool) -> Bound:
    if "*" in text:
        num, ref = text.split("*")
        return Bound(Fraction(num), ref, inclusive)
    if text in REFERENCES:
        return Bound(Fraction(1), text, inclusive)
    return Bound(Fraction(text), None, inclusive)


@dataclass(frozen=True)
class Band:
    """An interval ``lower (<|<=) x (<|<=) upper``; either end may be open (None)."""

    text: str
    lower: Bound | None
    upper: Bound | None

    @classmethod
    def parse(cls, text: str) -> Band:
        s = re.sub(r"\s+", "", text)
        m = _TWO_SIDED.match(s)
        if m:
            op1, op2 = m["op1"], m["op2"]
            if op1[0] != op2[0]:
                raise BandError(f"band {text!r}: both comparisons must point the same way")
            a, b = m["a"], m["b"]
            if op1.startswith("<"):  # a < x < b
                return cls(text, _bound(a, op1 == "<="), _bound(b, op2 == "<="))
            return cls(text, _bound(b, op2 == ">="), _bound(a, op1 == ">="))  # a > x > b
        m = _ONE_SIDED_RIGHT.match(s)
        if m:
            op, b = m["op"], m["b"]
            if op.startswith("<"):
                return cls(text, None, _bound(b, op == "<="))
            return cls(text, _bound(b, op == ">="), None)
        m = _ONE_SIDED_LEFT.match(s)
        if m:
            op, a = m["op"], m["a"]
            if op.startswith("<"):
                return cls(text, _bound(a, op == "<="), None)
            return cls(text, None, _bound(a, op == ">="))
        raise BandError(
            f"band {text!r} is not of the form 'a<x<=b', 'x>b' or 'a<=x' "
            f"(a, b numbers or multiples of {', '.join(REFERENCES)})"
        )

    @property
    def references(self) -> frozenset[str]:
        return frozenset(b.reference for b in (self.lower, self.upper) if b and b.reference)

    def contains(self, x: Fraction, refs: Mapping[str, Fraction] | None = None) -> bool:
        refs = refs or {}
        if self.lower is not None:
            lo = self.lower.value(refs)
            if x < lo or (x == lo and not self.lower.inclusive):
                return False
        if self.upper is not None:
            hi = self.upper.value(refs)
            if x > hi or (x == hi and not self.upper.inclusive):
                return False
        return True

    def __str__(self) -> str:
        return self.text


def _meet(a: Bound | None, b: Bound | None) -> bool:
    """True when the two ends are the same point and exactly one of them includes it."""
    return a is not None and b is not None and a.same_point(b) and a.inclusive != b.inclusive


def check_partition(bands: Sequence[Band], where: str, *, complete: bool = False) -> None:
    """Raise BandError unless consecutive bands meet exactly (no overlap, no gap).

    Rows are taken in the order given (grade order). Each consecutive pair must share one
    end point, included in exactly one of the two rows; the outer ends may be open or bounded
    (values beyond them are "not in the table", e.g. grade 0). A band must not be empty
    for plain-number ends (lower < upper). With ``complete=True`` the outer ends must be open,
    so that every value falls in exactly one band (Child-Pugh points).
    """
    if not bands:
        raise BandError(f"{where}: no bands")
    for band in bands:
        lo, hi = band.lower, band.upper
        if lo and hi and lo.reference is None and hi.reference is None:
            if lo.coefficient > hi.coefficient or (
                lo.coefficient == hi.coefficient and not (lo.inclusive and hi.inclusive)
            ):
                raise BandError(f"{where}: band {band.text!r} is empty")
    for a, b in zip(bands, bands[1:], strict=False):
        ascending = _meet(a.upper, b.lower)
        descending = _meet(a.lower, b.upper)
        if not (ascending or descending):
            raise BandError(
                f"{where}: bands {a.text!r} and {b.text!r} do not meet exactly "
                "(they overlap or leave a gap)"
            )
    if len(bands) > 2:
        ups = [_meet(a.upper, b.lower) for a, b in zip(bands, bands[1:], strict=False)]
        if len(set(ups)) > 1:
            raise BandError(f"{where}: bands change direction; rows must run one way")
    if complete:
        first, last = bands[0], bands[-1]
        ascending = len(bands) == 1 or _meet(first.upper, bands[1].lower)
        outer = (first.lower, last.upper) if ascending else (first.upper, last.lower)
        if any(b is not None for b in outer):
            raise BandError(f"{where}: the first and last bands must be open-ended")
