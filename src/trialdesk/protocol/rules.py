"""The eligibility rule language: parse (lark, LALR) and check, never ``eval``.

A rule is the condition a criterion describes, written as text such as::

    bilirubin >= 170 umol/L or creatinine >= 1.2 * ULN or sodium < 125 mmol/L
    age between 18 and 75 years
    child_pugh.score between 7 and 12
    condition(variceal_bleeding, within 1 month)
    condition(hepatic_encephalopathy, within 1 month, severity >= moderate)
    procedure(tips, within 6 months)
    condition(hepatitis_b) and medication(hbv_antiviral).since_start < 12 months
    sex == "female" and condition(pregnancy, active)

:func:`parse_rule` turns the text into a small typed tree (:class:`Node` subclasses). Every
name is checked against the vocabulary (lab analytes from :mod:`trialdesk.clinical.units`,
scores, concepts from ``data/concepts.yaml``) and every unit is converted to the analyte's
canonical unit when the rule is parsed, so a rule with an unknown name, a unit that cannot
express the analyte or a syntax error fails when the protocol loads, with the position.
The full reference is docs/protocol-format.md.
"""

from __future__ import annotations

import calendar
import difflib
from dataclasses import dataclass
from datetime import date
from fractions import Fraction
from functools import lru_cache
from pathlib import Path
from typing import Any

from trialdesk.protocol import vocabulary

__all__ = [
    "And",
    "AgeCompare",
    "HistoryTest",
    "LabCompare",
    "LabDetected",
    "LabUlnCompare",
    "MedicationDuration",
    "MedicationFlag",
    "Node",
    "Not",
    "Or",
    "Period",
    "RuleError",
    "ScoreCompare",
    "SexIs",
    "parse_rule",
]

_FLIP = {">=": "<=", "<=": ">=", ">": "<", "<": ">", "==": "==", "!=": "!="}


class RuleError(ValueError):
    """A rule that cannot be parsed or checked; names the criterion and the position."""

    def __init__(
        self,
        message: str,
        *,
        criterion: str | None = None,
        line: int = 1,
        column: int = 1,
        rule: str = "",
    ) -> None:
        self.criterion = criterion
        self.line = line
        self.column = column
        self.rule = rule
        self.detail = message
        where = f"criterion {criterion}: " if criterion else ""
        super().__init__(f"{where}rule position {line}:{column}: {message}")


# --------------------------------------------------------------------------------------------
# Periods (calendar arithmetic on dates; not a unit conversion)
# --------------------------------------------------------------------------------------------

_PERIOD_UNITS = {
    "day": "day",
    "days": "day",
    "week": "week",
    "weeks": "week",
    "month": "month",
    "months": "month",
    "year": "year",
    "years": "year",
}


@dataclass(frozen=True)
class Period:
    """A calendar period: ``amount`` days, weeks, months or years."""

    amount: int
    unit: str  # day | week | month | year

    def before(self, d: date) -> date:
        """The date this period before ``d`` (months and years by the calendar; the 31st of a
        month with fewer days falls back to its last day)."""
        if self.unit == "day":
            return date.fromordinal(d.toordinal() - self.amount)
        if self.unit == "week":
            return date.fromordinal(d.toordinal() - 7 * self.amount)
        months = self.amount * (12 if self.unit == "year" else 1)
        return add_months(d, -months)

    def __str__(self) -> str:
        return f"{self.amount} {self.unit}{'' if self.amount == 1 else 's'}"


def add_months(d: date, months: int) -> date:
    """``d`` shifted by whole calendar months, clamped to the last day of the target month."""
    index = d.year * 12 + (d.month - 1) + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(d.day, last))


def completed_months(birth: date, on: date) -> int:
    """Whole calendar months from ``birth`` to ``on`` (negative if ``on`` is earlier)."""
    months = (on.year - birth.year) * 12 + (on.month - birth.month)
    if on.day < birth.day:
        months -= 1
    return months


# --------------------------------------------------------------------------------------------
# Typed rule tree
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Node:
    """A checked rule node; ``source`` is its text in the rule (used in reasons)."""

    source: str


@dataclass(frozen=True)
class And(Node):
    items: tuple[Node, ...]


@dataclass(frozen=True)
class Or(Node):
    items: tuple[Node, ...]


@dataclass(frozen=True)
class Not(Node):
    item: Node


@dataclass(frozen=True)
class LabCompare(Node):
    """``analyte op threshold``; ``threshold`` is exact, in the analyte's canonical unit."""

    analyte: str
    op: str
    threshold: Fraction
    unit: str  # canonical unit of the analyte


@dataclass(frozen=True)
class LabUlnCompare(Node):
    """``analyte op factor * ULN`` (the upper limit of normal that comes with the result)."""

    analyte: str
    op: str
    factor: Fraction


@dataclass(frozen=True)
class LabDetected(Node):
    """``analyte.detected``: a result at or above the detection limit (no ``<`` comparator)."""

    analyte: str


@dataclass(frozen=True)
class AgeCompare(Node):
    """Age in completed years (or months) at the screening date ``op`` ``period.amount``."""

    op: str
    period: Period


@dataclass(frozen=True)
class SexIs(Node):
    sex: str  # male | female


@dataclass(frozen=True)
class ScoreCompare(Node):
    """``score.attribute op value``; value a number or a category text (Child-Pugh class)."""

    score: str
    attribute: str
    op: str
    value: Fraction | str


@dataclass(frozen=True)
class HistoryTest(Node):
    """A condition, procedure or event in the patient's history.

    No window and not ``active``: ever, on or before the screening date. ``window``: an
    episode overlapping [screening date - window, screening date]. ``active``: an episode
    ongoing on the screening date. ``min_severity``: only episodes at least that severe.
    """

    kind: str
    concept: str
    window: Period | None = None
    active: bool = False
    min_severity: str | None = None


@dataclass(frozen=True)
class MedicationFlag(Node):
    """``medication(x).active`` (taken on the screening date) or ``.ever``."""

    concept: str
    attribute: str


@dataclass(frozen=True)
class MedicationDuration(Node):
    """``medication(x).duration`` (cumulative days on it) or ``.since_start`` (time since the
    first start) compared with a period; 0 days when never taken."""

    concept: str
    attribute: str
    op: str
    period: Period


# --------------------------------------------------------------------------------------------
# Parsing
# --------------------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _parser() -> Any:
    from lark import Lark

    grammar = (Path(__file__).with_name("rules.lark")).read_text(encoding="utf-8")
    return Lark(grammar, parser="lalr", propagate_positions=True, maybe_placeholders=False)


def _position(meta_or_token: Any) -> tuple[int, int]:
    meta = getattr(meta_or_token, "meta", None)
    if meta is not None and not getattr(meta, "empty", True):
        meta_or_token = meta
    line = getattr(meta_or_token, "line", None)
    column = getattr(meta_or_token, "column", None)
    return (line or 1, column or 1)


@lru_cache(maxsize=4096)
def _parse_cached(text: str) -> Node:
    return _Checker(text).check(_parse_tree(text))


def parse_rule(text: str, criterion: str | None = None) -> Node:
    """Parse and check one rule; :class:`RuleError` names ``criterion`` and the position."""
    if not isinstance(text, str) or not text.strip():
        raise RuleError("the rule is empty", criterion=criterion, rule=str(text))
    try:
        return _parse_cached(text)
    except RuleError as exc:
        raise RuleError(
            exc.detail, criterion=criterion, line=exc.line, column=exc.column, rule=text
        ) from None


_TOKEN_NAMES = {
    "_NOT": "not",
    "_AND": "and",
    "_OR": "or",
    "_BETWEEN": "between",
    "_WITHIN": "within",
    "LPAR": "(",
    "RPAR": ")",
    "COMMA": ",",
    "DOT": ".",
    "STAR": "*",
    "ESCAPED_STRING": '"text"',
    "NAME": "a name",
    "NUMBER": "a number",
    "COMPOP": "a comparison (>=, <, ...)",
    "TIMEUNIT": "days|weeks|months|years",
    "UNIT": "a unit",
    "ULN": "ULN",
}


def _expected(names: Any) -> str:
    shown = sorted({_TOKEN_NAMES.get(n, n) for n in names})
    return ", ".join(shown[:10])


def _parse_tree(text: str) -> Any:
    from lark.exceptions import (
        UnexpectedCharacters,
        UnexpectedEOF,
        UnexpectedInput,
        UnexpectedToken,
    )

    try:
        return _parser().parse(text)
    except UnexpectedEOF as exc:
        expected = _expected(exc.expected)
        raise RuleError(
            f"syntax error: the rule ends too early (expected {expected})",
            line=1,
            column=len(text) + 1,
            rule=text,
        ) from None
    except UnexpectedToken as exc:
        expected = _expected(exc.expected)
        if exc.token.type == "$END":
            lines = text.splitlines() or [""]
            raise RuleError(
                f"syntax error: the rule ends too early (expected {expected})",
                line=len(lines),
                column=len(lines[-1]) + 1,
                rule=text,
            ) from None
        raise RuleError(
            f"syntax error at {exc.token.value!r} (expected {expected})",
            line=exc.line,
            column=exc.column,
            rule=text,
        ) from None
    except UnexpectedCharacters as exc:
        raise RuleError(
            f"syntax error: unexpected character {text[exc.pos_in_stream]!r}",
            line=exc.line,
            column=exc.column,
            rule=text,
        ) from None
    except UnexpectedInput as exc:  # pragma: no cover - other lark input errors
        raise RuleError(
            f"syntax error: {exc}",
            line=getattr(exc, "line", 1),
            column=getattr(exc, "column", 1),
            rule=text,
        ) from None


# Data operands (left side of a comparison), before comparison with a constant.
@dataclass(frozen=True)
class _Lab:
    analyte: str


@dataclass(frozen=True)
class _Age:
    pass


@dataclass(frozen=True)
class _Sex:
    pass


@dataclass(frozen=True)
class _Score:
    score: str
    attribute: str
    kind: str  # number | category


@dataclass(frozen=True)
class _MedDuration:
    concept: str
    attribute: str


# Constant operands
@dataclass(frozen=True)
class _Literal:
    number: Fraction
    text: str
    unit: str | None


@dataclass(frozen=True)
class _Text:
    value: str


@dataclass(frozen=True)
class _UlnMultiple:
    factor: Fraction


class _Checker:
    def __init__(self, text: str) -> None:
        self.text = text

    # -- helpers --------------------------------------------------------------------------
    def fail(self, where: Any, message: str) -> RuleError:
        line, column = _position(where)
        return RuleError(message, line=line, column=column, rule=self.text)

    def src(self, tree: Any) -> str:
        meta = getattr(tree, "meta", None)
        if meta is not None and not getattr(meta, "empty", True):
            return self.text[meta.start_pos : meta.end_pos]
        return self.text

    def check(self, tree: Any) -> Node:
        from lark import Tree

        if isinstance(tree, Tree) and tree.data == "start":
            tree = tree.children[0]
        return self.boolean(tree)

    # -- boolean structure ----------------------------------------------------------------
    def boolean(self, tree: Any) -> Node:
        from lark import Tree

        if not isinstance(tree, Tree):
            raise self.fail(tree, f"{tree!s} is not a condition")
        kind = tree.data
        if kind == "or_":
            return Or(self.src(tree), tuple(self.boolean(c) for c in tree.children))
        if kind == "and_":
            return And(self.src(tree), tuple(self.boolean(c) for c in tree.children))
        if kind == "not_":
            return Not(self.src(tree), self.boolean(tree.children[0]))
        if kind == "compare":
            left, op, right = tree.children
            return self.compare(tree, left, str(op), right)
        if kind == "between":
            value, low, high = tree.children
            source = self.src(tree)
            lo, hi = self.operand(low), self.operand(high)
            if (
                isinstance(lo, _Literal)
                and lo.unit is None
                and isinstance(hi, _Literal)
                and hi.unit is not None
            ):  # "between 18 and 75 years": one unit for both
                lo = _Literal(lo.number, f"{lo.text} {hi.unit}", hi.unit)
            return And(
                source,
                (
                    self.compare(tree, value, ">=", low, source, lo),
                    self.compare(tree, value, "<=", high, source, hi),
                ),
            )
        if kind == "truth":
            return self.truth(tree.children[0])
        return self.truth(tree)

    def truth(self, tree: Any) -> Node:
        operand = self.operand(tree)
        if isinstance(operand, Node):
            return operand
        raise self.fail(
            tree,
            f"{self.src(tree)!r} is a value, not a condition: compare it "
            "(e.g. 'bilirubin >= 170 umol/L')",
        )

    # -- operands --------------------------------------------------------------------------
    def operand(self, tree: Any) -> Any:
        from lark import Token

        if isinstance(tree, Token):
            raise self.fail(tree, f"unexpected {tree.value!r}")
        kind = tree.data
        if kind == "literal":
            number = tree.children[0]
            unit = str(tree.children[1]) if len(tree.children) > 1 else None
            return _Literal(Fraction(str(number)), self.src(tree), unit)
        if kind == "text":
            raw = str(tree.children[0])
            return _Text(raw[1:-1])
        if kind == "uln":
            return _UlnMultiple(Fraction(1))
        if kind == "scaled":
            factor, term = tree.children
            inner = self.operand(term)
            if not isinstance(inner, _UlnMultiple):
                raise self.fail(tree, "only 'number * ULN' may be multiplied (e.g. 1.2 * ULN)")
            return _UlnMultiple(Fraction(str(factor)) * inner.factor)
        if kind == "name_ref":
            return self.name_ref(tree)
        if kind == "ref":
            return self.call_ref(tree)
        raise self.fail(tree, f"unexpected {self.src(tree)!r}")  # pragma: no cover

    def name_ref(self, tree: Any) -> Any:
        parts = [str(t) for t in tree.children]
        head = parts[0]
        first = tree.children[0]
        if head == "age" and len(parts) == 1:
            return _Age()
        if head == "sex" and len(parts) == 1:
            return _Sex()
        analyte = vocabulary.lab_name(head)
        if analyte is not None:
            if len(parts) == 1:
                return _Lab(analyte)
            if parts[1:] == ["detected"]:
                return LabDetected(self.src(tree), analyte)
            raise self.fail(
                tree.children[1], f"{head} has no attribute {parts[1]!r} (labs have: detected)"
            )
        if head in vocabulary.SCORES:
            attrs = vocabulary.SCORES[head]
            attribute = parts[1] if len(parts) > 1 else next(iter(attrs))
            if len(parts) > 2 or attribute not in attrs:
                raise self.fail(
                    tree.children[min(1, len(parts) - 1)],
                    f"{head} has no attribute {'.'.join(parts[1:])!r} (known: {', '.join(attrs)})",
                )
            return _Score(head, attribute, attrs[attribute])
        if head in vocabulary.CALL_KINDS:
            raise self.fail(first, f"{head} needs a concept: {head}(name)")
        raise self.fail(first, f"unknown name {head!r}{_suggest(head, vocabulary.all_names())}")

    def call_ref(self, tree: Any) -> Any:
        call = tree.children[0]
        attrs = [str(t) for t in tree.children[1:]]
        kind_token, concept_token, *options = call.children
        kind, concept = str(kind_token), str(concept_token)
        if kind not in vocabulary.CALL_KINDS:
            raise self.fail(
                kind_token, f"unknown function {kind!r} (known: {', '.join(vocabulary.CALL_KINDS)})"
            )
        info = vocabulary.concept(concept)
        if info is None:
            names = vocabulary.concept_names(kind)
            raise self.fail(concept_token, f"unknown {kind} {concept!r}{_suggest(concept, names)}")
        if info.kind != kind:
            raise self.fail(
                concept_token, f"{concept!r} is a {info.kind}: write {info.kind}({concept})"
            )
        source = self.src(tree)
        if kind == "medication":
            if options:
                raise self.fail(
                    options[0],
                    "medication(...) takes no options; use "
                    ".active, .ever, .duration or .since_start",
                )
            if len(attrs) != 1 or attrs[0] not in vocabulary.MEDICATION_ATTRIBUTES:
                raise self.fail(
                    call,
                    "medication(...) needs one attribute: "
                    f"{', '.join(vocabulary.MEDICATION_ATTRIBUTES)}",
                )
            attribute = attrs[0]
            if vocabulary.MEDICATION_ATTRIBUTES[attribute] == "boolean":
                return MedicationFlag(source, concept, attribute)
            return _MedDuration(concept, attribute)
        if attrs:
            raise self.fail(tree.children[1], f"{kind}(...) has no attributes")
        window: Period | None = None
        active = False
        min_severity: str | None = None
        for option in options:
            if option.data == "within":
                amount, unit = option.children
                window = self.period(option, str(amount), str(unit))
            elif option.data == "flag":
                if str(option.children[0]) != "active":
                    raise self.fail(
                        option.children[0],
                        f"unknown option "
                        f"{str(option.children[0])!r} (known: active, within N "
                        "days|weeks|months|years, severity >= level)",
                    )
                active = True
            elif option.data == "severity":
                name, op, level = (str(c) for c in option.children)
                if name != "severity" or op != ">=":
                    raise self.fail(option, "write a severity option as 'severity >= level'")
                if not info.severity:
                    raise self.fail(option, f"{concept} has no severity")
                if level not in vocabulary.SEVERITIES:
                    raise self.fail(
                        option.children[2],
                        f"unknown severity {level!r} (known: {', '.join(vocabulary.SEVERITIES)})",
                    )
                min_severity = level
        if window is not None and active:
            raise self.fail(call, "use either 'active' or 'within ...', not both")
        return HistoryTest(source, kind, concept, window, active, min_severity)

    def period(self, where: Any, amount: str, unit: str) -> Period:
        if "." in amount:
            raise self.fail(where, f"a period is a whole number of units, not {amount}")
        if unit not in _PERIOD_UNITS:
            raise self.fail(where, f"unknown time unit {unit!r} (days, weeks, months, years)")
        return Period(int(amount), _PERIOD_UNITS[unit])

    # -- comparisons -----------------------------------------------------------------------
    def compare(
        self,
        tree: Any,
        left_tree: Any,
        op: str,
        right_tree: Any,
        source: str | None = None,
        right_operand: Any = None,
    ) -> Node:
        source = source or self.src(tree)
        left = self.operand(left_tree)
        right = right_operand if right_operand is not None else self.operand(right_tree)
        constants = (_Literal, _Text, _UlnMultiple)
        if isinstance(left, constants) and not isinstance(right, constants):
            left, right, op = right, left, _FLIP[op]
            left_tree, right_tree = right_tree, left_tree
        if isinstance(right, Node) or isinstance(left, Node):
            raise self.fail(
                tree, "a condition cannot be compared; combine conditions with and/or/not"
            )
        if not isinstance(right, constants):
            raise self.fail(
                right_tree,
                "compare a value with a constant (e.g. 'sodium < 125 "
                "mmol/L'), not two patient values",
            )
        if isinstance(left, constants):
            raise self.fail(tree, "nothing from the patient is compared here")
        if isinstance(left, _Lab):
            return self.lab_compare(right_tree, source, left.analyte, op, right)
        if isinstance(left, _Age):
            if not isinstance(right, _Literal) or right.unit is None:
                raise self.fail(
                    right_tree,
                    "compare age with a number of years or months, e.g. 'age >= 18 years'",
                )
            period = self.period(right_tree, right.text.split()[0], right.unit)
            if period.unit not in ("year", "month") or op in ("==", "!="):
                raise self.fail(right_tree, "age compares with <, <=, >, >= in years or months")
            return AgeCompare(source, op, period)
        if isinstance(left, _Sex):
            if not isinstance(right, _Text) or right.value not in vocabulary.SEXES:
                raise self.fail(right_tree, 'sex compares with "male" or "female"')
            if op == "==":
                return SexIs(source, right.value)
            if op == "!=":
                return Not(source, SexIs(source, right.value))
            raise self.fail(tree, "sex compares with == or !=")
        if isinstance(left, _Score):
            if left.kind == "category":
                options = vocabulary.SCORE_CATEGORIES[(left.score, left.attribute)]
                if not isinstance(right, _Text) or right.value not in options:
                    raise self.fail(
                        right_tree,
                        f"{left.score}.{left.attribute} compares with "
                        f"one of {', '.join(map(repr, options))}",
                    )
                if op not in ("==", "!="):
                    raise self.fail(tree, f"{left.score}.{left.attribute} compares with == or !=")
                return ScoreCompare(source, left.score, left.attribute, op, right.value)
            if not isinstance(right, _Literal) or right.unit is not None:
                raise self.fail(right_tree, f"{left.score} is a number without unit")
            return ScoreCompare(source, left.score, left.attribute, op, right.number)
        if isinstance(left, _MedDuration):
            if not isinstance(right, _Literal) or right.unit is None:
                raise self.fail(right_tree, "compare a duration with a period, e.g. '< 12 months'")
            period = self.period(right_tree, right.text.split()[0], right.unit)
            if op in ("==", "!="):
                raise self.fail(tree, "durations compare with <, <=, >, >=")
            return MedicationDuration(source, left.concept, left.attribute, op, period)
        raise self.fail(tree, "cannot compare these")  # pragma: no cover

    def lab_compare(self, where: Any, source: str, analyte: str, op: str, right: Any) -> Node:
        from trialdesk.protocol import clinical_adapter

        if op in ("==", "!="):
            raise self.fail(where, "lab values compare with <, <=, >, >= (or 'between')")
        if isinstance(right, _UlnMultiple):
            return LabUlnCompare(source, analyte, op, right.factor)
        if not isinstance(right, _Literal):
            raise self.fail(where, f"{analyte} compares with a quantity, e.g. '170 umol/L'")
        try:
            threshold, unit = clinical_adapter.to_canonical(analyte, right.number, right.unit)
        except ValueError as exc:
            raise self.fail(where, f"unit mismatch: {exc}") from None
        return LabCompare(source, analyte, op, threshold, unit)


def _suggest(name: str, known: list[str] | tuple[str, ...]) -> str:
    close = difflib.get_close_matches(name, list(known), n=3)
    return f" (did you mean {', '.join(close)}?)" if close else ""
