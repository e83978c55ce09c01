"""Run every benchmark and gather their figures: bench/results.json and bench/results.md.

    .venv/bin/python bench/run_all.py                 # every benchmark, full workloads
    .venv/bin/python bench/run_all.py --only acd_routing,ami_ingest
    .venv/bin/python bench/run_all.py --summarise     # rewrite results.md from results.json

Each benchmark is run as its own process (one at a time, so they don't share the two
cores) with ``HOTLINE_BENCH_RESULTS`` pointing at a scratch file; every figure it reports
(bench/figures.py) lands there. The figures of this run replace those of the same
benchmarks in ``bench/results.json``, so a partial run (``--only``) keeps the others.
``bench/results.md`` is the readable summary: the table, the machine, the comparisons, and
a chart of how far each figure is from its target (``bench/results.svg``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from figures import RESULTS_ENV, machine, shown

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RESULTS = HERE / "results.json"
SUMMARY = HERE / "results.md"
CHART = HERE / "results.svg"

#: The benchmarks, in the order they run, with the arguments of the full workload.
BENCHMARKS: dict[str, list[str]] = {
    "acd_routing": [],
    "acd_service_level": [],
    "acd_expected_wait": [],
    "screen_pop": [],
    "ami_ingest": [],
    "store_lookup": [],
    "likely_matches": [],  # after store_lookup: reuses its seeded hospital
    "prompts_render": [],
    "asterisk_provision": [],
    "ivr_speech": ["--levels", "10,25,50,100,200,300"],
    "ivr_concurrency": [],  # its defaults: quiet and streaming phones, 10 s arrivals
    "dialer_refill": [],
    "console_actions": [],
    "supervisor": [],
    "wallboard": [],
    "reports": [],
}


def run(name: str, args: list[str], results: Path) -> tuple[int, float]:
    """Run one benchmark, streaming its output; returns (exit status, seconds)."""
    print(f"\n=== {name} {' '.join(args)}", flush=True)
    env = {**os.environ, RESULTS_ENV: str(results), "PYTHONPATH": str(ROOT)}
    started = time.monotonic()
    done = subprocess.run([sys.executable, str(HERE / f"{name}.py"), *args], env=env, cwd=ROOT)
    return done.returncode, time.monotonic() - started


def load(path: Path) -> list[dict[str, object]]:
    if not path.exists():
        return []
    if path.suffix == ".json":
        return list(json.loads(path.read_text(encoding="utf-8")))
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def headroom(record: dict[str, object]) -> float | None:
    """How many times over its target a figure is (>= 1: met); None without a target."""
    target = record.get("target")
    value = float(record["value"])  # type: ignore[arg-type]
    if not isinstance(target, str) or value <= 0:
        return None
    op, bound = target.split()
    return float(bound) / value if op == "<=" else value / float(bound)


def chart(figures: list[dict[str, object]], path: Path) -> bool:
    """Bar chart of each targeted figure's headroom; False when matplotlib is missing."""
    try:
        import matplotlib

        matplotlib.use("svg")
        matplotlib.rcParams["svg.fonttype"] = "none"  # text as text: small, diffable files
        matplotlib.rcParams["svg.hashsalt"] = "hotline"  # stable ids between runs
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    rows = [(str(f["name"]), h) for f in figures if (h := headroom(f)) is not None]
    if not rows:
        return False
    rows.reverse()
    fig, ax = plt.subplots(figsize=(8, 0.35 * len(rows) + 1.2))
    colours = ["#2e7d32" if h >= 1 else "#c62828" for _, h in rows]
    ax.barh([n for n, _ in rows], [h for _, h in rows], color=colours)
    ax.axvline(1.0, color="black", linewidth=1)
    ax.set_xscale("log")
    ax.set_xlabel("times better than the target (log scale; right of the line = met)")
    ax.set_title("Hotline figures against their DESIGN.md targets")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return True


def summarise(
    figures: list[dict[str, object]], when: str, chart_path: Path | None, note: str = ""
) -> str:
    """The Markdown summary; with ``chart_path``, also draws the chart there."""
    machines = sorted({str(f["machine"]) for f in figures})
    lines = [
        "# Hotline benchmark results",
        "",
        f"Written by `bench/run_all.py` on {when}. Machine: {'; '.join(machines)}.",
        "`bench/<benchmark>.py` measured each figure; `baseline` is the comparison it "
        "measured in the same run. Reproduce one with `.venv/bin/python bench/run_all.py "
        "--only <benchmark>`.",
        "",
    ]
    if note:
        lines += [f"**Conditions of this run:** {note}", ""]
    if chart_path is not None and chart(figures, chart_path):
        lines += [f"![figures against their targets]({chart_path.name})", ""]
    lines += [
        "| benchmark | figure | value | target | met | workload | baseline |",
        "|---|---|---|---|---|---|---|",
    ]
    for f in figures:
        met = {True: "yes", False: "**no**", None: ""}[f.get("met")]  # type: ignore[index]
        value = float(f["value"])  # type: ignore[arg-type]
        lines.append(
            f"| {f.get('benchmark', '')} | `{f['name']}` | {shown(value)} {f['unit']} "
            f"| {f.get('target') or ''} | {met} | {f['workload']} | {f.get('baseline') or ''} |"
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--only", help="comma-separated benchmark names (default: all)")
    parser.add_argument("--summarise", action="store_true", help="only rewrite results.md")
    parser.add_argument("--note", default="", help="conditions of the run, for results.md")
    args = parser.parse_args()
    previous = load(RESULTS)
    when = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    if args.summarise:
        SUMMARY.write_text(summarise(previous, when, CHART, args.note), encoding="utf-8")
        return
    names = args.only.split(",") if args.only else list(BENCHMARKS)
    unknown = [n for n in names if n not in BENCHMARKS]
    if unknown:
        parser.error(f"unknown benchmark(s) {unknown}; known: {', '.join(BENCHMARKS)}")
    print(f"machine: {machine()}")
    failed: list[str] = []
    fresh: list[dict[str, object]] = []
    with tempfile.TemporaryDirectory(prefix="hotline-bench-") as scratch:
        for name in names:
            results = Path(scratch) / f"{name}.jsonl"
            status, seconds = run(name, BENCHMARKS[name], results)
            figures = load(results)
            for figure in figures:
                figure["benchmark"] = name
            fresh += figures
            print(f"=== {name}: {len(figures)} figures in {seconds:.0f} s, exit {status}")
            if status != 0:
                failed.append(name)
    kept = [f for f in previous if f.get("benchmark") not in names]
    figures = kept + fresh
    RESULTS.write_text(
        json.dumps(figures, ensure_ascii=False, indent=1) + "\n",
        encoding="utf-8",
    )
    SUMMARY.write_text(summarise(figures, when, CHART, args.note), encoding="utf-8")
    print(f"\n{len(fresh)} figures from this run; {RESULTS} and {SUMMARY} written")
    if failed:
        sys.exit(f"benchmarks that failed: {', '.join(failed)}")


if __name__ == "__main__":
    main()
