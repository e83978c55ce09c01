"""The ACD in a queue simulation against the Erlang C prediction for the same load.

    .venv/bin/python bench/acd_service_level.py [--hours 200] [--seed 7]

A discrete-event simulation of one queue staffed by N agents: callers arrive at random
(Poisson), each keeps an agent busy for an exponentially distributed handle time, nobody
abandons, and no wrap-up — exactly Erlang C's M/M/N model. Every routing decision is the
product's own pure ``acd.routing.route`` over the live queue and agent state, so the
simulation measures Hotline's ACD, not a textbook queue. For each staffing it prints the
simulated service level (answered within the target) and average speed of answer next to
what Erlang C predicts; agreement says the ACD neither loses nor starves callers.

A second run mixes VIP and chronic-care callers (15 %) into the same load to show what the
priority costs everybody else — something Erlang C cannot predict.
"""

from __future__ import annotations

import argparse
import heapq
import random
import sys
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from figures import Figure, machine, report

from acd.erlang import average_speed_of_answer, service_level, traffic
from acd.model import Agent, AgentState, PriorityClass, Queue, WaitingCall
from acd.routing import route

EPOCH = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)
QUEUE = Queue("appointments", "appointments", "zh", service_level_target_s=20.0, wrap_up_s=0)


@dataclass
class Outcome:
    waits: dict[PriorityClass, list[float]]

    def all_waits(self) -> list[float]:
        return [w for waits in self.waits.values() for w in waits]


def idle_agents(agents_n: int) -> dict[str, Agent]:
    """``agents_n`` agents for QUEUE, all available since the simulation's start."""
    return {
        f"agent{i:03d}": Agent(
            f"agent{i:03d}",
            skills={"appointments": 3},
            languages={"zh": 5},
            state=AgentState.AVAILABLE,
            state_since=EPOCH,
        )
        for i in range(agents_n)
    }


def simulate(
    agents_n: int,
    arrival_rate: float,
    handle_s: float,
    seconds: float,
    rng: random.Random,
    priority_share: float = 0.0,
) -> Outcome:
    """Run the queue for ``seconds`` of simulated time; the waits of the callers served."""
    agents = idle_agents(agents_n)
    waiting: dict[str, WaitingCall] = {}
    events: list[tuple[float, int, str, str]] = []  # (time, seq, kind, id)
    seq = 0
    t = rng.expovariate(arrival_rate)
    heapq.heappush(events, (t, seq, "arrive", ""))
    waits: dict[PriorityClass, list[float]] = {c: [] for c in PriorityClass}
    warm_up = seconds * 0.05  # an empty centre at 08:00 is not the steady state
    while events:
        now_s, _, kind, ident = heapq.heappop(events)
        if now_s > seconds:
            break
        now = EPOCH + timedelta(seconds=now_s)
        if kind == "arrive":
            seq += 1
            roll = rng.random()
            priority = PriorityClass.NORMAL
            if roll < priority_share:
                priority = PriorityClass.VIP if roll < priority_share / 3 else PriorityClass.CHRONIC
            call = WaitingCall.arrive(
                QUEUE, call_id=f"c{seq}", channel=f"Local/c{seq}", now=now, sequence=seq
            )
            waiting[call.call_id] = replace(call, priority=priority)
            heapq.heappush(events, (now_s + rng.expovariate(arrival_rate), seq, "arrive", ""))
        else:  # "end": the agent is free again
            agent = agents[ident]
            agents[ident] = replace(
                agent, state=AgentState.AVAILABLE, state_since=now, current_call_id=None
            )
        for assignment in route({QUEUE.name: QUEUE}, waiting.values(), agents.values(), now):
            call = waiting.pop(assignment.call_id)
            agent = agents[assignment.agent_id]
            agents[agent.id] = replace(
                agent, state=AgentState.ON_CALL, state_since=now, current_call_id=call.call_id
            )
            if now_s >= warm_up:
                waits[call.priority].append((now - call.enqueued_at).total_seconds())
            seq += 1
            heapq.heappush(events, (now_s + rng.expovariate(1 / handle_s), seq, "end", agent.id))
    return Outcome(waits)


def share_within(waits: list[float], target_s: float) -> float:
    return sum(w <= target_s for w in waits) / len(waits)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--hours", type=float, default=200.0, help="simulated hours per case")
    parser.add_argument("--calls-per-hour", type=float, default=240.0)
    parser.add_argument("--handle-s", type=float, default=180.0)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    rate = args.calls_per_hour / 3600
    erlangs = traffic(rate, args.handle_s)
    target = QUEUE.service_level_target_s
    print(f"machine: {machine()}")
    print(
        f"workload: {args.calls_per_hour:.0f} calls/h, handle time {args.handle_s:.0f} s "
        f"(exponential) = {erlangs:.1f} Erlangs; {args.hours:.0f} simulated hours per case; "
        f"service level = answered within {target:.0f} s; no abandonment, no wrap-up"
    )
    print(
        f"{'agents':>6} {'calls':>7} {'SL sim':>8} {'SL Erlang C':>12} {'ASA sim':>9} {'ASA C':>8}"
    )
    worst_gap = 0.0
    for agents_n in range(int(erlangs) + 1, int(erlangs) + 5):
        outcome = simulate(
            agents_n, rate, args.handle_s, args.hours * 3600, random.Random(args.seed)
        )
        waits = outcome.all_waits()
        sl_sim = share_within(waits, target)
        sl_c = service_level(agents_n, rate, args.handle_s, target)
        asa_sim = sum(waits) / len(waits)
        asa_c = average_speed_of_answer(agents_n, rate, args.handle_s)
        worst_gap = max(worst_gap, abs(sl_sim - sl_c))
        print(
            f"{agents_n:>6} {len(waits):>7} {sl_sim:>8.1%} {sl_c:>12.1%} "
            f"{asa_sim:>8.1f}s {asa_c:>7.1f}s"
        )
        if agents_n == int(erlangs) + 2:
            report(
                Figure(
                    "acd_service_level_sim",
                    sl_sim * 100,
                    "%",
                    f"{agents_n} agents, {erlangs:.1f} Erlangs, answered within {target:.0f} s, "
                    f"{len(waits):,} simulated calls through acd.routing.route",
                    baseline=f"Erlang C predicts {sl_c:.1%} for the same load and staffing",
                )
            )
    report(
        Figure(
            "acd_service_level_gap_vs_erlang_c",
            worst_gap * 100,
            "percentage points",
            f"largest |simulated - Erlang C| service level over "
            f"{int(erlangs) + 1}..{int(erlangs) + 4} agents",
        )
    )
    agents_n = int(erlangs) + 2
    mixed = simulate(
        agents_n, rate, args.handle_s, args.hours * 3600, random.Random(args.seed), 0.15
    )
    print(f"\nwith 15 % VIP / chronic-care callers, {agents_n} agents:")
    for priority in (PriorityClass.VIP, PriorityClass.CHRONIC, PriorityClass.NORMAL):
        waits = mixed.waits[priority]
        print(
            f"  {priority.value:<8} {len(waits):>6} calls  SL {share_within(waits, target):6.1%}  "
            f"ASA {sum(waits) / len(waits):6.1f} s"
        )


if __name__ == "__main__":
    main()
