"""How the keypad IVR collects a turn's answer over AGI, command by command.

Asterisk throws away the caller's keys while it waits for the next AGI command, so a
turn's question and its answer must be one ``GET DATA``. These tests run the real
:class:`~cti.fastagi.AgiSession` against a scripted Asterisk on a socket pair and check
the commands sent and what the caller's keys become; the live journeys through the real
Asterisk are in test_ivr_live_calls.py.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import pytest

from cti.asterisk.provisioner import InstanceLayout
from cti.errors import AgiHangup
from cti.fastagi import AgiSession, parse_environment
from ivr.call_adapter import KeypadMedia, Listening, PromptPlayed
from ivr.flows import DtmfInput, Listen, NoInput, Play
from ivr.flows.engine import DtmfSpec
from ivr.prompts import PromptFile, PromptRenderError

SHARE = Path("/srv/share")


@dataclass
class ScriptedAsterisk:
    """Answers each AGI command with the next scripted line, and notes the commands."""

    replies: list[str]
    commands: list[str] = field(default_factory=list)

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while self.replies:
            line = await reader.readline()
            if not line:
                return
            self.commands.append(line.decode().rstrip("\n"))
            writer.write(f"{self.replies.pop(0)}\n".encode())
            await writer.drain()


@dataclass
class Rig:
    asterisk: ScriptedAsterisk
    media: KeypadMedia
    reports: list[PromptPlayed | Listening]
    joined: list[Sequence[PromptFile]]


@pytest.fixture
async def rig_factory() -> AsyncIterator[object]:
    closers: list[asyncio.StreamWriter] = []
    tasks: list[asyncio.Task[None]] = []

    async def make(*replies: str, join_fails: bool = False) -> Rig:
        ours, theirs = socket.socketpair()
        asterisk = ScriptedAsterisk(list(replies))
        their_reader, their_writer = await asyncio.open_connection(sock=theirs)
        tasks.append(asyncio.create_task(asterisk.serve(their_reader, their_writer)))
        reader, writer = await asyncio.open_connection(sock=ours)
        closers.extend([writer, their_writer])
        env = parse_environment(["agi_uniqueid: 1700000000.1", "agi_channel: Local/s@x-1;1"])
        session = AgiSession(env, reader, writer, command_timeout_s=5)
        layout = InstanceLayout(
            SHARE, PurePosixPath("/share"), Path("/srv/mon"), PurePosixPath("/mon"),
            Path("/srv"), PurePosixPath("/"),
        )  # fmt: skip
        reports: list[PromptPlayed | Listening] = []
        joined: list[Sequence[PromptFile]] = []

        async def join(parts: Sequence[PromptFile]) -> PromptFile:
            if join_fails:
                raise PromptRenderError("cannot write prompt file: No space left on device")
            joined.append(parts)
            seconds = sum(p.duration_s for p in parts)
            return PromptFile(SHARE / "joined.wav", "joined", "v", seconds)

        media = KeypadMedia(session, layout, reports.append, voice_messages=None, join=join)
        return Rig(asterisk, media, reports, joined)

    yield make
    for writer in closers:
        writer.close()
    for task in tasks:
        task.cancel()


def prompt(name: str, seconds: float = 5.0) -> tuple[Play, PromptFile]:
    return Play(name, "zh", barge_in=True), PromptFile(SHARE / f"{name}.wav", name, "v", seconds)


def digits(max_digits: int, terminator: str | None = None, timeout_ms: int = 5000) -> Listen:
    accept = "0123456789" + (terminator or "")
    spec = DtmfSpec(accept, 1, max_digits, terminator)
    return Listen((), spec, timeout_ms, free_form=False, language="zh", step="main.ask")


async def test_the_question_and_the_whole_answer_are_one_get_data(rig_factory) -> None:
    rig = await rig_factory("200 result=19491231")
    event = await rig.media.listen(digits(8), [prompt("dob")], "")
    assert isinstance(event, DtmfInput) and event.digits == "19491231"
    assert rig.asterisk.commands == ['GET DATA "/share/dob" "5000" "8"']


async def test_a_two_part_question_is_played_as_one_joined_file(rig_factory) -> None:
    rig = await rig_factory("200 result=1")
    event = await rig.media.listen(digits(1), [prompt("sorry"), prompt("menu")], "")
    assert isinstance(event, DtmfInput) and event.digits == "1"
    assert [p.text for p in rig.joined[0]] == ["sorry", "menu"]
    assert rig.asterisk.commands == ['GET DATA "/share/joined" "5000" "1"']
    played = [r for r in rig.reports if isinstance(r, PromptPlayed)]
    assert [(p.text, p.interrupted_by, p.completed) for p in played] == [
        ("sorry", "1", False),
        ("menu", "1", False),
    ]


async def test_silence_after_the_question_is_no_input_and_the_prompt_was_heard_whole(
    rig_factory,
) -> None:
    rig = await rig_factory("200 result= (timeout)")
    event = await rig.media.listen(digits(8), [prompt("dob", seconds=0.5)], "")
    assert isinstance(event, NoInput)
    played = [r for r in rig.reports if isinstance(r, PromptPlayed)]
    assert played[0].completed and played[0].samples_played == 4000


async def test_hash_as_the_first_key_is_an_answer_of_its_own(rig_factory) -> None:
    # Asterisk ends GET DATA on "#" and does not return it: "200 result=".
    rig = await rig_factory("200 result=")
    event = await rig.media.listen(digits(1), [prompt("menu")], "")
    assert isinstance(event, DtmfInput) and event.digits == "#"


async def test_a_number_ended_by_its_terminator_keeps_the_terminator(rig_factory) -> None:
    rig = await rig_factory("200 result=123456")
    event = await rig.media.listen(digits(12, "#"), [prompt("mrn")], "")
    assert isinstance(event, DtmfInput) and event.digits == "123456#"


async def test_a_number_that_stops_short_without_terminator_is_what_was_keyed(
    rig_factory,
) -> None:
    rig = await rig_factory("200 result=1234 (timeout)")
    event = await rig.media.listen(digits(8), [prompt("dob")], "")
    assert isinstance(event, DtmfInput) and event.digits == "1234"


async def test_the_terminator_after_a_full_number_belongs_to_it_not_the_next_step(
    rig_factory,
) -> None:
    rig = await rig_factory("200 result=123456789012", "200 result=35")  # 35: "#"
    event = await rig.media.listen(digits(12, "#"), [prompt("mrn")], "")
    assert isinstance(event, DtmfInput) and event.digits == "123456789012#"
    assert rig.asterisk.commands[1] == 'WAIT FOR DIGIT "600"'


async def test_another_key_after_a_full_number_is_the_next_answers_first(rig_factory) -> None:
    rig = await rig_factory("200 result=123456789012", "200 result=50")  # 50: "2"
    await rig.media.listen(digits(12, "#"), [prompt("mrn")], "")
    event = await rig.media.listen(digits(1), [prompt("menu")], "")
    assert isinstance(event, DtmfInput) and event.digits == "2"
    assert len(rig.asterisk.commands) == 2  # the next question was not played


async def test_keys_typed_over_an_earlier_prompt_start_the_answer(rig_factory) -> None:
    rig = await rig_factory("200 result=9491231")
    event = await rig.media.listen(digits(8), [prompt("dob")], "1")
    assert isinstance(event, DtmfInput) and event.digits == "19491231"
    assert rig.asterisk.commands == ['GET DATA "" "3000" "7"']


async def test_a_hang_up_during_the_question_ends_the_call(rig_factory) -> None:
    rig = await rig_factory("200 result=-1")
    with pytest.raises(AgiHangup):
        await rig.media.listen(digits(8), [prompt("dob")], "")
    played = [r for r in rig.reports if isinstance(r, PromptPlayed)]
    assert [p.completed for p in played] == [False]


async def test_prompts_that_cannot_be_joined_still_ask_the_question(rig_factory) -> None:
    rig = await rig_factory("200 result=0 endpos=8000", "200 result=1", join_fails=True)
    event = await rig.media.listen(digits(1), [prompt("sorry"), prompt("menu")], "")
    assert isinstance(event, DtmfInput) and event.digits == "1"
    assert rig.asterisk.commands == [
        'STREAM FILE "/share/sorry" "0123456789*#"',
        'GET DATA "/share/menu" "5000" "1"',
    ]
