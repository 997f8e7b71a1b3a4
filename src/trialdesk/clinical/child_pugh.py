"""Child-Turcotte-Pugh score with its cut-offs declared as data (data/child_pugh.yaml).

Source: Pugh RNH et al., Transection of the oesophagus for bleeding oesophageal varices,
Br J Surg 1973;60:646-649. Textbooks differ on some cut-offs (albumin 3.0 g/dL, INR 2.2), so
the points table is data: the default variant is ``pugh-1973``; a protocol chooses another
variant by name, or loads its own YAML file of the same shape with :func:`load_child_pugh_tables`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Any

import yaml

from trialdesk.clinical._scoring import ScoreInputError, ScoreResult, UsedInput, dec, lab
from trialdesk.clinical.bands import Band, BandError, Bound, check_partition
from trialdesk.clinical.units import censored_range

__all__ = [
    "CHILD_PUGH_TABLES",
    "DEFAULT",
    "ChildPughRange",
    "ChildPughTable",
    "child_pugh",
    "child_pugh_range",
    "load_child_pugh_tables",
]

_LAB_ITEMS = {  # item name in the table -> analyte
    "bilirubin": "bilirubin",
    "bilirubin_cholestatic": "bilirubin",
    "albumin": "albumin",
    "inr": "inr",
    "pt_prolongation": "pt_prolongation",
}
_CATEGORY_ITEMS = ("ascites", "encephalopathy")
_ALIASES = {
    "ascites": {
        "absent": "none",
        "no": "none",
        "slight": "mild",
        "moderate": "moderate-severe",
        "severe": "moderate-severe",
        "moderate-to-severe": "moderate-severe",
        "tense": "moderate-severe",
    },
    "encephalopathy": {
        "absent": "none",
        "no": "none",
        "1-2": "grade-1-2",
        "grade-1": "grade-1-2",
        "grade-2": "grade-1-2",
        "3-4": "grade-3-4",
        "grade-3": "grade-3-4",
        "grade-4": "grade-3-4",
    },
}


@dataclass(frozen=True)
class ChildPughTable:
    """One variant of the points table: bands per lab item, points per category, classes."""

    name: str
    description: str
    reference: str
    labs: Any = field(hash=False)  # item -> (unit, ((points, Band), ...))
    categories: Any = field(hash=False)  # item -> {category: points}
    classes: tuple[tuple[str, int, int], ...] = ()

    def points_for(self, item: str, x: Fraction) -> tuple[int, Band]:
        unit_bands = self.labs[item]
        for points, band in unit_bands[1]:
            if band.contains(x):
                return points, band
        raise AssertionError(f"{self.name}: {item} {x} in no band (table checked at load)")

    def klass(self, total: int) -> str:
        for name, lo, hi in self.classes:
            if lo <= total <= hi:
                return name
        raise AssertionError(f"{self.name}: total {total} in no class (table checked at load)")


def _build(name: str, spec: dict[str, Any], variants: dict[str, Any], where: str) -> ChildPughTable:
    items: dict[str, Any] = {}
    base = spec.get("base")
    if base is not None:
        if base not in variants:
            raise BandError(f"{where}: variant {name!r} has unknown base {base!r}")
        items.update(variants[base]["items"])
        classes_spec = spec.get("classes", variants[base].get("classes"))
    else:
        classes_spec = spec.get("classes")
    items.update(spec.get("items", {}))
    labs: dict[str, Any] = {}
    categories: dict[str, dict[str, int]] = {}
    for item, body in items.items():
        if item in _LAB_ITEMS:
            rows = tuple(
                (int(points), Band.parse(str(text))) for points, text in body["bands"].items()
            )
            check_partition([b for _, b in rows], f"{where}: {name}.{item}", complete=True)
            labs[item] = (str(body["unit"]), rows)
        elif item in _CATEGORY_ITEMS:
            categories[item] = {str(k): int(v) for k, v in body["categories"].items()}
        else:
            raise BandError(f"{where}: variant {name!r} has unknown item {item!r}")
    missing = {"bilirubin", "albumin", "inr", *_CATEGORY_ITEMS} - set(labs) - set(categories)
    if missing:
        raise BandError(f"{where}: variant {name!r} lacks {', '.join(sorted(missing))}")
    if not classes_spec:
        raise BandError(f"{where}: variant {name!r} has no classes")
    classes = tuple(sorted((str(k), int(v[0]), int(v[1])) for k, v in classes_spec.items()))
    lo_total = 5
    for cname, lo, hi in sorted(classes, key=lambda c: c[1]):
        if lo != lo_total or hi < lo:
            raise BandError(f"{where}: variant {name!r} class {cname} does not follow on")
        lo_total = hi + 1
    if lo_total != 16:
        raise BandError(f"{where}: variant {name!r} classes must cover totals 5 to 15")
    return ChildPughTable(
        name=name,
        description=str(spec.get("description", "")).strip(),
        reference=str(spec.get("reference", "")),
        labs=MappingProxyType(labs),
        categories=MappingProxyType(categories),
        classes=classes,
    )


def load_child_pugh_tables(path: str | Path | None = None) -> dict[str, ChildPughTable]:
    """Load and check the variants in a YAML file (default: the packaged data file)."""
    if path is None:
        text = resources.files("trialdesk.clinical").joinpath("data/child_pugh.yaml").read_text()
        where = "trialdesk/clinical/data/child_pugh.yaml"
    else:
        text = Path(path).read_text()
        where = str(path)
    data = yaml.safe_load(text)
    variants = data.get("variants") or {}
    tables = {name: _build(name, spec, variants, where) for name, spec in variants.items()}
    default = data.get("default")
    if default is not None:
        if default not in tables:
            raise BandError(f"{where}: default variant {default!r} is not defined")
        tables["default"] = tables[default]
    return tables


CHILD_PUGH_TABLES = load_child_pugh_tables()
DEFAULT = CHILD_PUGH_TABLES["default"]


def _category(item: str, value: str, table: ChildPughTable) -> tuple[str, int]:
    key = str(value).strip().lower().replace("_", "-").replace(" ", "-")
    key = _ALIASES[item].get(key, key)
    allowed = table.categories[item]
    if key not in allowed:
        raise ScoreInputError(f"{item} {value!r}: expected one of {', '.join(allowed)}")
    return key, allowed[key]


def child_pugh(
    bilirubin: Any,
    albumin: Any,
    inr: Any = None,
    ascites: str = "",
    encephalopathy: str = "",
    cholestatic: bool = False,
    table: ChildPughTable | str = DEFAULT,
    *,
    pt_prolongation: Any = None,
) -> ScoreResult:
    """Child-Turcotte-Pugh: points per item (1-3), total (5-15), class A (5-6), B (7-9), C (10-15).

    ``cholestatic=True`` uses the PBC/PSC bilirubin bands (<4 / 4-10 / >10 mg/dL). Give
    either ``inr`` or ``pt_prolongation`` (seconds over control). ``table`` is a variant
    name (see ``CHILD_PUGH_TABLES``) or a :class:`ChildPughTable`.

    Source: Pugh RNH et al., Br J Surg 1973;60:646-649.
    """
    if isinstance(table, str):
        if table not in CHILD_PUGH_TABLES:
            raise ScoreInputError(
                f"Child-Pugh table {table!r}: expected one of {', '.join(CHILD_PUGH_TABLES)}"
            )
        table = CHILD_PUGH_TABLES[table]
    if (inr is None) == (pt_prolongation is None):
        raise ScoreInputError("Child-Pugh needs exactly one of inr or pt_prolongation")
    bili_item = "bilirubin_cholestatic" if cholestatic else "bilirubin"
    coag_item, coag_value = (
        ("inr", inr) if inr is not None else ("pt_prolongation", pt_prolongation)
    )
    if bili_item not in table.labs or coag_item not in table.labs:
        raise ScoreInputError(f"Child-Pugh table {table.name!r} has no {bili_item}/{coag_item} row")
    points: dict[str, int] = {}
    inputs: dict[str, UsedInput] = {}
    reasons: list[str] = []
    warnings: list[str] = []
    for item, value, name in (
        (bili_item, bilirubin, "bilirubin"),
        ("albumin", albumin, "albumin"),
        (coag_item, coag_value, coag_item),
    ):
        unit = table.labs[item][0]
        entry = lab(value, _LAB_ITEMS[item], unit, name)
        p, band = table.points_for(item, entry.exact)
        if entry.quantity.comparator:  # certain only if the whole range scores the same
            ends = [
                table.points_for(item, q.to(unit).exact) for q in censored_range(entry.quantity)
            ]
            if len({e[0] for e in ends}) > 1:
                raise ScoreInputError(
                    f"{name} {entry.quantity} is censored and could score "
                    f"{ends[0][0]} or {ends[1][0]} points; Child-Pugh needs a measured value"
                )
            p, band = ends[0]
            reasons.append(f"{name} {entry.quantity} is censored: the whole range scores {p}")
        points[name] = p
        q = entry.quantity
        shown = q.value if q.unit == unit else dec(entry.exact).normalize()
        inputs[name] = UsedInput(name, q, shown, unit)
        reasons.append(f"{name}: {band.text} ({unit}) -> {p} point{'s' if p > 1 else ''}")
        warnings.extend(entry.quantity.warnings)
    for item, value in (("ascites", ascites), ("encephalopathy", encephalopathy)):
        key, p = _category(item, value, table)
        points[item] = p
        inputs[item] = UsedInput(item, value, key)
        reasons.append(f"{item}: {key} -> {p} point{'s' if p > 1 else ''}")
    inputs["cholestatic"] = UsedInput("cholestatic", cholestatic, bool(cholestatic))
    total = sum(points.values())
    klass = table.klass(total)
    reasons.append(f"total {total} -> class {klass}")
    return ScoreResult(
        name="Child-Pugh",
        value=total,
        version=f"Child-Turcotte-Pugh, table {table.name!r}"
        + (" (cholestatic bilirubin)" if cholestatic else ""),
        reference=table.reference,
        inputs=inputs,
        klass=klass,
        points=points,
        reasons=tuple(reasons),
        warnings=tuple(warnings),
    )


# --------------------------------------------------------------------------------------------
# Child-Pugh with unknown items: the range of totals every possible value allows
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChildPughRange:
    """The Child-Pugh totals that inputs with unknown items allow: ``low``..``high``.

    ``points`` gives each item's (lowest, highest) possible points; ``unknown`` names the
    items that were not known (or censored across bands). Every total from ``low`` to
    ``high`` is possible (each item's points are a run of whole numbers, so their sum is too).
    """

    low: int
    high: int
    points: Any = field(hash=False)  # item -> (lowest, highest)
    unknown: tuple[str, ...]
    table: ChildPughTable = field(hash=False)
    reasons: tuple[str, ...] = ()

    @property
    def totals(self) -> range:
        return range(self.low, self.high + 1)

    @property
    def classes(self) -> tuple[str, ...]:
        """The classes the possible totals fall in, from the best (A) to the worst."""
        out: list[str] = []
        for t in self.totals:
            k = self.table.klass(t)
            if k not in out:
                out.append(k)
        return tuple(out)


def _reaches(bound: Bound | None, v: Fraction, closed: bool, below: bool) -> bool:
    """Does a band with this lower (``below``: the interval lies below v) or upper bound
    meet the interval (-inf, v) / (-inf, v] (``below``) or (v, inf) / [v, inf)?"""
    if bound is None:
        return True
    k = bound.coefficient
    if below:  # the band's lower bound must lie under the interval's top end
        return k < v or (k == v and bound.inclusive and closed)
    return k > v or (k == v and bound.inclusive and closed)


def censored_points(table: ChildPughTable, item: str, x: Fraction, comparator: str) -> list[int]:
    """The points of every band of ``item`` that a censored value (``< x``, ``<= x``,
    ``> x``, ``>= x``, with ``x`` in the table's unit) may fall in."""
    closed = comparator in ("<=", ">=")
    below = comparator in ("<", "<=")
    return sorted(
        {
            p
            for p, band in table.labs[item][1]
            if _reaches(band.lower if below else band.upper, x, closed, below)
        }
    )


def child_pugh_range(
    bilirubin: Any = None,
    albumin: Any = None,
    inr: Any = None,
    ascites: str | None = None,
    encephalopathy: str | None = None,
    table: ChildPughTable | str = DEFAULT,
) -> ChildPughRange:
    """Child-Turcotte-Pugh when some items are unknown (None): each unknown item may score
    any of its points (1-3 in Pugh 1973), a censored lab any band its interval reaches, so
    the total is a range. With every item known, ``low == high ==`` :func:`child_pugh`'s total.

    Example (Pugh 1973 points): bilirubin 1.0 mg/dL (1), albumin 4.0 g/dL (1), INR 1.2 (1),
    encephalopathy none (1), ascites unknown (1-3): totals 5 to 7, class A or B.

    Source: Pugh RNH et al., Br J Surg 1973;60:646-649 (the points table, as data).
    """
    if isinstance(table, str):
        if table not in CHILD_PUGH_TABLES:
            raise ScoreInputError(
                f"Child-Pugh table {table!r}: expected one of {', '.join(CHILD_PUGH_TABLES)}"
            )
        table = CHILD_PUGH_TABLES[table]
    points: dict[str, tuple[int, int]] = {}
    unknown: list[str] = []
    reasons: list[str] = []
    for item, value in (("bilirubin", bilirubin), ("albumin", albumin), ("inr", inr)):
        unit, rows = table.labs[item]
        scale = sorted({p for p, _ in rows})
        if value is None:
            points[item] = (scale[0], scale[-1])
            unknown.append(item)
            reasons.append(f"{item}: not known -> {scale[0]} to {scale[-1]} points")
            continue
        entry = lab(value, _LAB_ITEMS[item], unit, item)
        if entry.quantity.comparator:
            possible = censored_points(table, item, entry.exact, entry.quantity.comparator)
        else:
            possible = [table.points_for(item, entry.exact)[0]]
        points[item] = (possible[0], possible[-1])
        if len(possible) > 1:
            unknown.append(item)
        reasons.append(f"{item} {entry.quantity}: {_span(possible[0], possible[-1])}")
    for item, value in (("ascites", ascites), ("encephalopathy", encephalopathy)):
        scale = sorted(set(table.categories[item].values()))
        if value is None:
            points[item] = (scale[0], scale[-1])
            unknown.append(item)
            reasons.append(f"{item}: not known -> {scale[0]} to {scale[-1]} points")
            continue
        key, p = _category(item, value, table)
        points[item] = (p, p)
        reasons.append(f"{item}: {key} -> {_span(p, p)}")
    low = sum(lo for lo, _ in points.values())
    high = sum(hi for _, hi in points.values())
    reasons.append(f"total {low}" if low == high else f"total {low} to {high}")
    return ChildPughRange(
        low, high, MappingProxyType(points), tuple(unknown), table, tuple(reasons)
    )


def _span(lo: int, hi: int) -> str:
    if lo == hi:
        return f"{lo} point{'s' if lo > 1 else ''}"
    return f"{lo} to {hi} points"
