"""Erlang C against closed forms, exact arithmetic and the textbook staffing example."""

from __future__ import annotations

import math
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from acd.erlang import (
    agents_for_service_level,
    average_speed_of_answer,
    erlang_b,
    erlang_c,
    service_level,
    traffic,
)
from acd.errors import InvalidModel


def exact_erlang_c(n: int, a: Fraction) -> Fraction:
    """The defining formula, in exact rational arithmetic."""
    top = a**n / math.factorial(n) * Fraction(n) / (n - a)
    return top / (sum(a**k / math.factorial(k) for k in range(n)) + top)


def test_single_agent_waiting_probability_is_the_utilisation():
    for rho in (0.1, 0.5, 0.9):
        assert erlang_c(1, rho) == pytest.approx(rho)


def test_two_agents_match_the_closed_form():
    for a in (0.5, 1.0, 1.5):
        assert erlang_c(2, a) == pytest.approx(a * a / (2 + a))


def test_three_agents_two_erlangs_is_four_ninths():
    assert erlang_c(3, 2.0) == pytest.approx(4 / 9)


def test_erlang_b_textbook_value():
    # Erlang B: 5 lines, 3 Erlangs offered → 11.0 % blocked.
    assert erlang_b(5, 3.0) == pytest.approx(0.1101, abs=5e-5)


def test_textbook_staffing_example_100_calls_in_30_minutes_180_s_handle_time():
    rate, aht = 100 / 1800, 180.0
    assert traffic(rate, aht) == pytest.approx(10.0)
    # 14 agents: 17.4 % wait, 88.8 % answered within 20 s, ASA 7.8 s; 13 agents miss 80/20.
    assert erlang_c(14, 10.0) == pytest.approx(0.1741, abs=1e-4)
    assert service_level(14, rate, aht, 20) == pytest.approx(0.8883, abs=1e-4)
    assert average_speed_of_answer(14, rate, aht) == pytest.approx(7.84, abs=0.01)
    assert service_level(13, rate, aht, 20) < 0.8
    assert agents_for_service_level(rate, aht, 20, 0.8) == 14
    assert erlang_c(11, 10.0) == pytest.approx(0.6821, abs=1e-4)


@given(st.integers(1, 40), st.fractions(min_value=Fraction(1, 100), max_value=39))
def test_erlang_c_agrees_with_the_exact_formula(n, a):
    if a >= n:
        assert erlang_c(n, float(a)) == 1.0
    else:
        assert erlang_c(n, float(a)) == pytest.approx(float(exact_erlang_c(n, a)), rel=1e-9)


def test_overloaded_queue_waits_forever():
    assert erlang_c(5, 5.0) == 1.0
    assert service_level(5, 5 / 180, 180, 20) == 0.0
    assert average_speed_of_answer(5, 6 / 180, 180) == math.inf


def test_no_traffic_means_no_wait():
    assert erlang_c(3, 0.0) == 0.0
    assert average_speed_of_answer(3, 0.0, 180) == 0.0
    assert service_level(3, 0.0, 180, 20) == 1.0


def test_more_agents_never_hurt():
    levels = [service_level(n, 100 / 1800, 180, 20) for n in range(10, 25)]
    assert levels == sorted(levels)


def test_nonsense_inputs_are_refused():
    with pytest.raises(InvalidModel):
        erlang_c(-1, 1.0)
    with pytest.raises(InvalidModel):
        traffic(1.0, 0)
    with pytest.raises(InvalidModel):
        agents_for_service_level(1.0, 180, 20, 1.5)
