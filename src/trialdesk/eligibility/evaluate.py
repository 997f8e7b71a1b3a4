"""Evaluate a checked rule for one patient, in three-valued (Kleene) logic, with reasons.

Every node gives ``True`` (met), ``False`` (not met) or ``None`` (unknown). ``and`` is False
if any part is False, True if all are True, else unknown; ``or`` is True if any part is True,
False if all are False, else unknown; ``not`` swaps True and False and keeps unknown.

Semantics of each node (also in docs/eligibility.md):

- lab comparisons use the most recent result dated on or before the screening date and no
  more than the protocol's ``lab_window_days`` before it; older results count as missing. A
  result with a comparator (``< 20 IU/mL``) is an interval: the comparison is decided only if
  every value in the interval gives the same answer. Values compare exactly (fractions) in the
  analyte's canonical unit.
- ``x op k * ULN`` uses the ULN reported with the result, else the protocol's
  ``reference_ranges``.
- age is in completed years (or months) on the screening date.
- history tests: see :class:`trialdesk.protocol.rules.HistoryTest`; a concept that is not in
  the record is unknown unless the record says it is absent or declares its history complete.
- Child-Pugh: an unknown item spans its points, so the score is a range; a rule on it is
  decided only when every total in the range decides it (``_child_pugh_compare``).
- medications: ``duration`` is the number of days taken (each course counted from its start
  day to its end day, or to the screening date); ``since_start`` the days from the first start
  to the screening date; never taken = 0 days (when the record says so).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from fractions import Fraction
from typing import Any

from trialdesk.eligibility.patient import Episode, LabResult, Patient
from trialdesk.protocol import clinical_adapter, vocabulary
from trialdesk.protocol.loader import Protocol
from trialdesk.protocol.rules import (
    AgeCompare,
    And,
    HistoryTest,
    LabCompare,
    LabDetected,
    LabUlnCompare,
    MedicationDuration,
    MedicationFlag,
    Node,
    Not,
    Or,
    Period,
    ScoreCompare,
    SexIs,
    completed_months,
)

__all__ = ["Context", "Outcome", "compare", "evaluate"]

Truth = bool | None
_SEVERITY_RANK = {s: i for i, s in enumerate(vocabulary.SEVERITIES)}


def compare(x: Any, op: str, y: Any) -> bool:
    if op == ">=":
        return x >= y
    if op == "<=":
        return x <= y
    if op == ">":
        return x > y
    if op == "<":
        return x < y
    if op == "==":
        return x == y
    if op == "!=":
        return x != y
    raise ValueError(f"unknown operator {op!r}")


def _verdict(t: Truth) -> str:
    return "yes" if t is True else ("no" if t is False else "unknown")


@dataclass
class Outcome:
    """The result of one node: truth, reasons, the values used and what is missing."""

    truth: Truth
    reasons: list[str] = field(default_factory=list)
    values: dict[str, str] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)


class Context:
    """One patient on one screening date against one protocol (caches labs and scores)."""

    def __init__(self, patient: Patient, protocol: Protocol, screening_date: date) -> None:
        self.patient = patient
        self.protocol = protocol
        self.date = screening_date
        self.window_start = Period(protocol.lab_window_days, "day").before(screening_date)
        self._labs: dict[str, tuple[LabResult | None, str]] = {}
        self._scores: dict[str, tuple[Any, list[str], str]] = {}

    # -- labs -----------------------------------------------------------------------------
    def lab(self, analyte: str) -> tuple[LabResult | None, str]:
        """The usable result of ``analyte`` and, when there is none, why."""
        if analyte not in self._labs:
            results = [
                r
                for r in self.patient.labs_of(analyte)
                if r.date is not None and r.date <= self.date
            ]
            undated = [r for r in self.patient.labs_of(analyte) if r.date is None]
            recent = [r for r in results if r.date >= self.window_start]  # type: ignore[operator]
            if recent:
                best = max(recent, key=lambda r: r.date)  # type: ignore[arg-type,return-value]
                self._labs[analyte] = (best, "")
            elif results:
                last = max(results, key=lambda r: r.date)  # type: ignore[arg-type,return-value]
                self._labs[analyte] = (
                    None,
                    f"{analyte}: latest result {last.describe()} is "
                    f"older than {self.protocol.lab_window_days} days",
                )
            elif undated:
                self._labs[analyte] = (None, f"{analyte}: result has no date")
            else:
                self._labs[analyte] = (None, f"{analyte}: no result")
        return self._labs[analyte]

    # -- scores ---------------------------------------------------------------------------
    def category(self, concept: str) -> tuple[str | None, str]:
        """Current severity of ascites / hepatic encephalopathy (for Child-Pugh): the worst
        episode active on the screening date; none when there is none."""
        states = [(e, _active_on(e, self.date)) for e in self.patient.episodes_of(concept)]
        if any(a is None for _, a in states):
            return None, f"{concept}: not known whether it is current"
        current = [e for e, a in states if a]
        if not current:
            if not self.patient.counts_absent(concept):
                return None, f"{concept}: not known"
            return "none", f"{concept} none"
        if any(e.severity is None for e in current):
            return None, f"{concept}: present, severity not recorded"
        worst = max((e.severity for e in current), key=lambda s: _SEVERITY_RANK[s])  # type: ignore[arg-type,index]
        return worst, f"{concept} {worst}"

    def score(self, name: str) -> tuple[Any, list[str], str]:
        """(ScoreResult or None, missing items, description)."""
        if name in self._scores:
            return self._scores[name]
        labs_needed, others = clinical_adapter.SCORE_INPUTS[name]
        missing: list[str] = []
        quantities: dict[str, Any] = {}
        used: list[str] = []
        for analyte in labs_needed:
            result, why = self.lab(analyte)
            if result is None or result.quantity is None:
                missing.append(why or f"{analyte}: no result")
            else:
                quantities[analyte] = result.quantity
                used.append(f"{analyte} {result.describe()}")
        extra: dict[str, Any] = {}
        for item in others:
            if item in ("ascites", "hepatic_encephalopathy"):
                level, text = self.category(item)
                if level is None:
                    missing.append(text)
                else:
                    extra[item] = level
                    used.append(text)
            elif item == "sex":
                if self.patient.sex is None:
                    missing.append("sex")
                else:
                    extra["sex"] = self.patient.sex
            elif item == "age":
                extra["age"] = self.age_years()
        if missing:
            out = (None, missing, f"{name}: cannot be computed")
            self._scores[name] = out
            return out
        try:
            if name == "child_pugh":
                result = clinical_adapter.child_pugh(
                    quantities["bilirubin"],
                    quantities["albumin"],
                    quantities["inr"],
                    extra["ascites"],
                    extra["hepatic_encephalopathy"],
                    self.protocol.child_pugh_variant,
                )
            elif name == "meld":
                result = clinical_adapter.meld(
                    quantities["bilirubin"], quantities["inr"], quantities["creatinine"]
                )
            elif name == "meld_na":
                result = clinical_adapter.meld_na(
                    quantities["bilirubin"],
                    quantities["inr"],
                    quantities["creatinine"],
                    quantities["sodium"],
                )
            elif name == "meld3":
                result = clinical_adapter.meld3(
                    quantities["bilirubin"],
                    quantities["inr"],
                    quantities["creatinine"],
                    quantities["sodium"],
                    quantities["albumin"],
                    extra["sex"],
                    extra.get("age"),
                )
            else:
                result = clinical_adapter.albi(quantities["bilirubin"], quantities["albumin"])
        except clinical_adapter.score_error_types() as exc:
            out = (None, [f"{name}: {exc}"], f"{name}: cannot be computed")
            self._scores[name] = out
            return out
        detail = "; ".join(result.reasons) if name == "child_pugh" else ", ".join(used)
        out = (result, [], f"{result.name} {result.value} ({detail})")
        self._scores[name] = out
        return out

    def child_pugh_range(self) -> tuple[Any, list[str]]:
        """(ChildPughRange or None, what is not known): Child-Pugh with the unknown items
        spanning their points, so a rule is decided when every possible total decides it."""
        if "child_pugh_range" in self._scores:
            return self._scores["child_pugh_range"][:2]  # type: ignore[return-value]
        labs_needed, others = clinical_adapter.SCORE_INPUTS["child_pugh"]
        missing: list[str] = []
        args: dict[str, Any] = {}
        for analyte in labs_needed:
            result, why = self.lab(analyte)
            if result is None or result.quantity is None:
                missing.append(why or f"{analyte}: no result")
                args[analyte] = None
            else:
                args[analyte] = result.quantity
        for item in others:
            level, text = self.category(item)
            if level is None:
                missing.append(text)
            args[item] = level
        try:
            rng = clinical_adapter.child_pugh_range(
                args["bilirubin"],
                args["albumin"],
                args["inr"],
                args["ascites"],
                args["hepatic_encephalopathy"],
                self.protocol.child_pugh_variant,
            )
        except clinical_adapter.score_error_types() as exc:
            rng, missing = None, [*missing, f"child_pugh: {exc}"]
        self._scores["child_pugh_range"] = (rng, missing, "")
        return rng, missing

    def age_years(self) -> int | None:
        months = self.age_months()
        return self.patient.age_years if months is None else months // 12

    def age_months(self) -> int | None:
        if self.patient.birth_date is not None:
            return completed_months(self.patient.birth_date, self.date)
        return None


def _active_on(e: Episode, d: date) -> bool | None:
    """Is the episode ongoing on ``d``? None when the record does not tell."""
    if e.start is not None and e.start > d:
        return False
    if e.end is not None:
        return e.end >= d
    if e.ongoing is True:
        return True
    if e.ongoing is False:
        return False
    return None


def _overlaps(e: Episode, kind: str, window_start: date) -> bool | None:
    """Does the episode (already known to start on or before the screening date) reach into
    [window_start, screening date]? None when the record does not tell."""
    if e.end is not None:
        return e.end >= window_start
    if e.ongoing is True:
        return True
    if e.start is not None and e.start >= window_start:
        return True
    if kind != "condition" and e.start is not None:
        return False  # a procedure or event happens on its one day
    return None


def evaluate(node: Node, ctx: Context) -> Outcome:
    """Evaluate a checked rule tree (three-valued, with reasons)."""
    if isinstance(node, And):
        parts = [evaluate(n, ctx) for n in node.items]
        if any(p.truth is False for p in parts):
            truth: Truth = False
            shown = [p for p in parts if p.truth is False]
        elif all(p.truth is True for p in parts):
            truth, shown = True, parts
        else:
            truth, shown = None, [p for p in parts if p.truth is None]
        return _merge(truth, parts, shown)
    if isinstance(node, Or):
        parts = [evaluate(n, ctx) for n in node.items]
        if any(p.truth is True for p in parts):
            truth, shown = True, [p for p in parts if p.truth is True]
        elif all(p.truth is False for p in parts):
            truth, shown = False, parts
        else:
            truth, shown = None, [p for p in parts if p.truth is None]
        return _merge(truth, parts, shown)
    if isinstance(node, Not):
        inner = evaluate(node.item, ctx)
        truth = None if inner.truth is None else not inner.truth
        return Outcome(
            truth,
            [f"{node.source}: {_verdict(truth)} ({'; '.join(inner.reasons)})"],
            inner.values,
            inner.missing,
        )
    if isinstance(node, LabCompare):
        return _lab_compare(node, ctx)
    if isinstance(node, LabUlnCompare):
        return _lab_uln_compare(node, ctx)
    if isinstance(node, LabDetected):
        result, why = ctx.lab(node.analyte)
        if result is None:
            return Outcome(None, [f"{node.source}: unknown ({why})"], missing=[why])
        detected = result.is_detected()
        values = {node.analyte: result.describe()}
        if detected is None:
            return Outcome(None, [f"{node.source}: unknown"], values, [f"{node.analyte}"])
        how = "at or above" if detected else "below"
        return Outcome(
            detected,
            [
                f"{node.source}: {_verdict(detected)} ({node.analyte} "
                f"{result.describe()}, {how} the detection limit)"
            ],
            values,
        )
    if isinstance(node, AgeCompare):
        return _age_compare(node, ctx)
    if isinstance(node, SexIs):
        sex = ctx.patient.sex
        if sex is None:
            return Outcome(None, [f"{node.source}: unknown (sex not recorded)"], missing=["sex"])
        truth = sex == node.sex
        return Outcome(truth, [f"{node.source}: {_verdict(truth)} (sex {sex})"], {"sex": sex})
    if isinstance(node, ScoreCompare):
        if node.score == "child_pugh":
            return _child_pugh_compare(node, ctx)
        return _score_compare(node, ctx)
    if isinstance(node, HistoryTest):
        return _history(node, ctx)
    if isinstance(node, MedicationFlag):
        return _medication_flag(node, ctx)
    if isinstance(node, MedicationDuration):
        return _medication_duration(node, ctx)
    raise TypeError(f"cannot evaluate {type(node).__name__}")  # pragma: no cover


def _merge(truth: Truth, parts: list[Outcome], shown: list[Outcome]) -> Outcome:
    out = Outcome(truth)
    for p in shown:
        out.reasons.extend(r for r in p.reasons if r not in out.reasons)
    for p in parts:
        out.values.update(p.values)
        if truth is None:
            for m in p.missing:
                if m not in out.missing:
                    out.missing.append(m)
    return out


def _interval_compare(value: Fraction, comparator: str | None, op: str, k: Fraction) -> Truth:
    """Compare a possibly censored value with ``k``: True if every value the result allows
    satisfies ``x op k``, False if none does, None when it depends on the hidden value.

    ``< v`` allows (-inf, v), ``<= v`` (-inf, v], ``> v`` (v, inf), ``>= v`` [v, inf).
    """
    if comparator is None:
        return compare(value, op, k)
    closed = comparator in ("<=", ">=")
    if comparator in ("<", "<="):  # values below v
        if op in ("<", "<="):  # all satisfy iff the top of the interval does
            if op == "<":
                return True if (value <= k if not closed else value < k) else None
            return True if value <= k else None
        # op > or >=: none satisfies iff the top of the interval does not
        if op == ">":
            return False if value <= k else None
        return False if (value <= k if not closed else value < k) else None
    # values above v
    if op in (">", ">="):
        if op == ">":
            return True if (value >= k if not closed else value > k) else None
        return True if value >= k else None
    if op == "<":
        return False if value >= k else None
    return False if (value >= k if not closed else value > k) else None


def _lab_compare(node: LabCompare, ctx: Context) -> Outcome:
    result, why = ctx.lab(node.analyte)
    if result is None or result.quantity is None:
        why = why or f"{node.analyte}: qualitative result only"
        return Outcome(None, [f"{node.source}: unknown ({why})"], missing=[why])
    value = clinical_adapter.canonical(result.quantity)
    truth = _interval_compare(value, result.quantity.comparator, node.op, node.threshold)
    values = {node.analyte: result.describe()}
    return Outcome(
        truth,
        [f"{node.source}: {_verdict(truth)} ({node.analyte} {result.describe()})"],
        values,
        [] if truth is not None else [f"{node.analyte}: censored result"],
    )


def _lab_uln_compare(node: LabUlnCompare, ctx: Context) -> Outcome:
    result, why = ctx.lab(node.analyte)
    if result is None or result.quantity is None:
        why = why or f"{node.analyte}: qualitative result only"
        return Outcome(None, [f"{node.source}: unknown ({why})"], missing=[why])
    if result.uln is not None:
        uln = clinical_adapter.canonical(result.uln)
        uln_text = f"ULN {result.uln} (reported with the result)"
    elif node.analyte in ctx.protocol.reference_ranges:
        uln = ctx.protocol.reference_ranges[node.analyte]
        uln_text = (
            f"ULN {_show(uln)} {clinical_adapter.canonical_unit(node.analyte)} (protocol default)"
        )
    else:
        why = f"{node.analyte}: no upper limit of normal"
        return Outcome(None, [f"{node.source}: unknown ({why})"], missing=[why])
    value = clinical_adapter.canonical(result.quantity)
    truth = _interval_compare(value, result.quantity.comparator, node.op, node.factor * uln)
    ratio = value / uln
    values = {node.analyte: result.describe(), f"{node.analyte} ULN": uln_text}
    return Outcome(
        truth,
        [
            f"{node.source}: {_verdict(truth)} ({node.analyte} "
            f"{result.describe()} = {_show(ratio, 3)} x {uln_text})"
        ],
        values,
        [] if truth is not None else [f"{node.analyte}: censored result"],
    )


def _show(x: Fraction, digits: int = 4) -> str:
    text = f"{float(x):.{digits}f}".rstrip("0").rstrip(".")
    return text or "0"


def _age_compare(node: AgeCompare, ctx: Context) -> Outcome:
    months = ctx.age_months()
    if months is not None:
        value = months // 12 if node.period.unit == "year" else months
        shown = f"{months // 12} years" if node.period.unit == "year" else f"{months} months"
        shown += f" (born {ctx.patient.birth_date.isoformat()})"  # type: ignore[union-attr]
    elif ctx.patient.age_years is not None and node.period.unit == "year":
        value = ctx.patient.age_years
        shown = f"{value} years (as given)"
    else:
        return Outcome(None, [f"{node.source}: unknown (no birth date)"], missing=["age"])
    truth = compare(value, node.op, node.period.amount)
    return Outcome(truth, [f"{node.source}: {_verdict(truth)} (age {shown})"], {"age": shown})


def _child_pugh_compare(node: ScoreCompare, ctx: Context) -> Outcome:
    """A Child-Pugh rule decided over every total the known items allow (an unknown item
    spans its points): met / not met only when all those totals agree, else unknown."""
    rng, missing = ctx.child_pugh_range()
    label = f"{node.score}.{node.attribute}"
    if rng is None:
        return Outcome(
            None,
            [f"{node.source}: unknown ({'; '.join(missing)})"],
            missing=[f"{node.score}: {m}" for m in missing],
        )
    if rng.low == rng.high and ctx.score(node.score)[0] is not None:
        return _score_compare(node, ctx)  # every item known: the score with its own reasons
    if node.attribute == "class":
        values: list[Any] = list(rng.classes)
        shown = " or ".join(values)
    else:
        values = [Fraction(t) for t in rng.totals]
        shown = f"{rng.low} to {rng.high}"
    truths = {compare(v, node.op, node.value) for v in values}
    truth: Truth = truths.pop() if len(truths) == 1 else None
    detail = "; ".join(rng.reasons)
    return Outcome(
        truth,
        [f"{node.source}: {_verdict(truth)} ({label} {shown}; Child-Pugh {detail})"],
        {label: shown},
        [] if truth is not None else [f"{node.score}: {m}" for m in missing],
    )


def _score_compare(node: ScoreCompare, ctx: Context) -> Outcome:
    result, missing, text = ctx.score(node.score)
    label = f"{node.score}.{node.attribute}"
    if result is None:
        return Outcome(
            None,
            [f"{node.source}: unknown ({'; '.join(missing)})"],
            missing=[f"{node.score}: {m}" for m in missing],
        )
    if node.attribute == "class":
        value: Any = result.klass
    elif node.attribute == "grade":
        value = result.grade
    else:
        value = Fraction(str(result.value))
    truth = compare(value, node.op, node.value)
    shown = value if not isinstance(value, Fraction) else _show(value)
    return Outcome(
        truth, [f"{node.source}: {_verdict(truth)} ({label} {shown}; {text})"], {label: str(shown)}
    )


def _history(node: HistoryTest, ctx: Context) -> Outcome:
    d = ctx.date
    episodes = [e for e in ctx.patient.episodes_of(node.concept) if e.start is None or e.start <= d]
    verdicts: list[tuple[Truth, Episode]] = []
    window_start = node.window.before(d) if node.window else None
    for e in episodes:
        if node.min_severity is not None:
            if e.severity is None:
                sev: Truth = None
            else:
                sev = _SEVERITY_RANK[e.severity] >= _SEVERITY_RANK[node.min_severity]
            if sev is False:
                continue
        else:
            sev = True
        if node.active:
            t = _active_on(e, d)
        elif window_start is not None:
            t = _overlaps(e, node.kind, window_start)
        else:
            t = True
        if t is True and sev is None:
            t = None
        verdicts.append((t, e))
    what = node.concept.replace("_", " ")
    scope = (
        "active on the screening date"
        if node.active
        else f"within {node.window} before screening"
        if node.window
        else "ever"
    )
    hits = [e for t, e in verdicts if t is True]
    if hits:
        shown = "; ".join(e.describe() for e in hits)
        return Outcome(True, [f"{node.source}: yes ({shown})"], {node.concept: shown})
    undecided = [e for t, e in verdicts if t is None]
    if undecided:
        shown = "; ".join(e.describe() for e in undecided)
        why = f"{node.kind} {node.concept}: dates or severity not recorded ({shown})"
        return Outcome(None, [f"{node.source}: unknown ({why})"], {node.concept: shown}, [why])
    if ctx.patient.counts_absent(node.concept):
        seen = "; ".join(e.describe() for e in episodes)
        detail = f"recorded: {seen}" if seen else "not present in the record"
        return Outcome(
            False,
            [f"{node.source}: no ({what} {scope}: {detail})"],
            {node.concept: seen or "absent"},
        )
    why = f"{node.kind} {node.concept}: not documented"
    return Outcome(
        None, [f"{node.source}: unknown ({what} {scope} is not documented)"], missing=[why]
    )


def _courses(node_concept: str, ctx: Context) -> list[Any]:
    return [
        c for c in ctx.patient.courses_of(node_concept) if c.start is None or c.start <= ctx.date
    ]


def _medication_flag(node: MedicationFlag, ctx: Context) -> Outcome:
    courses = _courses(node.concept, ctx)
    d = ctx.date
    if node.attribute == "ever":
        truths: list[Truth] = [True for _ in courses]
    else:
        truths = [c.end is None or c.end >= d for c in courses]
    if any(t is True for t in truths):
        shown = "; ".join(c.describe() for c, t in zip(courses, truths, strict=True) if t)
        return Outcome(True, [f"{node.source}: yes ({shown})"], {node.concept: shown})
    if courses or ctx.patient.knows_absent(node.concept):
        shown = "; ".join(c.describe() for c in courses) or "never taken"
        return Outcome(False, [f"{node.source}: no ({shown})"], {node.concept: shown})
    why = f"medication {node.concept}: not documented"
    return Outcome(None, [f"{node.source}: unknown ({why})"], missing=[why])


def _medication_duration(node: MedicationDuration, ctx: Context) -> Outcome:
    d = ctx.date
    courses = _courses(node.concept, ctx)
    if not courses and not ctx.patient.knows_absent(node.concept):
        why = f"medication {node.concept}: not documented"
        return Outcome(None, [f"{node.source}: unknown ({why})"], missing=[why])
    if any(c.start is None for c in courses):
        why = f"medication {node.concept}: start date not recorded"
        return Outcome(None, [f"{node.source}: unknown ({why})"], missing=[why])
    if not courses:
        days = 0
    elif node.attribute == "since_start":
        days = (d - min(c.start for c in courses)).days  # type: ignore[type-var,operator]
    else:
        days = sum(((min(c.end or d, d) - c.start).days + 1) for c in courses)  # type: ignore
    reference = date.fromordinal(d.toordinal() - days)
    limit = node.period.before(d)
    # days op period  <=>  (d - days) flipped-op (d - period)
    flipped = {"<": ">", "<=": ">=", ">": "<", ">=": "<="}[node.op]
    truth = compare(reference, flipped, limit)
    shown = (
        f"{days} days"
        + (
            f" since first start {reference.isoformat()}"
            if node.attribute == "since_start" and courses
            else ""
        )
        if courses
        else "never taken (0 days)"
    )
    return Outcome(
        truth,
        [f"{node.source}: {_verdict(truth)} ({node.concept} {shown})"],
        {f"{node.concept}.{node.attribute}": shown},
    )
