"""Benchmark: the supervisor side's costs that grow with volume.

    .venv/bin/python bench/supervisor.py [--calls 100000] [--minutes 10] [--files 20]

* report computation (screenpop.reports.compute_report) over N synthetic calls, in ms
  (``supervisor_report_ms``);
* storing a finished recording (copy with SHA-256 while copying, fsync, re-read to
  verify, index in SQLite, audit) for a WAV of M minutes (8 kHz, 16-bit mono as
  MixMonitor writes it), per file and in MB/s (``recording_store_ms``,
  ``recording_store_mb_per_s``).
No Asterisk needed: the recording file is written here in the format Asterisk writes.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path, PurePosixPath

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from figures import Figure, machine, report  # noqa: E402

from crm_store.database import Database  # noqa: E402
from cti.asterisk.media import write_wav  # noqa: E402
from recordings import MonitorDir, RecordingPolicy, RecordingService  # noqa: E402
from recordings.service import ActiveRecording  # noqa: E402
from screenpop.reports import CallRecord, compute_report  # noqa: E402


class _NoAmi:
    async def send(self, action: object) -> object:
        raise RuntimeError("not used by finish()")


def bench_report(n: int) -> None:
    rng = random.Random(7)
    day = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    calls = []
    for _ in range(n):
        arrived = day + dt.timedelta(seconds=rng.uniform(0, 86_000))
        queued = arrived + dt.timedelta(seconds=rng.uniform(10, 90)) if rng.random() < 0.7 else None
        answered = (
            queued + dt.timedelta(seconds=rng.expovariate(1 / 25))
            if queued and rng.random() < 0.9
            else None
        )
        ended = (answered or queued or arrived) + dt.timedelta(seconds=rng.uniform(20, 400))
        calls.append(
            CallRecord(
                arrived,
                ended,
                True,
                queued is None and rng.random() < 0.6,
                "main.menu",
                f"q{rng.randrange(50)}" if queued else None,
                queued,
                f"agent{rng.randrange(500)}" if answered else None,
                answered,
            )
        )
    times = []
    for _ in range(5):
        t = time.perf_counter()
        compute_report(calls, [], start=day, end=day + dt.timedelta(days=1))
        times.append((time.perf_counter() - t) * 1000)
    median = statistics.median(times)
    print(f"report over {n} calls (50 queues, 500 agents): median {median:.0f} ms")
    report(
        Figure(
            "supervisor_report_ms",
            median,
            "ms",
            f"one day's supervisor report over {n:,} synthetic calls (50 queues, 500 agents), "
            "median of 5",
        )
    )


def bench_store(minutes: float, files: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        monitor = root / "monitor"
        monitor.mkdir()
        database = Database(f"sqlite:///{root / 'bench.db'}")
        database.migrate()
        service = RecordingService(
            ami=_NoAmi(),
            database=database,
            monitor=MonitorDir(monitor, PurePosixPath("/monitor")),
            storage_dir=root / "storage",
            policy=RecordingPolicy(),
        )
        samples = os.urandom(int(8000 * 60 * minutes) * 2)
        times = []
        for i in range(files):
            uid = f"1800000000.{i}"
            write_wav(monitor / f"{uid}.wav", samples)
            service._active[uid] = ActiveRecording(  # as start() would have registered it
                uid, "PJSIP/1001-00000001", "q", None, None, None, dt.datetime.now(dt.UTC)
            )
            t = time.perf_counter()
            stored = asyncio.run(service.finish(uid))
            times.append(time.perf_counter() - t)
        size_mb = stored.size_bytes / 1e6
        med = statistics.median(times)
        print(
            f"store a {minutes:g}-min recording ({size_mb:.1f} MB): median {med * 1000:.0f} ms "
            f"({size_mb / med:.0f} MB/s), max {max(times) * 1000:.0f} ms over {files} files"
        )
        workload = (
            f"store a finished {minutes:g}-minute recording ({size_mb:.1f} MB WAV): copy with "
            f"SHA-256, fsync, re-read to verify, index and audit in SQLite; median of {files}"
        )
        report(Figure("recording_store_ms", med * 1000, "ms", workload))
        report(Figure("recording_store_mb_per_s", size_mb / med, "MB/s", workload))
        database.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=100_000)
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--files", type=int, default=20)
    args = parser.parse_args()
    print(f"machine: {machine()}")
    bench_report(args.calls)
    bench_store(args.minutes, args.files)


if __name__ == "__main__":
    main()
