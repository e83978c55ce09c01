"""PromptRenderer and the 8 kHz conversion, with the real espeak-ng and sox."""

# Chinese text uses full-width punctuation.
# ruff: noqa: RUF001

from __future__ import annotations

import array
import itertools
import math
import re
import struct
import subprocess
import threading
import wave
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

import ivr
from cti.settings import Language
from ivr.prompts import (
    ESPEAK_HELP,
    VOICES,
    InvalidPromptText,
    PromptRenderer,
    PromptRenderError,
    UnknownVoice,
    _EngineHandle,
    _EspeakWorker,
    normalise_prompt_text,
    to_telephone_wav,
    wav_info,
)

ZH_GREETING = "您好，张伟，欢迎致电市人民医院患者服务热线。"
EN_GREETING = "Hello Zhang Wei, welcome to the City People's Hospital patient hotline."
KO_MENU = "예약 문의 상담원"


def assert_asterisk_wav(path: Path) -> None:
    """A canonical 44-byte-header PCM WAV, 8 kHz mono 16-bit: what Asterisk's format_wav
    plays, checked byte by byte and through the wave module."""
    data = path.read_bytes()
    assert data[0:4] == b"RIFF" and data[8:12] == b"WAVE" and data[12:16] == b"fmt "
    fmt_size, tag, channels, rate, byte_rate, align, bits = struct.unpack("<IHHIIHH", data[16:36])
    assert (fmt_size, tag, channels, rate, byte_rate, align, bits) == (16, 1, 1, 8000, 16000, 2, 16)
    assert data[36:40] == b"data"
    (data_size,) = struct.unpack("<I", data[40:44])
    assert data_size == len(data) - 44 and data_size % 2 == 0
    with wave.open(str(path)) as wav:
        assert (wav.getnchannels(), wav.getsampwidth(), wav.getframerate()) == (1, 2, 8000)
        assert wav.getcomptype() == "NONE"
        samples = array.array("h", wav.readframes(wav.getnframes()))
    assert max(abs(s) for s in samples) > 10_000, "the prompt is (nearly) silent"


@pytest.mark.parametrize(
    ("text", "voice", "low_s", "high_s"),
    [
        (ZH_GREETING, Language.MANDARIN, 2.5, 12.0),
        (EN_GREETING, Language.ENGLISH, 2.0, 10.0),
        (ZH_GREETING, "cmn", 2.5, 15.0),
        (EN_GREETING, "en-us", 2.0, 10.0),
        (KO_MENU, "ko", 0.8, 6.0),
    ],
)
def test_renders_telephone_audio_of_plausible_duration(
    renderer: PromptRenderer, tmp_path: Path, text: str, voice: Language | str, low_s: float,
    high_s: float,
) -> None:  # fmt: skip
    audio = renderer.render_file(text, voice, tmp_path / "out.wav")
    assert_asterisk_wav(audio.path)
    assert low_s < audio.duration_s < high_s
    assert audio.duration_s == pytest.approx(wav_info(audio.path).duration_s)
    assert audio.duration_s == pytest.approx(audio.source_duration_s, abs=0.01)
    assert renderer.renders == 1
    assert not [p for p in tmp_path.iterdir() if p.name != "out.wav"], "temporary file left"


def test_repeated_renders_in_one_process_switch_voices_correctly(
    renderer: PromptRenderer, tmp_path: Path
) -> None:
    # pyttsx3 2.99's espeak driver returns from runAndWait before the file is written and
    # keeps state between utterances; alternate voices and texts and compare durations.
    items = [(ZH_GREETING, Language.MANDARIN), (EN_GREETING, Language.ENGLISH), (KO_MENU, "ko")]
    durations: dict[str, set[float]] = {}
    for round_ in range(4):
        for index, (text, voice) in enumerate(items):
            audio = renderer.render_file(text, voice, tmp_path / f"{round_}-{index}.wav")
            durations.setdefault(text, set()).add(round(audio.duration_s, 2))
    assert renderer.renders == 12
    for text, seen in durations.items():
        assert max(seen) - min(seen) <= 0.02, (text, seen)
    assert len({min(seen) for seen in durations.values()}) == 3


def test_renders_from_many_threads_are_serialised_through_one_engine(
    renderer: PromptRenderer, tmp_path: Path
) -> None:
    texts = [f"Your reference number is {n} {n + 1} {n + 2}." for n in range(12)]
    with ThreadPoolExecutor(max_workers=6) as pool:
        futures = [
            pool.submit(renderer.render_file, text, "en-us", tmp_path / f"{n}.wav")
            for n, text in enumerate(texts)
        ]
        results = [future.result() for future in futures]
    assert renderer.renders == 12
    for audio in results:
        assert_asterisk_wav(audio.path)
        assert 1.5 < audio.duration_s < 8.0
    assert len({r.path for r in results}) == 12
    assert not [t for t in threading.enumerate() if t.name == "hotline-espeak" and t is not
                threading.current_thread()][1:], "more than one espeak thread"  # fmt: skip


def test_mandarin_voice_reads_chinese_as_mandarin() -> None:
    # Debian's "cmn" voice falls back to English rules for most characters: espeak-ng marks
    # the switch as "(en)" in its phoneme output. The voice Mandarin prompts use must not.
    def phonemes(voice: str) -> str:
        done = subprocess.run(
            ["espeak-ng", "-q", "-x", "-v", voice, "您好，下午2点零5分，星期一"],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        return done.stdout

    assert "(en)" not in phonemes(VOICES[Language.MANDARIN])
    assert VOICES[Language.ENGLISH] == "en-us"


def test_the_driver_prints_nothing_on_stdout(
    renderer: PromptRenderer, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    renderer.render_file("quiet please", "en-us", tmp_path / "q.wav")
    out, _err = capfd.readouterr()
    assert "Audio saved" not in out


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty"),
        ("   \t\n ", "empty"),
        ("\u3000", "empty"),
        ("。。。 ...", "no letters or digits"),
        ("hello\x00world", "U+0000"),
        ("hello\x1b[31m", "U+001B"),
        ("zero\u200bwidth", "U+200B"),
        ("x" * 2001, "limit is 2000"),
    ],
)
def test_refuses_text_with_nothing_to_say_or_control_characters(
    renderer: PromptRenderer, tmp_path: Path, text: str, message: str
) -> None:
    with pytest.raises(InvalidPromptText, match=re.escape(message)):
        renderer.render_file(text, "en-us", tmp_path / "x.wav")
    assert not list(tmp_path.iterdir())
    assert renderer.renders == 0


def test_invalid_text_is_a_value_error() -> None:
    with pytest.raises(ValueError):
        normalise_prompt_text(" ")
    with pytest.raises(InvalidPromptText, match="must be a string"):
        normalise_prompt_text(None)  # type: ignore[arg-type]


def test_normalisation_collapses_whitespace_and_composes() -> None:
    assert normalise_prompt_text("  Hello \n\t world ") == "Hello world"
    assert normalise_prompt_text("Cafe\u0301") == "Caf\u00e9"


def test_unknown_voice_is_refused_with_the_list_hint(
    renderer: PromptRenderer, tmp_path: Path
) -> None:
    with pytest.raises(UnknownVoice, match=r"no voice 'klingon'.*espeak-ng --voices"):
        renderer.render_file("hello", "klingon", tmp_path / "x.wav")
    with pytest.raises(UnknownVoice, match=r"similar: .*en-us"):
        renderer.voice_for("en-xx")
    assert renderer.voice_for(" KO ") == "ko"
    assert renderer.voice_for("sit/cmn") == "sit/cmn"
    assert renderer.voice_for(Language.MANDARIN) == VOICES[Language.MANDARIN]


def test_missing_sox_says_which_package_to_install(tmp_path: Path) -> None:
    renderer = PromptRenderer(sox=str(tmp_path / "no-such-sox"))
    with pytest.raises(PromptRenderError, match=r"apt-get install sox"):
        renderer.render_file("hello", "en-us", tmp_path / "x.wav")
    assert not list(tmp_path.iterdir()), "the espeak output was not cleaned up"


def test_sox_failure_is_reported(tmp_path: Path) -> None:
    src = tmp_path / "not-audio.wav"
    src.write_bytes(b"this is not a wav file")
    with pytest.raises(PromptRenderError, match="sox failed"):
        to_telephone_wav(src, tmp_path / "out.wav")


def test_unwritable_destination_is_a_render_error(renderer: PromptRenderer, tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("a file where a directory should be")
    with pytest.raises(PromptRenderError, match="cannot write prompt audio"):
        renderer.render_file("hello", "en-us", blocker / "sub" / "x.wav")


def test_conversion_keeps_pitch_and_length(tmp_path: Path) -> None:
    # A 1 kHz tone at 22,050 Hz must come out as a 1 kHz tone of the same length at 8 kHz.
    src = tmp_path / "tone.wav"
    rate, seconds = 22050, 1.0
    tone = array.array(
        "h",
        (int(12000 * math.sin(2 * math.pi * 1000 * n / rate)) for n in range(int(rate * seconds))),
    )
    with wave.open(str(src), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes(tone.tobytes())
    info = to_telephone_wav(src, tmp_path / "tone8k.wav")
    assert info.is_telephone_audio
    assert info.duration_s == pytest.approx(seconds, abs=0.002)
    with wave.open(str(tmp_path / "tone8k.wav")) as wav:
        out = array.array("h", wav.readframes(wav.getnframes()))
    middle = out[800:7200]  # 0.8 s away from the edges
    crossings = sum(1 for a, b in itertools.pairwise(middle) if (a < 0) != (b < 0))
    assert crossings / (len(middle) / 8000) == pytest.approx(2000, rel=0.01)
    peak = max(abs(s) for s in middle)
    assert peak == pytest.approx(32767 * 10 ** (-3 / 20), rel=0.02)  # normalised to -3 dBFS


def test_loud_input_is_not_clipped(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    # A full-scale square wave rings when resampled; without headroom sox clips it.
    src = tmp_path / "square.wav"
    period = 22
    square = array.array("h", (32767 if n % period < period // 2 else -32768 for n in range(22050)))
    with wave.open(str(src), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(22050)
        wav.writeframes(square.tobytes())
    with caplog.at_level("WARNING", logger="ivr.prompts"):
        to_telephone_wav(src, tmp_path / "square8k.wav")
    assert not caplog.records, [r.getMessage() for r in caplog.records]


class _FakeEngine:
    """Stands in for pyttsx3 only to reach failure paths the real engine cannot be made
    to take on demand (a hung utterance)."""

    def __init__(self) -> None:
        self.callbacks: dict[str, Callable[..., Any]] = {}

    def connect(self, topic: str, cb: Callable[..., Any]) -> dict[str, Any]:
        self.callbacks[topic] = cb
        return {}

    def getProperty(self, name: str) -> Any:
        class Voice:
            id = "gmw/en-us"

        return [Voice()] if name == "voices" else "gmw/en-us"

    def setProperty(self, name: str, value: Any) -> None:
        pass

    def save_to_file(self, text: str, filename: str) -> None:
        pass

    def runAndWait(self) -> None:
        pass  # never notifies finished-utterance


def _fake_engine() -> _EngineHandle:
    return _EngineHandle(_FakeEngine(), lambda: False)


def test_espeak_missing_says_which_packages_to_install(tmp_path: Path) -> None:
    def no_espeak() -> Any:
        raise RuntimeError("This means you probably do not have eSpeak or eSpeak-ng installed!")

    worker = _EspeakWorker(no_espeak)
    renderer = PromptRenderer(_worker=worker)
    for _ in range(2):  # the failure sticks, and says the same thing each time
        with pytest.raises(PromptRenderError, match="apt-get install espeak-ng libespeak-ng1"):
            renderer.render_file("hello", "en-us", tmp_path / "x.wav")
    with pytest.raises(PromptRenderError) as raised:
        renderer.start()
    assert ESPEAK_HELP in str(raised.value)


def test_a_hung_engine_fails_the_render_and_later_ones(tmp_path: Path) -> None:
    worker = _EspeakWorker(_fake_engine, utterance_timeout_s=0.2)
    renderer = PromptRenderer(_worker=worker)
    try:
        with pytest.raises(PromptRenderError, match="did not finish an utterance"):
            renderer.render_file("hello", "en-us", tmp_path / "x.wav")
        with pytest.raises(PromptRenderError, match="stuck"):
            renderer.render_file("hello again", "en-us", tmp_path / "y.wav")
    finally:
        worker.stop()


def test_rate_is_checked() -> None:
    with pytest.raises(ValueError, match=re.escape("80..400")):
        PromptRenderer(rate=10)


def test_public_surface() -> None:
    for name in ivr.__all__:
        assert getattr(ivr, name) is not None
