"""What a loaded flow is: plain, frozen values built by :mod:`ivr.flows.loader` from the
YAML files under ``dialplans/ivr/<language>/`` and read by :mod:`ivr.flows.engine`.

Every object keeps ``where`` (file and line) so that problems found after parsing still
point at the line to fix.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field


class Identity(str, enum.Enum):
    """How sure the IVR is of who is calling."""

    UNKNOWN = "unknown"
    IDENTIFIED = "identified"  # caller ID (or a record number) points at one patient
    VERIFIED = "verified"  # and the caller proved it (date of birth / record number)


class StepKind(str, enum.Enum):
    MENU = "menu"  # choices by phrase or key
    DIGITS = "digits"  # a number keyed or spoken
    FREE_FORM = "free_form"  # whatever the caller says, kept as text
    ACTION = "action"  # run an action, route on its outcome
    SAY = "say"  # a message, then on
    BRANCH = "branch"  # route on what is known (slots, identity), no prompt


#: Targets that are not steps: a person (the agent queue), the end of the call, the step
#: that the identity check interrupted, and the current step again.
PERSON = "person"
HANGUP = "hangup"
RESUME = "resume"
REPEAT = "repeat"
RESERVED_TARGETS = frozenset({PERSON, HANGUP, RESUME, REPEAT})


@dataclass(frozen=True, slots=True)
class Where:
    file: str
    line: int  # 1-based

    def __str__(self) -> str:
        return f"{self.file}:{self.line}"


@dataclass(frozen=True, slots=True)
class PromptPart:
    """Text to say, with ``{placeholders}``; ``language`` set only where one prompt mixes
    languages (the language offer says "For English, press 9" in an English voice)."""

    text: str
    language: str | None = None
    when: str | None = None  # said only when this slot has a value ("if:" in the file)


Prompt = tuple[PromptPart, ...]


@dataclass(frozen=True, slots=True)
class Choice:
    name: str
    phrases: tuple[str, ...]
    key: str | None
    goto: str
    label: str  # what the confirmation says ("Did you want <label>?")
    set: Mapping[str, str] = field(default_factory=dict)  # slot → value template
    intent: str | None = None  # what the caller wants, for the agent's findings
    requires: tuple[str, ...] = ()  # offered only when these slots have values
    where: Where = Where("", 0)


@dataclass(frozen=True, slots=True)
class DigitsSpec:
    slot: str
    min_length: int
    max_length: int
    terminator: str | None = "#"


@dataclass(frozen=True, slots=True)
class VoiceMessageSpec:
    """A free-form step's voice message: where a caller who cannot be transcribed (keypad
    mode, no recogniser) leaves their words after a tone instead. The recording's file
    goes in ``slot``, its length in seconds in ``<slot>_s``, and the free-form slot gets
    ``text`` (``{seconds}`` filled), so the step's answer says it is a voice message."""

    slot: str
    text: str
    max_s: int = 120  # longest message; ``#`` or ``silence_s`` of silence end it sooner
    silence_s: int = 5

    @property
    def length_slot(self) -> str:
        return f"{self.slot}_s"


@dataclass(frozen=True, slots=True)
class ActionCall:
    name: str
    params: Mapping[str, str]  # value templates
    on: Mapping[str, str]  # outcome → target ("otherwise" for the rest)
    where: Where = Where("", 0)


@dataclass(frozen=True, slots=True)
class Retry:
    """Where a step goes after ``after`` no-inputs (or no-matches) in a row, and what is
    said before asking again until then."""

    after: int
    goto: str
    reprompt: Prompt


@dataclass(frozen=True, slots=True)
class BranchRule:
    goto: str
    slot: str | None = None  # taken when the slot has a value
    identity: Identity | None = None  # taken when identity is at least this


@dataclass(frozen=True, slots=True)
class Step:
    name: str
    flow: str
    kind: StepKind
    prompt: Prompt
    where: Where
    choices: tuple[Choice, ...] = ()
    digits: DigitsSpec | None = None
    free_form_slot: str | None = None
    voice_message: VoiceMessageSpec | None = None  # free_form: a message after a tone
    action: ActionCall | None = None
    goto: str | None = None  # after say / digits / free_form
    branch: tuple[BranchRule, ...] = ()
    otherwise: str | None = None
    confirm: Prompt = ()  # asked after every accepted answer when set
    no_input: Retry = Retry(2, PERSON, ())
    no_match: Retry = Retry(2, PERSON, ())
    barge_in: bool = True
    confidence: float = 0.5
    timeout_ms: int = 5000
    personal: bool = False  # entered only with verified identity
    sensitive: bool = False  # what is heard here is never stored or passed on

    @property
    def ref(self) -> str:
        return f"{self.flow}.{self.name}"

    @property
    def listens(self) -> bool:
        return self.kind in (StepKind.MENU, StepKind.DIGITS, StepKind.FREE_FORM)


@dataclass(frozen=True, slots=True)
class Flow:
    name: str
    language: str
    start: str
    steps: Mapping[str, Step]
    where: Where


@dataclass(frozen=True, slots=True)
class PersonSpec:
    """The way out to a person, at every step: phrases, a key, and the queue."""

    phrases: tuple[str, ...]
    key: str
    queue: str
    skill: str | None
    prompt: Prompt


@dataclass(frozen=True, slots=True)
class YesNo:
    yes_phrases: tuple[str, ...]
    yes_key: str
    no_phrases: tuple[str, ...]
    no_key: str


@dataclass(frozen=True, slots=True)
class LanguageSettings:
    """``language.yaml`` of a language directory: what every flow of it shares."""

    language: str
    voice: str
    entry: str  # flow.step where a call starts
    main_menu: str  # where "resume" goes when nothing was interrupted
    verification: str  # flow.step that verifies identity before a personal step
    verification_attempts: int
    person: PersonSpec
    yes_no: YesNo
    confirm_choice: Prompt  # {choice}
    confirm_digits: Prompt  # {digits}
    no_input: Retry
    no_match: Retry
    confidence: float
    timeout_ms: int
    barge_in: bool
    digit_words: Mapping[str, str]  # spoken word → digit
    max_turns: int
    test_only: bool
    where: Where


@dataclass(frozen=True, slots=True)
class LanguageFlows:
    settings: LanguageSettings
    flows: Mapping[str, Flow]

    def step(self, ref: str) -> Step | None:
        flow_name, _, step_name = ref.partition(".")
        flow = self.flows.get(flow_name)
        return None if flow is None else flow.steps.get(step_name)

    @property
    def sensitive_slots(self) -> frozenset[str]:
        names: set[str] = set()
        for flow in self.flows.values():
            for step in flow.steps.values():
                if step.sensitive:
                    if step.digits is not None:
                        names.add(step.digits.slot)
                    if step.free_form_slot is not None:
                        names.add(step.free_form_slot)
        return frozenset(names)


@dataclass(frozen=True, slots=True)
class FlowSet:
    """Every language's flows, as loaded from one directory."""

    languages: Mapping[str, LanguageFlows]

    def step(self, language: str, ref: str) -> Step | None:
        flows = self.languages.get(language)
        return None if flows is None else flows.step(ref)


def qualify(flow: str, target: str) -> str:
    """A target as written in ``flow`` made absolute: "menu" → "main.menu"; reserved
    targets and "other.step" stay as they are."""
    if target in RESERVED_TARGETS or "." in target:
        return target
    return f"{flow}.{target}"
