"""Units: the one home of lab quantities and unit conversion in trialdesk.

Every lab value in the system is a :class:`Quantity` -- a number with a UCUM unit, optionally
tied to an :class:`Analyte` -- and is converted here, never by hand elsewhere.

Public API
----------
``quantity(value, unit, analyte=None, *, comparator=None) -> Quantity``
    Build a quantity from a number (int, str, Decimal, Fraction or float) and a unit.
    With an analyte, the unit must be able to express it and the value must be possible.
``parse_quantity(text, analyte=None, *, default_unit=None) -> Quantity``
    Parse ``"2.0 mg/dL"``, ``"< 20 IU/mL"``, ``"1.4"`` (INR), ``"3.2 log10 IU/mL"`` (HBV DNA).
``as_quantity(x, analyte, *, default_unit=None) -> Quantity``
    Accept a Quantity, a string or (for unitless analytes such as INR) a bare number.
``convert(q, unit, analyte=None) -> Quantity`` / ``to(q, unit)`` / ``q.to(unit)``
    Convert; mass <-> molar concentration goes through the analyte's molar mass.
``get_analyte(name) -> Analyte``, ``ANALYTES``, ``analyte_for_loinc(code) -> Analyte``
    The analyte registry (name, canonical UCUM unit, molar mass, plausible range, extreme
    thresholds, LOINC codes, aliases).
``normalize_unit(text, analyte=None) -> str``
    A human spelling (``µmol/L``, ``x10^9/L``, ``mEq/L``, ``K/uL``, ``IU/mL``) as a UCUM code.
``censored_range(q) -> (low, high)``
    The ends of what a censored result (``"< 20 IU/mL"``) may be, for three-valued decisions.
``log10(q, unit=None) -> Decimal`` / ``from_log10(x, unit, analyte)``
    Log-scale values (HBV DNA in log10 IU/mL).
``UnitError``, ``ImplausibleValueError``
    Subclasses of ``ValueError``; the message names the analyte, the value and the unit.

Quantities are held exactly: ``Quantity.exact`` is a :class:`fractions.Fraction`, every
conversion factor is rational (pint registry with ``non_int_type=Fraction``; molar masses are
decimals), so converting mg/dL -> umol/L -> mg/dL gives back the very same number and a value
on a cut-off stays on it whatever unit it was entered in. ``Quantity.value`` is the
:class:`~decimal.Decimal` shown to people (exact when it terminates, else 20 significant digits).

Accepted units: any UCUM code the ucumvert parser and pint understand (``umol/L``, ``mg/dL``,
``g/L``, ``meq/L``, ``10*9/L``, ``10*3/uL``, ``/uL``, ``/mm3``, ``[iU]/mL``, ``[IU]/mL``, ``U/L``,
``ukat/L``, ``s``, ``%``, ``{INR}``, ``1``, ``10*6/kg``) and these human spellings: ``µ``/``μ`` for
``u``; ``x10^9/L``, ``×10^9/L``, ``10^9/L``, ``10E9/L`` for ``10*9/L``; ``K/uL`` for ``10*3/uL``;
``mEq/L`` for ``meq/L``; ``IU`` for ``[IU]`` (``mIU`` for ``m[IU]``); ``mcg`` for ``ug``; ``G/L`` for
``10*9/L``; ``cells/uL`` for ``{cells}/uL``; ``sec`` for ``s``;
``INR``/``ratio``/empty for ``{INR}`` when the analyte is unitless. For ALT and AST, ``IU/L`` is
read as ``U/L`` (laboratories write IU/L for the enzyme unit, which UCUM calls ``U``).
Incompatible units (creatinine in U/L, WBC in IU/mL, bilirubin in mg/dL with no molar mass)
raise :class:`UnitError`; a negative or impossible value raises :class:`ImplausibleValueError`;
an extreme but possible value passes and carries a message in ``Quantity.warnings``.

The analyte registry itself lives in :mod:`trialdesk.clinical.analytes` and is re-exported here.

Sources: UCUM (https://ucum.org/ucum); molar masses as in docs/clinical-formulas.md
(bilirubin 584.66 g/mol, creatinine 113.12 g/mol); LOINC codes from loinc.org.
"""

from __future__ import annotations

import math
import re
import threading
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation, localcontext
from fractions import Fraction
from functools import lru_cache
from typing import Any

from trialdesk.clinical.analytes import (
    ANALYTES,
    Analyte,
    ImplausibleValueError,
    UnitError,
    analyte_for_loinc,
    get_analyte,
)

__all__ = [
    "ANALYTES",
    "Analyte",
    "ImplausibleValueError",
    "Quantity",
    "UnitError",
    "analyte_for_loinc",
    "as_quantity",
    "censored_range",
    "convert",
    "from_log10",
    "get_analyte",
    "log10",
    "normalize_unit",
    "parse_quantity",
    "quantity",
    "to",
]


# --------------------------------------------------------------------------------------------
# UCUM parsing through ucumvert into an exact (Fraction) pint registry
# --------------------------------------------------------------------------------------------

_registry_lock = threading.Lock()
_registry: Any = None


def _ureg() -> Any:
    """The pint registry with UCUM definitions, built on first use (about half a second)."""
    global _registry
    if _registry is None:
        with _registry_lock:
            if _registry is None:
                from pathlib import Path

                import pint
                import ucumvert
                from ucumvert import UcumToPintTransformer, get_ucum_parser

                reg = pint.UnitRegistry(non_int_type=Fraction, cache_folder=None)
                reg.load_definitions(Path(ucumvert.__file__).parent / "pint_ucum_defs.txt")
                reg._trialdesk_parser = get_ucum_parser()
                reg._trialdesk_transformer = UcumToPintTransformer(ureg=reg)
                _registry = reg
    return _registry


@dataclass(frozen=True)
class _ParsedUnit:
    code: str
    factor: Fraction  # numeric factor in the code (10.L -> 10)
    units: Any  # pint Unit
    arbitrary: frozenset[str]  # arbitrary units ([IU], [EU], ...) that pint treats as 1


_ANNOTATION_ONLY = re.compile(r"^\{[^{}]*\}$")


@lru_cache(maxsize=512)
def _parse_ucum(code: str) -> _ParsedUnit:
    """Parse one UCUM code (already normalised); raises UnitError."""
    from ucumvert import parse_ucum

    reg = _ureg()
    if code in ("", "1") or _ANNOTATION_ONLY.match(code):
        return _ParsedUnit(code, Fraction(1), reg.Unit(""), frozenset())
    try:
        tree = parse_ucum(code, reg._trialdesk_parser)
        q = reg._trialdesk_transformer.transform(tree)
    except Exception as exc:  # lark, pint and ucumvert raise several types
        detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise UnitError(f"{code!r} is not a UCUM unit trialdesk knows ({detail})") from None
    if not hasattr(q, "units"):
        raise UnitError(f"{code!r} is not a UCUM unit trialdesk knows")
    magnitude = q.magnitude
    factor = Fraction(magnitude) if not isinstance(magnitude, Fraction) else magnitude
    arbitrary = set()
    for name in q.units._units:
        conv = reg._units[name].converter
        if not reg.get_dimensionality(name) and getattr(conv, "scale", None) == 1:
            arbitrary.add(name)
    return _ParsedUnit(code, factor, q.units, frozenset(arbitrary))


@lru_cache(maxsize=256)
def _is_unitless(code: str) -> bool:
    return not _ureg().get_dimensionality(_parse_ucum(code).units)


# Human spellings -> UCUM. Applied in order to the unit text.
_HUMAN_SPELLINGS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(p), r)
    for p, r in (
        (r"[µμ]", "u"),
        (r"\s+", ""),
        (r"^(?:[x×*]|X)?10\^?[eE]?\*?(\d+)(?=/|$)", r"10*\1"),  # x10^9/L, 10E9/L, ×10^9/L
        (r"^(?:[x×*])10\*(\d+)", r"10*\1"),
        (r"^[Kk]/", "10*3/"),  # K/uL
        (r"^(?:thou|thous)/", "10*3/"),
        (r"^cells?/", "{cells}/"),
        (r"mEq", "meq"),
        (r"(?<![\[\w])([munpk]?)IU(?![\w\]])", r"\1[IU]"),  # IU/mL, mIU/mL
        (r"mcg", "ug"),
        (r"^G/[lL]$", "10*9/L"),  # giga per litre, as French labs write counts
        (r"^(?:sec|secs|seconds?)$", "s"),
        (r"^(?:mm\^3|mm³)$", "mm3"),
        (r"/mm\^3$|/mm³$", "/mm3"),
        (r"^/?cmm$", "/mm3"),
    )
)

_UNITLESS_WORDS = {"", "1", "{inr}", "inr", "ratio", "{ratio}", "none", "unitless"}


def normalize_unit(text: str, analyte: str | Analyte | None = None) -> str:
    """The UCUM code for a unit as people write it (see the module docstring for spellings)."""
    if not isinstance(text, str):
        raise UnitError(f"unit must be a string, got {type(text).__name__}")
    an = get_analyte(analyte) if analyte is not None else None
    return _normalize(text, an.name if an else None)


@lru_cache(maxsize=1024)
def _normalize(text: str, analyte_name: str | None) -> str:
    an = ANALYTES[analyte_name] if analyte_name else None
    raw = text.strip()
    if raw.lower() in _UNITLESS_WORDS:
        if an is not None and _is_unitless(an.unit):
            return an.unit
        return "1" if raw.lower() in ("", "1", "none", "unitless") else "{" + raw.strip("{}") + "}"
    code = raw
    for pattern, repl in _HUMAN_SPELLINGS:
        code = pattern.sub(repl, code)
    if an is not None:
        for old, new in an.unit_aliases:
            if code == old:
                code = new
    return code


# --------------------------------------------------------------------------------------------
# Quantity
# --------------------------------------------------------------------------------------------

_COMPARATORS = ("<", "<=", ">", ">=")


def _to_fraction(value: Any, where: str) -> tuple[Fraction, Decimal]:
    """Exact Fraction and display Decimal for an input number; ImplausibleValueError if none."""
    if isinstance(value, bool):
        raise ImplausibleValueError(f"{where}: {value!r} is not a number")
    if isinstance(value, Fraction):
        return value, _fraction_to_decimal(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ImplausibleValueError(f"{where}: {value!r} is not a finite number")
        dec = Decimal(repr(value))
    elif isinstance(value, int):
        dec = Decimal(value)
    elif isinstance(value, Decimal):
        dec = value
    elif isinstance(value, str):
        try:
            dec = Decimal(value.strip())
        except InvalidOperation:
            raise ImplausibleValueError(f"{where}: {value!r} is not a number") from None
    else:
        raise ImplausibleValueError(f"{where}: {value!r} is not a number")
    if not dec.is_finite():
        raise ImplausibleValueError(f"{where}: {value!r} is not a finite number")
    return Fraction(dec), dec


def _fraction_to_decimal(fr: Fraction, digits: int = 20) -> Decimal:
    """Exact Decimal when the fraction terminates, else ``digits`` significant digits."""
    den = fr.denominator
    twos = fives = 0
    while den % 2 == 0:
        den //= 2
        twos += 1
    while den % 5 == 0:
        den //= 5
        fives += 1
    if den == 1:
        scale = max(twos, fives)
        return _plain(Decimal(fr.numerator * (10**scale // fr.denominator)).scaleb(-scale))
    with localcontext() as ctx:
        ctx.prec = digits
        return _plain(Decimal(fr.numerator) / Decimal(fr.denominator))


def _plain(dec: Decimal) -> Decimal:
    """Without trailing zeros and without an exponent (4.5E+3 -> 4500)."""
    dec = dec.normalize()
    if dec.as_tuple().exponent > 0:  # type: ignore[operator]
        dec = dec.quantize(Decimal(1))
    return dec


@dataclass(frozen=True)
class Quantity:
    """A value with a UCUM unit, optionally of a registered analyte. Immutable.

    ``exact`` is the value as an exact fraction (conversions never round); ``value`` is the
    Decimal people see; ``comparator`` marks results beyond a detection limit (``"<"``, ...);
    ``warnings`` holds messages for extreme but possible values.
    """

    value: Decimal
    unit: str
    analyte: str | None = None
    comparator: str | None = None
    warnings: tuple[str, ...] = ()
    exact: Fraction = field(default=None, repr=False)  # type: ignore[assignment]

    def __post_init__(self) -> None:
        if self.exact is None:
            object.__setattr__(self, "exact", Fraction(self.value))

    @property
    def extreme(self) -> bool:
        """True when the value is possible but outside the analyte's usual extremes."""
        return bool(self.warnings)

    def to(self, unit: str) -> Quantity:
        """This quantity in another unit (see :func:`convert`)."""
        return convert(self, unit)

    def magnitude(self, unit: str | None = None) -> Fraction:
        """The exact value, in ``unit`` if given."""
        return self.exact if unit is None else convert(self, unit).exact

    def decimal(self, unit: str | None = None, prec: int = 40) -> Decimal:
        """The value as a Decimal with ``prec`` significant digits, in ``unit`` if given."""
        fr = self.magnitude(unit)
        with localcontext() as ctx:
            ctx.prec = prec
            return Decimal(fr.numerator) / Decimal(fr.denominator)

    def __float__(self) -> float:
        return float(self.exact)

    def __str__(self) -> str:
        prefix = f"{self.comparator} " if self.comparator else ""
        unit = "" if self.unit in ("1", "") else f" {self.unit}"
        return f"{prefix}{self.value:f}{unit}"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form: value as a string (exact decimal), unit, analyte, flags."""
        out: dict[str, Any] = {"value": f"{self.value:f}", "unit": self.unit}
        if self.analyte:
            out["analyte"] = self.analyte
        if self.comparator:
            out["comparator"] = self.comparator
        if self.warnings:
            out["warnings"] = list(self.warnings)
        return out


def _describe(value: Any, unit: str, analyte: Analyte | None) -> str:
    who = analyte.name if analyte else "quantity"
    return f"{who} {value} {unit}".rstrip()


def _kind(parsed: _ParsedUnit) -> str:
    base = _base_kind(parsed)
    if parsed.arbitrary:
        return f"{base} in {', '.join(sorted(parsed.arbitrary))}"
    return base


def _base_kind(parsed: _ParsedUnit) -> str:
    reg = _ureg()
    dim = reg.get_dimensionality(parsed.units)
    if dim == reg.get_dimensionality("mol/L"):
        return "substance concentration"
    if dim == reg.get_dimensionality("g/L"):
        return "mass concentration"
    if dim == reg.get_dimensionality("U/L"):
        return "enzyme activity concentration"
    if dim == reg.get_dimensionality("1/L"):
        return "number concentration"
    if dim == reg.get_dimensionality("s"):
        return "time"
    if not dim:
        return "dimensionless"
    return "other"


def _factor(src: str, dst: str, analyte: Analyte | None) -> Fraction:
    """Exact factor f such that x [src] == x*f [dst]; UnitError when impossible."""
    return _factor_cached(src, dst, analyte.name if analyte else None)


@lru_cache(maxsize=1024)
def _factor_cached(src: str, dst: str, analyte_name: str | None) -> Fraction:
    import pint

    an = ANALYTES[analyte_name] if analyte_name else None
    reg = _ureg()
    a, b = _parse_ucum(src), _parse_ucum(dst)
    if a.arbitrary != b.arbitrary:
        names = lambda p: ", ".join(sorted(p.arbitrary)) or "no arbitrary unit"  # noqa: E731
        raise UnitError(
            f"{src!r} ({names(a)}) cannot be converted to {dst!r} ({names(b)})"
            + (f" for {an.name}" if an else "")
        )
    one = reg.Quantity(Fraction(1), a.units)
    try:
        converted = one.to(b.units)
    except pint.DimensionalityError:
        converted = None
    if converted is None and an is not None and an.molar_mass is not None:
        molar = reg.Quantity(Fraction(an.molar_mass), "g/mol")
        kinds = (_kind(a), _kind(b))
        try:
            if kinds == ("mass concentration", "substance concentration"):
                converted = (one / molar).to(b.units)
            elif kinds == ("substance concentration", "mass concentration"):
                converted = (one * molar).to(b.units)
        except pint.DimensionalityError:
            converted = None
    if converted is None:
        what = f" for {an.name}" if an else ""
        hint = ""
        if an is None and {_kind(a), _kind(b)} == {
            "mass concentration",
            "substance concentration",
        }:
            hint = " (mass <-> molar conversion needs an analyte with a molar mass)"
        raise UnitError(f"cannot convert {src!r} ({_kind(a)}) to {dst!r} ({_kind(b)}){what}{hint}")
    mag = converted.magnitude
    mag = mag if isinstance(mag, Fraction) else Fraction(mag)
    return mag * a.factor / b.factor


@lru_cache(maxsize=64)
def _limits(name: str) -> tuple[Fraction | None, ...]:
    an = ANALYTES[name]
    return tuple(
        None if d is None else Fraction(d)
        for d in (an.impossible_below, an.impossible_above, an.extreme_below, an.extreme_above)
    )


def _check_range(an: Analyte, canonical: Fraction, shown: str) -> tuple[str, ...]:
    """Raise ImplausibleValueError for impossible values; return warnings for extreme ones."""
    lo, hi = an.impossible_below, an.impossible_above
    f_lo, f_hi, f_xlo, f_xhi = _limits(an.name)
    unit = an.unit
    if f_lo is not None and (canonical < f_lo or (an.below_inclusive and canonical == f_lo)):
        rel = "<=" if an.below_inclusive else "<"
        raise ImplausibleValueError(
            f"{an.name} {shown} is impossible (a real value is never {rel} {lo} {unit})"
        )
    if f_hi is not None and canonical > f_hi:
        raise ImplausibleValueError(
            f"{an.name} {shown} is impossible (a real value is never above {hi} {unit})"
        )
    warnings = []
    if f_xlo is not None and canonical < f_xlo:
        warnings.append(f"{an.name} {shown} is extreme (below {an.extreme_below} {unit}): check it")
    if f_xhi is not None and canonical > f_xhi:
        warnings.append(f"{an.name} {shown} is extreme (above {an.extreme_above} {unit}): check it")
    return tuple(warnings)


def quantity(
    value: Any,
    unit: str,
    analyte: str | Analyte | None = None,
    *,
    comparator: str | None = None,
) -> Quantity:
    """A checked :class:`Quantity`.

    ``unit`` may be a UCUM code or a human spelling (normalised by :func:`normalize_unit`).
    With an ``analyte``, the unit must express it (else :class:`UnitError`) and the value must
    be possible (else :class:`ImplausibleValueError`); extreme values carry ``warnings``.
    """
    an = get_analyte(analyte) if analyte is not None else None
    where = _describe(value, unit, an)
    if comparator is not None and comparator not in _COMPARATORS:
        raise ImplausibleValueError(f"{where}: comparator {comparator!r} is not one of <,<=,>,>=")
    exact, shown = _to_fraction(value, where)
    code = normalize_unit(unit, an)
    try:
        parsed = _parse_ucum(code)
    except UnitError as exc:
        raise UnitError(f"{where}: {exc}") from None
    warnings: tuple[str, ...] = ()
    if an is not None:
        try:
            factor = _factor(code, an.unit, an)
        except UnitError:
            raise UnitError(
                f"{an.name} {shown} {unit}: unit {code!r} ({_kind(parsed)}) cannot express "
                f"{an.name} (canonical unit {an.unit!r}, {_kind(_parse_ucum(an.unit))})"
            ) from None
        warnings = _check_range(an, exact * factor, f"{shown} {unit}".strip())
    elif exact < 0:
        raise ImplausibleValueError(f"{where}: a measured quantity cannot be negative")
    return Quantity(
        value=shown,
        unit=code,
        analyte=an.name if an else None,
        comparator=comparator,
        warnings=warnings,
        exact=exact,
    )


_NUMBER = r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?"
_QUANTITY_RE = re.compile(rf"^\s*(?P<cmp><=|>=|<|>|≤|≥)?\s*(?P<num>{_NUMBER})\s*(?P<unit>.*?)\s*$")
_LOG_RE = re.compile(r"^(?:log10|log|lg)\s*(?:\(\s*(?P<u1>.*)\s*\)|(?P<u2>.*))$", re.IGNORECASE)


def parse_quantity(
    text: str,
    analyte: str | Analyte | None = None,
    *,
    default_unit: str | None = None,
) -> Quantity:
    """Parse ``"<comparator> <number> <unit>"``, e.g. ``"2.0 mg/dL"``, ``"< 20 IU/mL"``.

    A bare number takes ``default_unit``, or the analyte's unit when that is unitless (INR);
    otherwise a missing unit is a :class:`UnitError`. For log-scale analytes (HBV DNA),
    ``"3.2 log10 IU/mL"`` means 10**3.2 IU/mL.
    """
    an = get_analyte(analyte) if analyte is not None else None
    who = an.name if an else "quantity"
    if not isinstance(text, str):
        raise UnitError(f"{who}: expected text like '2.0 mg/dL', got {text!r}")
    m = _QUANTITY_RE.match(text)
    if not m:
        raise ImplausibleValueError(f"{who} {text!r}: expected '<number> <unit>', e.g. '2.0 mg/dL'")
    cmp = {"≤": "<=", "≥": ">="}.get(m["cmp"] or "", m["cmp"] or None)
    unit = m["unit"]
    log = _LOG_RE.match(unit) if unit else None
    if log and an is not None and an.log_scale:
        inner = (log["u1"] or log["u2"] or an.unit).strip()
        return from_log10(Decimal(m["num"]), inner, an, comparator=cmp)
    if not unit:
        if default_unit is not None:
            unit = default_unit
        elif an is not None and _is_unitless(an.unit):
            unit = an.unit
        else:
            hint = f", e.g. '{m['num']} {an.unit}'" if an else ""
            raise UnitError(f"{who} {text.strip()!r} has no unit{hint}")
    return quantity(m["num"], unit, an, comparator=cmp)


def as_quantity(
    x: Quantity | str | int | float | Decimal | Fraction,
    analyte: str | Analyte,
    *,
    default_unit: str | None = None,
) -> Quantity:
    """A quantity of ``analyte`` from a Quantity, a string, or a bare number.

    A bare number is accepted only with ``default_unit`` or for a unitless analyte (INR).
    A Quantity of another analyte is a :class:`UnitError`; one without an analyte is
    re-checked as this analyte.
    """
    an = get_analyte(analyte)
    if isinstance(x, Quantity):
        if x.analyte is not None and x.analyte != an.name:
            raise UnitError(f"expected {an.name}, got a {x.analyte} quantity ({x})")
        if x.analyte is None:
            return quantity(x.exact, x.unit, an, comparator=x.comparator)
        return x
    if isinstance(x, str):
        return parse_quantity(x, an, default_unit=default_unit)
    if default_unit is None and not _is_unitless(an.unit):
        raise UnitError(f"{an.name} {x!r} has no unit: give a quantity such as '{x} {an.unit}'")
    return quantity(x, default_unit or an.unit, an)


def convert(q: Quantity, unit: str, analyte: str | Analyte | None = None) -> Quantity:
    """``q`` expressed in ``unit`` (exactly). Mass <-> molar uses the analyte's molar mass."""
    an = get_analyte(analyte) if analyte is not None else None
    if an is None and q.analyte is not None:
        an = ANALYTES[q.analyte]
    elif an is not None and q.analyte is not None and q.analyte != an.name:
        raise UnitError(f"cannot convert a {q.analyte} quantity ({q}) as {an.name}")
    code = normalize_unit(unit, an)
    if code == q.unit:
        return q
    try:
        factor = _factor(q.unit, code, an)
    except UnitError as exc:
        raise UnitError(f"{_describe(q.value, q.unit, an)}: {exc}") from None
    exact = q.exact * factor
    return Quantity(
        value=_fraction_to_decimal(exact),
        unit=code,
        analyte=an.name if an else q.analyte,
        comparator=q.comparator,
        warnings=q.warnings,
        exact=exact,
    )


def censored_range(q: Quantity) -> tuple[Quantity, Quantity]:
    """The two ends of the values a censored quantity (``"< 0.5 10*9/L"``) may stand for.

    For ``<``/``<=`` the range runs from the analyte's lowest possible value up to the
    reported value; for ``>``/``>=`` from the reported value to the highest possible value
    (or 10**6 times the value when the analyte sets no ceiling). Open ends (``<``, ``>``) are
    approached to within one part in 10**9. Both ends are plain quantities (no comparator) in
    the quantity's unit. A quantity without a comparator gives ``(q, q)``. Decisions that are
    monotone in the value (a grade, a cut-off) are certain when both ends agree.
    """
    if not q.comparator:
        return q, q
    an = ANALYTES.get(q.analyte) if q.analyte else None
    x = q.exact
    eps = abs(x) / 10**9 if x else Fraction(1, 10**12)
    to_q = Fraction(1)
    if an is not None:
        to_q = _factor(an.unit, q.unit, an)  # canonical -> q.unit
    lo_lim, hi_lim = _limits(an.name)[:2] if an is not None else (Fraction(0), None)
    if q.comparator in ("<", "<="):
        lo = (lo_lim or Fraction(0)) * to_q
        if an is not None and an.below_inclusive:
            lo += eps
        hi = x if q.comparator == "<=" else x - eps
        lo = min(lo, hi)
    else:
        lo = x if q.comparator == ">=" else x + eps
        hi = hi_lim * to_q if hi_lim is not None else x * 10**6 + 1
        hi = max(hi, lo)
    ends = tuple(
        Quantity(
            value=_fraction_to_decimal(v),
            unit=q.unit,
            analyte=q.analyte,
            warnings=q.warnings,
            exact=v,
        )
        for v in (lo, hi)
    )
    return ends[0], ends[1]


def to(q: Quantity, unit: str) -> Quantity:
    """Shorthand for :func:`convert` using the quantity's own analyte."""
    return convert(q, unit)


def log10(q: Quantity, unit: str | None = None) -> Decimal:
    """log10 of the value (in ``unit``, default the analyte's canonical unit), 20 digits."""
    target = unit or (ANALYTES[q.analyte].unit if q.analyte else q.unit)
    fr = convert(q, target).exact
    if fr <= 0:
        raise ImplausibleValueError(f"{_describe(q.value, q.unit, None)}: log10 needs a value > 0")
    with localcontext() as ctx:
        ctx.prec = 20
        return (Decimal(fr.numerator) / Decimal(fr.denominator)).log10()


def from_log10(
    x: Any,
    unit: str,
    analyte: str | Analyte | None = None,
    *,
    comparator: str | None = None,
) -> Quantity:
    """The quantity 10**x ``unit`` (e.g. HBV DNA 3.2 log10 IU/mL), to 20 significant digits."""
    an = get_analyte(analyte) if analyte is not None else None
    _, dec = _to_fraction(x, _describe(x, f"log10 {unit}", an))
    with localcontext() as ctx:
        ctx.prec = 20
        value = _plain(Decimal(10) ** dec)
    return quantity(value, unit, an, comparator=comparator)
