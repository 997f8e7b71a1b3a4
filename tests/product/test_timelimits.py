"""Time limits from the protocol: the listing's 24 h from delivery to processing, expiry."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from trialdesk.product.timelimits import TimeLimitError, check_time_limit, expiry
from trialdesk.protocol import load_protocol
from trialdesk.protocol.cellproduct import TimeLimit

ROOT = Path(__file__).resolve().parents[2]
PLAN = load_protocol(ROOT / "protocols" / "NCT05331872" / "protocol.yaml").cell_product
DELIVERY = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)


def test_processing_started_at_25_hours_is_flagged_as_the_protocol_says():
    # NCT05331872: "processed with[in] 24 hours after vaginal delivery".
    limit = PLAN.time_limit("delivery_to_processing")
    check = check_time_limit(limit, DELIVERY, DELIVERY + timedelta(hours=25))
    assert not check.ok
    assert check.elapsed == timedelta(hours=25)
    assert check.on_breach == "deviation" and check.is_deviation and not check.blocks
    assert "exceeds the limit of 24 h by 1 h 00 min" in check.message
    assert "recorded as a deviation" in check.message


def test_exactly_24_hours_is_within_and_one_second_more_is_not():
    limit = PLAN.time_limit("delivery_to_processing")
    assert check_time_limit(limit, DELIVERY, DELIVERY + timedelta(hours=24)).ok
    assert not check_time_limit(limit, DELIVERY, DELIVERY + timedelta(hours=24, seconds=1)).ok


def test_a_block_limit_blocks():
    limit = TimeLimit("t", "thaw", "infusion_start", Decimal("1.5"), "block")
    check = check_time_limit(limit, DELIVERY, DELIVERY + timedelta(minutes=91))
    assert check.blocks and "the step is blocked" in check.message
    assert check_time_limit(limit, DELIVERY, DELIVERY + timedelta(minutes=90)).ok


def test_elapsed_time_is_real_time_across_a_daylight_saving_change():
    # Europe/Berlin moved from CET (+01) to CEST (+02) at 02:00 on 29 March 2026: 12:00 to
    # 12:00 the next day on the wall clock is 23 real hours.
    berlin = ZoneInfo("Europe/Berlin")
    limit = PLAN.time_limit("delivery_to_processing")
    check = check_time_limit(
        limit, datetime(2026, 3, 28, 12, tzinfo=berlin), datetime(2026, 3, 29, 12, tzinfo=berlin)
    )
    assert check.elapsed == timedelta(hours=23) and check.ok
    # ...and in October (CEST -> CET), 12:00 to 11:30 the next day is 24 h 30 min.
    late = check_time_limit(
        limit,
        datetime(2026, 10, 24, 12, tzinfo=berlin),
        datetime(2026, 10, 25, 11, 30, tzinfo=berlin),
    )
    assert late.elapsed == timedelta(hours=24, minutes=30) and not late.ok


def test_expiry_is_preparation_plus_the_plans_limit():
    prepared = datetime(2026, 3, 2, 9, 15, tzinfo=UTC)
    assert PLAN.expiry_limit.hours == Decimal(6)
    assert expiry(prepared, PLAN) == datetime(2026, 3, 2, 15, 15, tzinfo=UTC)


def test_bad_times_are_refused_naming_the_step():
    limit = PLAN.time_limit("delivery_to_processing")
    with pytest.raises(TimeLimitError, match="start of processing .* is before delivery"):
        check_time_limit(limit, DELIVERY, DELIVERY - timedelta(minutes=1))
    with pytest.raises(TimeLimitError, match="delivery of the baby .*has no time zone"):
        check_time_limit(limit, datetime(2026, 3, 1, 8), DELIVERY)
    with pytest.raises(TimeLimitError, match="expected a date and time"):
        check_time_limit(limit, DELIVERY, "tomorrow")
    with pytest.raises(TimeLimitError, match="expiry: .*no time zone"):
        expiry(datetime(2026, 3, 1), PLAN)


def test_fractional_hours_are_exact():
    limit = TimeLimit("t", "thaw", "infusion_start", Decimal("0.1"), "block")
    assert limit.duration == timedelta(minutes=6)
    assert check_time_limit(limit, DELIVERY, DELIVERY + timedelta(minutes=6)).ok
    assert not check_time_limit(limit, DELIVERY, DELIVERY + timedelta(minutes=6, microseconds=1)).ok
