"""What every benchmark reports, and how: figures, the machine, percentiles.

A benchmark script measures, prints its detail for a person, and calls :func:`report` once
per headline figure. :func:`report` prints the figure as one line and, when the suite
runner (``bench/run_all.py``) has set ``HOTLINE_BENCH_RESULTS`` to a file, appends it
there as one JSON object per line, so the runner can gather every script's figures into
``bench/results.json`` without parsing what they print.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import platform
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Literal

#: Set by bench/run_all.py: the JSON-lines file figures are appended to.
RESULTS_ENV = "HOTLINE_BENCH_RESULTS"


@dataclass(frozen=True, slots=True)
class Target:
    """A figure's target from DESIGN.md: ``value`` must be ``op`` ``bound``."""

    op: Literal["<=", ">="]
    bound: float

    def met_by(self, value: float) -> bool:
        return value <= self.bound if self.op == "<=" else value >= self.bound

    def __str__(self) -> str:
        return f"{self.op} {self.bound:g}"


@dataclass(frozen=True, slots=True)
class Figure:
    """One measured figure, with what it was measured on and against."""

    name: str  # snake_case, stable across runs: lookup_p99_ms, ami_ingest_events_per_s
    value: float
    unit: str
    workload: str
    target: Target | None = None
    baseline: str | None = None  # the comparison measured in the same run, in words

    def as_record(self) -> dict[str, object]:
        record = asdict(self)
        record["target"] = str(self.target) if self.target else None
        record["met"] = self.target.met_by(self.value) if self.target else None
        record["machine"] = machine()
        record["measured_at"] = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        return record


def at_most(bound: float) -> Target:
    return Target("<=", bound)


def at_least(bound: float) -> Target:
    return Target(">=", bound)


def report(figure: Figure) -> None:
    """Print ``figure`` and, under the suite runner, append it to its results file."""
    target = ""
    if figure.target is not None:
        verdict = "met" if figure.target.met_by(figure.value) else "NOT met"
        target = f"  (target {figure.target} {figure.unit}: {verdict})"
    print(f"FIGURE {figure.name} = {shown(figure.value)} {figure.unit}{target}")
    results = os.environ.get(RESULTS_ENV)
    if results:
        with Path(results).open("a", encoding="utf-8") as out:
            out.write(json.dumps(figure.as_record(), ensure_ascii=False) + "\n")


def shown(value: float) -> str:
    """A figure as a person reads it: 18,204 / 0.816 / 3.5."""
    return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.4g}"


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def machine() -> str:
    """The machine in one line: cores, CPU, Python, OS."""
    return (
        f"{os.cpu_count()} cores, {cpu_model()}; Python {platform.python_version()} "
        f"({platform.python_implementation()}) on {platform.system()} {platform.release()}"
    )


def percentile(samples: Sequence[float], q: float) -> float:
    """The ``q`` quantile (0..1) of ``samples`` by the nearest-rank method."""
    if not samples:
        raise ValueError("no samples to take a percentile of")
    ordered = sorted(samples)
    rank = max(1, math.ceil(q * len(ordered)))
    return ordered[rank - 1]
