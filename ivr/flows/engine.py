"""The pure step logic of an IVR call: ``FlowEngine.next(state, event) -> (state, effects)``.

Nothing here does I/O or reads a clock: the adapter (FastAGI / AudioSocket) turns what
happens on the call into :data:`Event` values (with the time it read, ``at``, in seconds),
feeds them in one at a time, and carries out the :data:`Effect` values that come back, in
order. The state is a frozen value; keep the latest one per call.

Rules the engine keeps whatever the flow files say:

- the way to a person (its key, ``0`` by default, and its phrases) works at every step;
- a step that stays unanswered (no input) or misunderstood (no match) ``after`` times in a
  row — two by default — goes to its ``goto``, a person unless the flow says otherwise,
  and four silent turns in a row anywhere always reach a person: a caller is never trapped
  and never dropped;
- speech below the step's confidence threshold is confirmed ("did you say …?") or asked
  again, never taken as a guess; keys are exact;
- a step marked personal, or running a personal action (reading appointments, booking,
  cancelling), is entered only once identity is verified — otherwise the call goes to the
  language's verification step first and resumes afterwards; a caller who fails
  verification ``verification_attempts`` times goes to a person;
- a caller who hangs up ends the session with no further effect but a turn record:
  nothing is booked (booking happens only when the confirmed step's action runs);
- what is heard at a sensitive step (date of birth, record number) is never stored in
  turns or passed on in the findings.
"""

from __future__ import annotations

import enum
import logging
import string
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from ivr.flows.actions import ACTIONS
from ivr.flows.schema import (
    HANGUP,
    PERSON,
    REPEAT,
    RESUME,
    Choice,
    FlowSet,
    Identity,
    LanguageFlows,
    Prompt,
    Step,
    StepKind,
    VoiceMessageSpec,
)

log = logging.getLogger(__name__)

#: Steps entered for one event before the engine calls it a loop and hands over.
MAX_HOPS = 50
#: No-inputs in a row, across steps, after which the caller goes to a person.
MAX_SILENT_TURNS = 4
#: Longest text kept from a recognition result or an action's value.
MAX_TEXT = 300
WITHHELD = "[withheld]"

# --- events ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CallStarted:
    """The call reached the IVR. ``patient_id``/``patient_name`` only when caller ID points
    at exactly one patient (name already made speakable); ``hospital`` by language."""

    caller_number: str | None = None
    patient_id: str | None = None
    patient_name: str | None = None
    language: str | None = None
    hospital: Mapping[str, str] = field(default_factory=dict)
    at: float = 0.0


@dataclass(frozen=True, slots=True)
class Alternative:
    text: str
    confidence: float


@dataclass(frozen=True, slots=True)
class SpeechResult:
    """What the recognizer heard (best hypothesis first); empty text means noise.
    ``recording``: at a free-form step with a voice message, the audio heard, kept."""

    text: str
    confidence: float
    alternatives: tuple[Alternative, ...] = ()
    at: float = 0.0
    recording: VoiceMessage | None = None


@dataclass(frozen=True, slots=True)
class DtmfInput:
    """Keys the caller pressed during the prompt or the listening (terminator included)."""

    digits: str
    at: float = 0.0


@dataclass(frozen=True, slots=True)
class NoInput:
    """The step's timeout passed with neither speech nor keys."""

    at: float = 0.0


@dataclass(frozen=True, slots=True)
class VoiceMessage:
    """The caller left a voice message at a free-form step (after the tone): ``path`` is
    the kept recording, ``seconds`` its length."""

    path: str
    seconds: float
    at: float = 0.0


@dataclass(frozen=True, slots=True)
class ActionResult:
    """How a :class:`RunAction` went: one of the action's outcomes and its values."""

    name: str
    outcome: str
    data: Mapping[str, str] = field(default_factory=dict)
    at: float = 0.0


@dataclass(frozen=True, slots=True)
class CallerHangup:
    """The caller hung up (the brief's ``Hangup`` event; the name is taken by the effect)."""

    at: float = 0.0


Event = (
    CallStarted | SpeechResult | DtmfInput | NoInput | VoiceMessage | ActionResult | CallerHangup
)

# --- effects ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Play:
    """Say ``text`` in ``language``; the caller may cut it short when ``barge_in``.
    ``sensitive``: it carries what the caller keyed at a sensitive step (a date of birth
    read back) — render it, play it, but keep no copy on disk."""

    text: str
    language: str
    barge_in: bool = True
    sensitive: bool = False


@dataclass(frozen=True, slots=True)
class DtmfSpec:
    """Keys to collect: any of ``accept``; a menu takes one key, a digits step
    ``min_digits``..``max_digits`` ended early by ``terminator``."""

    accept: str
    min_digits: int = 1
    max_digits: int = 1
    terminator: str | None = None


@dataclass(frozen=True, slots=True)
class Listen:
    """Listen for speech (with ``grammar``, or free-form) and keys until ``timeout_ms``
    of silence; answer with SpeechResult, DtmfInput or NoInput."""

    grammar: tuple[str, ...]
    dtmf: DtmfSpec
    timeout_ms: int
    free_form: bool
    language: str
    step: str  # flow.step, for logs and turn records
    # free-form only: where speech cannot be transcribed (keypad), record a voice message
    # like this and answer with VoiceMessage (or NoInput when nothing was said)
    voice_message: VoiceMessageSpec | None = None


@dataclass(frozen=True, slots=True)
class RunAction:
    """Carry out an action (see :mod:`ivr.flows.actions`) and answer with ActionResult."""

    name: str
    params: Mapping[str, str]
    language: str
    patient_id: str | None
    identity: Identity


@dataclass(frozen=True, slots=True)
class Findings:
    """What the IVR learnt, for the agent's screen pop."""

    reason: str
    language: str
    identity: Identity
    patient_id: str | None
    patient_name: str | None
    intent: str | None
    intents: tuple[str, ...]
    step: str
    slots: Mapping[str, str]  # sensitive ones left out
    turns: int
    last_heard: str | None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Findings:
        """Findings back from :meth:`to_json`'s values (an IVR session's stored findings);
        a missing or unknown value reads as nothing learnt."""

        def text(key: str) -> str | None:
            value = data.get(key)
            return value if isinstance(value, str) else None

        try:
            identity = Identity(data.get("identity"))
        except ValueError:
            identity = Identity.UNKNOWN
        slots = data.get("slots")
        intents = data.get("intents")
        turns = data.get("turns")
        return cls(
            reason=text("reason") or "",
            language=text("language") or "",
            identity=identity,
            patient_id=text("patient_id"),
            patient_name=text("patient_name"),
            intent=text("intent"),
            intents=tuple(i for i in intents if isinstance(i, str))
            if isinstance(intents, list)
            else (),
            step=text("step") or "",
            slots={str(k): str(v) for k, v in slots.items()} if isinstance(slots, dict) else {},
            turns=turns if isinstance(turns, int) else 0,
            last_heard=text("last_heard"),
        )

    def to_json(self) -> dict[str, Any]:
        """The findings as plain JSON values (what the IVR session stores)."""
        return {
            "reason": self.reason,
            "language": self.language,
            "identity": self.identity.value,
            "patient_id": self.patient_id,
            "patient_name": self.patient_name,
            "intent": self.intent,
            "intents": list(self.intents),
            "step": self.step,
            "slots": dict(self.slots),
            "turns": self.turns,
            "last_heard": self.last_heard,
        }


@dataclass(frozen=True, slots=True)
class Transfer:
    """Send the call to the agents' ``queue`` with the findings."""

    queue: str
    reason: str
    skill: str | None
    findings: Findings


@dataclass(frozen=True, slots=True)
class RecordTurn:
    """Store one turn (``crm_store`` IvrRepository.add_turn)."""

    step: str
    prompt: str | None
    heard: str | None
    dtmf: str | None
    confidence: float | None
    action: str
    at: float
    duration_ms: int | None


@dataclass(frozen=True, slots=True)
class Hangup:
    """End the call (the flow is done)."""

    reason: str


Effect = Play | Listen | RunAction | Transfer | RecordTurn | Hangup

# --- state -----------------------------------------------------------------------------


class Phase(str, enum.Enum):
    IDLE = "idle"  # before CallStarted
    LISTENING = "listening"
    CONFIRMING = "confirming"  # a low-confidence (or to-be-confirmed) answer: yes or no?
    WAITING_ACTION = "waiting_action"
    TRANSFERRED = "transferred"
    ENDED = "ended"


TERMINAL = frozenset({Phase.TRANSFERRED, Phase.ENDED})


@dataclass(frozen=True, slots=True)
class Turn:
    step: str
    prompt: str | None
    heard: str | None
    dtmf: str | None
    confidence: float | None
    action: str
    at: float


@dataclass(frozen=True, slots=True)
class Pending:
    """An answer waiting for the caller's yes: a choice, digits, or the wish for a person."""

    kind: str  # "choice" | "digits" | "person"
    value: str
    heard: str | None
    confidence: float | None


@dataclass(frozen=True, slots=True)
class SessionState:
    language: str
    flow: str = ""
    step: str = ""
    phase: Phase = Phase.IDLE
    slots: Mapping[str, str] = field(default_factory=dict)
    identity: Identity = Identity.UNKNOWN
    no_inputs: int = 0
    no_matches: int = 0
    silent_turns: int = 0
    verification_failures: int = 0
    pending: Pending | None = None
    pending_action: str | None = None
    resume: str | None = None
    intents: tuple[str, ...] = ()
    history: tuple[Turn, ...] = ()
    prompt_text: str | None = None
    prompt_at: float = 0.0
    hospital: Mapping[str, str] = field(default_factory=dict)
    outcome: str | None = None  # "to_agent" | "completed" | "caller_hangup"

    @property
    def ref(self) -> str:
        return f"{self.flow}.{self.step}"

    @property
    def attempts(self) -> int:
        """Failed tries at the current step (no-inputs plus no-matches)."""
        return self.no_inputs + self.no_matches

    @property
    def finished(self) -> bool:
        return self.phase in TERMINAL


# --- text helpers ----------------------------------------------------------------------


def clean_heard(text: str) -> str:
    """Recognised or action text as kept: NFKC, no control characters, one-line, cut."""
    text = unicodedata.normalize("NFKC", text)
    text = "".join(" " if unicodedata.category(c)[0] in "CZ" else c for c in text)
    return " ".join(text.split())[:MAX_TEXT]


def clean_value(text: str) -> str:
    """An action's value as kept: one line, no control characters, cut."""
    text = "".join(" " if unicodedata.category(c)[0] in "CZ" else c for c in text)
    return " ".join(text.split())[:MAX_TEXT]


def normalise(text: str) -> str:
    """Text for matching: case-folded, punctuation gone, single spaces."""
    text = unicodedata.normalize("NFKC", text).casefold()
    kept = "".join(c if unicodedata.category(c)[0] in "LMN" else " " for c in text)
    return " ".join(kept.split())


def _spaced_script(phrase: str) -> bool:
    """Whether words of ``phrase`` are separated by spaces (Latin) — else match inside."""
    return all(c.isascii() for c in phrase)


def phrase_in(phrase: str, heard: str) -> bool:
    """Whether the normalised ``phrase`` occurs in the normalised ``heard``: as whole words
    for Latin script, anywhere (spaces ignored) for Chinese and Korean."""
    if not phrase:
        return False
    if _spaced_script(phrase):
        return f" {phrase} " in f" {heard} "
    return phrase.replace(" ", "") in heard.replace(" ", "")


def spoken_digits(text: str, words: Mapping[str, str]) -> str | None:
    """Digits in ``text`` written as digits or digit words ("一九八五", "one nine eight
    five", "1985"); None when anything else is in it."""
    compact = normalise(text).replace(" ", "")
    folded = {normalise(w).replace(" ", ""): d for w, d in words.items()}
    longest = max((len(w) for w in folded), default=0)
    out: list[str] = []
    i = 0
    while i < len(compact):
        if compact[i].isascii() and compact[i].isdigit():
            out.append(compact[i])
            i += 1
            continue
        for size in range(min(longest, len(compact) - i), 0, -1):
            digit = folded.get(compact[i : i + size])
            if digit is not None:
                out.append(digit)
                i += size
                break
        else:
            return None
    return "".join(out) or None


class _Values(string.Formatter):
    def __init__(self, values: Mapping[str, str]) -> None:
        self.values = values

    def get_value(self, key: int | str, args: Any, kwargs: Any) -> Any:
        return self.values.get(str(key), "")


def render(template: str, values: Mapping[str, str]) -> str:
    """``template`` with its placeholders filled (a missing value says nothing)."""
    try:
        return " ".join(_Values(values).format(template).split())
    except (ValueError, IndexError, KeyError, AttributeError):
        return template


def _seconds(length: float) -> str:
    """A recording's length as said and stored: whole seconds, at least one."""
    return str(max(round(length), 1))


# --- the engine ------------------------------------------------------------------------


class _Work:
    """The state being built while one event is handled, and the effects so far."""

    def __init__(self, state: SessionState, at: float) -> None:
        self.s = state
        self.at = at
        self.out: list[Effect] = []
        self.hops = 0

    def set(self, **changes: Any) -> None:
        self.s = replace(self.s, **changes)


class FlowEngine:
    """Runs the flows of a :class:`FlowSet`; one engine serves every call."""

    def __init__(self, flows: FlowSet, *, default_language: str) -> None:
        if default_language not in flows.languages:
            raise ValueError(f"no flows for the default language {default_language!r}")
        self.flows = flows
        self.default_language = default_language
        self._sensitive = {lang: lf.sensitive_slots for lang, lf in flows.languages.items()}

    def new_session(self) -> SessionState:
        """The state before the call's :class:`CallStarted`."""
        return SessionState(language=self.default_language)

    def next(self, state: SessionState, event: Event) -> tuple[SessionState, list[Effect]]:
        """The state after ``event`` and what to do now. Never raises: should a flow lead
        somewhere impossible, the caller is handed to a person."""
        if state.finished:
            return state, []
        try:
            return self._next(state, event)
        except Exception:  # the last guard: a caller never hears silence because of a bug
            log.exception("IVR engine failed at %s on %r", state.ref, event)
            w = _Work(state, getattr(event, "at", 0.0))
            self._to_person(w, "engine_error")
            return w.s, w.out

    # dispatch

    def _next(self, state: SessionState, event: Event) -> tuple[SessionState, list[Effect]]:
        w = _Work(state, event.at)
        if isinstance(event, CallerHangup):
            if state.phase is not Phase.IDLE:
                self._record(w, action="caller_hangup")
            w.set(phase=Phase.ENDED, outcome="caller_hangup", pending=None)
            return w.s, w.out
        if isinstance(event, CallStarted):
            if state.phase is Phase.IDLE:
                self._start(w, event)
            return w.s, w.out
        if isinstance(event, ActionResult):
            if state.phase is Phase.WAITING_ACTION and event.name == state.pending_action:
                self._action_result(w, event)
            return w.s, w.out
        if state.phase not in (Phase.LISTENING, Phase.CONFIRMING):
            return state, []  # input while nothing listens (an action runs): ignored
        if len(state.history) >= self._lf(w).settings.max_turns:
            self._record(w, action="too_many_turns")
            self._to_person(w, "too_many_turns")
            return w.s, w.out
        if isinstance(event, DtmfInput):
            self._dtmf(w, event)
        elif isinstance(event, SpeechResult):
            self._speech(w, event)
        elif isinstance(event, VoiceMessage):
            self._voice_message(w, event)
        else:
            self._no_input(w)
        return w.s, w.out

    def _lf(self, w: _Work) -> LanguageFlows:
        return self.flows.languages[w.s.language]

    def _current(self, w: _Work) -> Step:
        step = self._lf(w).step(w.s.ref)
        if step is None:
            raise LookupError(f"no step {w.s.ref} in {w.s.language}")
        return step

    # starting and moving

    def _start(self, w: _Work, event: CallStarted) -> None:
        language = event.language if event.language in self.flows.languages else None
        language = language or self.default_language
        slots: dict[str, str] = {}
        for name, value in (
            ("caller_number", event.caller_number),
            ("patient_id", event.patient_id),
            ("patient_name", event.patient_name),
        ):
            if value:
                slots[name] = clean_heard(value)
        slots["hospital"] = clean_heard(event.hospital.get(language, ""))
        identity = Identity.IDENTIFIED if event.patient_id else Identity.UNKNOWN
        w.set(
            language=language,
            slots=slots,
            identity=identity,
            hospital=dict(event.hospital),
            prompt_at=event.at,
        )
        self._goto(w, self._lf(w).settings.entry, reason="flow")

    def _goto(self, w: _Work, target: str, *, reason: str) -> None:
        """Enter ``target`` and run on through steps that need no answer."""
        while True:
            w.hops += 1
            if w.hops > MAX_HOPS:
                self._to_person(w, "flow_loop")
                return
            lf = self._lf(w)
            if target == PERSON:
                self._to_person(w, reason)
                return
            if target == HANGUP:
                self._hangup(w, reason="completed")
                return
            if target == RESUME:
                target = w.s.resume or lf.settings.main_menu
                w.set(resume=None)
                continue
            if target == REPEAT:
                target = w.s.ref
                continue
            step = lf.step(target)
            if step is None:
                log.error("flow reference %s not found in %s", target, w.s.language)
                self._to_person(w, "missing_step")
                return
            if self._needs_verification(step, w.s.slots) and w.s.identity is not Identity.VERIFIED:
                if w.s.verification_failures >= lf.settings.verification_attempts:
                    self._to_person(w, "verification_failed")
                    return
                w.set(resume=target)
                target = lf.settings.verification
                continue
            w.set(
                flow=step.flow,
                step=step.name,
                no_inputs=0,
                no_matches=0,
                pending=None,
                pending_action=None,
            )
            if step.kind is StepKind.SAY:
                self._play(w, step.prompt, barge_in=step.barge_in)
                target = step.goto or PERSON
                continue
            if step.kind is StepKind.BRANCH:
                target = self._branch(w, step)
                continue
            if step.kind is StepKind.ACTION:
                moved = self._run_action(w, step)
                if moved is None:
                    return
                target = moved
                continue
            self._ask(w, step)
            return

    def _needs_verification(self, step: Step, slots: Mapping[str, str]) -> bool:
        if step.personal:
            return True
        if step.action is None:
            return False
        spec = ACTIONS.get(step.action.name)
        if spec is None:
            return False
        params = {k: render(v, slots) for k, v in step.action.params.items()}
        return spec.is_personal(params)

    def _branch(self, w: _Work, step: Step) -> str:
        order = [Identity.UNKNOWN, Identity.IDENTIFIED, Identity.VERIFIED]
        for rule in step.branch:
            if rule.slot is not None and w.s.slots.get(rule.slot):
                return rule.goto
            if rule.identity is not None and order.index(w.s.identity) >= order.index(
                rule.identity
            ):
                return rule.goto
        return step.otherwise or PERSON

    def _run_action(self, w: _Work, step: Step) -> str | None:
        """Start the step's action; the next target when the engine did it itself, None
        when the call now waits (for the adapter, or because it ended)."""
        assert step.action is not None
        call = step.action
        params = {k: render(v, w.s.slots) for k, v in call.params.items() if k != "goto"}
        if step.prompt:
            self._play(w, step.prompt, barge_in=step.barge_in)
        if call.name == "set_language":
            language = params.get("language", "")
            if language in self.flows.languages and language != w.s.language:
                slots = dict(w.s.slots)
                slots["hospital"] = clean_heard(w.s.hospital.get(language, ""))
                w.set(language=language, slots=slots)
            self._record(w, action=f"set_language:{w.s.language}")
            return call.params.get("goto", PERSON)
        if call.name == "transfer":
            self._to_person(
                w,
                params.get("reason") or "flow",
                queue=params.get("queue") or None,
                skill=params.get("skill") or None,
            )
            return None
        if call.name == "hangup":
            self._hangup(w, reason=params.get("reason") or "completed")
            return None
        patient = w.s.slots.get("patient_id") or None
        w.out.append(RunAction(call.name, params, w.s.language, patient, w.s.identity))
        w.set(phase=Phase.WAITING_ACTION, pending_action=call.name)
        return None

    def _action_result(self, w: _Work, event: ActionResult) -> None:
        step = self._current(w)
        spec = ACTIONS.get(event.name)
        assert step.action is not None and spec is not None
        slots = dict(w.s.slots)
        for key, value in event.data.items():
            if key in spec.provides:
                slots[key] = clean_value(str(value))
        w.set(slots=slots, pending_action=None)
        outcome = event.outcome if event.outcome in spec.outcomes else "failed"
        self._record(w, action=f"{event.name}:{outcome}", prompt=None)
        if event.name == "verify_identity":
            if outcome == "verified":
                w.set(identity=Identity.VERIFIED)
            else:
                failures = w.s.verification_failures + 1
                w.set(verification_failures=failures)
                if failures >= self._lf(w).settings.verification_attempts:
                    self._to_person(w, "verification_failed")
                    return
        elif event.name == "lookup" and outcome == "found" and slots.get("patient_id"):
            if w.s.identity is Identity.UNKNOWN:
                w.set(identity=Identity.IDENTIFIED)
        target = step.action.on.get(outcome) or step.action.on.get("otherwise")
        self._goto(w, target or PERSON, reason=f"{event.name}_{outcome}")

    # asking and listening

    def _enabled(self, w: _Work, step: Step) -> list[Choice]:
        return [c for c in step.choices if all(w.s.slots.get(r) for r in c.requires)]

    def _ask(self, w: _Work, step: Step, reprompt: Prompt = ()) -> None:
        lf = self._lf(w)
        person = lf.settings.person
        self._play(w, reprompt + step.prompt, barge_in=step.barge_in)
        if step.kind is StepKind.MENU:
            choices = self._enabled(w, step)
            grammar = [p for c in choices for p in c.phrases]
            keys = "".join(c.key for c in choices if c.key) + person.key
            dtmf = DtmfSpec(accept=keys)
        elif step.kind is StepKind.DIGITS:
            assert step.digits is not None
            grammar = list(lf.settings.digit_words)
            spec = step.digits
            accept = "0123456789" + (spec.terminator or "")
            dtmf = DtmfSpec(accept, spec.min_length, spec.max_length, spec.terminator)
        else:
            grammar = []
            dtmf = DtmfSpec(accept=person.key)
        grammar += [p for p in person.phrases if p not in grammar]
        free = step.kind is StepKind.FREE_FORM
        w.out.append(
            Listen(
                grammar=() if free else tuple(grammar),
                dtmf=dtmf,
                timeout_ms=step.timeout_ms,
                free_form=free,
                language=w.s.language,
                step=step.ref,
                voice_message=step.voice_message if free else None,
            )
        )
        w.set(phase=Phase.LISTENING, prompt_at=w.at)

    def _confirm(self, w: _Work, step: Step, pending: Pending, prompt: Prompt, value: str) -> None:
        settings = self._lf(w).settings
        yes_no = settings.yes_no
        values = dict(w.s.slots)
        values["choice" if pending.kind != "digits" else "digits"] = value
        self._play(
            w,
            prompt,
            barge_in=True,
            values=values,
            sensitive=step.sensitive and pending.kind == "digits",
        )
        phrases = yes_no.yes_phrases + yes_no.no_phrases
        grammar = phrases + tuple(p for p in settings.person.phrases if p not in phrases)
        keys = yes_no.yes_key + yes_no.no_key + settings.person.key
        w.out.append(
            Listen(
                grammar=grammar,
                dtmf=DtmfSpec(accept=keys),
                timeout_ms=step.timeout_ms,
                free_form=False,
                language=w.s.language,
                step=step.ref,
            )
        )
        w.set(phase=Phase.CONFIRMING, pending=pending, prompt_at=w.at)

    def _dtmf(self, w: _Work, event: DtmfInput) -> None:
        step = self._current(w)
        settings = self._lf(w).settings
        digits = "".join(c for c in event.digits if c in "0123456789*#")[:40]
        if digits == settings.person.key:
            self._record(w, dtmf=digits, action="person", step=step)
            self._to_person(w, "caller_asked")
            return
        if w.s.phase is Phase.CONFIRMING:
            if digits == settings.yes_no.yes_key:
                self._confirmed(w, step, dtmf=digits)
            elif digits == settings.yes_no.no_key:
                self._rejected(w, step, dtmf=digits)
            else:
                self._no_match(w, step, dtmf=digits)
            return
        if step.kind is StepKind.MENU:
            for choice in self._enabled(w, step):
                if choice.key is not None and choice.key == digits:
                    self._choose(w, step, choice, heard=None, dtmf=digits, confidence=None)
                    return
        elif step.kind is StepKind.DIGITS:
            assert step.digits is not None
            spec = step.digits
            entered = digits
            if spec.terminator and entered.endswith(spec.terminator):
                entered = entered[: -len(spec.terminator)]
            if entered.isdigit() and spec.min_length <= len(entered) <= spec.max_length:
                self._digits(w, step, entered, heard=None, dtmf=digits, confidence=None)
                return
        self._no_match(w, step, dtmf=digits)

    def _speech(self, w: _Work, event: SpeechResult) -> None:
        step = self._current(w)
        settings = self._lf(w).settings
        heard = clean_heard(event.text)
        confidence = min(max(float(event.confidence), 0.0), 1.0)
        if confidence != confidence:  # NaN
            confidence = 0.0
        if not normalise(heard):
            self._no_match(w, step, heard=heard or None, confidence=confidence)
            return
        sure = confidence >= step.confidence
        person = [normalise(p) for p in settings.person.phrases]
        hypotheses = [(heard, confidence, sure)] + [
            (clean_heard(a.text), a.confidence, False) for a in event.alternatives[:5]
        ]
        if w.s.phase is Phase.CONFIRMING:
            said = normalise(heard)
            yes = any(phrase_in(normalise(p), said) for p in settings.yes_no.yes_phrases)
            no = any(phrase_in(normalise(p), said) for p in settings.yes_no.no_phrases)
            if sure and any(phrase_in(p, said) for p in person):
                self._record(w, heard=heard, confidence=confidence, action="person", step=step)
                self._to_person(w, "caller_asked")
            elif sure and no:  # "不是" holds "是": no wins
                self._rejected(w, step, heard=heard, confidence=confidence)
            elif sure and yes:
                self._confirmed(w, step, heard=heard, confidence=confidence)
            else:
                self._no_match(w, step, heard=heard, confidence=confidence)
            return
        if step.kind is StepKind.FREE_FORM:
            if normalise(heard) in person:
                self._person_wish(w, step, heard, confidence, sure)
                return
            assert step.free_form_slot is not None
            self._record(w, heard=heard, confidence=confidence, action="heard", step=step)
            slots = dict(w.s.slots)
            slots[step.free_form_slot] = heard
            message, kept = step.voice_message, event.recording
            if message is not None:  # the words' audio, kept next to them
                slots[message.slot] = kept.path if kept is not None else ""
                slots[message.length_slot] = _seconds(kept.seconds) if kept is not None else ""
            w.set(slots=slots)
            self._goto(w, step.goto or PERSON, reason="flow")
            return
        for text, score, trusted in hypotheses:
            said = normalise(text)
            if step.kind is StepKind.DIGITS:
                assert step.digits is not None
                if any(phrase_in(p, said) for p in person):
                    self._person_wish(w, step, heard, score, trusted)
                    return
                digits = spoken_digits(text, settings.digit_words)
                spec = step.digits
                if digits and spec.min_length <= len(digits) <= spec.max_length:
                    self._digits(
                        w, step, digits, heard=heard, dtmf=None, confidence=score, trusted=trusted
                    )
                    return
                continue
            best: tuple[int, str] | None = None
            tie = False
            candidates: list[tuple[str, list[str]]] = [
                (c.name, [normalise(p) for p in c.phrases]) for c in self._enabled(w, step)
            ]
            candidates.append((PERSON, person))
            for name, phrases in candidates:
                for phrase in phrases:
                    if phrase_in(phrase, said):
                        size = len(phrase.replace(" ", ""))
                        if best is None or size > best[0]:
                            best, tie = (size, name), False
                        elif size == best[0] and name != best[1]:
                            tie = True
            if best is None or tie:
                continue
            if best[1] == PERSON:
                self._person_wish(w, step, heard, score, trusted)
                return
            choice = next(c for c in step.choices if c.name == best[1])
            if trusted:
                self._choose(w, step, choice, heard=heard, dtmf=None, confidence=score)
            else:
                self._record(w, heard=heard, confidence=score, action="confirm", step=step)
                pending = Pending("choice", choice.name, heard, score)
                self._confirm(w, step, pending, settings.confirm_choice, choice.label)
            return
        self._no_match(w, step, heard=heard, confidence=confidence)

    def _voice_message(self, w: _Work, event: VoiceMessage) -> None:
        step = self._current(w)
        spec = step.voice_message
        if w.s.phase is not Phase.LISTENING or spec is None or step.free_form_slot is None:
            self._no_match(w, step, action="unexpected_voice_message")
            return
        seconds = _seconds(event.seconds)
        text = clean_heard(render(spec.text, {"seconds": seconds}))
        self._record(w, heard=text, action="voice_message", step=step)
        slots = dict(w.s.slots)
        slots[step.free_form_slot] = text
        slots[spec.slot] = event.path
        slots[spec.length_slot] = seconds
        w.set(slots=slots, silent_turns=0)
        self._goto(w, step.goto or PERSON, reason="flow")

    def _person_wish(
        self, w: _Work, step: Step, heard: str, confidence: float, trusted: bool
    ) -> None:
        settings = self._lf(w).settings
        if trusted:
            self._record(w, heard=heard, confidence=confidence, action="person", step=step)
            self._to_person(w, "caller_asked")
            return
        self._record(w, heard=heard, confidence=confidence, action="confirm", step=step)
        label = settings.person.phrases[0] if settings.person.phrases else PERSON
        pending = Pending("person", PERSON, heard, confidence)
        self._confirm(w, step, pending, settings.confirm_choice, label)

    def _choose(
        self,
        w: _Work,
        step: Step,
        choice: Choice,
        *,
        heard: str | None,
        dtmf: str | None,
        confidence: float | None,
        confirmed: bool = False,
    ) -> None:
        if step.confirm and not confirmed:
            self._record(
                w, heard=heard, dtmf=dtmf, confidence=confidence, action="confirm", step=step
            )
            pending = Pending("choice", choice.name, heard, confidence)
            self._confirm(w, step, pending, step.confirm, choice.label)
            return
        if not confirmed:
            self._record(
                w,
                heard=heard,
                dtmf=dtmf,
                confidence=confidence,
                action=f"choice:{choice.name}",
                step=step,
            )
        slots = dict(w.s.slots)
        for slot, template in choice.set.items():
            slots[slot] = render(template, w.s.slots)
        intents = w.s.intents + ((choice.intent,) if choice.intent else ())
        w.set(slots=slots, intents=intents, silent_turns=0)
        self._goto(w, choice.goto, reason="flow")

    def _digits(
        self,
        w: _Work,
        step: Step,
        digits: str,
        *,
        heard: str | None,
        dtmf: str | None,
        confidence: float | None,
        trusted: bool = True,
        confirmed: bool = False,
    ) -> None:
        assert step.digits is not None
        if (step.confirm or not trusted) and not confirmed:
            self._record(
                w, heard=heard, dtmf=dtmf, confidence=confidence, action="confirm", step=step
            )
            pending = Pending("digits", digits, heard, confidence)
            prompt = step.confirm or self._lf(w).settings.confirm_digits
            self._confirm(w, step, pending, prompt, " ".join(digits))
            return
        if not confirmed:
            self._record(
                w, heard=heard, dtmf=dtmf, confidence=confidence, action="digits", step=step
            )
        slots = dict(w.s.slots)
        slots[step.digits.slot] = digits
        w.set(slots=slots, silent_turns=0)
        self._goto(w, step.goto or PERSON, reason="flow")

    def _confirmed(
        self,
        w: _Work,
        step: Step,
        *,
        heard: str | None = None,
        dtmf: str | None = None,
        confidence: float | None = None,
    ) -> None:
        pending = w.s.pending
        self._record(
            w, heard=heard, dtmf=dtmf, confidence=confidence, action="confirmed", step=step
        )
        w.set(pending=None, phase=Phase.LISTENING)
        if pending is None or pending.kind == "person":
            self._to_person(w, "caller_asked")
        elif pending.kind == "digits":
            self._digits(
                w, step, pending.value, heard=None, dtmf=None, confidence=None, confirmed=True
            )
        else:
            choice = next((c for c in step.choices if c.name == pending.value), None)
            if choice is None:
                self._to_person(w, "missing_choice")
                return
            self._choose(w, step, choice, heard=None, dtmf=None, confidence=None, confirmed=True)

    def _rejected(
        self,
        w: _Work,
        step: Step,
        *,
        heard: str | None = None,
        dtmf: str | None = None,
        confidence: float | None = None,
    ) -> None:
        self._no_match(w, step, heard=heard, dtmf=dtmf, confidence=confidence, action="rejected")

    def _no_match(
        self,
        w: _Work,
        step: Step,
        *,
        heard: str | None = None,
        dtmf: str | None = None,
        confidence: float | None = None,
        action: str = "no_match",
    ) -> None:
        self._record(w, heard=heard, dtmf=dtmf, confidence=confidence, action=action, step=step)
        count = w.s.no_matches + 1
        w.set(no_matches=count, silent_turns=0, pending=None)
        if count >= step.no_match.after:
            self._goto(w, step.no_match.goto, reason="no_match")
        else:
            self._ask(w, step, step.no_match.reprompt)

    def _no_input(self, w: _Work) -> None:
        step = self._current(w)
        self._record(w, action="no_input", step=step)
        count = w.s.no_inputs + 1
        silent = w.s.silent_turns + 1
        w.set(no_inputs=count, silent_turns=silent, pending=None)
        if silent >= MAX_SILENT_TURNS:
            self._to_person(w, "no_input")
        elif count >= step.no_input.after:
            self._goto(w, step.no_input.goto, reason="no_input")
        else:
            self._ask(w, step, step.no_input.reprompt)

    # effects

    def _play(
        self,
        w: _Work,
        prompt: Prompt,
        *,
        barge_in: bool,
        values: Mapping[str, str] | None = None,
        sensitive: bool = False,
    ) -> None:
        values = w.s.slots if values is None else values
        said: list[str] = []
        for part in prompt:
            if part.when is not None and not values.get(part.when):
                continue
            text = render(part.text, values)
            if not text:
                continue
            said.append(text)
            language = part.language or w.s.language
            w.out.append(Play(text, language, barge_in=barge_in, sensitive=sensitive))
        if said:
            w.set(prompt_text=WITHHELD if sensitive else " ".join(said)[: MAX_TEXT * 2])

    def _record(
        self,
        w: _Work,
        *,
        action: str,
        heard: str | None = None,
        dtmf: str | None = None,
        confidence: float | None = None,
        prompt: str | None = "",
        step: Step | None = None,
    ) -> None:
        if step is not None and step.sensitive:
            heard = WITHHELD if heard else None
            dtmf = WITHHELD if dtmf and action not in ("person",) else dtmf
        shown_prompt = w.s.prompt_text if prompt == "" else prompt
        duration = int(max(w.at - w.s.prompt_at, 0.0) * 1000) if w.at else None
        turn = Turn(w.s.ref, shown_prompt, heard, dtmf, confidence, action, w.at)
        w.out.append(
            RecordTurn(turn.step, shown_prompt, heard, dtmf, confidence, action, w.at, duration)
        )
        w.set(history=(*w.s.history, turn))

    def findings(self, state: SessionState, reason: str) -> Findings:
        """What the session learnt (sensitive slots left out): handed to the agent with a
        transfer, and stored on the IVR session however the call ends."""
        hidden = self._sensitive.get(state.language, frozenset())
        slots = {k: v for k, v in state.slots.items() if k not in hidden and v}
        heard = next((t.heard for t in reversed(state.history) if t.heard), None)
        return Findings(
            reason=reason,
            language=state.language,
            identity=state.identity,
            patient_id=state.slots.get("patient_id") or None,
            patient_name=state.slots.get("patient_name") or None,
            intent=state.intents[-1] if state.intents else None,
            intents=state.intents,
            step=state.ref,
            slots=slots,
            turns=len(state.history),
            last_heard=heard if heard != WITHHELD else None,
        )

    def _findings(self, w: _Work, reason: str) -> Findings:
        return self.findings(w.s, reason)

    def _to_person(
        self, w: _Work, reason: str, *, queue: str | None = None, skill: str | None = None
    ) -> None:
        person = self._lf(w).settings.person
        if person.prompt:
            self._play(w, person.prompt, barge_in=False)
        w.out.append(
            Transfer(
                queue or person.queue, reason, skill or person.skill, self._findings(w, reason)
            )
        )
        w.set(phase=Phase.TRANSFERRED, outcome="to_agent", pending=None, pending_action=None)

    def _hangup(self, w: _Work, *, reason: str) -> None:
        w.out.append(Hangup(reason))
        w.set(phase=Phase.ENDED, outcome="completed", pending=None, pending_action=None)


def static_prompts(flows: FlowSet) -> dict[str, list[str]]:
    """Prompt texts without placeholders, by the language they are spoken in: what
    ``hotline prompts render`` can render before the first call."""
    out: dict[str, dict[str, None]] = {}
    for language, lf in flows.languages.items():
        settings = lf.settings
        prompts: list[Prompt] = [
            settings.person.prompt,
            settings.no_input.reprompt,
            settings.no_match.reprompt,
        ]
        for flow in lf.flows.values():
            for step in flow.steps.values():
                prompts += [step.prompt, step.no_input.reprompt, step.no_match.reprompt]
        for prompt in prompts:
            for part in prompt:
                if "{" not in part.text:
                    out.setdefault(part.language or language, {})[part.text] = None
    return {language: list(texts) for language, texts in out.items()}
