"""Erlang C: the M/M/N queue a call centre is usually planned with. Pure.

Calls arrive at random (Poisson, ``arrival_rate`` per second), each keeps an agent busy for
an exponentially distributed time of mean ``handle_time_s``, and ``agents`` serve one queue
in which nobody abandons. The offered traffic is ``A = arrival_rate * handle_time_s``
Erlangs. With ``N > A`` agents:

* probability a caller waits ``C(N, A) = N·B / (N - A·(1 - B))`` where ``B`` is Erlang B,
  computed by the stable recursion ``B(0) = 1``, ``B(n) = A·B(n-1) / (n + A·B(n-1))``;
* service level (answered within ``t``) ``SL = 1 - C · exp(-(N - A) · t / AHT)``;
* average speed of answer ``ASA = C · AHT / (N - A)``.

With ``N ≤ A`` the queue grows without bound: ``C = 1``, ``SL = 0``, ``ASA = ∞``.
Real callers abandon, so real waits are shorter than these figures; the simulation
benchmark compares them with what the ACD achieves.
"""

from __future__ import annotations

import math

from acd.errors import InvalidModel


def _check(agents: int, traffic_erlangs: float) -> None:
    if agents < 0:
        raise InvalidModel(f"agents is {agents}; it cannot be negative")
    if traffic_erlangs < 0 or math.isnan(traffic_erlangs):
        raise InvalidModel(f"traffic is {traffic_erlangs} Erlangs; it must be 0 or more")


def traffic(arrival_rate_per_s: float, handle_time_s: float) -> float:
    """Offered traffic in Erlangs."""
    if arrival_rate_per_s < 0 or handle_time_s <= 0:
        raise InvalidModel(
            f"arrival rate {arrival_rate_per_s}/s and handle time {handle_time_s} s; "
            "the rate must be 0 or more and the handle time above 0"
        )
    return arrival_rate_per_s * handle_time_s


def erlang_b(agents: int, traffic_erlangs: float) -> float:
    """Blocking probability of ``agents`` lines offered ``traffic_erlangs``."""
    _check(agents, traffic_erlangs)
    b = 1.0
    for n in range(1, agents + 1):
        b = traffic_erlangs * b / (n + traffic_erlangs * b)
    return b


def erlang_c(agents: int, traffic_erlangs: float) -> float:
    """Probability that a caller has to wait."""
    _check(agents, traffic_erlangs)
    if traffic_erlangs == 0:
        return 0.0
    if agents <= traffic_erlangs:
        return 1.0
    b = erlang_b(agents, traffic_erlangs)
    return agents * b / (agents - traffic_erlangs * (1 - b))


def service_level(
    agents: int, arrival_rate_per_s: float, handle_time_s: float, target_s: float
) -> float:
    """Share of callers answered within ``target_s`` seconds."""
    a = traffic(arrival_rate_per_s, handle_time_s)
    if target_s < 0:
        raise InvalidModel(f"target {target_s} s; it must be 0 or more")
    if agents <= a and a > 0:
        return 0.0
    c = erlang_c(agents, a)
    return 1.0 - c * math.exp(-(agents - a) * target_s / handle_time_s)


def average_speed_of_answer(agents: int, arrival_rate_per_s: float, handle_time_s: float) -> float:
    """Mean wait in seconds over all callers (those who do not wait count as 0)."""
    a = traffic(arrival_rate_per_s, handle_time_s)
    if agents <= a and a > 0:
        return math.inf
    if a == 0:
        return 0.0
    return erlang_c(agents, a) * handle_time_s / (agents - a)


def agents_for_service_level(
    arrival_rate_per_s: float,
    handle_time_s: float,
    target_s: float,
    service_level_goal: float,
    *,
    max_agents: int = 10_000,
) -> int:
    """The fewest agents that reach ``service_level_goal`` (e.g. 0.8 for 80 % in
    ``target_s``)."""
    if not 0 < service_level_goal < 1:
        raise InvalidModel(f"service level goal {service_level_goal}; use a share in (0, 1)")
    a = traffic(arrival_rate_per_s, handle_time_s)
    n = max(1, math.floor(a) + 1)
    while n <= max_agents:
        if service_level(n, arrival_rate_per_s, handle_time_s, target_s) >= service_level_goal:
            return n
        n += 1
    raise InvalidModel(
        f"more than {max_agents} agents would be needed for {a:.1f} Erlangs; "
        "check the arrival rate and handle time units (per second, seconds)"
    )
