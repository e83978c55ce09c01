"""Prompt rendering figures: cold render (pyttsx3/espeak-ng + sox to 8 kHz + atomic cache
write) per prompt, and warm cache hits, p50/p99.

    .venv/bin/python bench/prompts_render.py [--prompts 60] [--hits 5000]

Compared against the plain command-line pipeline (``espeak-ng -w`` then ``sox``, two
processes per prompt) on the same texts. Prints the machine it ran on. No targets are
asserted: these are figures.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from figures import Figure, machine, percentile, report

from cti.settings import Language
from ivr import speech_text
from ivr.prompts import VOICES, PromptCache, PromptRenderer

HOSPITAL = {Language.MANDARIN: "市人民医院", Language.ENGLISH: "City People's Hospital"}


def texts(count: int) -> list[tuple[str, Language]]:
    """A mix like a day's dynamic prompts: greetings by name, dates, times, references."""
    names = ["张伟", "王芳", "李娜", "刘洋", "Zhang Wei", "Li Na", "Mary Chen", "John Smith"]
    out: list[tuple[str, Language]] = []
    n = 0
    while len(out) < count:
        language = (Language.MANDARIN, Language.ENGLISH)[n % 2]
        hospital = HOSPITAL[language]
        day = dt.date(2026, 1, 1) + dt.timedelta(days=n)
        moment = dt.time(8 + n % 10, (n * 7) % 60)
        kind = n % 3
        if kind == 0:
            text = speech_text.greeting_known(language, names[n % len(names)], hospital)
        elif kind == 1:
            text = (
                f"{speech_text.date_text(day, language)} {speech_text.time_text(moment, language)}"
            )
        else:
            text = speech_text.reference_text(f"{470000 + n * 37:08d}", language)
        if (text, language) not in out:
            out.append((text, language))
        n += 1
    return out


def line(label: str, values_s: list[float], unit: str = "ms") -> str:
    scale = 1e3 if unit == "ms" else 1e6
    p50, p99 = (percentile(values_s, q) * scale for q in (0.5, 0.99))
    return (
        f"{label:<44} n={len(values_s):>5}  p50={p50:8.2f} {unit}  "
        f"p99={p99:8.2f} {unit}  max={max(values_s) * scale:8.2f} {unit}"
    )


def tool_version(command: list[str]) -> str:
    try:
        done = subprocess.run(command, capture_output=True, text=True, check=False)
    except FileNotFoundError:
        return "missing"
    return (done.stdout or done.stderr).strip().splitlines()[0]


async def measure(prompts: list[tuple[str, Language]], hits: int, root: Path) -> None:
    renderer = PromptRenderer(rate=160)
    await asyncio.to_thread(renderer.start)  # espeak-ng start-up is not a render
    cache = PromptCache(renderer, root / "cache")

    cold: list[float] = []
    audio_s = 0.0
    for text, language in prompts:
        started = time.perf_counter()
        prompt = await cache.get(text, language)
        cold.append(time.perf_counter() - started)
        audio_s += prompt.duration_s
    assert renderer.renders == len(prompts)

    warm: list[float] = []
    for i in range(hits):
        text, language = prompts[i % len(prompts)]
        started = time.perf_counter()
        await cache.get(text, language)
        warm.append(time.perf_counter() - started)

    disk: list[float] = []  # a fresh process's first request: header read from disk
    for text, language in prompts:
        fresh = PromptCache(renderer, root / "cache")
        started = time.perf_counter()
        await fresh.get(text, language)
        disk.append(time.perf_counter() - started)
    assert renderer.renders == len(prompts)

    concurrent_started = time.perf_counter()
    burst = PromptCache(renderer, root / "burst")
    await asyncio.gather(*(burst.get(text, language) for text, language in prompts))
    burst_s = time.perf_counter() - concurrent_started

    print(line("cold: render + convert + cache write", cold))
    print(line("warm: cache hit (in memory, stat)", warm, "us"))
    print(line("warm: cache hit (new cache, WAV header read)", disk, "us"))
    print(
        f"{'burst: all prompts requested at once':<44} n={len(prompts):>5}  "
        f"{burst_s * 1e3:.0f} ms total, {len(prompts) / burst_s:.1f} prompts/s"
    )
    print(
        f"audio rendered: {audio_s:.1f} s in {sum(cold):.2f} s "
        f"(real-time factor {sum(cold) / audio_s:.4f})"
    )
    workload = f"{len(prompts)} dynamic prompts (names, dates, times, references), zh and en"
    report(Figure("prompt_render_cold_p50_ms", percentile(cold, 0.5) * 1e3, "ms", workload))
    report(Figure("prompt_cache_hit_p50_us", percentile(warm, 0.5) * 1e6, "us", workload))


def baseline(prompts: list[tuple[str, Language]], root: Path) -> list[float]:
    """The same prompts through espeak-ng's and sox's command lines, one pair of processes
    per prompt (what a shell script would do)."""
    timings: list[float] = []
    for n, (text, language) in enumerate(prompts):
        raw, out = root / f"b{n}.wav", root / f"b{n}-8k.wav"
        started = time.perf_counter()
        subprocess.run(
            ["espeak-ng", "-v", VOICES[language], "-s", "160", "-w", str(raw), text], check=True
        )
        subprocess.run(
            ["sox", "-q", "-D", str(raw), "-t", "wav", "-e", "signed-integer", "-b", "16",
             "-c", "1", str(out), "gain", "-3", "rate", "-v", "8000", "gain", "-n", "-3"],
            check=True,
        )  # fmt: skip
        timings.append(time.perf_counter() - started)

    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--prompts", type=int, default=60)
    parser.add_argument("--hits", type=int, default=5000)
    args = parser.parse_args()
    print(f"machine: {machine()}")
    print(f"espeak-ng: {tool_version(['espeak-ng', '--version'])}")
    print(f"sox: {tool_version(['sox', '--version'])}")
    print(
        f"prompts: {args.prompts} (zh {VOICES[Language.MANDARIN]} / en {VOICES[Language.ENGLISH]})"
    )
    with tempfile.TemporaryDirectory(prefix="hotline-bench-prompts-") as root:
        prompts = texts(args.prompts)
        asyncio.run(measure(prompts, args.hits, Path(root)))
        print(line("baseline: espeak-ng CLI + sox CLI per prompt", baseline(prompts, Path(root))))


if __name__ == "__main__":
    main()
