"""Build a :class:`~trialdesk.protocol.conduct.ConductPlan` from the ``conduct`` mapping.

Called by :func:`trialdesk.protocol.load_protocol` after schema validation; checks what the
schema cannot (see :mod:`trialdesk.protocol.conduct`) and raises
:class:`~trialdesk.protocol.loader.ProtocolError` naming the file and the field path.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from trialdesk.protocol.conduct import (
    ASSESSMENTS,
    DEFAULT_DOSE_TOLERANCE,
    DEFAULT_SRC_QUORUM,
    ConductPlan,
    DltCriterion,
    DoseLevel,
    EscalationPlan,
    VisitDefinition,
)

__all__ = ["parse_conduct"]


def parse_conduct(data: dict[str, Any], where: str) -> ConductPlan:
    """Build a :class:`ConductPlan` from a schema-valid ``conduct`` mapping, checking it."""
    from trialdesk.protocol.loader import ProtocolError

    def fail(path: str, message: str) -> ProtocolError:
        return ProtocolError(f"{where}: conduct.{path}: {message}")

    levels = _dose_levels(data["dose_levels"], fail)
    escalation = None
    if data.get("escalation") is not None:
        escalation = _escalation(data["escalation"], levels, fail)
    max_enrolment = int(data["max_enrolment"])
    if escalation is not None and max_enrolment < escalation.cohort_min:
        raise fail(
            "max_enrolment",
            f"{max_enrolment} is smaller than one cohort (cohort_min {escalation.cohort_min})",
        )
    if escalation is None and len(levels) != 1:
        raise fail(
            "dose_levels",
            f"a single-arm trial (no escalation) has one dose level, not {len(levels)}",
        )
    visits = _visits(data["visits"], fail)
    panel = _lab_panel(data["lab_panel"], fail)
    volume = data.get("volume_ml")
    return ConductPlan(
        max_enrolment=max_enrolment,
        dose_levels=levels,
        escalation=escalation,
        visits=visits,
        lab_panel=panel,
        route=data["route"],
        volume_ml=None if volume is None else Decimal(str(volume)),
        ctcae_version=data["ctcae_version"],
        notes=data.get("notes"),
        dose_tolerance=Decimal(str(data.get("dose_tolerance", DEFAULT_DOSE_TOLERANCE))),
    )


def _dose_levels(items: list[dict[str, Any]], fail: Any) -> tuple[DoseLevel, ...]:
    out: list[DoseLevel] = []
    seen: set[str] = set()
    for i, item in enumerate(items):
        path = f"dose_levels[{i}]"
        if item["id"] in seen:
            raise fail(f"{path}.id", f"duplicate dose level id {item['id']!r}")
        seen.add(item["id"])
        has_cells, has_per_kg = "cells" in item, "cells_per_kg" in item
        if has_cells == has_per_kg:
            raise fail(
                path,
                f"dose level {item['id']} needs exactly one of cells (fixed total) and "
                f"cells_per_kg ({'both' if has_cells else 'neither'} given)",
            )
        out.append(
            DoseLevel(
                id=item["id"],
                order=i + 1,
                label=item["label"],
                cells=item.get("cells"),
                cells_per_kg=item.get("cells_per_kg"),
                notes=item.get("notes"),
            )
        )
    for i in range(1, len(out)):
        a, b = out[i - 1], out[i]
        if (a.cells is None) != (b.cells is None):
            raise fail(
                f"dose_levels[{i}]",
                f"{b.id} mixes a fixed dose and a per-kg dose with {a.id} (use one kind)",
            )
        if (b.cells or b.cells_per_kg or 0) <= (a.cells or a.cells_per_kg or 0):
            raise fail(
                f"dose_levels[{i}]",
                f"{b.id} is not above {a.id}: dose levels are listed lowest first, strictly increasing",
            )
    return tuple(out)


def _escalation(data: dict[str, Any], levels: tuple[DoseLevel, ...], fail: Any) -> EscalationPlan:
    ids = [lv.id for lv in levels]
    if data["start_level"] not in ids:
        raise fail(
            "escalation.start_level",
            f"{data['start_level']!r} is not a dose level (dose levels: {', '.join(ids)})",
        )
    if data["cohort_min"] > data["cohort_max"]:
        raise fail(
            "escalation.cohort_min",
            f"cohort_min {data['cohort_min']} is larger than cohort_max {data['cohort_max']}",
        )
    if len(levels) < 2:
        raise fail("dose_levels", "an escalation design needs at least two dose levels")
    from trialdesk.clinical.ctcae import GradingError, get_term

    criteria: list[DltCriterion] = []
    seen: set[str] = set()
    for i, item in enumerate(data["dlt_definition"]):
        path = f"escalation.dlt_definition[{i}]"
        if item["id"] in seen:
            raise fail(f"{path}.id", f"duplicate DLT criterion id {item['id']!r}")
        seen.add(item["id"])
        if "terms" in item and "exclude_terms" in item:
            raise fail(path, f"{item['id']} gives both terms and exclude_terms (give one)")
        names: dict[str, tuple[str, ...]] = {}
        for key in ("terms", "exclude_terms"):
            canonical = []
            for j, name in enumerate(item.get(key) or ()):
                try:
                    canonical.append(get_term(name).term)
                except GradingError as exc:
                    raise fail(f"{path}.{key}[{j}]", str(exc)) from None
            names[key] = tuple(canonical)
        criteria.append(
            DltCriterion(
                id=item["id"],
                text=" ".join(item["text"].split()),
                min_grade=item["min_grade"],
                relatedness=tuple(item["relatedness"]),
                terms=names["terms"],
                exclude_terms=names["exclude_terms"],
                within_window=item.get("within_window", True),
                serious=item.get("serious"),
            )
        )
    return EscalationPlan(
        design=data["design"],
        start_level=data["start_level"],
        cohort_min=data["cohort_min"],
        cohort_max=data["cohort_max"],
        dlt_window_days=data["dlt_window_days"],
        dlt_definition=tuple(criteria),
        allow_deescalation=data.get("allow_deescalation", True),
        source=data.get("source"),
        src_quorum=data.get("src_quorum", DEFAULT_SRC_QUORUM),
    )


def _visits(items: list[dict[str, Any]], fail: Any) -> tuple[VisitDefinition, ...]:
    out: list[VisitDefinition] = []
    codes: set[str] = set()
    for i, item in enumerate(items):
        path = f"visits[{i}]"
        code = item["code"]
        if code in codes:
            raise fail(f"{path}.code", f"duplicate visit code {code!r}")
        codes.add(code)
        day = item["day"]
        if day == 0:
            raise fail(
                f"{path}.day",
                f"{code}: there is no study day 0 (day 1 = infusion date, the day before is -1)",
            )
        for key in ("window_before", "window_after"):
            if item[key] < 0:
                raise fail(
                    f"{path}.{key}", f"{code}: a window is a number of days >= 0, not {item[key]}"
                )
        unknown = [a for a in item["assessments"] if a not in ASSESSMENTS]
        if unknown:
            raise fail(
                f"{path}.assessments",
                f"{code}: unknown assessment {unknown[0]!r} (known: {', '.join(ASSESSMENTS)})",
            )
        if len(set(item["assessments"])) != len(item["assessments"]):
            raise fail(f"{path}.assessments", f"{code}: an assessment is listed twice")
        visit = VisitDefinition(
            code=code,
            label=item["label"],
            day=day,
            window_before=item["window_before"],
            window_after=item["window_after"],
            assessments=tuple(item["assessments"]),
            is_infusion=item.get("is_infusion", False),
            notes=item.get("notes"),
        )
        if visit.is_infusion:
            if day != 1:
                raise fail(f"{path}.day", f"{code}: the infusion visit is study day 1, not {day}")
            if visit.window_before or visit.window_after:
                raise fail(
                    f"{path}.window_before",
                    f"{code}: the infusion day defines day 1, so its window is 0 days either side",
                )
            if "infusion" not in visit.assessments:
                raise fail(
                    f"{path}.assessments", f"{code}: the infusion visit must list 'infusion'"
                )
        elif day < 0 and visit.last_day >= 0:
            raise fail(
                f"{path}.window_after",
                f"{code}: the window of a pre-infusion visit must end by day -1 (ends on day {visit.last_day})",
            )
        elif day > 1 and visit.first_day <= 1:
            raise fail(
                f"{path}.window_before",
                f"{code}: the window of a follow-up visit must start after day 1 (starts on day {visit.first_day})",
            )
        elif day == 1:
            raise fail(
                f"{path}.day", f"{code}: only the infusion visit (is_infusion: true) is on day 1"
            )
        if out:
            prev = out[-1]
            if day <= prev.day:
                raise fail(
                    f"{path}.day",
                    f"{code}: day {day} is not after {prev.code} (day {prev.day}): days must strictly increase",
                )
            if visit.first_day <= prev.last_day:
                raise fail(
                    f"{path}.window_before",
                    f"{code}: window starts on day {visit.first_day}, inside {prev.code}'s window (ends day {prev.last_day})",
                )
        out.append(visit)
    infusions = [v.code for v in out if v.is_infusion]
    if len(infusions) != 1:
        raise fail(
            "visits",
            f"exactly one visit must be the infusion (is_infusion: true); found {len(infusions)}",
        )
    return tuple(out)


def _lab_panel(items: list[str], fail: Any) -> tuple[str, ...]:
    from trialdesk.clinical.units import UnitError, get_analyte

    out: list[str] = []
    for i, name in enumerate(items):
        try:
            canonical = get_analyte(name).name
        except UnitError as exc:
            raise fail(f"lab_panel[{i}]", str(exc)) from None
        if canonical in out:
            raise fail(f"lab_panel[{i}]", f"{canonical} is listed twice")
        out.append(canonical)
    return tuple(out)
