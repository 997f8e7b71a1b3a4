"""Build a :class:`~trialdesk.protocol.cellproduct.CellProductPlan` from ``cell_product``.

Called by :func:`trialdesk.protocol.load_protocol` after schema validation. Checks what the
schema cannot and raises :class:`~trialdesk.protocol.loader.ProtocolError` naming the file
and field path: time-limit ids unique, events known and in order, hours positive; release
test names unique, limits that parse as quantities (:func:`parse_spec_quantity`), a
per-kilogram item that points at a per-millilitre item with a matching unit; the volume
equal to ``conduct.volume_ml`` when both are given; the 21 CFR 312.6(a) caution among the
warnings, and "FOR AUTOLOGOUS USE ONLY" (21 CFR 1271.90(c)(1)) for an autologous product.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from trialdesk.clinical import units
from trialdesk.protocol.cellproduct import (
    AUTOLOGOUS_WARNING,
    EVENTS,
    INVESTIGATIONAL_CAUTION,
    CellProductPlan,
    ReleaseSpec,
    SpecItem,
    TimeLimit,
    parse_spec_quantity,
)

if TYPE_CHECKING:  # pragma: no cover - typing only
    from trialdesk.protocol.conduct import ConductPlan

__all__ = ["parse_cell_product"]

_EVENT_ORDER = {name: i for i, name in enumerate(EVENTS)}


def parse_cell_product(
    data: dict[str, Any], where: str, conduct: ConductPlan | None = None
) -> CellProductPlan:
    """Build a :class:`CellProductPlan` from a schema-valid ``cell_product`` mapping."""
    from trialdesk.protocol.loader import ProtocolError

    def fail(path: str, message: str) -> ProtocolError:
        return ProtocolError(f"{where}: cell_product.{path}: {message}")

    code = data["product_code"]
    use = data["use"]
    warnings = tuple(data["warnings"])
    if not any(_same(w, INVESTIGATIONAL_CAUTION) for w in warnings):
        raise fail(
            "warnings",
            f"an investigational product's label carries {INVESTIGATIONAL_CAUTION!r} "
            "(21 CFR 312.6(a))",
        )
    if use == "autologous" and not any(_same(w, AUTOLOGOUS_WARNING) for w in warnings):
        raise fail(
            "warnings",
            f"an autologous product carries {AUTOLOGOUS_WARNING!r} (21 CFR 1271.90(c)(1))",
        )
    if use == "allogeneic" and any(_same(w, AUTOLOGOUS_WARNING) for w in warnings):
        raise fail("warnings", f"an allogeneic product cannot carry {AUTOLOGOUS_WARNING!r}")
    volume = data["volume"]
    volume_ml = Decimal(str(volume["ml"]))
    if conduct is not None and conduct.volume_ml is not None and conduct.volume_ml != volume_ml:
        raise fail(
            "volume.ml",
            f"{volume_ml} ml differs from conduct.volume_ml {conduct.volume_ml} ml (one volume "
            "per trial)",
        )
    return CellProductPlan(
        product_code=code["code"],
        product_code_assigned_by=code["assigned_by"],
        product_code_note=code.get("note"),
        description=data["description"],
        use=use,
        storage_temperature=data["storage_temperature"],
        releasing_establishment=data["releasing_establishment"],
        warnings=warnings,
        time_limits=_time_limits(data["time_limits"], fail),
        release=_release(data["release"], fail),
        volume_ml=volume_ml,
        diluent=volume["diluent"],
        volume_source=volume.get("source"),
        dose_levels=conduct.dose_levels if conduct is not None else (),
    )


def _same(a: str, b: str) -> bool:
    return " ".join(a.split()).casefold() == " ".join(b.split()).casefold()


def _time_limits(items: list[dict[str, Any]], fail: Any) -> tuple[TimeLimit, ...]:
    out: list[TimeLimit] = []
    seen: set[str] = set()
    for i, item in enumerate(items):
        path = f"time_limits[{i}]"
        if item["id"] in seen:
            raise fail(f"{path}.id", f"duplicate time limit id {item['id']!r}")
        seen.add(item["id"])
        for key in ("from", "to"):
            if item[key] not in EVENTS:
                raise fail(
                    f"{path}.{key}",
                    f"unknown event {item[key]!r} (events: {', '.join(EVENTS)})",
                )
        if _EVENT_ORDER[item["from"]] >= _EVENT_ORDER[item["to"]]:
            raise fail(path, f"{item['from']} does not come before {item['to']}")
        hours = Decimal(str(item["hours"]))
        if hours <= 0:
            raise fail(f"{path}.hours", f"must be positive, got {hours}")
        out.append(
            TimeLimit(
                id=item["id"],
                start=item["from"],
                end=item["to"],
                hours=hours,
                on_breach=item["on_breach"],
                source=item.get("source"),
            )
        )
    return tuple(out)


def _release(data: dict[str, Any], fail: Any) -> ReleaseSpec:
    items: list[SpecItem] = []
    names: set[str] = set()
    for i, item in enumerate(data["tests"]):
        path = f"release.tests[{i}]"
        name = item["name"]
        tests = tuple(item.get("any_of") or (name,))
        clash = ({name, *tests} & names) - {None}
        if clash:
            raise fail(f"{path}.name", f"test {sorted(clash)[0]!r} is specified twice")
        names.update({name, *tests})
        if "accept" in item:
            items.append(
                SpecItem(
                    name=name,
                    kind="result",
                    tests=tests,
                    accept=tuple(a.strip().casefold() for a in item["accept"]),
                    group=item.get("group"),
                    source=item.get("source"),
                )
            )
            continue
        try:
            limit = parse_spec_quantity(item["limit"])
        except ValueError as exc:
            raise fail(f"{path}.limit", str(exc)) from None
        if limit.comparator is None:
            raise fail(
                f"{path}.limit",
                f"{item['limit']!r} needs a comparator (>=, <=, >, <), e.g. '>= 95 %'",
            )
        comparator, bare = limit.comparator, units.quantity(limit.exact, limit.unit)
        items.append(
            SpecItem(
                name=name,
                kind="dose_per_kg" if "per_kg_of" in item else "quantity",
                tests=tests,
                comparator=comparator,
                limit=bare,
                per_kg_of=item.get("per_kg_of"),
                group=item.get("group"),
                source=item.get("source"),
            )
        )
    by_name = {it.name: it for it in items}
    for i, it in enumerate(items):
        if it.kind != "dose_per_kg":
            continue
        path = f"release.tests[{i}].per_kg_of"
        base = by_name.get(it.per_kg_of or "")
        if base is None or base.kind != "quantity":
            raise fail(path, f"{it.per_kg_of!r} is not a measured item of this specification")
        assert base.limit is not None and it.limit is not None
        if not it.limit.unit.endswith("/kg"):
            raise fail(
                f"release.tests[{i}].limit", f"a per-kg dose limit is per kg, not {it.limit.unit}"
            )
        try:
            per_ml = units.convert(units.quantity(1, base.limit.unit), _per(it.limit.unit, "mL"))
        except (ValueError, AssertionError):
            per_ml = None
        if per_ml is None:
            raise fail(
                path,
                f"{base.name} is in {base.limit.unit}; a per-kg dose limit in "
                f"{it.limit.unit} needs it per mL in the same amount unit",
            )
    return ReleaseSpec(items=tuple(items), source=data.get("source"))


def _per(unit: str, denominator: str) -> str:
    """``{EU}/kg`` -> ``{EU}/mL``: the same amount per another denominator."""
    if "/" not in unit:
        raise ValueError(f"{unit!r} is not a per-unit quantity")
    return unit.rsplit("/", 1)[0] + "/" + denominator
