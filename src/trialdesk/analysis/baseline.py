"""Baseline characteristics of the dosed participants, overall and per dose level as
treated (the columns of the safety tables): age, sex, country and site, and the liver
scores at the baseline visit. The demographic table of a DSMB report (ICH E3 section 11.2)
and the ClinicalTrials.gov results "Baseline Characteristics" module.

Age: at screening, whole years. Scores: at the protocol's baseline visit (the infusion
visit ``D1``, as the endpoints), summarised by :func:`trialdesk.analysis.stats.describe`
(mean, SD, t 95% CI, median, linear quartiles); a participant without the score there is
left out of that summary and listed in ``missing``. Categories carry their subject ids.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from trialdesk.analysis.dataset import Participant, TrialDataset
from trialdesk.analysis.endpoints import SCORES
from trialdesk.analysis.safety import Group, safety_groups
from trialdesk.analysis.stats import Summary, describe

__all__ = ["BaselineColumn", "Category", "Measure", "baseline_characteristics"]


@dataclass(frozen=True, slots=True)
class Category:
    value: str
    subject_ids: tuple[str, ...]
    at_risk: int

    @property
    def n(self) -> int:
        return len(self.subject_ids)

    @property
    def percent(self) -> float | None:
        return None if self.at_risk == 0 else 100.0 * self.n / self.at_risk


@dataclass(frozen=True, slots=True)
class Measure:
    name: str
    summary: Summary
    missing: tuple[str, ...]  # subjects without a value


@dataclass(frozen=True, slots=True)
class BaselineColumn:
    group: Group
    age: Measure
    sex: tuple[Category, ...]
    country: tuple[Category, ...]
    site: tuple[Category, ...]
    scores: tuple[Measure, ...]  # MELD, MELD-Na, MELD 3.0, Child-Pugh points
    child_pugh_class: tuple[Category, ...]  # A, B, C and "unknown" when any

    def score(self, name: str) -> Measure:
        """The summary of a score by its attribute (``"meld"``) or label (``"MELD"``)."""
        label = SCORES.get(name, name)
        for m in self.scores:
            if m.name == label:
                return m
        raise KeyError(f"no baseline score {name!r} ({', '.join(SCORES)})")


def _categories(
    people: list[Participant], value: Callable[[Participant], str], fixed: tuple[str, ...] = ()
) -> tuple[Category, ...]:
    found = sorted({value(p) for p in people} - set(fixed))
    return tuple(
        Category(v, tuple(p.subject_id for p in people if value(p) == v), len(people))
        for v in (*fixed, *found)
    )


def baseline_characteristics(
    ds: TrialDataset, *, baseline_code: str | None = None
) -> tuple[BaselineColumn, ...]:
    """One column per safety-table group ("All", then each dose level as treated)."""
    code = baseline_code or ds.baseline_code
    if code is None:
        raise ValueError(f"{ds.nct_id}: the schedule has no infusion visit; give baseline_code")
    ds.visit_plan(code)  # a KeyError naming the schedule's visits
    columns = []
    for g in safety_groups(ds):
        people = [ds.participant(s) for s in g.subject_ids]

        def at_baseline(p: Participant, attr: str):  # noqa: ANN202
            v = ds.visit(p.subject_id, code)
            return None if v is None else getattr(v.scores, attr)

        scores = []
        for attr, label in SCORES.items():
            known = [p for p in people if at_baseline(p, attr) is not None]
            scores.append(
                Measure(
                    label,
                    describe(at_baseline(p, attr) for p in known),
                    tuple(p.subject_id for p in people if at_baseline(p, attr) is None),
                )
            )
        columns.append(
            BaselineColumn(
                group=g,
                age=Measure("Age (years)", describe(p.age_at_screening for p in people), ()),
                sex=_categories(people, lambda p: p.sex, ("female", "male")),
                country=_categories(people, lambda p: p.country or "not recorded"),
                site=_categories(people, lambda p: p.site_code),
                scores=tuple(scores),
                child_pugh_class=_categories(
                    people, lambda p: at_baseline(p, "ctp_class") or "unknown", ("A", "B", "C")
                ),
            )
        )
    return tuple(columns)
