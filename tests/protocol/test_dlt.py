"""The DLT definition of NCT05227846 applied to adverse events (three-valued, with reasons)."""

from __future__ import annotations

from datetime import date

import pytest

from trialdesk.protocol import AdverseEventFacts, evaluate_dlt, load_protocol
from trialdesk.protocol.conduct import DltCriterion, EscalationPlan

DOSE = date(2026, 3, 10)  # study day 1; the 28-day window is 2026-03-10 .. 2026-04-06


@pytest.fixture(scope="module")
def plan() -> EscalationPlan:
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    return load_protocol(root / "protocols" / "NCT05227846" / "protocol.yaml").conduct.escalation


def ae(
    term="Hepatic failure",
    grade=3,
    onset=date(2026, 3, 20),
    related="possibly",
    serious=True,
    dose=DOSE,
):
    return AdverseEventFacts(term, grade, onset, related, serious, dose)


def test_related_grade_3_non_haematological_in_window_is_a_dlt(plan):
    a = evaluate_dlt(plan, ae())
    assert a.is_dlt is True and a.met_criteria == ("dlt-1",)
    assert "grade 3 >= 3" in a.reasons[0] and "study day 11" in a.reasons[0]
    assert (a.window_start, a.window_end) == (DOSE, date(2026, 4, 6))


def test_window_edges(plan):
    # study day 28 = 2026-04-06 is inside, day 29 is not (window = days 1-28)
    assert evaluate_dlt(plan, ae(onset=date(2026, 4, 6))).is_dlt is True
    late = evaluate_dlt(plan, ae(onset=date(2026, 4, 7)))
    assert late.is_dlt is False and "study day 29, after the DLT window" in " ".join(late.reasons)
    before = evaluate_dlt(plan, ae(onset=date(2026, 3, 9)))
    assert before.is_dlt is False and "before the infusion (study day -1)" in " ".join(
        before.reasons
    )


def test_grade_2_or_unrelated_is_not_a_dlt(plan):
    assert evaluate_dlt(plan, ae(grade=2)).is_dlt is False
    a = evaluate_dlt(plan, ae(related="unlikely"))
    assert a.is_dlt is False and "attribution 'unlikely' does not count" in " ".join(a.reasons)


def test_haematological_needs_grade_4(plan):
    # platelets: excluded from dlt-1, dlt-2 needs grade 4
    assert evaluate_dlt(plan, ae(term="thrombocytopenia", grade=3)).is_dlt is False
    a = evaluate_dlt(plan, ae(term="Platelet count decreased", grade=4))
    assert a.is_dlt is True and a.met_criteria == ("dlt-2",)


def test_infusion_reaction_grade_3_whatever_the_attribution(plan):
    a = evaluate_dlt(plan, ae(term="infusion reaction", grade=3, related="unrelated", onset=DOSE))
    assert a.is_dlt is True and "dlt-3" in a.met_criteria
    # not yet assessed attribution does not matter for dlt-3 either
    assert evaluate_dlt(plan, ae(term="IRR", grade=3, related="unknown")).is_dlt is True


def test_related_death_meets_dlt_4(plan):
    a = evaluate_dlt(plan, ae(grade=5, related="related"))
    assert a.is_dlt is True and {"dlt-1", "dlt-4"} <= set(a.met_criteria)


@pytest.mark.parametrize(
    "kw,needle",
    [
        ({"grade": None}, "grade not recorded"),
        ({"related": "unknown"}, "attribution not yet assessed"),
        ({"onset": None}, "onset date not recorded"),
        ({"dose": None}, "no infusion date"),
    ],
)
def test_missing_facts_give_unknown_never_false(plan, kw, needle):
    a = evaluate_dlt(plan, ae(**kw))
    assert a.is_dlt is None
    assert needle in " ".join(a.reasons)


def test_missing_fact_that_cannot_matter_still_decides(plan):
    # grade 2 fails every criterion, whatever the unknown attribution
    assert evaluate_dlt(plan, ae(grade=2, related="unknown")).is_dlt is False


def test_serious_condition_and_outside_window_criterion():
    crit = DltCriterion(
        "dlt-1", "Any related serious event", 1, ("related",), within_window=False, serious=True
    )
    plan = EscalationPlan("3+3", "DL1", 3, 6, 28, (crit,))
    assert evaluate_dlt(plan, ae(grade=1, related="related", onset=date(2027, 1, 1))).is_dlt
    assert evaluate_dlt(plan, ae(grade=1, related="related", serious=False)).is_dlt is False
    assert evaluate_dlt(plan, ae(grade=1, related="related", serious=None)).is_dlt is None


@pytest.mark.parametrize(
    "kw,message",
    [
        ({"grade": 6}, "grade: a CTCAE grade is 1 to 5, not 6"),
        ({"grade": 0}, "grade: a CTCAE grade is 1 to 5"),
        ({"related": "probably"}, "related: expected one of related, possibly"),
        ({"term": " "}, "term: an adverse event needs a CTCAE term"),
    ],
)
def test_bad_facts_are_refused(kw, message):
    with pytest.raises(ValueError, match=message):
        ae(**kw)


def test_to_dict(plan):
    d = evaluate_dlt(plan, ae()).to_dict()
    assert d["is_dlt"] is True and d["window_end"] == "2026-04-06"
    assert [c["id"] for c in d["criteria"]] == ["dlt-1", "dlt-2", "dlt-3", "dlt-4"]
