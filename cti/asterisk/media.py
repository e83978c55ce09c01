"""Audio files the provisioned Asterisk needs, generated rather than kept in git:
silence for simulated callers (real frames, unlike ``Wait()``) and a soft comfort tone
for music on hold. All are 8 kHz mono 16-bit WAV, Asterisk's native ``wav`` format."""

from __future__ import annotations

import math
import struct
import wave
from pathlib import Path

RATE = 8000


def write_wav(path: Path, samples: list[int] | bytes, *, rate: int = RATE) -> None:
    """Write 16-bit mono PCM atomically (temp file + rename)."""
    data = samples if isinstance(samples, bytes) else struct.pack(f"<{len(samples)}h", *samples)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    with wave.open(str(tmp), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(data)
    tmp.replace(path)


def write_silence(path: Path, seconds: float = 1.0) -> None:
    write_wav(path, bytes(2 * round(RATE * seconds)))


def comfort_tone(seconds: float = 6.0) -> list[int]:
    """A quiet two-note chime (C5, E5, each 0.4 s with a soft envelope) followed by
    silence — unobtrusive placeholder music on hold."""
    samples: list[int] = []
    for freq in (523.25, 659.25):
        n = int(RATE * 0.4)
        for i in range(n):
            envelope = math.sin(math.pi * i / n)
            samples.append(int(3000 * envelope * math.sin(2 * math.pi * freq * i / RATE)))
    samples.extend([0] * (int(RATE * seconds) - len(samples)))
    return samples


def write_comfort_tone(path: Path) -> None:
    write_wav(path, comfort_tone())
