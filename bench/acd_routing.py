"""Benchmark: one ACD routing decision (acd.routing.route) with 500 agents and 50 queues,
against the obvious full-scan implementation of the same rules in the same run.

    .venv/bin/python bench/acd_routing.py
    .venv/bin/python bench/acd_routing.py --agents 1000 --queues 100 --samples 5000

A *decision* is one call of ``route`` on the whole state, made when something changes.
Three workloads, each on a seeded random call centre (25 skills x 2 languages = 50 queues;
each agent holds 2-4 skills at levels 1-5 and one or two languages; callers are 80 %
normal, 10 % chronic, 7 % VIP, 3 % urgent, a fifth of them returning patients with a last
agent, 5 % waiting for a callback):

* ``peak``: 80 % of agents busy, 8 % paused, the rest logged out or free, and
  ``--waiting`` callers queued where nobody free can take them (the state the ACD settles
  in); the event is one busy agent becoming free. Usually 0-1 assignments.
* ``quiet``: a third of the agents free, one caller arrives. One assignment.
* ``burst``: the morning log-in: ``--waiting`` callers queued and a fifth of the agents
  free at once; one decision makes dozens of assignments.

Each sample's answer is checked against the full-scan reference (tests/acd/
reference_routing.py); the reference's timings are the baseline.

Each decision is timed on the thread's CPU clock (its wall time is printed too). A decision
takes 0.1-0.3 ms, so a workload's 2,000 samples last well under a second: on a shared
machine a few scheduler preemptions of 5-10 ms land inside timed samples and *become* the
p99 (a committed run showed quiet p99 9 ms; re-run, 0.26 ms wall and the same on the CPU
clock). The CPU clock still counts the router's own slow paths (GC included), but not
time the machine gave to other processes. Target (DESIGN.md):
p99 ≤ 1 ms per decision with 500 agents and 50 queues.
"""

from __future__ import annotations

import argparse
import gc
import random
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from figures import Figure, at_most, machine, percentile, report  # noqa: E402

from acd.model import Agent, AgentState, PriorityClass, Queue, WaitingCall  # noqa: E402
from acd.routing import Assignment, route  # noqa: E402
from tests.acd.reference_routing import naive_route  # noqa: E402

T0 = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
LANGUAGES = ("zh", "en")
BUSY = (AgentState.ON_CALL, AgentState.ON_CALL, AgentState.ON_CALL, AgentState.WRAP_UP)
Router = Callable[
    [dict[str, Queue], Sequence[WaitingCall], Sequence[Agent], datetime], list[Assignment]
]


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def make_queues(n: int) -> dict[str, Queue]:
    skills = max(1, n // len(LANGUAGES))
    queues = [
        Queue(f"q{s:02d}-{lang}", f"skill{s:02d}", lang, min_skill_level=1 + (s % 3 == 0))
        for s in range(skills)
        for lang in LANGUAGES
    ][:n]
    return {q.name: q for q in queues}


def make_agents(rng: random.Random, n: int, queues: dict[str, Queue]) -> list[Agent]:
    skills = sorted({q.skill for q in queues.values()})
    agents = []
    for i in range(n):
        langs = {"zh": rng.randint(3, 5)}
        if rng.random() < 0.35:
            langs["en"] = rng.randint(1, 5)
        agents.append(
            Agent(
                id=f"agent{i:04d}",
                skills={s: rng.randint(1, 5) for s in rng.sample(skills, rng.randint(2, 4))},
                languages=langs,
                state=AgentState.AVAILABLE,
                state_since=at(-rng.uniform(0, 600)),
                last_call_ended_at=at(-rng.uniform(600, 3600)),
            )
        )
    return agents


def set_states(
    rng: random.Random, agents: list[Agent], free_share: float, busy_share: float
) -> list[Agent]:
    out = []
    for i, agent in enumerate(agents):
        r = rng.random()
        if r < free_share:
            out.append(agent)
        elif r < free_share + busy_share:
            state = rng.choice(BUSY)
            out.append(replace(agent, state=state, current_call_id=f"busy{i}"))
        elif r < free_share + busy_share + 0.08:
            out.append(replace(agent, state=AgentState.PAUSED, pause_reason="break"))
        else:
            out.append(replace(agent, state=AgentState.LOGGED_OUT, state_since=None))
    return out


def make_calls(
    rng: random.Random, n: int, queues: dict[str, Queue], agents: list[Agent], start: int = 0
) -> list[WaitingCall]:
    names = sorted(queues)
    weights = [3.0 if i % 5 == 0 else 1.0 for i in range(len(names))]  # some queues busier
    classes = rng.choices(
        list(PriorityClass), weights=[3, 7, 10, 80], k=n
    )  # URGENT, VIP, CHRONIC, NORMAL
    calls = []
    for j in range(n):
        q = queues[rng.choices(names, weights)[0]]
        callback = rng.random() < 0.05
        calls.append(
            WaitingCall(
                call_id=f"call{start + j:06d}",
                queue=q.name,
                enqueued_at=at(-rng.uniform(0, 400)),
                skill=q.skill,
                language=q.language,
                priority=classes[j],
                sequence=start + j,
                last_agent_id=rng.choice(agents).id if rng.random() < 0.2 else None,
                channel=None if callback else f"PJSIP/trunk-{start + j:06d}",
                callback_requested=callback,
                callback_number="+8613800138000" if callback else None,
            )
        )
    return calls


def settle(
    queues: dict[str, Queue], calls: list[WaitingCall], agents: list[Agent]
) -> tuple[list[WaitingCall], list[Agent]]:
    """Apply routing until nothing more can be assigned: the state a running ACD is in."""
    assignments = route(queues, calls, agents, T0)
    given = {a.agent_id: a.call_id for a in assignments}
    served = set(given.values())
    agents = [
        replace(a, state=AgentState.RINGING, current_call_id=given[a.id]) if a.id in given else a
        for a in agents
    ]
    return [c for c in calls if c.call_id not in served], agents


def measure(
    router: Router,
    cases: list[tuple[list[WaitingCall], list[Agent]]],
    queues: dict[str, Queue],
) -> tuple[list[float], list[float], list[list[Assignment]]]:
    """Each case's decision: its CPU time and wall time (ms), and its answer."""
    cpu: list[float] = []
    wall: list[float] = []
    results: list[list[Assignment]] = []
    gc.collect()
    for calls, agents in cases:
        start_cpu, start = time.thread_time_ns(), time.perf_counter_ns()
        result = router(queues, calls, agents, T0)
        wall.append((time.perf_counter_ns() - start) / 1e6)
        cpu.append((time.thread_time_ns() - start_cpu) / 1e6)
        results.append(result)
    return cpu, wall, results


def workload(
    name: str, rng: random.Random, args: argparse.Namespace, queues: dict[str, Queue]
) -> list[tuple[list[WaitingCall], list[Agent]]]:
    base = make_agents(rng, args.agents, queues)
    cases = []
    if name == "peak":
        agents = set_states(rng, base, free_share=0.06, busy_share=0.80)
        calls = make_calls(rng, args.waiting * 2, queues, agents)
        calls, agents = settle(queues, calls, agents)
        calls = calls[: args.waiting]
        busy = [i for i, a in enumerate(agents) if a.state in BUSY]
        for _ in range(args.samples):
            i = rng.choice(busy)
            freed = replace(
                agents[i], state=AgentState.AVAILABLE, state_since=T0, current_call_id=None
            )
            cases.append((calls, [*agents[:i], freed, *agents[i + 1 :]]))
    elif name == "quiet":
        agents = set_states(rng, base, free_share=0.33, busy_share=0.50)
        for k in range(args.samples):
            cases.append((make_calls(rng, 1, queues, agents, start=k), agents))
    elif name == "burst":
        for k in range(max(1, args.samples // 10)):
            agents = set_states(rng, base, free_share=0.20, busy_share=0.0)
            cases.append((make_calls(rng, args.waiting, queues, agents, start=k * 10_000), agents))
    return cases


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--agents", type=int, default=500)
    parser.add_argument("--queues", type=int, default=50)
    parser.add_argument("--waiting", type=int, default=150, help="callers queued (peak, burst)")
    parser.add_argument("--samples", type=int, default=2000, help="decisions per workload")
    parser.add_argument("--baseline-samples", type=int, default=300)
    parser.add_argument("--seed", type=int, default=5)
    args = parser.parse_args()

    print("ACD routing decision benchmark (times: CPU ms per decision)")
    print(f"machine: {machine()}")
    print(
        f"workload: {args.agents} agents, {args.queues} queues, {args.waiting} callers queued "
        f"(peak/burst), seed {args.seed}"
    )
    queues = make_queues(args.queues)
    header = (
        f"{'workload':<8} {'impl':<10} {'decisions':>9} {'assigned':>9} "
        f"{'p50 ms':>8} {'p99 ms':>8} {'max ms':>8}"
    )
    print(header)
    print("-" * len(header))
    for name in ("peak", "quiet", "burst"):
        rng = random.Random(f"{args.seed}-{name}")
        cases = workload(name, rng, args, queues)
        fast_times, fast_wall, fast_results = measure(route, cases, queues)
        base_cases = cases[: max(1, min(len(cases), args.baseline_samples))]
        naive_times, _, naive_results = measure(naive_route, base_cases, queues)
        mismatches = sum(1 for a, b in zip(fast_results, naive_results, strict=False) if a != b)
        if mismatches:
            raise SystemExit(f"{name}: route and the reference disagree on {mismatches} cases")
        for impl, times, results in (
            ("indexed", fast_times, fast_results),
            ("full-scan", naive_times, naive_results),
        ):
            assigned = sum(len(r) for r in results) / len(results)
            print(
                f"{name:<8} {impl:<10} {len(times):>9} {assigned:>9.1f} "
                f"{percentile(times, 0.5):>8.3f} {percentile(times, 0.99):>8.3f} "
                f"{max(times):>8.3f}"
            )
        waiting = sum(len(c) for c, _ in cases) / len(cases)
        free = sum(sum(a.state is AgentState.AVAILABLE for a in ag) for _, ag in cases) / len(cases)
        speedup = percentile(naive_times, 0.5) / percentile(fast_times, 0.5)
        print(
            f"{'':<8} ({waiting:.0f} callers waiting, {free:.0f} agents free on average; "
            f"same answers as the full scan; p50 {speedup:.0f}x faster; wall clock p99 "
            f"{percentile(fast_wall, 0.99):.3f} ms)"
        )
        report(
            Figure(
                f"routing_p99_ms_{name}",
                percentile(fast_times, 0.99),
                "ms",
                f"{args.agents} agents, {args.queues} queues, {waiting:.0f} callers waiting "
                f"({name}; {assigned:.0f} calls assigned per decision); CPU time of each "
                f"decision (wall clock p99 {percentile(fast_wall, 0.99):.3f} ms in the same run)",
                # One burst decision places ~90 calls at once; the target is for a call.
                at_most(1.0) if name != "burst" else None,
                f"full scan of the same cases: p99 {percentile(naive_times, 0.99):.2f} ms",
            )
        )


if __name__ == "__main__":
    main()
