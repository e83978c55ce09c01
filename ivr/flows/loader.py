"""Reading and checking the flow files under ``dialplans/ivr/<language>/``.

``check_flows(directory)`` reads every language directory and returns every problem it
finds, each with the file and line to fix; ``load_flows(directory)`` returns the
:class:`~ivr.flows.schema.FlowSet` or raises :class:`FlowError` carrying those problems.
``check_command_output(problems)`` is the text ``hotline ivr check`` prints.

A language directory holds ``language.yaml`` (what its flows share) and one file per flow,
named after the flow. The format is described in ``dialplans/ivr/README.md``.
"""

from __future__ import annotations

import difflib
import string
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError

from ivr.flows.actions import ACTIONS, BUILTIN_VALUES
from ivr.flows.schema import (
    PERSON,
    RESERVED_TARGETS,
    ActionCall,
    BranchRule,
    Choice,
    DigitsSpec,
    Flow,
    FlowSet,
    Identity,
    LanguageFlows,
    LanguageSettings,
    PersonSpec,
    Prompt,
    PromptPart,
    Retry,
    Step,
    StepKind,
    VoiceMessageSpec,
    Where,
    YesNo,
    qualify,
)

LANGUAGE_FILE = "language.yaml"
VALID_KEYS = frozenset("0123456789*#")
#: Values a confirmation prompt may say besides the session's slots.
CONFIRM_VALUES = frozenset({"choice", "digits"})

_STEP_FIELDS = frozenset(
    {
        "prompt", "choices", "digits", "free_form", "action", "params", "on", "goto",
        "branch", "otherwise", "confirm", "no_input", "no_match", "barge_in", "confidence",
        "timeout_ms", "personal", "sensitive",
    }
)  # fmt: skip
_CHOICE_FIELDS = frozenset({"phrases", "key", "goto", "label", "set", "intent", "requires"})
_FLOW_FIELDS = frozenset({"flow", "description", "start", "steps"})
_SETTINGS_FIELDS = frozenset(
    {
        "language", "voice", "test_only", "entry", "main_menu", "verification",
        "verification_attempts", "person", "yes", "no", "confirm_choice", "confirm_digits",
        "no_input", "no_match", "confidence", "timeout_ms", "barge_in", "digit_words",
        "max_turns",
    }
)  # fmt: skip


@dataclass(frozen=True, slots=True, order=True)
class FlowProblem:
    file: str
    line: int
    message: str

    def __str__(self) -> str:
        if self.line <= 0:  # about a directory or a whole language
            return f"{self.file}: {self.message}"
        return f"{self.file}:{self.line}: {self.message}"


class FlowError(Exception):
    """The flows cannot be loaded; ``problems`` says where and why."""

    def __init__(self, problems: list[FlowProblem]) -> None:
        self.problems = problems
        super().__init__(check_command_output(problems))


def check_command_output(problems: Iterable[FlowProblem]) -> str:
    """What ``hotline ivr check`` prints: one problem a line, sorted by file and line,
    then a count (exit status: 0 when the list is empty)."""
    problems = sorted(problems)
    if not problems:
        return "flows OK: no problems found"
    lines = [str(problem) for problem in problems]
    lines.append(f"{len(problems)} problem{'s' if len(problems) != 1 else ''} found")
    return "\n".join(lines)


def check_flows(directory: str | Path) -> list[FlowProblem]:
    """Every problem in the flows under ``directory`` (empty when they are fine)."""
    return _Checker(Path(directory)).run()[1]


def load_flows(directory: str | Path) -> FlowSet:
    """The flows under ``directory``; :class:`FlowError` when any problem is found."""
    flows, problems = _Checker(Path(directory)).run()
    if problems:
        raise FlowError(problems)
    return flows


# --- reading YAML with positions -------------------------------------------------------


def _line(node: Any, key: Any = None) -> int:
    """1-based line of ``node`` (or of ``key`` inside a mapping / item inside a list)."""
    try:
        if key is None:
            return int(node.lc.line) + 1
        if isinstance(node, CommentedSeq):
            return int(node.lc.item(key)[0]) + 1
        return int(node.lc.key(key)[0]) + 1
    except (AttributeError, KeyError, IndexError, TypeError):
        return 1


@dataclass
class _Ref:
    """A reference from one place in a flow to a step, checked once all files are read."""

    source: str  # flow.step (or "language.yaml")
    target: str  # absolute: flow.step or a reserved target
    where: Where
    via: str  # "choice", "goto", "on", "no_input", "branch", "set_language", ...
    language: str | None = None  # for set_language: the language it lands in


@dataclass
class _Texts:
    """Templates whose placeholders must be provided by something."""

    items: list[tuple[str, Where, frozenset[str]]] = field(default_factory=list)

    def add(self, text: str, where: Where, extra: frozenset[str] = frozenset()) -> None:
        self.items.append((text, where, extra))


class _File:
    """Problems and positions while reading one file."""

    def __init__(self, path: Path, shown: str, problems: list[FlowProblem]) -> None:
        self.path = path
        self.shown = shown
        self.problems = problems

    def where(self, node: Any, key: Any = None) -> Where:
        return Where(self.shown, _line(node, key))

    def problem(self, node: Any, key: Any, message: str) -> None:
        self.problems.append(FlowProblem(self.shown, _line(node, key), message))

    def load(self) -> Any:
        try:
            return YAML(typ="rt").load(self.path.read_text(encoding="utf-8"))
        except MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            line = mark.line + 1 if mark is not None else 1
            what = exc.problem or "not valid YAML"
            if "duplicate key" in what:
                self.problems.append(FlowProblem(self.shown, line, f"duplicate key: {what}"))
            else:
                self.problems.append(FlowProblem(self.shown, line, f"YAML: {what}"))
        except (OSError, UnicodeDecodeError) as exc:
            self.problems.append(FlowProblem(self.shown, 1, f"cannot read: {exc}"))
        return None

    def mapping(self, parent: Any, key: Any, what: str) -> CommentedMap | None:
        value = parent.get(key) if isinstance(parent, CommentedMap) else None
        if value is None:
            return None
        if not isinstance(value, CommentedMap):
            self.problem(parent, key, f"{what} must be a mapping")
            return None
        return value

    def unknown_fields(self, node: CommentedMap, allowed: frozenset[str], what: str) -> None:
        for key in node:
            if str(key) not in allowed:
                near = difflib.get_close_matches(str(key), sorted(allowed), n=1)
                hint = f" (did you mean {near[0]!r}?)" if near else ""
                self.problem(node, key, f"unknown field {key!r} in {what}{hint}")

    def text(self, node: CommentedMap, key: str, what: str, *, required: bool = False) -> str:
        value = node.get(key)
        if value is None:
            if required:
                self.problem(node, None, f"{what} has no {key}")
            return ""
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            self.problem(node, key, f"{key} of {what} must be text")
            return ""
        return str(value).strip()

    def integer(self, node: CommentedMap, key: str, default: int, lo: int, hi: int) -> int:
        value = node.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
            self.problem(node, key, f"{key} must be a whole number from {lo} to {hi}")
            return default
        return value

    def number(self, node: CommentedMap, key: str, default: float) -> float:
        value = node.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
            self.problem(node, key, f"{key} must be a number from 0 to 1")
            return default
        return float(value)

    def flag(self, node: CommentedMap, key: str, default: bool) -> bool:
        value = node.get(key, default)
        if not isinstance(value, bool):
            self.problem(node, key, f"{key} must be true or false")
            return default
        return value

    def key(self, node: CommentedMap, name: str) -> str | None:
        value = node.get(name)
        if value is None:
            return None
        text = str(value)
        if isinstance(value, bool) or len(text) != 1 or text not in VALID_KEYS:
            self.problem(node, name, f"key must be one of 0-9, * or # (quoted), not {value!r}")
            return None
        return text

    def phrases(self, node: CommentedMap, key: str) -> tuple[str, ...]:
        value = node.get(key)
        if value is None:
            return ()
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str | int) for v in value):
            self.problem(node, key, f"{key} must be a phrase or a list of phrases")
            return ()
        found = tuple(str(v).strip() for v in value if str(v).strip())
        seen: set[str] = set()
        for index, phrase in enumerate(found):
            if phrase.casefold() in seen:
                self.problem(value, index, f"phrase {phrase!r} is listed twice")
            seen.add(phrase.casefold())
        return found

    def prompt(self, node: CommentedMap, key: str, texts: _Texts, extra: frozenset[str]) -> Prompt:
        value = node.get(key)
        if value is None:
            return ()
        items = value if isinstance(value, list) else [value]
        parts: list[PromptPart] = []
        for index, item in enumerate(items):
            holder, at = (value, index) if isinstance(value, list) else (node, key)
            when: str | None = None
            if isinstance(item, str | int) and not isinstance(item, bool):
                text, language = str(item).strip(), None
            elif isinstance(item, CommentedMap):
                self.unknown_fields(item, frozenset({"text", "language", "if"}), "a prompt part")
                text = self.text(item, "text", "a prompt part", required=True)
                language = self.text(item, "language", "a prompt part") or None
                when = self.text(item, "if", "a prompt part") or None
            else:
                self.problem(holder, at, f"{key} must be text or a list of texts")
                continue
            if not text:
                self.problem(holder, at, f"{key} is empty")
                continue
            texts.add(text, self.where(holder, at), extra)
            if when is not None:
                texts.add("{" + when + "}", self.where(holder, at))
            parts.append(PromptPart(text, language, when))
        return tuple(parts)


def _placeholders(text: str) -> Iterator[str]:
    """Placeholder names in ``text``; ValueError when its braces are malformed."""
    for _literal, name, _spec, _conversion in string.Formatter().parse(text):
        if name is not None:
            yield name


# --- the checker ------------------------------------------------------------------------


class _Checker:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.problems: list[FlowProblem] = []

    def _shown(self, path: Path) -> str:
        return str(path)

    def run(self) -> tuple[FlowSet, list[FlowProblem]]:
        languages: dict[str, LanguageFlows] = {}
        refs: dict[str, list[_Ref]] = {}
        texts: dict[str, _Texts] = {}
        if not self.directory.is_dir():
            self.problems.append(FlowProblem(str(self.directory), 0, "no such directory"))
            return FlowSet({}), self.problems
        subdirs = sorted(p for p in self.directory.iterdir() if p.is_dir())
        if not subdirs:
            self.problems.append(
                FlowProblem(str(self.directory), 0, "no language directories (e.g. zh/, en/)")
            )
        for subdir in subdirs:
            loaded = self._language(subdir)
            if loaded is not None:
                languages[subdir.name], refs[subdir.name], texts[subdir.name] = loaded
        flowset = FlowSet(languages)
        for language, flows in languages.items():
            self._cross_check(flowset, language, flows, refs[language], texts[language])
        self._compare_languages(languages)
        return flowset, sorted(set(self.problems))

    # one language directory

    def _language(self, subdir: Path) -> tuple[LanguageFlows, list[_Ref], _Texts] | None:
        refs: list[_Ref] = []
        texts = _Texts()
        settings_path = subdir / LANGUAGE_FILE
        if not settings_path.is_file():
            self.problems.append(FlowProblem(self._shown(subdir), 0, f"{LANGUAGE_FILE} is missing"))
            return None
        settings = self._settings(settings_path, subdir.name, refs, texts)
        flows: dict[str, Flow] = {}
        for path in sorted(subdir.glob("*.y*ml")):
            if path.name == LANGUAGE_FILE:
                continue
            flow = self._flow(path, subdir.name, refs, texts, settings)
            if flow is not None:
                flows[flow.name] = flow
        if settings is None:
            return None
        return LanguageFlows(settings, flows), refs, texts

    def _settings(
        self, path: Path, language: str, refs: list[_Ref], texts: _Texts
    ) -> LanguageSettings | None:
        f = _File(path, self._shown(path), self.problems)
        doc = f.load()
        if doc is None:
            return None
        if not isinstance(doc, CommentedMap):
            f.problem(doc, None, "language.yaml must be a mapping")
            return None
        f.unknown_fields(doc, _SETTINGS_FIELDS, "language.yaml")
        declared = f.text(doc, "language", "language.yaml", required=True)
        if declared and declared != language:
            f.problem(doc, "language", f"language {declared!r} but the directory is {language!r}")
        source = LANGUAGE_FILE

        def target(key: str) -> str:
            value = f.text(doc, key, "language.yaml", required=True)
            if value:
                if "." not in value:
                    f.problem(doc, key, f"{key} must be written flow.step, not {value!r}")
                refs.append(_Ref(source, value, f.where(doc, key), key))
            return value

        none: frozenset[str] = frozenset()
        person_node = f.mapping(doc, "person", "person") or CommentedMap()
        if "person" not in doc:
            f.problem(doc, None, "language.yaml has no person (phrases, key, queue)")
        f.unknown_fields(
            person_node, frozenset({"phrases", "key", "queue", "skill", "prompt"}), "person"
        )
        person = PersonSpec(
            phrases=f.phrases(person_node, "phrases"),
            key=f.key(person_node, "key") or "0",
            queue=f.text(person_node, "queue", "person", required=True),
            skill=f.text(person_node, "skill", "person") or None,
            prompt=f.prompt(person_node, "prompt", texts, none),
        )
        yes_node = f.mapping(doc, "yes", "yes") or CommentedMap()
        no_node = f.mapping(doc, "no", "no") or CommentedMap()
        for node, name in ((yes_node, "yes"), (no_node, "no")):
            if name not in doc:
                f.problem(doc, None, f"language.yaml has no {name} (phrases, key)")
            f.unknown_fields(node, frozenset({"phrases", "key"}), name)
        yes_no = YesNo(
            yes_phrases=f.phrases(yes_node, "phrases"),
            yes_key=f.key(yes_node, "key") or "1",
            no_phrases=f.phrases(no_node, "phrases"),
            no_key=f.key(no_node, "key") or "2",
        )
        digit_words: dict[str, str] = {}
        words = f.mapping(doc, "digit_words", "digit_words")
        for word, digit in (words or {}).items():
            if str(digit) not in "0123456789" or len(str(digit)) != 1:
                f.problem(words, word, f"digit_words: {word!r} must map to one digit")
            else:
                digit_words[str(word)] = str(digit)
        entry = target("entry")
        main_menu = target("main_menu")
        verification = target("verification")
        confirm_choice = f.prompt(doc, "confirm_choice", texts, frozenset({"choice"}))
        confirm_digits = f.prompt(doc, "confirm_digits", texts, frozenset({"digits"}))
        for key, prompt in (("confirm_choice", confirm_choice), ("confirm_digits", confirm_digits)):
            if not prompt:
                f.problem(doc, None, f"language.yaml has no {key} prompt")
        return LanguageSettings(
            language=language,
            voice=f.text(doc, "voice", "language.yaml", required=True),
            entry=entry,
            main_menu=main_menu,
            verification=verification,
            verification_attempts=f.integer(doc, "verification_attempts", 3, 1, 10),
            person=person,
            yes_no=yes_no,
            confirm_choice=confirm_choice,
            confirm_digits=confirm_digits,
            no_input=self._retry(f, doc, "no_input", None, Retry(2, PERSON, ()), refs, texts),
            no_match=self._retry(f, doc, "no_match", None, Retry(2, PERSON, ()), refs, texts),
            confidence=f.number(doc, "confidence", 0.5),
            timeout_ms=f.integer(doc, "timeout_ms", 5000, 500, 60000),
            barge_in=f.flag(doc, "barge_in", True),
            digit_words=digit_words,
            max_turns=f.integer(doc, "max_turns", 40, 5, 500),
            test_only=f.flag(doc, "test_only", False),
            where=f.where(doc),
        )

    def _retry(
        self,
        f: _File,
        node: CommentedMap,
        key: str,
        source: str | None,
        default: Retry,
        refs: list[_Ref],
        texts: _Texts,
    ) -> Retry:
        value = f.mapping(node, key, key)
        if value is None:
            return default
        f.unknown_fields(value, frozenset({"after", "goto", "reprompt"}), key)
        after = (
            f.integer(value, "after", default.after, 1, 5) if "after" in value else default.after
        )
        goto = f.text(value, "goto", key) or default.goto
        if source is not None and "goto" in value:
            flow = source.partition(".")[0]
            goto = qualify(flow, goto)
            refs.append(_Ref(source, goto, f.where(value, "goto"), key))
        elif source is None and goto not in RESERVED_TARGETS:
            f.problem(value, "goto", f"{key}.goto in language.yaml must be 'person' or 'hangup'")
            goto = PERSON
        reprompt = f.prompt(value, "reprompt", texts, frozenset()) or default.reprompt
        return Retry(after, goto, reprompt)

    # one flow file

    def _flow(
        self,
        path: Path,
        language: str,
        refs: list[_Ref],
        texts: _Texts,
        settings: LanguageSettings | None,
    ) -> Flow | None:
        f = _File(path, self._shown(path), self.problems)
        doc = f.load()
        if doc is None:
            return None
        if not isinstance(doc, CommentedMap):
            f.problem(doc, None, "a flow file must be a mapping with flow, start and steps")
            return None
        f.unknown_fields(doc, _FLOW_FIELDS, "a flow")
        name = path.stem
        declared = f.text(doc, "flow", "the flow")
        if declared and declared != name:
            f.problem(doc, "flow", f"flow {declared!r} must be named like its file ({name!r})")
        if "." in name:
            f.problem(doc, None, f"flow name {name!r} must not contain a dot")
        steps_node = f.mapping(doc, "steps", "steps")
        if not steps_node:
            f.problem(doc, None, "a flow needs steps")
            return None
        steps: dict[str, Step] = {}
        for step_name, node in steps_node.items():
            step_name = str(step_name)
            if step_name in RESERVED_TARGETS or "." in step_name:
                f.problem(steps_node, step_name, f"{step_name!r} cannot name a step")
                continue
            if not isinstance(node, CommentedMap):
                f.problem(steps_node, step_name, f"step {step_name!r} must be a mapping")
                continue
            step = self._step(f, name, step_name, node, refs, texts, settings, steps_node)
            if step is not None:
                steps[step_name] = step
        start = f.text(doc, "start", "the flow") or next(iter(steps), "")
        if start and start not in steps:
            f.problem(doc, "start", f"start step {start!r} is not a step of flow {name!r}")
        return Flow(name, language, start, steps, f.where(doc))

    def _step(
        self,
        f: _File,
        flow: str,
        name: str,
        node: CommentedMap,
        refs: list[_Ref],
        texts: _Texts,
        settings: LanguageSettings | None,
        holder: CommentedMap,
    ) -> Step | None:
        ref = f"{flow}.{name}"
        what = f"step {name!r}"
        f.unknown_fields(node, _STEP_FIELDS, what)
        kinds = [
            kind
            for key, kind in (
                ("choices", StepKind.MENU),
                ("digits", StepKind.DIGITS),
                ("free_form", StepKind.FREE_FORM),
                ("action", StepKind.ACTION),
                ("branch", StepKind.BRANCH),
            )
            if key in node
        ]
        if len(kinds) > 1:
            f.problem(holder, name, f"{what} mixes {', '.join(k.value for k in kinds)}; pick one")
        kind = kinds[0] if kinds else StepKind.SAY

        def goto(holder: CommentedMap, key: str, via: str) -> str:
            value = f.text(holder, key, what)
            if not value:
                return ""
            target = qualify(flow, value)
            refs.append(_Ref(ref, target, f.where(holder, key), via))
            return target

        prompt = f.prompt(node, "prompt", texts, frozenset())
        if kind in (StepKind.MENU, StepKind.DIGITS, StepKind.FREE_FORM, StepKind.SAY):
            if not prompt:
                f.problem(holder, name, f"{what} has no prompt")
        if kind is StepKind.BRANCH and prompt:
            f.problem(node, "prompt", f"{what} is a branch: it says nothing")
        fields: dict[str, Any] = {}
        if kind is StepKind.MENU:
            fields["choices"] = self._choices(f, flow, name, node, refs, texts)
        elif kind is StepKind.DIGITS:
            spec = f.mapping(node, "digits", "digits")
            if spec is not None:
                f.unknown_fields(spec, frozenset({"slot", "min", "max", "terminator"}), "digits")
                low = f.integer(spec, "min", 1, 1, 32)
                high = f.integer(spec, "max", low, 1, 32)
                if high < low:
                    f.problem(spec, "max", f"digits: max {high} is less than min {low}")
                terminator = f.key(spec, "terminator") if "terminator" in spec else "#"
                if terminator not in (None, "#"):
                    # Keypad entry is Asterisk's GET DATA, which only "#" ends early.
                    f.problem(
                        spec, "terminator", f'digits: terminator must be "#", not {terminator!r}'
                    )
                slot = f.text(spec, "slot", "digits", required=True)
                fields["digits"] = DigitsSpec(slot, low, max(low, high), terminator)
        elif kind is StepKind.FREE_FORM:
            spec = f.mapping(node, "free_form", "free_form")
            if spec is not None:
                f.unknown_fields(spec, frozenset({"slot", "voice_message"}), "free_form")
                fields["free_form_slot"] = f.text(spec, "slot", "free_form", required=True)
                if "voice_message" in spec:
                    fields["voice_message"] = self._voice_message(f, spec, texts)
        elif kind is StepKind.ACTION:
            fields["action"] = self._action(f, flow, ref, node, refs, texts)
        elif kind is StepKind.BRANCH:
            rules = node.get("branch")
            parsed: list[BranchRule] = []
            if not isinstance(rules, list):
                f.problem(node, "branch", "branch must be a list of {if: slot, goto: step}")
            else:
                for index, rule in enumerate(rules):
                    if not isinstance(rule, CommentedMap):
                        f.problem(rules, index, "a branch rule must be a mapping")
                        continue
                    f.unknown_fields(rule, frozenset({"if", "if_identity", "goto"}), "a branch")
                    rule_slot = f.text(rule, "if", "a branch rule") or None
                    identity_text = f.text(rule, "if_identity", "a branch rule")
                    identity: Identity | None = None
                    if identity_text:
                        try:
                            identity = Identity(identity_text)
                        except ValueError:
                            f.problem(rule, "if_identity", "if_identity: identified or verified")
                    if (rule_slot is None) == (identity is None):
                        f.problem(rule, None, "a branch rule needs one of if / if_identity")
                    target = goto(rule, "goto", "branch")
                    if not target:
                        f.problem(rule, None, "a branch rule needs a goto")
                    parsed.append(BranchRule(target, rule_slot, identity))
            fields["branch"] = tuple(parsed)
            fields["otherwise"] = goto(node, "otherwise", "otherwise") or None
            if fields["otherwise"] is None:
                f.problem(holder, name, f"{what} is a branch without otherwise")
        if kind in (StepKind.SAY, StepKind.DIGITS, StepKind.FREE_FORM):
            fields["goto"] = goto(node, "goto", "goto") or None
            if fields["goto"] is None:
                f.problem(holder, name, f"{what} has no goto (where the call goes next)")
        elif "goto" in node:
            f.problem(node, "goto", f"{what} ({kind.value}) routes by its own fields, not goto")
        if kind is StepKind.MENU or kind is StepKind.DIGITS:
            extra = frozenset({"choice"} if kind is StepKind.MENU else {"digits"})
            fields["confirm"] = f.prompt(node, "confirm", texts, extra)
        elif "confirm" in node:
            f.problem(node, "confirm", f"only a menu or digits step confirms, not {what}")
        fields["confidence"] = f.number(
            node, "confidence", settings.confidence if settings else 0.5
        )
        fields["timeout_ms"] = f.integer(
            node, "timeout_ms", settings.timeout_ms if settings else 5000, 500, 60000
        )
        fields["barge_in"] = f.flag(node, "barge_in", settings.barge_in if settings else True)
        for key in ("no_input", "no_match"):
            default = Retry(2, PERSON, ())
            if settings is not None:
                default = settings.no_input if key == "no_input" else settings.no_match
            fields[key] = self._retry(f, node, key, ref, default, refs, texts)
        fields["personal"] = f.flag(node, "personal", False)
        fields["sensitive"] = f.flag(node, "sensitive", False)
        return Step(
            name=name, flow=flow, kind=kind, prompt=prompt, where=f.where(holder, name), **fields
        )

    def _voice_message(
        self, f: _File, free_form: CommentedMap, texts: _Texts
    ) -> VoiceMessageSpec | None:
        spec = f.mapping(free_form, "voice_message", "voice_message")
        if spec is None:
            return None
        what = "voice_message"
        f.unknown_fields(spec, frozenset({"slot", "text", "max_s", "silence_s"}), what)
        slot = f.text(spec, "slot", what, required=True)
        text = f.text(spec, "text", what, required=True)
        if slot and not slot.isidentifier():
            f.problem(spec, "slot", f"slot of {what} must be a name, not {slot!r}")
        if text:
            texts.add(text, f.where(spec, "text"), frozenset({"seconds"}))
        max_s = f.integer(spec, "max_s", 120, 5, 600)
        silence_s = f.integer(spec, "silence_s", 5, 1, 30)
        return VoiceMessageSpec(slot, text, max_s, silence_s)

    def _choices(
        self,
        f: _File,
        flow: str,
        step: str,
        node: CommentedMap,
        refs: list[_Ref],
        texts: _Texts,
    ) -> tuple[Choice, ...]:
        choices_node = f.mapping(node, "choices", "choices")
        if not choices_node:
            f.problem(node, "choices", f"step {step!r} has no choices")
            return ()
        choices: list[Choice] = []
        keys: dict[str, str] = {}
        phrases: dict[str, str] = {}
        for choice_name, spec in choices_node.items():
            choice_name = str(choice_name)
            what = f"choice {choice_name!r} of step {step!r}"
            if not isinstance(spec, CommentedMap):
                f.problem(choices_node, choice_name, f"{what} must be a mapping")
                continue
            f.unknown_fields(spec, _CHOICE_FIELDS, what)
            said = f.phrases(spec, "phrases")
            key = f.key(spec, "key")
            if not said and key is None:
                f.problem(spec, None, f"{what} has neither phrases nor key")
            if key is not None:
                if key in keys:
                    f.problem(spec, "key", f"key {key!r} of {what} is already {keys[key]!r}")
                keys[key] = choice_name
            for phrase in said:
                folded = phrase.casefold()
                if folded in phrases:
                    f.problem(
                        spec, "phrases", f"phrase {phrase!r} of {what} is also {phrases[folded]!r}"
                    )
                phrases[folded] = choice_name
            target_text = f.text(spec, "goto", what, required=True)
            target = qualify(flow, target_text) if target_text else ""
            if target:
                refs.append(_Ref(f"{flow}.{step}", target, f.where(spec, "goto"), "choice"))
            values: dict[str, str] = {}
            set_node = f.mapping(spec, "set", "set")
            for slot, template in (set_node or {}).items():
                values[str(slot)] = "" if template is None else str(template)
                texts.add(values[str(slot)], f.where(set_node, slot))
            requires = f.phrases(spec, "requires")
            label = f.text(spec, "label", what) or (said[0] if said else choice_name)
            choices.append(
                Choice(
                    name=choice_name,
                    phrases=said,
                    key=key,
                    goto=target,
                    label=label,
                    set=values,
                    intent=f.text(spec, "intent", what) or None,
                    requires=requires,
                    where=f.where(spec),
                )
            )
        return tuple(choices)

    def _action(
        self,
        f: _File,
        flow: str,
        ref: str,
        node: CommentedMap,
        refs: list[_Ref],
        texts: _Texts,
    ) -> ActionCall | None:
        name = f.text(node, "action", "the action")
        spec = ACTIONS.get(name)
        params_node = f.mapping(node, "params", "params") or CommentedMap()
        params = {str(k): "" if v is None else str(v) for k, v in params_node.items()}
        on_node = f.mapping(node, "on", "on") or CommentedMap()
        if spec is None:
            near = difflib.get_close_matches(name, sorted(ACTIONS), n=1)
            hint = f" (did you mean {near[0]!r}?)" if near else ""
            f.problem(node, "action", f"unknown action {name!r}{hint}")
            return None
        for key, value in params.items():
            allowed = spec.params.get(key)
            if allowed is None:
                f.problem(params_node, key, f"action {name!r} takes no parameter {key!r}")
            elif allowed and "{" not in value and value not in allowed:
                choices = ", ".join(sorted(allowed))
                f.problem(params_node, key, f"{name}.{key} must be one of {choices}")
            elif key != "goto":
                texts.add(value, f.where(params_node, key))
        for key in sorted(spec.required - params.keys()):
            f.problem(node, "action", f"action {name!r} needs parameter {key!r}")
        on: dict[str, str] = {}
        for outcome, target in on_node.items():
            outcome = str(outcome)
            if outcome != "otherwise" and outcome not in spec.outcomes:
                known = ", ".join(sorted(spec.outcomes)) or "none (it does not return)"
                f.problem(on_node, outcome, f"action {name!r} has no outcome {outcome!r}: {known}")
                continue
            on[outcome] = qualify(flow, str(target))
            refs.append(_Ref(ref, on[outcome], f.where(on_node, outcome), "on"))
        if spec.internal and on:
            f.problem(node, "on", f"action {name!r} does not return: no outcomes to route")
        unrouted = spec.outcomes - on.keys() - {"failed"}
        if unrouted and "otherwise" not in on:
            f.problem(
                node,
                "action",
                f"action {name!r}: outcome {', '.join(sorted(unrouted))} goes nowhere"
                " (add it under on:, or otherwise:)",
            )
        if name == "set_language" and "language" in params and "goto" in params:
            refs.append(
                _Ref(
                    ref,
                    params["goto"],
                    f.where(params_node, "goto"),
                    "set_language",
                    language=params["language"],
                )
            )
        return ActionCall(name, params, on, f.where(node, "action"))

    # across files

    def _cross_check(
        self,
        flowset: FlowSet,
        language: str,
        flows: LanguageFlows,
        refs: list[_Ref],
        texts: _Texts,
    ) -> None:
        settings = flows.settings
        edges: dict[str, list[_Ref]] = {}
        for ref in refs:
            edges.setdefault(ref.source, []).append(ref)
            if ref.via == "set_language":
                assert ref.language is not None
                if ref.language not in flowset.languages:
                    self.problems.append(
                        FlowProblem(
                            ref.where.file,
                            ref.where.line,
                            f"no flows for language {ref.language!r}",
                        )
                    )
                elif flowset.step(ref.language, ref.target) is None:
                    self.problems.append(
                        FlowProblem(
                            ref.where.file,
                            ref.where.line,
                            f"unknown step {ref.target!r} in language {ref.language!r}",
                        )
                    )
                continue
            if ref.target in RESERVED_TARGETS:
                continue
            if flows.step(ref.target) is None:
                flow_name = ref.target.partition(".")[0]
                what = "step" if flow_name in flows.flows else "flow"
                self.problems.append(
                    FlowProblem(
                        ref.where.file,
                        ref.where.line,
                        f"unknown {what} in reference {ref.target!r}",
                    )
                )
        # reachability from the entry (and the verification step, reached by the engine)
        seen: set[str] = set()
        todo = [settings.entry, settings.verification, settings.main_menu]
        while todo:
            current = todo.pop()
            if current in seen or flows.step(current) is None:
                continue
            seen.add(current)
            todo.extend(ref.target for ref in edges.get(current, ()) if ref.via != "set_language")
        for flow in flows.flows.values():
            for step in flow.steps.values():
                if step.ref not in seen:
                    self.problems.append(
                        FlowProblem(
                            step.where.file,
                            step.where.line,
                            f"step {step.name!r} is unreachable from {settings.entry}",
                        )
                    )
        # a booking is changed only on the caller's explicit choice
        for flow in flows.flows.values():
            for step in flow.steps.values():
                spec = ACTIONS.get(step.action.name) if step.action else None
                if spec is None or not spec.needs_confirmation:
                    continue
                for ref in refs:
                    if ref.target == step.ref and ref.via != "choice":
                        self.problems.append(
                            FlowProblem(
                                ref.where.file,
                                ref.where.line,
                                f"step {step.name!r} runs {spec.name}: reach it only from a"
                                f" choice the caller confirms, not from {ref.via}",
                            )
                        )
        # steps that say, branch or run the engine's own actions must not loop among
        # themselves: the call would spin without ever listening
        self._loops(flows, edges)
        # every placeholder has something that provides it
        provided = set(BUILTIN_VALUES)
        for flow in flows.flows.values():
            for step in flow.steps.values():
                if step.digits is not None:
                    provided.add(step.digits.slot)
                if step.free_form_slot:
                    provided.add(step.free_form_slot)
                if step.voice_message is not None:
                    provided.update({step.voice_message.slot, step.voice_message.length_slot})
                for choice in step.choices:
                    provided.update(choice.set)
                if step.action is not None and step.action.name in ACTIONS:
                    provided.update(ACTIONS[step.action.name].provides)
        for text, where, extra in texts.items:
            try:
                names = list(_placeholders(text))
            except ValueError as exc:
                self.problems.append(FlowProblem(where.file, where.line, f"bad braces: {exc}"))
                continue
            for name in names:
                if not name.isidentifier():
                    self.problems.append(
                        FlowProblem(where.file, where.line, f"placeholder {{{name}}} is not a name")
                    )
                elif name not in provided and name not in extra:
                    self.problems.append(
                        FlowProblem(
                            where.file,
                            where.line,
                            f"placeholder {{{name}}} is not provided by any action or slot",
                        )
                    )
        # choices' keys and phrases must not hide the way to a person
        person = settings.person
        for flow in flows.flows.values():
            for step in flow.steps.values():
                for choice in step.choices:
                    if choice.key is not None and choice.key == person.key:
                        self.problems.append(
                            FlowProblem(
                                choice.where.file,
                                choice.where.line,
                                f"key {choice.key!r} of choice {choice.name!r} is the key for"
                                " a person at every step",
                            )
                        )
                    for phrase in choice.phrases:
                        if phrase.casefold() in {p.casefold() for p in person.phrases}:
                            self.problems.append(
                                FlowProblem(
                                    choice.where.file,
                                    choice.where.line,
                                    f"phrase {phrase!r} of choice {choice.name!r} is a phrase"
                                    " for a person",
                                )
                            )
        if not person.phrases:
            where = settings.where
            self.problems.append(
                FlowProblem(where.file, where.line, "person has no phrases (ask for a person)")
            )

    def _loops(self, flows: LanguageFlows, edges: Mapping[str, list[_Ref]]) -> None:
        def silent(ref: str) -> bool:
            step = flows.step(ref)
            if step is None:
                return False
            if step.kind in (StepKind.SAY, StepKind.BRANCH):
                return True
            return step.action is not None and step.action.name == "set_language"

        reported: set[str] = set()
        for start in [s.ref for f in flows.flows.values() for s in f.steps.values()]:
            if not silent(start) or start in reported:
                continue
            stack: list[tuple[str, tuple[str, ...]]] = [(start, (start,))]
            while stack:
                current, path = stack.pop()
                for ref in edges.get(current, ()):
                    if ref.via == "set_language" or not silent(ref.target):
                        continue
                    if ref.target == start:
                        reported.update(path)
                        self.problems.append(
                            FlowProblem(
                                ref.where.file,
                                ref.where.line,
                                "steps loop without listening: " + " → ".join((*path, start)),
                            )
                        )
                    elif ref.target not in path:
                        stack.append((ref.target, (*path, ref.target)))

    def _compare_languages(self, languages: Mapping[str, LanguageFlows]) -> None:
        production = {k: v for k, v in languages.items() if not v.settings.test_only}
        for language, flows in production.items():
            for other, other_flows in production.items():
                for name in sorted(other_flows.flows.keys() - flows.flows.keys()):
                    where = other_flows.flows[name].where
                    self.problems.append(
                        FlowProblem(
                            where.file,
                            where.line,
                            f"flow {name!r} of {other!r} is missing in {language!r}",
                        )
                    )
