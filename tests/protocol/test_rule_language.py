"""The rule language: parsing, checking, errors with the criterion and position."""

from __future__ import annotations

from datetime import date
from fractions import Fraction

import pytest

from trialdesk.protocol.rules import (
    AgeCompare,
    And,
    HistoryTest,
    LabCompare,
    LabUlnCompare,
    MedicationDuration,
    Not,
    Or,
    Period,
    RuleError,
    ScoreCompare,
    SexIs,
    parse_rule,
)


def test_lab_threshold_converted_exactly_to_canonical_unit():
    node = parse_rule("bilirubin >= 170 umol/L")
    assert isinstance(node, LabCompare)
    # 170 umol/L x 584.66 g/mol = 9.93922 mg/dL (molar mass from docs/clinical-formulas.md)
    assert node.threshold == Fraction(170) * Fraction("584.66") / 10000
    assert node.unit == "mg/dL"


def test_uln_multiple_and_reversed_comparison():
    node = parse_rule("1.2 * ULN <= creatinine")
    assert node == LabUlnCompare("1.2 * ULN <= creatinine", "creatinine", ">=", Fraction(6, 5))


def test_between_is_inclusive_and_shares_the_unit():
    node = parse_rule("age between 18 and 75 years")
    assert isinstance(node, And)
    assert [(n.op, n.period) for n in node.items] == [
        (">=", Period(18, "year")),
        ("<=", Period(75, "year")),
    ]
    assert all(isinstance(n, AgeCompare) for n in node.items)


def test_boolean_structure_and_precedence():
    node = parse_rule('not sex == "male" and condition(hiv) or meld >= 15')
    assert isinstance(node, Or)
    left, right = node.items
    assert isinstance(left, And) and isinstance(left.items[0], Not)
    assert isinstance(left.items[0].item, SexIs)
    assert isinstance(right, ScoreCompare) and right.value == 15


def test_history_and_medication_forms():
    node = parse_rule("condition(hepatic_encephalopathy, within 1 month, severity >= moderate)")
    assert node == HistoryTest(
        node.source, "condition", "hepatic_encephalopathy", Period(1, "month"), False, "moderate"
    )
    med = parse_rule("medication(hbv_antiviral).since_start < 12 months")
    assert isinstance(med, MedicationDuration) and med.period == Period(12, "month")


def test_calendar_periods():
    assert Period(1, "month").before(date(2026, 3, 31)) == date(2026, 2, 28)
    assert Period(2, "week").before(date(2026, 1, 10)) == date(2025, 12, 27)
    assert Period(1, "year").before(date(2028, 2, 29)) == date(2027, 2, 28)


@pytest.mark.parametrize(
    "rule,message,column",
    [
        ("bilirbin >= 170 umol/L", "unknown name 'bilirbin' (did you mean bilirubin?)", 1),
        ("bilirubin >= 170 U/L", "unit mismatch", 14),
        ("sodium < 125", "has no unit", 10),
        ("age >= 18 years and", "syntax error", 20),
        ("condition(hiv, within 2 fortnights)", "syntax error at 'fortnights'", 25),
        ("condition(cirosis)", "unknown condition 'cirosis' (did you mean cirrhosis", 11),
        ("procedure(hiv)", "'hiv' is a condition", 11),
        ("bilirubin", "is a value, not a condition", 1),
        ("child_pugh.grade >= 2", "child_pugh has no attribute 'grade'", 12),
        ('child_pugh.class == "D"', "one of 'A', 'B', 'C'", 21),
        ("condition(hiv, severity >= mild)", "hiv has no severity", 16),
        ("medication(methadone)", "needs one attribute", 1),
        ("bilirubin >= creatinine", "not two patient values", 14),
        ("inr == 1.5", "compare with <, <=, >, >=", 8),
        ("age >= 18 kg", "unknown time unit", 8),
        ("bilirubin >= 2 * 3 mg/dL", "only 'number * ULN'", 14),
        ("import os", "syntax error", 8),
        ("__import__('os')", "unexpected character", 12),
    ],
)
def test_errors_name_criterion_and_position(rule, message, column):
    with pytest.raises(RuleError) as info:
        parse_rule(rule, "exc-9")
    text = str(info.value)
    assert text.startswith("criterion exc-9: rule position 1:")
    assert message in text
    assert info.value.column == column, text


def test_completed_years_match_the_calendar_cut_off_used_by_the_cohort_path():
    # age >= N years  <=>  birth date <= screening date - N calendar years (compiled form)
    from datetime import timedelta

    from trialdesk.protocol.rules import add_months, completed_months

    start = date(2007, 1, 1)
    for k in range(0, 3 * 366, 7):
        birth = start + timedelta(days=k)
        for on in (date(2026, 2, 28), date(2026, 3, 1), date(2028, 2, 29), date(2026, 11, 20)):
            years = completed_months(birth, on) // 12
            for n in (17, 18, 19, 20):
                assert (years >= n) == (birth <= add_months(on, -12 * n)), (birth, on, n)
