"""Properties that hold for any trial (Hypothesis draws the trials): every expected
participant is observed or missing with one reason, never both; the summaries agree with
NumPy; the safety counts add up (groups split "All", worst grades split a term, nobody is
counted who was not at risk); the flow never rises; the output does not depend on the
order the records come in."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trialdesk.analysis.endpoints import MISSING_REASONS, WINDOW_RULES, endpoint_table
from trialdesk.analysis.flow import participant_flow
from trialdesk.analysis.safety import ae_overview, by_relatedness, by_term
from trialdesk.analysis.synthetic import SCHEDULE, adverse_event, dataset, dose, participant, visit

TERMS = ("Fever", "Nausea", "Ascites", "Sepsis")
STATUSES = ("screening", "screen_failed", "eligible", "enrolled")


@st.composite
def trials(draw):
    n = draw(st.integers(0, 8))
    ps, doses, visits, aes = [], [], [], []
    for i in range(n):
        sid = f"P{i:02d}"
        status = draw(st.sampled_from(STATUSES))
        level = draw(st.sampled_from(("DL1", "DL2")))
        end = draw(st.sampled_from((None, "completed", "withdrawn", "died")))
        day1 = date(2026, 1, 1) + timedelta(days=draw(st.integers(0, 500)))
        enrolled = status == "enrolled"
        ps.append(
            participant(
                sid,
                status=status,
                dose_level=level,
                cohort=1 if level == "DL1" else 2,
                end_status=end if enrolled else None,
                end_date=day1 + timedelta(days=draw(st.integers(0, 400)))
                if enrolled and end
                else None,
            )  # fmt: skip
        )
        if not enrolled or not draw(st.booleans()):
            continue
        doses.append(dose(sid, day1, dose_level=level))
        for plan in SCHEDULE[1:]:
            if draw(st.integers(0, 3)) == 0:
                continue
            shift = draw(st.sampled_from((0, 0, -5, 20)))
            visits.append(
                visit(
                    sid,
                    plan.code,
                    day1 + timedelta(days=plan.target_day - 1 + shift),
                    meld=draw(st.one_of(st.none(), st.integers(6, 40))),
                    window_status="in_window" if shift == 0 else "late",
                )  # fmt: skip
            )
        for _ in range(draw(st.integers(0, 3))):
            aes.append(
                adverse_event(
                    sid,
                    draw(st.sampled_from(TERMS)),
                    draw(st.one_of(st.none(), st.integers(1, 5))),
                    day1 + timedelta(days=draw(st.integers(-3, 100))),
                    related=draw(st.sampled_from(("related", "unrelated", "unknown"))),
                    serious=draw(st.booleans()),
                )  # fmt: skip
            )
    return ps, doses, visits, aes


def build(records, reverse=False):
    ps, doses, visits, aes = (r[::-1] if reverse else r for r in records)
    return dataset(participants=ps, doses=doses, visits=visits, adverse_events=aes)


@settings(max_examples=60, deadline=None)
@given(trials(), st.sampled_from(WINDOW_RULES))
def test_endpoints_account_for_everyone(records, rule):
    ds = build(records)
    for r in endpoint_table(ds, ("meld",), by="dose_level", window_rule=rule):
        missing = tuple(m.subject_id for m in r.missing)
        assert sorted(r.observed + missing) == sorted(r.expected)
        assert not set(r.observed) & set(missing)
        assert {m.reason for m in r.missing} <= set(MISSING_REASONS)
        changes = np.array([o.change for o in r.observations])
        assert r.change.n == changes.size
        if changes.size:
            assert r.change.mean == pytest.approx(changes.mean())
            assert r.change.median == pytest.approx(np.median(changes))
        if changes.size >= 2:
            assert r.change.sd == pytest.approx(changes.std(ddof=1))
            assert r.change.ci_low <= r.change.mean <= r.change.ci_high
        assert (r.t_test.p_value is None) or 0.0 <= r.t_test.p_value <= 1.0
        assert (r.wilcoxon.p_value is None) or 0.0 <= r.wilcoxon.p_value <= 1.0


@settings(max_examples=60, deadline=None)
@given(trials())
def test_safety_counts_add_up(records):
    ds = build(records)
    dosed = {p.subject_id for p in ds.dosed()}
    for table in (ae_overview(ds), by_term(ds), by_relatedness(ds)):
        assert table.groups[0].subject_ids == tuple(sorted(dosed))
        assert sum(g.at_risk for g in table.groups[1:]) == len(dosed)
        for row in table.rows:
            everyone, *levels = row.cells
            assert set(everyone.subject_ids) <= dosed and everyone.n <= everyone.at_risk
            assert sum(c.n for c in levels) == everyone.n
            assert sum(c.events for c in levels) == everyone.events
            if row.label != "Deaths (all causes)":  # a death need not be a recorded AE
                assert everyone.events >= everyone.n
    for row in by_term(ds).rows:
        assert sum(d.cells[0].n for d in row.detail) == row.cells[0].n
        assert sum(d.cells[0].events for d in row.detail) == row.cells[0].events
    counts = [s.n for s in participant_flow(ds).stages]
    assert counts == sorted(counts, reverse=True) and counts[0] == len(ds.participants)


@settings(max_examples=30, deadline=None)
@given(trials())
def test_record_order_does_not_change_the_results(records):
    a, b = build(records), build(records, reverse=True)
    assert a == b
    assert endpoint_table(a, ("meld",), by="dose_level") == endpoint_table(
        b, ("meld",), by="dose_level"
    )
    assert ae_overview(a) == ae_overview(b) and by_term(a) == by_term(b)
    assert participant_flow(a) == participant_flow(b)
