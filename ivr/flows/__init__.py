"""IVR flows as data, and the pure engine that runs them.

- :func:`load_flows` / :func:`check_flows` read ``dialplans/ivr/<language>/*.yaml``
  (format: ``dialplans/ivr/README.md``); :func:`check_command_output` is what
  ``hotline ivr check`` prints.
- :class:`FlowEngine` ``.next(state, event) -> (state, effects)``: no I/O, no clock.
  The adapter feeds events (CallStarted, SpeechResult, DtmfInput, NoInput, VoiceMessage,
  ActionResult, CallerHangup) and carries out effects (Play, Listen, RunAction, Transfer,
  RecordTurn, Hangup) in order.
- :data:`ACTIONS`: the actions flows may call and the adapter implements.
"""

from ivr.flows.actions import ACTIONS, BUILTIN_VALUES, MAX_OFFERS, ActionSpec
from ivr.flows.engine import (
    ActionResult,
    Alternative,
    CallerHangup,
    CallStarted,
    DtmfInput,
    DtmfSpec,
    Effect,
    Event,
    Findings,
    FlowEngine,
    Hangup,
    Listen,
    NoInput,
    Phase,
    Play,
    RecordTurn,
    RunAction,
    SessionState,
    SpeechResult,
    Transfer,
    Turn,
    VoiceMessage,
    static_prompts,
)
from ivr.flows.loader import (
    FlowError,
    FlowProblem,
    check_command_output,
    check_flows,
    load_flows,
)
from ivr.flows.schema import FlowSet, Identity, VoiceMessageSpec

__all__ = [
    "ACTIONS",
    "BUILTIN_VALUES",
    "MAX_OFFERS",
    "ActionResult",
    "ActionSpec",
    "Alternative",
    "CallStarted",
    "CallerHangup",
    "DtmfInput",
    "DtmfSpec",
    "Effect",
    "Event",
    "Findings",
    "FlowEngine",
    "FlowError",
    "FlowProblem",
    "FlowSet",
    "Hangup",
    "Identity",
    "Listen",
    "NoInput",
    "Phase",
    "Play",
    "RecordTurn",
    "RunAction",
    "SessionState",
    "SpeechResult",
    "Transfer",
    "Turn",
    "VoiceMessage",
    "VoiceMessageSpec",
    "check_command_output",
    "check_flows",
    "load_flows",
    "static_prompts",
]
