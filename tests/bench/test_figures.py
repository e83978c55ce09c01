"""The benchmark suite's bookkeeping: figures, targets, and the gathered results.
(No timing is asserted anywhere in the test suite; this checks the arithmetic and files.)"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"
sys.path.insert(0, str(BENCH))

import figures  # noqa: E402
import run_all  # noqa: E402


def test_targets_say_which_side_of_the_bound_is_met():
    assert figures.at_most(1.0).met_by(0.99)
    assert figures.at_most(1.0).met_by(1.0)
    assert not figures.at_most(1.0).met_by(1.01)
    assert figures.at_least(20_000).met_by(20_000)
    assert not figures.at_least(20_000).met_by(19_999)
    assert str(figures.at_most(0.05)) == "<= 0.05"


def test_percentile_is_the_nearest_rank():
    samples = [float(n) for n in range(1, 101)]
    assert figures.percentile(samples, 0.5) == 50
    assert figures.percentile(samples, 0.99) == 99
    assert figures.percentile(samples, 1.0) == 100
    assert figures.percentile([7.0], 0.99) == 7
    with pytest.raises(ValueError, match="no samples"):
        figures.percentile([], 0.5)


def test_a_reported_figure_is_printed_and_appended_under_the_runner(tmp_path, monkeypatch, capsys):
    results = tmp_path / "figures.jsonl"
    monkeypatch.setenv(figures.RESULTS_ENV, str(results))
    figure = figures.Figure(
        "example_figure", 0.26, "ms", "1,000,000 patients", figures.at_most(1.0), "x"
    )
    figures.report(figure)
    figures.report(figures.Figure("seed_patients_per_s", 5000.0, "patients/s", "whole hospital"))
    assert "FIGURE example_figure = 0.26 ms  (target <= 1 ms: met)" in capsys.readouterr().out
    first, second = (json.loads(line) for line in results.read_text().splitlines())
    assert first["name"] == "example_figure"
    assert first["target"] == "<= 1" and first["met"] is True
    assert first["machine"] == figures.machine()
    assert {"value", "unit", "workload", "baseline", "measured_at"} <= first.keys()
    assert second["target"] is None and second["met"] is None


def test_headroom_is_how_many_times_better_than_the_target():
    assert run_all.headroom({"value": 0.25, "target": "<= 1"}) == 4
    assert run_all.headroom({"value": 10_000, "target": ">= 20000"}) == 0.5
    assert run_all.headroom({"value": 3, "target": None}) is None


def test_summary_lists_every_figure_with_its_verdict_and_charts_them(tmp_path):
    records = [
        figures.Figure("a_figure", 2.0, "ms", "load A", figures.at_most(1.0)).as_record(),
        figures.Figure(
            "b_per_s", 30.0, "/s", "load B", figures.at_least(20), "bare: 50"
        ).as_record(),
    ]
    for record, name in zip(records, ("one", "two"), strict=True):
        record["benchmark"] = name
    text = run_all.summarise(records, "today", tmp_path / "chart.svg")
    assert "![figures against their targets](chart.svg)" in text
    assert "a_figure" in (tmp_path / "chart.svg").read_text()
    assert "| one | `a_figure` | 2 ms | <= 1 | **no** | load A |  |" in text
    assert "| two | `b_per_s` | 30 /s | >= 20 | yes | load B | bare: 50 |" in text


def test_the_runner_refuses_an_unknown_benchmark():
    done = subprocess.run(
        [sys.executable, str(BENCH / "run_all.py"), "--only", "nonsense"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 2
    assert "unknown benchmark(s) ['nonsense']" in done.stderr
