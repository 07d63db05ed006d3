"""Frequently missing: N or more missing episodes in the last D days, the bounds
restated by hand."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from services.records.frequency import FrequentlyMissing

AT = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)


def test_three_in_ninety_days_by_default():
    rule = FrequentlyMissing()
    starts = [AT - timedelta(days=90), AT - timedelta(days=10), AT]
    assert rule.counted(starts, AT) == 3 and rule.applies(3)
    assert not rule.applies(2)


def test_a_start_older_than_the_window_is_not_counted():
    rule = FrequentlyMissing(episodes=2, days=30)
    starts = [AT - timedelta(days=30, seconds=1), AT - timedelta(days=1)]
    assert rule.counted(starts, AT) == 1 and not rule.applies(1)
