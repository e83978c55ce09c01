"""Speech out: prompts rendered by pyttsx3 (espeak-ng), converted to telephone audio
(8 kHz, mono, 16-bit signed PCM WAV) and cached on disk by content.

::

    PromptError
    ├── InvalidPromptText (ValueError)  empty, whitespace or punctuation only, control
    │                                   characters, too long
    ├── UnknownVoice (ValueError)       espeak-ng has no such voice
    └── PromptRenderError               espeak-ng or sox missing or failing, output that is
                                        not telephone audio, the cache directory not writable

Facts this module is built on (pyttsx3 2.99, espeak-ng 1.51 on Debian 12):

- espeak-ng's C library is process-global: one initialisation per process, one synthesis
  callback. pyttsx3's espeak driver binds that callback to the *last* engine created, so
  two engines in a process corrupt each other. Hence one engine, in one dedicated thread,
  shared by every :class:`PromptRenderer` of the process; requests are queued to it.
- The driver initialises espeak in ``AUDIO_OUTPUT_RETRIEVAL`` mode, which is asynchronous:
  ``runAndWait()`` can return before the WAV file is written (and while the next request's
  voice change would race the synthesis). The worker waits for the driver's
  ``finished-utterance`` notification, which fires after the file is closed.
- The driver's ``stop()``, run at the end of every ``runAndWait()``, calls
  ``espeak_Cancel()`` whenever espeak's queue is busy — and it is, right after the
  (queued) parameter changes of the next request. The cancel lands on the utterance
  queued after it: empty files under back-to-back renders. That ``stop()`` is disabled
  (nothing here interrupts an utterance), and each request waits for espeak to be idle
  before changing the voice (``espeak_SetVoiceByName`` acts at once, not queued).
- The driver drops the samples espeak delivers together with its end-of-message event;
  they are the tail of the end-of-sentence pause, so a file may be ~10 ms short.
- An unknown voice does not raise: the driver reports it through the ``error`` topic and
  synthesises with the previous voice. Voices are checked against espeak's list first, and
  the voice in force is checked again after each render.
- The driver ``print``s "Audio saved to ..." on stdout; that goes to the log instead.
- Debian's ``cmn`` voice lacks most of the Mandarin dictionary and reads the fallback
  pinyin with English rules ("您好" comes out as "nin two hao three");
  ``cmn-latn-pinyin`` reads the same characters as Mandarin. Mandarin prompts therefore use
  ``cmn-latn-pinyin``; ``cmn`` stays available by name.
- espeak-ng writes 22,050 Hz; sox resamples to 8 kHz and normalises the peak to -3 dBFS.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import dataclasses
import hashlib
import json
import logging
import os
import queue
import subprocess
import tempfile
import threading
import time
import unicodedata
import uuid
import wave
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from types import MappingProxyType
from typing import Any, Protocol

from cti.settings import Language

log = logging.getLogger(__name__)

#: espeak-ng voice per prompt language (see the module docstring for why not ``cmn``).
VOICES: Mapping[Language, str] = MappingProxyType(
    {Language.MANDARIN: "cmn-latn-pinyin", Language.ENGLISH: "en-us"}
)

TELEPHONE_SAMPLE_RATE = 8000
#: Part of every cache key: bump it when the conversion below changes.
FORMAT_VERSION = "wav-pcm16-mono-8000/sox-gain-3-rate-v-gain-n-3/1"
MAX_PROMPT_CHARS = 2000
DEFAULT_RATE = 160
#: How often a cached prompt the IVR keeps playing is looked for on disk again.
RECHECK_S = 10.0

ESPEAK_HELP = (
    "install espeak-ng with `apt-get install espeak-ng libespeak-ng1` (Debian/Ubuntu; "
    "the voices come with espeak-ng-data)"
)
SOX_HELP = "install sox with `apt-get install sox` (Debian/Ubuntu)"


class PromptError(Exception):
    """Base of the prompt errors."""


class InvalidPromptText(PromptError, ValueError):
    """The text cannot be rendered as it is (nothing to say, control characters, too long)."""


class UnknownVoice(PromptError, ValueError):
    """espeak-ng has no voice of that name."""


class PromptRenderError(PromptError):
    """Rendering or converting failed; the message says what to do about it."""


# --------------------------------------------------------------------------- text


def normalise_prompt_text(text: str) -> str:
    """The text as it is rendered and keyed: NFC, whitespace runs collapsed to one space.

    Raises :class:`InvalidPromptText` when there is nothing to say (empty, whitespace or
    punctuation only), when it holds control, format or unassigned characters (text from
    callers goes through :mod:`ivr.speech_text` first), or when it is too long.
    """
    if not isinstance(text, str):
        raise InvalidPromptText(f"prompt text must be a string, not {type(text).__name__}")
    text = " ".join(unicodedata.normalize("NFC", text).split())
    if not text:
        raise InvalidPromptText("prompt text is empty or only whitespace; there is nothing to say")
    for position, char in enumerate(text):
        if unicodedata.category(char) in ("Cc", "Cf", "Cs", "Co", "Cn"):
            raise InvalidPromptText(
                f"prompt text holds the control or unassigned character U+{ord(char):04X} at "
                f"position {position}; clean caller-controlled text with ivr.speech_text first"
            )
    if len(text) > MAX_PROMPT_CHARS:
        raise InvalidPromptText(
            f"prompt text is {len(text)} characters long; the limit is {MAX_PROMPT_CHARS} "
            "(split it into several prompts)"
        )
    if not any(unicodedata.category(char)[0] in ("L", "N") for char in text):
        raise InvalidPromptText(f"prompt text {text!r} has no letters or digits to speak")
    return text


# --------------------------------------------------------------------------- WAV checks


@dataclasses.dataclass(frozen=True)
class WavInfo:
    channels: int
    sample_width: int
    sample_rate: int
    frames: int

    @property
    def duration_s(self) -> float:
        return self.frames / self.sample_rate if self.sample_rate else 0.0

    @property
    def is_telephone_audio(self) -> bool:
        """8 kHz, mono, 16-bit PCM with at least one frame: what Asterisk plays as .wav."""
        return (
            self.channels == 1
            and self.sample_width == 2
            and self.sample_rate == TELEPHONE_SAMPLE_RATE
            and self.frames > 0
        )


def wav_info(path: Path) -> WavInfo:
    """The format of a PCM WAV file (``wave`` refuses anything but plain PCM)."""
    with wave.open(str(path), "rb") as wav:
        return WavInfo(wav.getnchannels(), wav.getsampwidth(), wav.getframerate(), wav.getnframes())


def to_telephone_wav(
    src: Path, dest: Path, *, sox: str = "sox", timeout_s: float = 60.0
) -> WavInfo:
    """Convert any WAV sox reads to 8 kHz mono 16-bit signed PCM WAV at ``dest``.

    3 dB of headroom first (espeak-ng peaks near full scale and the resampler's ringing
    would clip), very-high-quality resampling, then the peak normalised to -3 dBFS; no
    dither, so the same input gives the same output. sox's warnings are logged.
    Raises :class:`PromptRenderError`.
    """
    command = [
        sox, "-V2", "-D", str(src),
        "-t", "wav", "-e", "signed-integer", "-b", "16", "-c", "1", str(dest),
        "gain", "-3", "rate", "-v", str(TELEPHONE_SAMPLE_RATE), "gain", "-n", "-3",
    ]  # fmt: skip
    try:
        done = subprocess.run(
            command, capture_output=True, text=True, timeout=timeout_s, check=False
        )
    except FileNotFoundError as exc:
        raise PromptRenderError(f"sox was not found ({sox!r}); {SOX_HELP}") from exc
    except PermissionError as exc:
        raise PromptRenderError(f"sox ({sox!r}) cannot be run: {exc}; {SOX_HELP}") from exc
    except subprocess.TimeoutExpired as exc:
        raise PromptRenderError(f"sox took longer than {timeout_s:.0f} s converting {src}") from exc
    if done.returncode != 0:
        raise PromptRenderError(
            f"sox failed (exit {done.returncode}) converting {src} to {dest}: "
            f"{done.stderr.strip() or 'no message'}"
        )
    if done.stderr.strip():
        log.warning("sox converting %s: %s", src, done.stderr.strip())
    try:
        info = wav_info(dest)
    except (wave.Error, EOFError, OSError) as exc:
        raise PromptRenderError(f"sox wrote {dest}, which is not a readable WAV: {exc}") from exc
    if not info.is_telephone_audio:
        raise PromptRenderError(f"sox wrote {dest} as {info}, not 8 kHz mono 16-bit audio")
    return info


def join_wavs(parts: Sequence[Path], dest: Path) -> WavInfo:
    """Write the telephone WAVs ``parts`` back to back into ``dest``. Raises
    :class:`PromptRenderError` for a part that is missing or not telephone audio."""
    try:
        with wave.open(str(dest), "wb") as out:
            out.setnchannels(1)
            out.setsampwidth(2)
            out.setframerate(TELEPHONE_SAMPLE_RATE)
            for part in parts:
                with wave.open(str(part), "rb") as wav:
                    info = WavInfo(
                        wav.getnchannels(), wav.getsampwidth(), wav.getframerate(),
                        wav.getnframes(),
                    )  # fmt: skip
                    if not info.is_telephone_audio:
                        raise PromptRenderError(f"cannot join {part}: it is {info}")
                    out.writeframes(wav.readframes(info.frames))
    except (wave.Error, EOFError, OSError) as exc:
        raise PromptRenderError(f"cannot join prompts into {dest}: {exc}") from exc
    return wav_info(dest)


def _write_into_place(path: Path, write: Callable[[Path], WavInfo]) -> WavInfo:
    """Run ``write`` on a temporary name beside ``path``, then rename it into place: a
    reader never sees a half-written file. World-readable: Asterisk may run as another
    user. Raises :class:`PromptRenderError`."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise PromptRenderError(
            f"cannot create the prompt cache directory {path.parent}: {exc.strerror or exc}"
        ) from exc
    tmp = path.with_name(f".{path.stem}.{uuid.uuid4().hex}.tmp.wav")
    try:
        info = write(tmp)
        os.chmod(tmp, 0o644)
        fd = os.open(tmp, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except OSError as exc:
        raise PromptRenderError(f"cannot write prompt file {path}: {exc.strerror or exc}") from exc
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
    return info


# --------------------------------------------------------------------------- espeak worker


class _Engine(Protocol):
    """The part of ``pyttsx3.Engine`` the worker uses."""

    def connect(self, topic: str, cb: Callable[..., Any]) -> dict[str, Any]: ...
    def getProperty(self, name: str) -> Any: ...
    def setProperty(self, name: str, value: Any) -> None: ...
    def save_to_file(self, text: str, filename: str) -> None: ...
    def runAndWait(self) -> None: ...


@dataclasses.dataclass(frozen=True)
class _EngineHandle:
    engine: _Engine
    #: True while espeak's own synthesis thread is still busy with an utterance.
    is_playing: Callable[[], bool]


def _pyttsx3_espeak_engine() -> _EngineHandle:
    """A pyttsx3 engine on the espeak driver, quietened. Raises whatever pyttsx3 raises."""
    import pyttsx3
    import pyttsx3.drivers._espeak as espeak_library
    import pyttsx3.drivers.espeak as espeak_driver

    # Not pyttsx3.init(): its registry would hand this engine to anyone else asking.
    engine = pyttsx3.Engine("espeak")
    # Every runAndWait() ends with the driver's stop(), which calls espeak_Cancel() when
    # espeak's queue is not idle (it is not, right after queued parameter changes).
    # espeak_Cancel() is processed asynchronously and cancels the utterance queued right
    # after it: an empty or cut file. Nothing here interrupts an utterance, so stop() is
    # disabled for this engine's driver.
    engine.proxy._driver.stop = lambda: None
    # The driver prints "Audio saved to ..." for every file; a module-level name shadows
    # the builtin for that module only.
    espeak_driver.print = lambda *args, **_kwargs: log.debug(
        "pyttsx3: %s", " ".join(map(str, args))
    )
    return _EngineHandle(engine, lambda: bool(espeak_library.IsPlaying()))


@dataclasses.dataclass
class _Job:
    text: str
    voice_id: str  # espeak identifier, e.g. "sit/cmn-latn-pinyin"
    rate: int
    dest: Path
    future: concurrent.futures.Future[None]


class _EspeakWorker:
    """The one pyttsx3 engine of the process, in one thread, fed through a queue."""

    def __init__(
        self,
        engine_factory: Callable[[], _EngineHandle] = _pyttsx3_espeak_engine,
        *,
        utterance_timeout_s: float = 60.0,
    ) -> None:
        self._engine_factory = engine_factory
        self._utterance_timeout_s = utterance_timeout_s
        self._jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._ready: concurrent.futures.Future[Mapping[str, str]] = concurrent.futures.Future()
        self._start_lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._broken: PromptRenderError | None = None

    @property
    def started(self) -> bool:
        return self._ready.done()

    def voices(self, timeout_s: float = 30.0) -> Mapping[str, str]:
        """espeak's voices: accepted name (lower case) → espeak identifier."""
        self._start()
        try:
            return self._ready.result(timeout=timeout_s)
        except concurrent.futures.TimeoutError as exc:
            raise PromptRenderError(f"espeak-ng did not start within {timeout_s:.0f} s") from exc

    def submit(
        self, text: str, voice_id: str, rate: int, dest: Path
    ) -> concurrent.futures.Future[None]:
        self.voices()
        if self._broken is not None:
            raise self._broken
        future: concurrent.futures.Future[None] = concurrent.futures.Future()
        self._jobs.put(_Job(text, voice_id, rate, dest, future))
        return future

    def stop(self) -> None:
        """End the thread after the queued jobs (tests; the shared worker lives on)."""
        with self._start_lock:
            if self._thread is not None:
                self._jobs.put(None)
                self._thread.join(timeout=self._utterance_timeout_s)

    def _start(self) -> None:
        with self._start_lock:
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="hotline-espeak", daemon=True
                )
                self._thread.start()

    def _run(self) -> None:
        try:
            handle = self._engine_factory()
            engine = handle.engine
            finished = threading.Event()
            errors: list[BaseException] = []
            engine.connect("finished-utterance", lambda **_kw: finished.set())
            engine.connect("error", lambda exception=None, **_kw: errors.append(exception))
            voice_table = _voice_table(engine.getProperty("voices"))
        except Exception as exc:  # every start failure is reported the same way
            self._broken = PromptRenderError(
                f"pyttsx3 could not start espeak-ng ({type(exc).__name__}: {exc}); {ESPEAK_HELP}"
            )
            self._ready.set_exception(self._broken)
            return
        self._ready.set_result(voice_table)
        while (job := self._jobs.get()) is not None:
            if not job.future.set_running_or_notify_cancel():
                continue
            if self._broken is not None:
                job.future.set_exception(self._broken)
                continue
            finished.clear()
            errors.clear()
            try:
                self._synthesise(handle, job, finished, errors)
            except PromptRenderError as exc:
                job.future.set_exception(exc)
            except Exception as exc:  # pyttsx3 raises anything
                job.future.set_exception(
                    PromptRenderError(f"pyttsx3 failed: {type(exc).__name__}: {exc}")
                )
            else:
                job.future.set_result(None)

    def _synthesise(
        self,
        handle: _EngineHandle,
        job: _Job,
        finished: threading.Event,
        errors: list[BaseException],
    ) -> None:
        engine = handle.engine
        self._wait_until_idle(handle)  # espeak_SetVoiceByName acts at once, not queued
        engine.setProperty("voice", job.voice_id)
        engine.setProperty("rate", job.rate)
        engine.setProperty("volume", 1.0)
        engine.save_to_file(job.text, str(job.dest))
        engine.runAndWait()
        # runAndWait returns once espeak has *accepted* the text; the file is written by
        # espeak's own thread, which then notifies finished-utterance.
        if not finished.wait(self._utterance_timeout_s):
            self._broken = PromptRenderError(
                f"espeak-ng did not finish an utterance within {self._utterance_timeout_s:.0f} s; "
                "the speech engine is stuck, restart the process"
            )
            raise self._broken
        self._wait_until_idle(handle)
        if errors:
            raise PromptRenderError(f"pyttsx3 reported: {errors[0]}")
        in_force = engine.getProperty("voice")
        if in_force != job.voice_id:
            raise PromptRenderError(
                f"espeak-ng rendered with voice {in_force!r} instead of {job.voice_id!r}"
            )

    def _wait_until_idle(self, handle: _EngineHandle) -> None:
        """Wait for espeak's own thread to finish what it has queued."""
        deadline = time.monotonic() + self._utterance_timeout_s
        while handle.is_playing():
            if time.monotonic() > deadline:
                self._broken = PromptRenderError(
                    "espeak-ng stayed busy after an utterance; the speech engine is stuck, "
                    "restart the process"
                )
                raise self._broken
            time.sleep(0.0005)


def _voice_table(voices: Any) -> Mapping[str, str]:
    """Accepted names → espeak identifier: the identifier ("sit/cmn") and, when unique,
    its last part ("cmn")."""
    identifiers = sorted({str(voice.id).lower() for voice in voices})
    table = {identifier: identifier for identifier in identifiers}
    short: dict[str, list[str]] = {}
    for identifier in identifiers:
        short.setdefault(identifier.rsplit("/", 1)[-1], []).append(identifier)
    for name, owners in short.items():
        if len(owners) == 1:
            table.setdefault(name, owners[0])
    if not table:
        raise PromptRenderError(f"espeak-ng lists no voices; {ESPEAK_HELP}")
    return MappingProxyType(table)


_shared_lock = threading.Lock()
_shared: list[_EspeakWorker] = []


def _shared_worker() -> _EspeakWorker:
    """The process's worker. A module-level singleton on purpose: espeak-ng itself is one
    per process (see the module docstring)."""
    with _shared_lock:
        if not _shared:
            _shared.append(_EspeakWorker())
        return _shared[0]


# --------------------------------------------------------------------------- renderer


@dataclasses.dataclass(frozen=True)
class RenderedAudio:
    path: Path
    info: WavInfo
    source_duration_s: float  # espeak-ng's 22.05 kHz output, before conversion

    @property
    def duration_s(self) -> float:
        return self.info.duration_s


class PromptRenderer:
    """Text → 8 kHz telephone WAV, through the process's one pyttsx3 engine and sox.

    Thread-safe; :meth:`render` does not block the event loop. ``rate`` is espeak's speed
    in words per minute (settings.tts_rate). Async renders run on the renderer's own
    ``workers`` threads (espeak in one, sox in another by default), never on the loop's
    default executor, so a burst of renders cannot starve the service's other blocking
    calls (the store's).
    """

    def __init__(
        self,
        *,
        rate: int = DEFAULT_RATE,
        sox: str = "sox",
        timeout_s: float = 60.0,
        workers: int = 2,
        _worker: _EspeakWorker | None = None,
    ) -> None:
        if not 80 <= rate <= 400:
            raise ValueError(f"speech rate {rate} is outside 80..400 words per minute")
        self.rate = rate
        self.sox = sox
        self.timeout_s = timeout_s
        self._worker = _worker or _shared_worker()
        self._count_lock = threading.Lock()
        self._renders = 0
        self.executor = concurrent.futures.ThreadPoolExecutor(
            max_workers=workers, thread_name_prefix="hotline-prompt"
        )

    def close(self) -> None:
        """Let the render threads end (waits for renders in progress)."""
        self.executor.shutdown(wait=True)

    @property
    def renders(self) -> int:
        """How many files this renderer has rendered (a cache hit renders none)."""
        return self._renders

    @property
    def started(self) -> bool:
        return self._worker.started

    def start(self) -> None:
        """Start espeak-ng now rather than on first use (blocks; raises PromptRenderError)."""
        self._worker.voices()

    def available_voices(self) -> Mapping[str, str]:
        return self._worker.voices()

    def voice_for(self, language_or_voice: Language | str) -> str:
        """The voice name used for rendering and keying: a :class:`Language`'s voice, or an
        espeak-ng voice name such as ``"ko"``, checked against espeak's list."""
        if isinstance(language_or_voice, Language):
            name = VOICES[language_or_voice]
        elif isinstance(language_or_voice, str):
            name = language_or_voice.strip().lower()
        else:
            raise UnknownVoice(f"a voice is a Language or a voice name, not {language_or_voice!r}")
        if name not in self._worker.voices():
            raise UnknownVoice(self._unknown_voice_message(name))
        return name

    def render_file(
        self, text: str, language_or_voice: Language | str, dest: Path
    ) -> RenderedAudio:
        """Render ``text`` into ``dest`` (8 kHz mono 16-bit WAV). Blocks."""
        text = normalise_prompt_text(text)
        voice = self.voice_for(language_or_voice)
        voice_id = self._worker.voices()[voice]
        raw: Path | None = None
        try:
            dest.parent.mkdir(parents=True, exist_ok=True)
            fd, raw_name = tempfile.mkstemp(prefix=".espeak-", suffix=".wav", dir=dest.parent)
            os.close(fd)
            raw = Path(raw_name)
            future = self._worker.submit(text, voice_id, self.rate, raw)
            try:
                future.result(timeout=self.timeout_s)
            except concurrent.futures.TimeoutError as exc:
                future.cancel()
                raise PromptRenderError(
                    f"espeak-ng did not render within {self.timeout_s:.0f} s ({len(text)} chars)"
                ) from exc
            try:
                source = wav_info(raw)
            except (wave.Error, EOFError) as exc:
                raise PromptRenderError(f"espeak-ng wrote no usable audio: {exc}") from exc
            if source.frames == 0:
                raise PromptRenderError(f"espeak-ng produced no audio for {text!r} ({voice})")
            info = to_telephone_wav(raw, dest, sox=self.sox, timeout_s=self.timeout_s)
            if abs(info.duration_s - source.duration_s) > 0.05:
                raise PromptRenderError(
                    f"conversion changed the duration from {source.duration_s:.3f} s to "
                    f"{info.duration_s:.3f} s"
                )
        except OSError as exc:
            raise PromptRenderError(
                f"cannot write prompt audio in {dest.parent}: {exc.strerror or exc}"
            ) from exc
        finally:
            if raw is not None:
                raw.unlink(missing_ok=True)
        with self._count_lock:
            self._renders += 1
        return RenderedAudio(dest, info, source.duration_s)

    async def render(
        self, text: str, language_or_voice: Language | str, dest: Path
    ) -> RenderedAudio:
        return await asyncio.get_running_loop().run_in_executor(
            self.executor, self.render_file, text, language_or_voice, dest
        )

    def _unknown_voice_message(self, name: str) -> str:
        voices = self._worker.voices()
        close = sorted(v for v in voices if "/" not in v and name[:2] and v.startswith(name[:2]))
        hint = f"; similar: {', '.join(close[:8])}" if close else ""
        return (
            f"espeak-ng has no voice {name!r}{hint} (`espeak-ng --voices` lists them; "
            f"languages map to {dict((k.value, v) for k, v in VOICES.items())})"
        )


# --------------------------------------------------------------------------- cache


async def _await(future: asyncio.Future[PromptFile]) -> PromptFile:
    return await future


@dataclasses.dataclass(frozen=True)
class PromptFile:
    """A rendered prompt on the host. Asterisk plays it by the path *without* ``.wav``
    (``path_without_extension``), as Asterisk sees it (the caller maps host → Asterisk)."""

    path: Path
    text: str
    voice: str
    duration_s: float

    @property
    def path_without_extension(self) -> Path:
        return self.path.with_suffix("")


@dataclasses.dataclass
class CacheStats:
    hits: int = 0  # served from disk or memory, nothing rendered
    renders: int = 0  # rendered by this cache
    joined: int = 0  # waited for a render another request had started


class PromptCache:
    """Rendered prompts under ``cache_dir/<hh>/<sha256>.wav``, keyed by the sha256 of
    (format version, voice, rate, normalised text).

    Files are written to a temporary name and renamed into place, so a reader never sees
    a half-written file; a damaged file is rendered again. Concurrent requests for one
    prompt render it once. Files are world-readable: Asterisk may run as another user.
    """

    def __init__(
        self, renderer: PromptRenderer, cache_dir: Path, *, remembered: int = 10_000
    ) -> None:
        self.renderer = renderer
        self.cache_dir = Path(cache_dir)
        self.stats = CacheStats()
        self._remembered = remembered  # prompts kept in memory (beyond: a header read)
        self._known: dict[str, PromptFile] = {}
        self._seen_at: dict[str, float] = {}  # when each known file was last seen on disk
        self._in_flight: dict[str, asyncio.Task[PromptFile]] = {}

    def key(self, text: str, voice: str) -> str:
        """The cache key of already-normalised text and a resolved voice name."""
        material = json.dumps(
            [FORMAT_VERSION, voice, self.renderer.rate, text], ensure_ascii=False
        ).encode("utf-8")
        return hashlib.sha256(material).hexdigest()

    def path_for_key(self, key: str) -> Path:
        return self.cache_dir / key[:2] / f"{key}.wav"

    async def get(self, text: str, language_or_voice: Language | str) -> PromptFile:
        """The prompt's 8 kHz file, rendered now if it is not cached yet.

        Raises :class:`InvalidPromptText`, :class:`UnknownVoice` or
        :class:`PromptRenderError`; a failed render leaves nothing in the cache.
        """
        text = normalise_prompt_text(text)
        voice = await self._voice(language_or_voice)
        key = self.key(text, voice)
        path = self.path_for_key(key)

        known = self._known.get(key)
        if known is not None and self._still_there(key, path):
            self.stats.hits += 1
            return known
        task = self._in_flight.get(key)
        if task is None:
            existing = self._load(path, text, voice)
            if existing is not None:
                self._remember(key, existing)
                self.stats.hits += 1
                return existing
            loop = asyncio.get_running_loop()
            task = loop.create_task(
                _await(
                    loop.run_in_executor(
                        self.renderer.executor, self._render_into_cache, path, text, voice
                    )
                ),
                name=f"render-prompt-{key[:12]}",
            )
            self._in_flight[key] = task
            task.add_done_callback(lambda done: self._finished(key, done))
        else:
            self.stats.joined += 1
        # shield: one caller hanging up must not cancel the render the others wait for
        return await asyncio.shield(task)

    async def _voice(self, language_or_voice: Language | str) -> str:
        if not self.renderer.started:
            await asyncio.get_running_loop().run_in_executor(
                self.renderer.executor, self.renderer.start
            )
        return self.renderer.voice_for(language_or_voice)

    def _finished(self, key: str, task: asyncio.Task[PromptFile]) -> None:
        if self._in_flight.get(key) is task:
            del self._in_flight[key]
        if task.cancelled():
            return
        if task.exception() is None:  # also marks a failure as retrieved
            self._remember(key, task.result())
            self.stats.renders += 1

    def _still_there(self, key: str, path: Path) -> bool:
        """Whether a remembered file is still on disk (someone may clear the cache): looked
        at again once every ``RECHECK_S``, not on every play — hundreds of calls play the
        same prompts, and a stat each was a noticeable share of the IVR's time."""
        now = time.monotonic()
        if now - self._seen_at.get(key, -RECHECK_S) < RECHECK_S:
            return True
        if not path.exists():
            return False
        self._seen_at[key] = now
        return True

    def _remember(self, key: str, prompt: PromptFile) -> None:
        self._known[key] = prompt
        if len(self._known) > self._remembered:
            oldest = next(iter(self._known))
            del self._known[oldest]
            self._seen_at.pop(oldest, None)

    def _render_into_cache(self, path: Path, text: str, voice: str) -> PromptFile:
        info = _write_into_place(path, lambda tmp: self.renderer.render_file(text, voice, tmp).info)
        return PromptFile(path, text, voice, info.duration_s)

    async def joined(self, parts: Sequence[PromptFile], dest: Path | None = None) -> PromptFile:
        """One file that plays ``parts`` back to back, for a player that takes one file
        (AGI ``GET DATA``: a caller's keys between two AGI commands are lost).

        Kept in the cache, keyed by the parts' files (which are named by their content),
        unless ``dest`` is given: parts that must not stay on disk (what a caller keyed)
        are joined into a file the caller removes. Raises :class:`PromptRenderError`.
        """
        if not parts:
            raise ValueError("nothing to join")
        text = " ".join(part.text for part in parts)
        voice = "+".join(dict.fromkeys(part.voice for part in parts))
        sources = [part.path for part in parts]
        if dest is not None:
            info = await asyncio.to_thread(join_wavs, sources, dest)
            return PromptFile(dest, text, voice, info.duration_s)
        material = json.dumps([FORMAT_VERSION, "joined", [p.name for p in sources]])
        key = hashlib.sha256(material.encode()).hexdigest()
        path = self.path_for_key(key)
        known = self._known.get(key)
        if known is not None and self._still_there(key, path):
            return known
        existing = await asyncio.to_thread(self._load, path, text, voice)
        if existing is None:
            info = await asyncio.to_thread(
                _write_into_place, path, lambda tmp: join_wavs(sources, tmp)
            )
            existing = PromptFile(path, text, voice, info.duration_s)
        self._remember(key, existing)
        return existing

    def _load(self, path: Path, text: str, voice: str) -> PromptFile | None:
        try:
            info = wav_info(path)
        except FileNotFoundError:
            return None
        except (wave.Error, EOFError, OSError) as exc:
            log.warning("cached prompt %s is damaged (%s); rendering it again", path, exc)
            return None
        if not info.is_telephone_audio:
            log.warning(
                "cached prompt %s is %s, not telephone audio; rendering it again", path, info
            )
            return None
        return PromptFile(path, text, voice, info.duration_s)
