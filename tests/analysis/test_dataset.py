"""The dataset values (pure core): stable order whatever the input order, contract checks
with errors that name the record, and the synthetic builders."""

from __future__ import annotations

from dataclasses import FrozenInstanceError
from datetime import date, datetime

import pytest

from trialdesk.analysis.dataset import Criterion, DatasetError
from trialdesk.analysis.synthetic import adverse_event, dataset, dose, participant, visit


def _records():
    ps = [participant("P02"), participant("P01"), participant("S-9", status="screen_failed")]
    ds = [dose("P02", date(2026, 2, 1)), dose("P01", date(2026, 1, 5))]
    vs = [
        visit("P01", "M3", date(2026, 4, 5), meld=12),
        visit("P02", "D1", date(2026, 2, 1), meld=20),
        visit("P01", "D1", date(2026, 1, 5), meld=15),
    ]
    aes = [adverse_event("P02", "Fever", 1, date(2026, 2, 2)),
           adverse_event("P01", "Fever", 2, date(2026, 1, 6))]  # fmt: skip
    return ps, ds, vs, aes


def test_order_is_stable_and_study_days_follow_the_first_dose():
    ps, ds, vs, aes = _records()
    a = dataset(participants=ps, doses=ds, visits=vs, adverse_events=aes)
    b = dataset(participants=ps[::-1], doses=ds[::-1], visits=vs[::-1], adverse_events=aes[::-1])
    assert a == b
    assert [p.subject_id for p in a.participants] == ["P01", "P02", "S-9"]
    assert [(v.subject_id, v.code, v.study_day) for v in a.visits] == [
        ("P01", "D1", 1),
        ("P01", "M3", 91),  # 2026-01-05 + 90 days = 2026-04-05: study day 91
        ("P02", "D1", 1),
    ]
    assert [p.subject_id for p in a.enrolled()] == ["P01", "P02"]
    assert [p.subject_id for p in a.dosed()] == ["P01", "P02"]
    assert a.first_dose_date("P02") == date(2026, 2, 1) and a.first_dose_date("S-9") is None
    assert a.visit("P01", "M3").scores.meld == 12 and a.visit("P01", "M6") is None
    assert a.baseline_code == "D1"
    with pytest.raises(FrozenInstanceError):
        a.participants = ()  # type: ignore[misc]


def test_contract_checks_name_the_record():
    with pytest.raises(DatasetError, match="visit of unknown subject P03"):
        dataset(participants=[participant("P01")], visits=[visit("P03", "D1", date(2026, 1, 1))])
    with pytest.raises(DatasetError, match="duplicate subject ids P01"):
        dataset(participants=[participant("P01"), participant("P01")])
    with pytest.raises(DatasetError, match="dose level 'DL9'"):
        dataset(participants=[participant("P01", dose_level="DL9")])
    with pytest.raises(DatasetError, match="consented_at: expected a timezone-aware"):
        participant("P01", consented_at=datetime(2026, 1, 1, 9, 0))
    with pytest.raises(DatasetError, match="P01: grade 7"):
        adverse_event("P01", "Fever", 7, date(2026, 1, 1))
    with pytest.raises(DatasetError, match="end_status 'lost'"):
        participant("P01", end_status="lost")


def test_criterion_excludes_reads_the_kind():
    assert Criterion("inc-1", "inclusion", "", "not met").excludes
    assert Criterion("exc-9", "exclusion", "", "met").excludes
    assert not Criterion("exc-9", "exclusion", "", "not met").excludes
    assert not Criterion("inc-1", "inclusion", "", "unknown").excludes
    p = participant("S-1", status="screen_failed",
                    criteria=[Criterion("exc-9", "exclusion", "Na < 125", "met"),
                              Criterion("inc-1", "inclusion", "cirrhosis", "met")])  # fmt: skip
    assert p.failed_criteria == ("exc-9",)
