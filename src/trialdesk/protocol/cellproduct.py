"""The ``cell_product`` section of ``protocol.yaml``: product code, label facts, time limits,
release specification and volume, as frozen classes.

:func:`trialdesk.protocol.cellproduct_loader.parse_cell_product` builds them from the
schema-validated mapping and checks what a schema cannot (limits that parse as quantities,
known events, units that fit, the 21 CFR 1271.370 warnings); each error is a
:class:`~trialdesk.protocol.loader.ProtocolError` naming the field, e.g.
``cell_product.release.tests[4].limit``.

Sources:

- Product code: ISBT 128 (ICCBBA ST-001, Data Structure 003) puts a five-character product
  description code in the product code. ICCBBA assigns those codes; trialdesk invents none.
  ``product_code.assigned_by`` says whose the configured code is (``trial`` for a trial-local
  code, ``iccbba`` for one ICCBBA assigned).
- Label content: 21 CFR 1271.370(b) (distinct identification code, description of the
  HCT/P, expiration date, warnings) and (c) (name and address of the establishment that
  determines the HCT/P meets release criteria, storage temperature, other warnings).
  Investigational products carry the caution statement of 21 CFR 312.6(a); an autologous
  product carries "FOR AUTOLOGOUS USE ONLY" (21 CFR 1271.90(c)(1)).
- Endotoxin units: UCUM has no endotoxin unit (``[EU]`` is the Ehrlich unit), so endotoxin
  is written with the annotation ``{EU}`` (``EU/mL`` is read as ``{EU}/mL``); the arithmetic
  is :mod:`trialdesk.clinical.units`'.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

from trialdesk.clinical import units

if TYPE_CHECKING:  # pragma: no cover - typing only
    from trialdesk.protocol.conduct import DoseLevel

__all__ = [
    "BREACH_ACTIONS",
    "EVENTS",
    "INVESTIGATIONAL_CAUTION",
    "AUTOLOGOUS_WARNING",
    "CellProductPlan",
    "ReleaseSpec",
    "SpecItem",
    "TimeLimit",
    "display_unit",
    "parse_spec_quantity",
]

#: The steps a time limit may run between, in the order they happen.
EVENTS: dict[str, str] = {
    "delivery": "delivery of the baby (cord collection)",
    "receipt": "receipt of the cord at the laboratory",
    "processing_start": "start of processing",
    "harvest": "harvest of the expanded cells",
    "cryopreservation": "cryopreservation",
    "thaw": "thaw",
    "preparation": "preparation of the dose unit",
    "infusion_start": "start of the infusion",
}
BREACH_ACTIONS = ("block", "deviation")
#: 21 CFR 312.6(a): the label of an investigational new drug.
INVESTIGATIONAL_CAUTION = (
    "Caution: New Drug - Limited by Federal (or United States) law to investigational use."
)
#: 21 CFR 1271.90(c)(1).
AUTOLOGOUS_WARNING = "FOR AUTOLOGOUS USE ONLY"

_EU = re.compile(r"(?<![\w\[{])EU(?=/|$)")


def parse_spec_quantity(text: str) -> units.Quantity:
    """A limit or result such as ``">= 95 %"``, ``"0.2 EU/mL"`` or ``"3.1 10*6/mL"``.

    ``EU`` (endotoxin units) is read as the UCUM annotation ``{EU}``; everything else is
    :func:`trialdesk.clinical.units.parse_quantity`'s.

    >>> parse_spec_quantity("<= 0.5 EU/mL")
    Quantity(value=Decimal('0.5'), unit='{EU}/mL', analyte=None, comparator='<=', warnings=())
    """
    if not isinstance(text, str):
        raise units.UnitError(f"expected a quantity as text such as '0.5 EU/mL', got {text!r}")
    return units.parse_quantity(_EU.sub("{EU}", text.strip()))


def display_unit(unit: str) -> str:
    """The unit as people write it: ``{EU}/mL`` -> ``EU/mL`` (UCUM annotations unbraced).

    >>> display_unit("{EU}/kg"), display_unit("10*6/mL")
    ('EU/kg', '10*6/mL')
    """
    return re.sub(r"\{([^{}]*)\}", r"\1", unit)


@dataclass(frozen=True)
class TimeLimit:
    """At most ``hours`` from event ``start`` to event ``end``; a breach blocks the step or is
    recorded as a deviation (``on_breach``)."""

    id: str
    start: str
    end: str
    hours: Decimal
    on_breach: str
    source: str | None = None

    @property
    def duration(self) -> timedelta:
        return timedelta(microseconds=int(self.hours * 3_600_000_000))  # exact, no float

    @property
    def text(self) -> str:
        return (
            f"{EVENTS[self.start]} to {EVENTS[self.end]}: at most {self.hours:f} h "
            f"(breach: {self.on_breach})"
        )


@dataclass(frozen=True)
class SpecItem:
    """One line of the release specification.

    ``kind`` is ``quantity`` (a measured value against ``comparator limit``), ``result`` (a
    qualitative result that must be one of ``accept``) or ``dose_per_kg`` (the amount of
    ``per_kg_of`` the dose gives per kg of body weight: result per mL x volume / weight).
    ``tests`` are the names a laboratory result may carry for it (alternatives, as in the
    ISCT's "CD14 or CD11b").
    """

    name: str
    kind: str
    tests: tuple[str, ...]
    comparator: str | None = None
    limit: units.Quantity | None = None
    accept: tuple[str, ...] = ()
    per_kg_of: str | None = None
    group: str | None = None
    source: str | None = None

    @property
    def unit(self) -> str | None:
        """The unit results are shown in, as people write it (``EU/mL``; the UCUM code the
        arithmetic uses is ``limit.unit``)."""
        return display_unit(self.limit.unit) if self.limit is not None else None

    @property
    def limit_text(self) -> str:
        if self.kind == "result":
            return " or ".join(self.accept)
        assert self.limit is not None
        return f"{self.comparator} {self.limit.value:f} {display_unit(self.limit.unit)}"


@dataclass(frozen=True)
class ReleaseSpec:
    """The lot release specification: every item must pass for a lot to be released."""

    items: tuple[SpecItem, ...]
    source: str | None = None

    def item(self, name: str) -> SpecItem:
        for it in self.items:
            if it.name == name:
                return it
        known = ", ".join(it.name for it in self.items)
        raise KeyError(f"no release specification item {name!r} (items: {known})")

    @property
    def test_names(self) -> tuple[str, ...]:
        """Every result name the specification knows (measured tests, not computed ones)."""
        return tuple(t for it in self.items if it.kind != "dose_per_kg" for t in it.tests)


@dataclass(frozen=True)
class CellProductPlan:
    """The cell product of one trial (the ``cell_product`` section of protocol.yaml)."""

    product_code: str
    product_code_assigned_by: str  # trial | iccbba
    description: str
    use: str  # allogeneic | autologous
    storage_temperature: str
    releasing_establishment: str
    warnings: tuple[str, ...]
    time_limits: tuple[TimeLimit, ...]
    release: ReleaseSpec
    volume_ml: Decimal
    diluent: str
    dose_levels: tuple[DoseLevel, ...] = ()
    product_code_note: str | None = None
    volume_source: str | None = None

    def time_limit(self, id: str) -> TimeLimit:  # noqa: A002 - as ConductPlan.dose_level
        for limit in self.time_limits:
            if limit.id == id:
                return limit
        from trialdesk.protocol.loader import ProtocolError

        known = ", ".join(limit.id for limit in self.time_limits)
        raise ProtocolError(f"no time limit {id!r} (time limits: {known})")

    def limits_between(self, start: str, end: str) -> tuple[TimeLimit, ...]:
        return tuple(t for t in self.time_limits if t.start == start and t.end == end)

    @property
    def expiry_limit(self) -> TimeLimit:
        """The limit from preparation of a dose unit to its infusion: the unit's shelf life."""
        for limit in self.time_limits:
            if limit.start == "preparation" and limit.end == "infusion_start":
                return limit
        from trialdesk.protocol.loader import ProtocolError

        raise ProtocolError("cell_product.time_limits: no preparation -> infusion_start limit")
