"""Simulated callers: real calls through the real Asterisk, without a phone.

A simulated call is one AMI ``Originate`` of ``Local/s@caller-sim`` into
``[caller-sim-inbound]`` (dialplans/simulation.conf): the ``;1`` half presents the caller
ID and enters ``[hotline-inbound]`` exactly as a trunk call would; the ``;2`` half is the
caller's phone, which plays audio, keys DTMF and keeps sending silence frames (or, quiet,
sends nothing while its caller is silent). Caller ID
travels base64-encoded in channel variables, so even a name with CR/LF reaches Asterisk
without passing through an AMI header.
"""

from __future__ import annotations

import base64
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from cti.ami import AmiClient
from cti.errors import AmiActionFailed

_DTMF = re.compile(r"[0-9*#A-D]*")


@dataclass(frozen=True)
class ScriptStep:
    """One thing the simulated caller does: play a file, stay silent, or key digits."""

    kind: str  # "file" | "silence" | "dtmf"
    value: str

    def render(self) -> str:
        if self.kind == "file":
            return self.value
        return f"{self.kind}:{self.value}"


def play(path: PurePosixPath | str) -> ScriptStep:
    """Play a WAV file (a path as Asterisk sees it)."""
    text = str(path)
    if any(c in text for c in "&,\r\n\x00"):
        raise ValueError(f"audio path {text!r} cannot be put in a caller script")
    return ScriptStep("file", text)


def silence(seconds: int) -> ScriptStep:
    if seconds < 0:
        raise ValueError("silence must be zero seconds or more")
    return ScriptStep("silence", str(int(seconds)))


def keys(digits: str) -> ScriptStep:
    if not _DTMF.fullmatch(digits):
        raise ValueError(f"{digits!r} is not a DTMF sequence (0-9 * # A-D)")
    return ScriptStep("dtmf", digits)


@dataclass(frozen=True)
class SimulatedCaller:
    """Who calls and what they do. ``number``/``name`` may be any text, hostile included."""

    number: str | None
    name: str | None = None
    withheld: bool = False
    dialled: str | None = None
    script: Sequence[ScriptStep] = ()
    hold_s: int = 10
    hold_audio: str | None = None  # a file (as Asterisk sees it) looped while holding
    #: While holding, send no audio at all (a phone with silence suppression): a keypad
    #: caller's phone need not stream silence; a speaking caller's must (silence
    #: detection needs real frames).
    quiet: bool = False
    tag: str = field(default_factory=lambda: uuid.uuid4().hex[:12])


@dataclass(frozen=True)
class PlacedCall:
    tag: str
    channel: str
    uniqueid: str


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def originate_action(caller: SimulatedCaller) -> dict[str, str | list[str]]:
    """The AMI action placing this simulated call (pure)."""
    variables = [f"SIM_TAG={caller.tag}", f"SIM_HOLD_S={max(0, int(caller.hold_s))}"]
    if caller.number is not None:
        variables.append(f"SIM_CID_NUM_B64={_b64(caller.number)}")
    if caller.name is not None:
        variables.append(f"SIM_CID_NAME_B64={_b64(caller.name)}")
    if caller.withheld:
        variables.append("SIM_CID_PRES=prohib")
    if caller.dialled:
        if not re.fullmatch(r"\+?[0-9*#]+", caller.dialled):
            raise ValueError(f"dialled number {caller.dialled!r} is not a phone number")
        variables.append(f"SIM_DID={caller.dialled}")
    if caller.hold_audio:
        if not re.fullmatch(r"/[A-Za-z0-9/._-]+", caller.hold_audio):
            raise ValueError(f"hold audio {caller.hold_audio!r} is not a plain file path")
        variables.append(f"SIM_HOLD_AUDIO={caller.hold_audio}")
    if caller.quiet:
        variables.append("SIM_HOLD_QUIET=1")
    if caller.script:
        variables.append("SIM_AUDIO=" + "&".join(step.render() for step in caller.script))
    return {
        "Action": "Originate",
        "Channel": "Local/s@caller-sim",
        "Context": "caller-sim-inbound",
        "Exten": "s",
        "Priority": "1",
        "Async": "true",
        "Timeout": "10000",
        "Variable": variables,
    }


async def place_call(ami: AmiClient, caller: SimulatedCaller) -> PlacedCall:
    """Place the call and return its inbound channel once Asterisk has it up."""
    events = await ami.send_list(originate_action(caller))
    for event in events:
        if event.get("Event") == "OriginateResponse":
            if event.get("Response") != "Success":
                raise AmiActionFailed("Originate", f"simulated call failed: {event.get('Reason')}")
            return PlacedCall(caller.tag, str(event.get("Channel")), str(event.get("Uniqueid")))
    raise AmiActionFailed("Originate", "no OriginateResponse for the simulated call")
