"""How wrong the expected wait a caller hears is: the product's estimator in a queue
simulation, each estimate checked against the wait the caller then had.

    .venv/bin/python bench/acd_expected_wait.py [--hours 100] [--seed 7]

One queue, N agents, Poisson arrivals, exponential handle times, no abandonment (the
M/M/N load of bench/acd_service_level.py). Routing is ``acd.routing.route``; when a caller
arrives, the estimate is ``acd.routing.expected_wait`` over the live queue state with the
service's running average handle time (``HandleTimeAverage``, updated as calls end) —
what the ACD would tell that caller. The actual wait runs to the moment an agent is
offered the call. Errors are reported by ``acd.wait_error.wait_error`` (the function the
journal uses over stored calls): mean absolute error and bias (positive: callers waited
longer than told), over every caller and over callers who would be told (estimate
>= 60 s, as acd.announcements decides).
"""

from __future__ import annotations

import argparse
import heapq
import random
import sys
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from acd_service_level import EPOCH, QUEUE, idle_agents
from figures import Figure, machine, report

from acd.announcements import AnnouncementPolicy
from acd.erlang import traffic
from acd.model import AgentState, WaitingCall
from acd.routing import HandleTimeAverage, expected_wait, queue_states, route
from acd.wait_error import WaitErrorReport, wait_error


def simulate(
    agents_n: int, arrival_rate: float, handle_s: float, seconds: float, rng: random.Random
) -> list[tuple[float, float]]:
    """``(estimate_s, actual_s)`` of every caller served after the warm-up."""
    agents = idle_agents(agents_n)
    queues = {QUEUE.name: QUEUE}
    waiting: dict[str, WaitingCall] = {}
    told: dict[str, float] = {}
    started: dict[str, float] = {}  # agent -> when their current call began
    average = HandleTimeAverage(mean_s=handle_s)
    pairs: list[tuple[float, float]] = []
    events: list[tuple[float, int, str, str]] = []
    seq = 0
    heapq.heappush(events, (rng.expovariate(arrival_rate), seq, "arrive", ""))
    warm_up = seconds * 0.05
    while events:
        now_s, _, kind, ident = heapq.heappop(events)
        if now_s > seconds:
            break
        now = EPOCH + timedelta(seconds=now_s)
        if kind == "arrive":
            seq += 1
            call = WaitingCall.arrive(
                QUEUE, call_id=f"c{seq}", channel=f"Local/c{seq}", now=now, sequence=seq
            )
            waiting[call.call_id] = call
            state = queue_states(
                queues, waiting.values(), agents.values(), {QUEUE.name: average.mean_s}
            )[QUEUE.name]
            told[call.call_id] = expected_wait(QUEUE, state, now, call_id=call.call_id)
            heapq.heappush(events, (now_s + rng.expovariate(arrival_rate), seq, "arrive", ""))
        else:
            agent = agents[ident]
            average = average.add(now_s - started.pop(ident))
            agents[ident] = replace(
                agent, state=AgentState.AVAILABLE, state_since=now, current_call_id=None
            )
        for assignment in route(queues, waiting.values(), agents.values(), now):
            call = waiting.pop(assignment.call_id)
            agent = agents[assignment.agent_id]
            agents[agent.id] = replace(
                agent, state=AgentState.ON_CALL, state_since=now, current_call_id=call.call_id
            )
            started[agent.id] = now_s
            estimate = told.pop(call.call_id)
            if now_s >= warm_up:
                pairs.append((estimate, (now - call.enqueued_at).total_seconds()))
            seq += 1
            heapq.heappush(events, (now_s + rng.expovariate(1 / handle_s), seq, "end", agent.id))
    return pairs


def line(label: str, result: WaitErrorReport) -> str:
    return (
        f"  {label:<28} {result.calls:>7} calls  MAE {result.mean_absolute_error_s:6.1f} s  "
        f"bias {result.bias_s:+6.1f} s"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--hours", type=float, default=100.0, help="simulated hours per case")
    parser.add_argument("--calls-per-hour", type=float, default=240.0)
    parser.add_argument("--handle-s", type=float, default=180.0)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    rate = args.calls_per_hour / 3600
    erlangs = traffic(rate, args.handle_s)
    told_from = AnnouncementPolicy().min_wait_s
    print(f"machine: {machine()}")
    print(
        f"workload: {args.calls_per_hour:.0f} calls/h, handle time {args.handle_s:.0f} s "
        f"(exponential) = {erlangs:.1f} Erlangs; {args.hours:.0f} simulated hours per case; "
        "estimate at arrival vs wait until the offer"
    )
    for agents_n in range(int(erlangs) + 1, int(erlangs) + 4):
        pairs = simulate(agents_n, rate, args.handle_s, args.hours * 3600, random.Random(args.seed))
        everyone = wait_error(pairs)
        would_hear = wait_error((t, a) for t, a in pairs if t >= told_from)
        print(f"{agents_n} agents:")
        print(line("every caller", everyone))
        print(line(f"told (estimate >= {told_from:.0f} s)", would_hear))
        if agents_n == int(erlangs) + 1:
            workload = (
                f"{agents_n} agents, {erlangs:.1f} Erlangs, {would_hear.calls:,} simulated "
                f"callers whose estimate (>= {told_from:.0f} s) would be announced"
            )
            report(
                Figure(
                    "acd_expected_wait_mae",
                    would_hear.mean_absolute_error_s,
                    "s",
                    workload,
                    baseline=f"over every caller: {everyone.mean_absolute_error_s:.1f} s",
                )
            )
            report(Figure("acd_expected_wait_bias", would_hear.bias_s, "s", workload))


if __name__ == "__main__":
    main()
