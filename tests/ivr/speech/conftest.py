"""Fixtures of the speech-in tests: the real vosk Korean model (loaded once per session)
and Korean test audio rendered by the project's own prompt renderer (espeak-ng voice
"ko", 8 kHz) and sox. Nothing is faked: the recogniser, the renderer and, in
test_speech_asterisk.py, Asterisk are the real ones."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import wave
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from ivr.prompts import PromptCache, PromptRenderer
from ivr.recognition import Recognizer, packaged_model_path

#: The menu words the Korean model recognises reliably from espeak-ng speech (DESIGN.md;
#: 취소 and 변경 are not, and are used as out-of-grammar words).
WORDS = ("예약", "문의", "네", "아니요", "상담원", "민원")
OUT_OF_GRAMMAR = ("취소", "변경")
#: espeak-ng speaking rates of the accuracy set (words per minute).
RATES = (130, 160, 190)
LONG_PROMPT = (
    "안녕하세요. 병원 예약 센터입니다. 예약은 예약, 문의는 문의, 민원은 민원, "
    "상담원과 통화하시려면 상담원이라고 말씀해 주세요."
)


@dataclass(frozen=True)
class Utterance:
    word: str
    rate: int
    path: Path

    @property
    def pcm(self) -> bytes:
        return read_pcm(self.path)


def read_pcm(path: Path) -> bytes:
    with wave.open(str(path), "rb") as wav:
        assert (wav.getframerate(), wav.getnchannels(), wav.getsampwidth()) == (8000, 1, 2)
        return wav.readframes(wav.getnframes())


def sox_noise(path: Path, kind: str, seconds: float, volume: float) -> Path:
    """White/pink/brown noise (sox synth), 8 kHz mono 16-bit."""
    path.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        ["sox", "-n", "-r", "8000", "-b", "16", "-c", "1", "-e", "signed-integer", str(path),
         "synth", str(seconds), kind, "vol", str(volume)],
        check=True, capture_output=True,
    )  # fmt: skip
    return path


def silence_pcm(seconds: float) -> bytes:
    return bytes(int(8000 * seconds) * 2)


@pytest.fixture(scope="session")
def recognizer() -> Iterator[Recognizer]:
    recognizer = Recognizer(packaged_model_path())
    yield recognizer
    recognizer.close()


async def render_set(cache_dir: Path) -> dict[tuple[str, int], Utterance]:
    """Every test word and out-of-grammar word at every rate, plus the long prompt.

    Rendered in a fresh Python process: espeak-ng's audio for a text depends on what the
    same engine rendered before in the process (measured: 상담원 at 160 wpm came out
    18,968, 19,644 and 19,642 bytes long, with different samples, in three renderings in
    a row), and one of those renderings is heard as 민원. A fresh process renders the
    same audio on every run, so the tests hear the same words whatever ran before them.
    """
    command = [sys.executable, "-c", _RENDER_IN_A_FRESH_PROCESS, str(cache_dir)]
    done = await asyncio.create_subprocess_exec(*command, cwd=_REPO)
    if await done.wait() != 0:
        raise RuntimeError(f"rendering the Korean test audio into {cache_dir} failed")
    return await _render_set(cache_dir)  # all on disk now: cache hits, nothing rendered


_REPO = Path(__file__).resolve().parents[3]
_RENDER_IN_A_FRESH_PROCESS = """
import asyncio, sys
from pathlib import Path
from tests.ivr.speech.conftest import _render_set
asyncio.run(_render_set(Path(sys.argv[1])))
"""


async def _render_set(cache_dir: Path) -> dict[tuple[str, int], Utterance]:
    out: dict[tuple[str, int], Utterance] = {}
    for rate in RATES:
        renderer = PromptRenderer(rate=rate)
        try:
            cache = PromptCache(renderer, cache_dir)
            for word in (*WORDS, *OUT_OF_GRAMMAR):
                prompt = await cache.get(word, "ko")
                out[(word, rate)] = Utterance(word, rate, prompt.path)
            if rate == 160:
                prompt = await cache.get(LONG_PROMPT, "ko")
                out[("<long>", rate)] = Utterance("<long>", rate, prompt.path)
        finally:
            renderer.close()
    return out


@pytest.fixture(scope="session")
async def korean_audio(
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[dict[tuple[str, int], Utterance]]:
    yield await render_set(tmp_path_factory.mktemp("korean-audio"))
