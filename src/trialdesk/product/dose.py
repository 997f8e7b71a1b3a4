"""A dose unit from a released lot: how many cells, in what volume, drawn from how much lot.

The number of cells is the protocol's: :meth:`trialdesk.protocol.conduct.DoseLevel.total_cells`
(the fixed dose of NCT05227846, 5-20 x10^7 cells, or cells/kg x body weight), the one home of
the dose arithmetic. This module adds the volumes:

- lot volume to draw (mL) = cells / the lot's viable-cell concentration (cells/mL);
- the unit's volume is the protocol's (``cell_product.volume``, e.g. 15 ml saline for
  NCT05331872): the drawn suspension made up with diluent to that volume;
- concentration of the unit = cells / volume.

It refuses, with the reason, a dose the lot cannot supply: more lot suspension than the unit's
whole volume (the lot is too dilute for this dose in this volume), or more than the lot has
left (``lot_available_ml``).

>>> from decimal import Decimal
>>> from trialdesk.protocol.conduct import DoseLevel
>>> dl = DoseLevel("DL1", 1, "1 x10^6 cells/kg", None, 1_000_000)
>>> plan = plan_dose("10 10*6/mL", dl, Decimal(60), Decimal(15))
>>> plan.cells, plan.lot_volume_ml, plan.diluent_ml, plan.concentration
(60000000, Decimal('6'), Decimal('9'), Decimal('4000000'))
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from typing import Any

from trialdesk.clinical import units
from trialdesk.protocol.conduct import DoseLevel

__all__ = ["DoseError", "DosePlan", "plan_dose"]

#: Volumes are measured to 0.01 mL; the drawn volume is rounded UP (never under-dose).
_ML_STEP = Decimal("0.01")


class DoseError(ValueError):
    """A dose that cannot be prepared; the message says which input and why."""


@dataclass(frozen=True)
class DosePlan:
    """One dose unit: ``cells`` viable cells in ``volume_ml``, ``concentration`` cells/mL.

    ``lot_volume_ml`` of lot suspension (rounded up to 0.01 mL) made up with ``diluent_ml``.
    """

    cells: int
    volume_ml: Decimal
    concentration: Decimal  # viable cells per mL of the unit
    lot_volume_ml: Decimal
    diluent_ml: Decimal
    dose_level: str
    weight_kg: Decimal | None

    @property
    def text(self) -> str:
        return f"{self.cells:,} viable cells in {self.volume_ml:f} mL ({self.dose_level})"


def _decimal(value: Any, what: str) -> Decimal:
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise DoseError(f"dose: {what} {value!r} is not a number") from None
    if not number.is_finite() or number <= 0:
        raise DoseError(f"dose: {what} must be positive, got {value!r}")
    return number


def _per_ml(concentration: Any) -> Fraction:
    if isinstance(concentration, units.Quantity):
        q = concentration
    elif isinstance(concentration, str):
        try:
            q = units.parse_quantity(concentration)
        except ValueError as exc:
            raise DoseError(f"dose: lot concentration {concentration!r}: {exc}") from None
    else:
        raise DoseError(
            f"dose: lot concentration needs its unit, e.g. '2.5 10*6/mL', not {concentration!r}"
        )
    try:
        per_ml = units.convert(q, "/mL").exact
    except ValueError as exc:
        raise DoseError(f"dose: lot concentration {q}: {exc}") from None
    if per_ml <= 0:
        raise DoseError(f"dose: lot concentration {q} must be positive")
    return per_ml


def _plain(d: Decimal) -> Decimal:
    """``6.00`` -> ``6``, ``100`` stays ``100`` (never ``1E+2``)."""
    return d.quantize(Decimal(1)) if d == d.to_integral_value() else d.normalize()


def _round_up(value: Fraction, step: Decimal) -> Decimal:
    steps = -(-value // Fraction(step))  # ceiling
    return _plain(Decimal(steps) * step)


def plan_dose(
    lot_viable_cells_per_ml: Any,
    dose_level: DoseLevel,
    weight_kg: Decimal | int | str | None,
    volume_ml: Decimal | int | str,
    *,
    lot_available_ml: Decimal | int | str | None = None,
) -> DosePlan:
    """Plan one dose unit of ``dose_level`` for a participant weighing ``weight_kg``.

    ``lot_viable_cells_per_ml`` is a quantity (``"2.5 10*6/mL"``, ``"2500000 /mL"`` or a
    :class:`~trialdesk.clinical.units.Quantity`); ``volume_ml`` the unit's volume (the
    protocol's ``cell_product.volume.ml``).
    """
    if not isinstance(dose_level, DoseLevel):
        raise DoseError(f"dose: expected a protocol DoseLevel, got {dose_level!r}")
    per_ml = _per_ml(lot_viable_cells_per_ml)
    volume = _decimal(volume_ml, "volume_ml")
    weight = None if weight_kg is None else _decimal(weight_kg, "weight_kg")
    cells = dose_level.total_cells(weight)
    if cells is None:
        raise DoseError(
            f"dose: {dose_level.id} ({dose_level.label}) is per kg: the participant's body "
            "weight is needed"
        )
    draw = _round_up(Fraction(cells) / per_ml, _ML_STEP)
    conc_text = f"{Decimal(per_ml.numerator) / per_ml.denominator:.4g} cells/mL"
    if draw > volume:
        raise DoseError(
            f"dose: the lot ({conc_text}) cannot supply {cells:,} cells in {volume:f} mL: "
            f"it would take {draw:f} mL of lot suspension"
        )
    if lot_available_ml is not None:
        available = _decimal(lot_available_ml, "lot_available_ml")
        if draw > available:
            raise DoseError(
                f"dose: the lot has {available:f} mL left; {cells:,} cells need {draw:f} mL"
            )
    return DosePlan(
        cells=cells,
        volume_ml=volume,
        concentration=_plain(Decimal(cells) / volume),
        lot_volume_ml=draw,
        diluent_ml=_plain(volume - draw),
        dose_level=dose_level.id,
        weight_kg=weight,
    )
