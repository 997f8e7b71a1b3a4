"""Adverse-event tables: participants with at least one AE, events and participants by CTCAE
term and worst grade, by attribution, per dose level; the SAE listing; DLTs per cohort;
deaths.

Conventions (docs/analysis.md, "Safety tables"):

- Population at risk (the safety population): every participant with at least one dose,
  grouped by the dose level of the first dose (as treated). Columns: "All", then (escalation
  designs only) each dose level given, in escalation order.
- Counted events are treatment-emergent: onset on or after the first infusion's date
  (``treatment_emergent=False`` counts every event of a dosed participant). The SAE listing
  and the deaths list every event, dosed or not, with its study day.
- A participant is counted once per row ("participants with ..."), every event in
  ``events``; ``percent`` = 100 * participants / at risk. Each cell carries the subject ids.
- Worst grade: the highest CTCAE v5.0 grade (NCI CTCAE v5.0, 2017) of the participant's
  events in the row; events without a grade count as "grade not recorded" only when the
  participant has no graded event of the row.
- Related: attribution "related" or "possibly" (at least possibly related, as the seed
  protocols' DLT definitions read it).
- Deaths: an adverse event with a fatal outcome or grade 5, or a participant whose end
  status is "died" (conduct records a death only as a fatal adverse event).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date

from trialdesk.analysis.dataset import AdverseEvent, TrialDataset

__all__ = [
    "ATTRIBUTIONS",
    "RELATED",
    "Count",
    "DeathRow",
    "DltRow",
    "Group",
    "SaeRow",
    "SafetyRow",
    "SafetyTable",
    "ae_overview",
    "by_relatedness",
    "by_term",
    "deaths",
    "dlt_table",
    "safety_groups",
    "sae_listing",
]

ATTRIBUTIONS = ("related", "possibly", "unlikely", "unrelated", "unknown")
RELATED = ("related", "possibly")
GRADES = (1, 2, 3, 4, 5)


@dataclass(frozen=True, slots=True)
class Count:
    """Participants (``n`` of ``at_risk``, with their ids) and the number of events. In a
    worst-grade row, ``n`` counts the participants whose worst grade it is and ``events``
    every event of that grade."""

    n: int
    at_risk: int
    events: int
    subject_ids: tuple[str, ...]

    @property
    def percent(self) -> float | None:
        return None if self.at_risk == 0 else 100.0 * self.n / self.at_risk


@dataclass(frozen=True, slots=True)
class Group:
    id: str  # "All" or a dose level id
    label: str
    subject_ids: tuple[str, ...]  # at risk

    @property
    def at_risk(self) -> int:
        return len(self.subject_ids)


@dataclass(frozen=True, slots=True)
class SafetyRow:
    label: str
    cells: tuple[Count, ...]  # one per group, in the table's group order
    detail: tuple[SafetyRow, ...] = ()  # e.g. a term's worst-grade rows


@dataclass(frozen=True, slots=True)
class SafetyTable:
    title: str
    groups: tuple[Group, ...]
    rows: tuple[SafetyRow, ...]

    def row(self, label: str) -> SafetyRow:
        for r in self.rows:
            if r.label == label:
                return r
        raise KeyError(f"{self.title}: no row {label!r}")

    def cell(self, label: str, group: str = "All") -> Count:
        ids = [g.id for g in self.groups]
        if group not in ids:
            raise KeyError(f"{self.title}: no group {group!r} ({', '.join(ids)})")
        return self.row(label).cells[ids.index(group)]


def safety_groups(ds: TrialDataset) -> tuple[Group, ...]:
    """The column "All", then (escalation designs) each dose level with a dosed participant,
    as treated (the first dose's level). A single-arm trial has the one column."""
    level = {d.subject_id: d.dose_level for d in reversed(ds.doses)}  # first dose wins
    dosed = tuple(sorted(level))
    groups = [Group("All", "All participants", dosed)]
    for d in ds.dose_levels if ds.design == "escalation" else ():
        ids = tuple(s for s in dosed if level[s] == d.id)
        if ids:
            groups.append(Group(d.id, d.label, ids))
    return tuple(groups)


def _events(ds: TrialDataset, treatment_emergent: bool) -> tuple[AdverseEvent, ...]:
    first = {p.subject_id: ds.first_dose_date(p.subject_id) for p in ds.dosed()}
    return tuple(
        a
        for a in ds.adverse_events
        if a.subject_id in first and (not treatment_emergent or a.onset_date >= first[a.subject_id])
    )


def _cells(groups: tuple[Group, ...], events: Iterable[AdverseEvent], who=None) -> tuple:  # noqa: ANN001
    """One Count per group: participants with an event (or ``who``: the subjects to count,
    events still from ``events``)."""
    events = tuple(events)
    subjects = {a.subject_id for a in events} if who is None else set(who)
    out = []
    for g in groups:
        members = set(g.subject_ids)
        ids = tuple(sorted(subjects & members))
        n_events = sum(1 for a in events if a.subject_id in members)
        out.append(Count(len(ids), g.at_risk, n_events, ids))
    return tuple(out)


def _worst(events: Iterable[AdverseEvent]) -> dict[str, int | None]:
    worst: dict[str, int | None] = {}
    for a in events:
        now = worst.get(a.subject_id)
        if a.subject_id not in worst or (a.grade is not None and (now is None or a.grade > now)):
            worst[a.subject_id] = a.grade
    return worst


def _grade_rows(groups, events: tuple[AdverseEvent, ...]) -> tuple[SafetyRow, ...]:  # noqa: ANN001
    """Participants at their worst grade; events of that grade."""
    worst = _worst(events)
    rows = []
    for g in (*GRADES, None):
        at = [s for s, w in worst.items() if w == g]
        graded = [a for a in events if a.grade == g]
        if g is None and not graded:
            continue
        label = f"Grade {g}" if g is not None else "Grade not recorded"
        rows.append(SafetyRow(label, _cells(groups, graded, who=at)))
    return tuple(rows)


def ae_overview(ds: TrialDataset, *, treatment_emergent: bool = True) -> SafetyTable:
    """Participants with at least one AE, SAE, related AE, grade >= 3 AE, DLT, AE leading to
    withdrawal, death; then participants by worst grade of any AE."""
    groups = safety_groups(ds)
    ev = _events(ds, treatment_emergent)
    death_ids = {d.subject_id for d in deaths(ds)} & set(groups[0].subject_ids)
    rules: tuple[tuple[str, Callable[[AdverseEvent], bool]], ...] = (
        ("Any adverse event", lambda a: True),
        ("Any serious adverse event", lambda a: a.serious),
        ("Any related adverse event", lambda a: a.related in RELATED),
        ("Any adverse event of grade 3 or higher", lambda a: (a.grade or 0) >= 3),
        ("Any dose-limiting toxicity", lambda a: a.dlt is True),
        ("Any adverse event leading to withdrawal", lambda a: a.action_taken == "withdrawn"),
        ("Any fatal adverse event", lambda a: a.fatal),
    )
    rows = [SafetyRow(label, _cells(groups, [a for a in ev if rule(a)])) for label, rule in rules]
    rows.append(
        SafetyRow("Deaths (all causes)", _cells(groups, [a for a in ev if a.fatal], death_ids))
    )
    rows += [
        SafetyRow(f"Worst {r.label[0].lower()}{r.label[1:]}", r.cells)
        for r in _grade_rows(groups, ev)
    ]
    return SafetyTable("Overview of adverse events", groups, tuple(rows))


def by_term(
    ds: TrialDataset,
    *,
    treatment_emergent: bool = True,
    serious: bool | None = None,
    min_percent: float = 0.0,
) -> SafetyTable:
    """One row per CTCAE term (most participants first, then alphabetical), each with its
    worst-grade rows in ``detail``. ``serious``: True = serious events only, False =
    non-serious only (the ClinicalTrials.gov "Other (not including serious) adverse
    events"), None = all. ``min_percent``: keep a term only when, in some column, at least
    that percent of the participants at risk had it (ClinicalTrials.gov's frequency
    threshold, e.g. 5)."""
    if not 0.0 <= min_percent <= 100.0:
        raise ValueError(f"min_percent {min_percent!r}: expected 0 to 100")
    groups = safety_groups(ds)
    ev = tuple(
        a for a in _events(ds, treatment_emergent) if serious is None or a.serious is serious
    )
    rows = []
    for term in sorted({a.term for a in ev}):
        mine = tuple(a for a in ev if a.term == term)
        row = SafetyRow(term, _cells(groups, mine), _grade_rows(groups, mine))
        if min_percent == 0.0 or any((c.percent or 0.0) >= min_percent for c in row.cells):
            rows.append(row)
    rows.sort(key=lambda r: (-r.cells[0].n, r.label))
    kind = {
        None: "Adverse events",
        True: "Serious adverse events",
        False: "Non-serious adverse events",
    }
    title = f"{kind[serious]} by CTCAE term and worst grade"
    if min_percent:
        title += f" (terms in at least {min_percent:g}% of a column)"
    return SafetyTable(title, groups, tuple(rows))


def by_relatedness(ds: TrialDataset, *, treatment_emergent: bool = True) -> SafetyTable:
    """Participants and events by the investigator's attribution to the cell product (a
    participant appears in each attribution they have an event of)."""
    groups = safety_groups(ds)
    ev = _events(ds, treatment_emergent)
    rows = [
        SafetyRow(
            "Related or possibly related", _cells(groups, [a for a in ev if a.related in RELATED])
        )
    ]
    rows += [
        SafetyRow(
            attribution.capitalize(), _cells(groups, [a for a in ev if a.related == attribution])
        )
        for attribution in ATTRIBUTIONS
    ]
    return SafetyTable("Adverse events by attribution to the cell product", groups, tuple(rows))


def _study_day(ds: TrialDataset, subject_id: str, on: date) -> int | None:
    day1 = ds.first_dose_date(subject_id)
    if day1 is None:
        return None
    delta = (on - day1).days
    return delta + 1 if delta >= 0 else delta


@dataclass(frozen=True, slots=True)
class SaeRow:
    subject_id: str
    dose_level: str | None
    term: str
    grade: int | None
    onset_date: date
    study_day: int | None  # of the onset (day 1 = infusion)
    resolution_date: date | None
    seriousness: tuple[str, ...]
    related: str
    action_taken: str
    outcome: str
    dlt: bool | None


def sae_listing(ds: TrialDataset) -> tuple[SaeRow, ...]:
    """Every serious adverse event (ICH E2A), by subject and onset."""
    return tuple(
        SaeRow(
            a.subject_id,
            ds.treated_dose_level(a.subject_id),
            a.term,
            a.grade,
            a.onset_date,
            _study_day(ds, a.subject_id, a.onset_date),
            a.resolution_date,
            a.seriousness,
            a.related,
            a.action_taken,
            a.outcome,
            a.dlt,
        )  # fmt: skip
        for a in ds.adverse_events
        if a.serious
    )


@dataclass(frozen=True, slots=True)
class DltRow:
    """A cohort's DLT count: evaluable = DLT outcome settled ("dlt" or "no_dlt")."""

    cohort: int
    dose_level: str
    enrolled: tuple[str, ...]
    evaluable: tuple[str, ...]
    with_dlt: tuple[str, ...]
    pending: tuple[str, ...]
    dlt_events: tuple[tuple[str, str, int | None], ...]  # (subject, term, grade)

    @property
    def n_evaluable(self) -> int:
        return len(self.evaluable)

    @property
    def n_with_dlt(self) -> int:
        return len(self.with_dlt)


def dlt_table(ds: TrialDataset) -> tuple[DltRow, ...]:
    """Per cohort (cohort number order): enrolled, evaluable, with a DLT (the participant's
    recorded DLT outcome) and the adverse events judged DLTs."""
    rows = []
    for n in sorted({p.cohort for p in ds.enrolled() if p.cohort is not None}):
        members = [p for p in ds.enrolled() if p.cohort == n]
        ids = {p.subject_id for p in members}
        rows.append(
            DltRow(
                cohort=n,
                dose_level=members[0].dose_level or "",
                enrolled=tuple(p.subject_id for p in members),
                evaluable=tuple(
                    p.subject_id for p in members if p.dlt_outcome in ("dlt", "no_dlt")
                ),
                with_dlt=tuple(p.subject_id for p in members if p.dlt_outcome == "dlt"),
                pending=tuple(p.subject_id for p in members if p.dlt_outcome == "pending"),
                dlt_events=tuple(
                    (a.subject_id, a.term, a.grade)
                    for a in ds.adverse_events
                    if a.subject_id in ids and a.dlt is True
                ),
            )
        )
    return tuple(rows)


@dataclass(frozen=True, slots=True)
class DeathRow:
    subject_id: str
    dose_level: str | None
    date: date | None
    study_day: int | None
    cause: str | None  # the fatal adverse event's term
    related: str | None


def deaths(ds: TrialDataset) -> tuple[DeathRow, ...]:
    """Every death: a fatal adverse event (the first, if several) or an end status "died"."""
    out = []
    for p in ds.participants:
        fatal = [a for a in ds.adverse_events_of(p.subject_id) if a.fatal]
        if not fatal and p.end_status != "died":
            continue
        a = fatal[0] if fatal else None
        when = (a.resolution_date or a.onset_date) if a else p.end_date
        if p.end_status == "died" and p.end_date is not None:
            when = p.end_date
        out.append(
            DeathRow(
                p.subject_id,
                ds.treated_dose_level(p.subject_id),
                when,
                _study_day(ds, p.subject_id, when) if when else None,
                a.term if a else None,
                a.related if a else None,
            )
        )
    return tuple(out)
