"""The circuit breaker's state machine, on a clock the test moves by hand."""

from __future__ import annotations

import pytest

from services.triage.sources.http import BreakerState, CircuitBreaker


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def breaker(clock: Clock) -> CircuitBreaker:
    return CircuitBreaker(failures=3, reset_s=30, clock=clock)


def state_of(breaker: CircuitBreaker) -> BreakerState:
    """The state read afresh: it moves with the clock or a call, which mypy cannot
    see, so a second assert on `breaker.state` would meet the first one's narrowing."""
    return breaker.state


def fail(breaker: CircuitBreaker, times: int) -> None:
    for _ in range(times):
        assert breaker.allow()
        breaker.record_failure()


class TestClosed:
    def test_starts_closed_and_allows_calls(self, breaker: CircuitBreaker):
        assert breaker.state is BreakerState.closed
        assert breaker.allow()

    def test_stays_closed_below_the_threshold(self, breaker: CircuitBreaker):
        fail(breaker, 2)
        assert breaker.state is BreakerState.closed
        assert breaker.allow()

    def test_a_success_resets_the_count_of_consecutive_failures(
        self, breaker: CircuitBreaker
    ):
        fail(breaker, 2)
        breaker.record_success()
        fail(breaker, 2)
        assert breaker.state is BreakerState.closed


class TestOpen:
    def test_opens_after_n_consecutive_failures(self, breaker: CircuitBreaker):
        fail(breaker, 3)
        assert breaker.state is BreakerState.open
        assert not breaker.allow()

    def test_stays_open_until_the_reset_time_has_passed(
        self, breaker: CircuitBreaker, clock: Clock
    ):
        fail(breaker, 3)
        clock.now += 29.9
        assert breaker.state is BreakerState.open
        assert not breaker.allow()


class TestHalfOpen:
    @pytest.fixture
    def half_open(self, breaker: CircuitBreaker, clock: Clock) -> CircuitBreaker:
        fail(breaker, 3)
        clock.now += 30
        assert breaker.state is BreakerState.half_open
        return breaker

    def test_lets_one_probe_through_and_holds_the_rest(self, half_open: CircuitBreaker):
        assert half_open.allow()
        assert not half_open.allow()

    def test_a_successful_probe_closes_it(self, half_open: CircuitBreaker):
        assert half_open.allow()
        half_open.record_success()
        assert half_open.state is BreakerState.closed
        assert half_open.allow()

    def test_a_failed_probe_opens_it_for_another_reset_period(
        self, half_open: CircuitBreaker, clock: Clock
    ):
        assert half_open.allow()
        half_open.record_failure()
        assert half_open.state is BreakerState.open
        clock.now += 29.9
        assert not half_open.allow()
        clock.now += 0.1
        assert state_of(half_open) is BreakerState.half_open

    def test_a_probe_that_never_reports_back_does_not_wedge_it(
        self, half_open: CircuitBreaker, clock: Clock
    ):
        assert half_open.allow()
        clock.now += 30
        assert half_open.allow()

    def test_after_closing_it_needs_n_failures_again(self, half_open: CircuitBreaker):
        assert half_open.allow()
        half_open.record_success()
        fail(half_open, 2)
        assert half_open.state is BreakerState.closed
        fail(half_open, 1)
        assert state_of(half_open) is BreakerState.open
