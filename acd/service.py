"""The ACD service: the thin I/O around the pure core, on the real Asterisk.

How a call travels (see ``[hotline-wait]`` and ``[hotline-acd-agent]`` in
dialplans/hotline.conf)::

    IVR ── Handover (bus) ──▶ AcdService ◀── UserEvent HotlineWait (caller parked, music)
                                   │ route() picks the agent
                                   ▼
          AMI Originate of the agent's phone into [hotline-acd-agent], Timeout = ring time
                                   │ the agent answers
                                   ▼
          [hotline-acd-agent] says "answered" (UserEvent HotlineAcd) and Bridge()s the
          parked caller itself

Why this shape: once the agent answers, the conversation is Asterisk's alone — the
agent's channel pulls the caller into the bridge, so Hotline dying mid-call loses
nothing. While Hotline chooses, the caller waits in ``[hotline-wait]``, whose timer sends
them to the plain Asterisk queue if Hotline never acts. A ring nobody answers is ended by
Asterisk (Originate ``Timeout``); Hotline's own ring timer is only a backstop.

A call is routed once both halves are known: the Handover (what the IVR learnt, which
queue) and the caller being parked (so Bridge() never grabs a caller out of the IVR).

While they wait (``[hotline-wait]``), callers hear their place and expected wait when it
is worth hearing (:mod:`acd.announcements`, played by Redirect to its ``announce``
extension, which returns them to the music — a Redirect only while the call is still
waiting, so it never pulls a caller out of an agent's bridge). Key 1 asks for a callback
(:mod:`acd.callbacks`): the call keeps its place without a channel, and when its turn
comes the agent is rung into ``[hotline-acd-callback]``, which dials the patient. A queue
past its limits overflows by its rule (``acd.routing.overflow``), checked when a caller
arrives and on every tick (``tick_s``). After each AMI login :meth:`AcdService.resync`
rebuilds what the ACD missed from ``CoreShowChannels``.

Bus topics this service publishes (payloads are the dataclasses below):

* ``acd.queued`` :class:`CallQueued`, ``acd.offered`` :class:`CallOffered` (the screen
  pop's trigger), ``acd.answered`` :class:`CallAnswered`, ``acd.bridged``
  :class:`CallBridged` (the seam for recording), ``acd.requeued`` :class:`CallRequeued`,
  ``acd.abandoned`` :class:`CallAbandoned`, ``acd.ended`` :class:`CallEnded`;
* ``acd.callback_requested`` :class:`CallbackRequested`, ``acd.callback_refused``
  :class:`CallbackRefused`, ``acd.callback_placed`` :class:`CallbackPlaced`,
  ``acd.callback_result`` :class:`CallbackResult`, ``acd.overflowed``
  :class:`CallOverflowed`, ``acd.announced`` :class:`WaitAnnounced`;
* ``acd.agent_state`` :class:`acd.agent_states.StateChanged`.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import datetime as dt
import logging
import re
import uuid
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from acd import agent_states as states
from acd.agent_states import (
    CancelTimer,
    ConnectCall,
    Effect,
    RequeueCallAtHead,
    RingAgent,
    StartTimer,
    StateChanged,
    StopRinging,
    TimerKind,
    Transition,
)
from acd.announcements import (
    OVERFLOW_MESSAGES,
    AnnouncementPolicy,
    announcement,
    announcement_due,
    announcement_text,
    callback_ask_text,
    callback_confirmed_text,
    callback_refused_text,
    overflow_message_text,
)
from acd.callbacks import (
    CallbackOutcome,
    CallbackPolicy,
    callback_number,
    dial_string,
    spoken_digits,
)
from acd.errors import (
    ConfigurationError,
    StaleEvent,
    UnknownAgent,
    UnknownQueue,
    UnsafeDialValue,
)
from acd.model import (
    Agent,
    AgentState,
    OverflowKind,
    OverflowRule,
    PriorityClass,
    Queue,
    WaitingCall,
)
from acd.routing import (
    HandleTimeAverage,
    OverflowReason,
    QueueState,
    callers_ahead,
    check_queues,
    expected_wait,
    overflow,
    queue_states,
    route,
)
from acd.snapshot import AcdSnapshot, HeldCall, HeldPhase
from acd.wait_deadline import (
    DEADLINE_VARIABLE,
    WaitDeadlinePolicy,
    deadline_due,
    deadline_value,
)
from crm_store.errors import PatientNotFound
from crm_store.gateway import StoreGateway
from crm_store.repositories.acd import PendingCallback, SavedAgentState
from crm_store.repositories.patients import PatientRepository
from cti.ami import AmiClient, AmiEvent
from cti.bus import EventBus
from cti.errors import AmiDisconnected, AmiTimeout, CtiError
from cti.handover import HANDOVER_TOPIC, Handover
from ivr.flows import Findings, Identity

log = logging.getLogger(__name__)

#: The dialplan context the agent's phone is originated into (dialplans/hotline.conf).
AGENT_CONTEXT = "hotline-acd-agent"
#: The agent's leg of a callback: it dials the patient once the agent answers.
CALLBACK_CONTEXT = "hotline-acd-callback"
#: Where callers wait (music, key 1 for a callback) and hear announcements.
WAIT_CONTEXT = "hotline-wait"
#: Where an overflow message is played before goodbye or the fallback queue.
OVERFLOW_CONTEXT = "hotline-acd-overflow"
#: The pause reason of an agent who held a call when Hotline stopped.
RESTART_PAUSE = "after-restart"
#: What a callback's patient leg inherits from the agent's leg to announce and record.
RECORDING_VARIABLES = ("HOTLINE_RECORD", "HOTLINE_RECORD_NOTICE")
#: Where a caller goes when Hotline cannot distribute them (Asterisk's queue).
FALLBACK_TARGET = ("hotline-agents", "s", "1")

_UNIQUEID = re.compile(r"[A-Za-z0-9._-]{1,64}")
_CHANNEL = re.compile(r"[A-Za-z0-9/@;._+:-]{1,128}")
_DIAL = re.compile(r"(PJSIP/[A-Za-z0-9_.+-]{1,64}|Local/[A-Za-z0-9_.+-]{1,64}@[A-Za-z0-9_-]{1,64})")
_AGENT_ID = re.compile(r"[A-Za-z0-9_.-]{1,64}")

Clock = Callable[[], dt.datetime]
PriorityResolver = Callable[[Handover], Awaitable[PriorityClass]]
#: Renders ``text`` in ``language`` (``zh``/``en``) and returns the file as Asterisk
#: plays it (path without extension); see :func:`acd.wait_prompts.prompt_player`.
WaitPrompts = Callable[[str, str], Awaitable[str]]
#: The recording variables for a callback in ``queue`` spoken in ``language``
#: (``HOTLINE_RECORD``, ``HOTLINE_RECORD_NOTICE``; see
#: :meth:`recordings.announcement.CallerNotice.variables`).
CallbackRecording = Callable[[str, str], Awaitable[Mapping[str, str]]]


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def check_uniqueid(value: str) -> str:
    if not _UNIQUEID.fullmatch(value):
        raise UnsafeDialValue("call id", value)
    return value


def check_channel(value: str) -> str:
    if not _CHANNEL.fullmatch(value):
        raise UnsafeDialValue("channel", value)
    return value


def check_dial_string(value: str) -> str:
    """A phone the ACD may ring: ``PJSIP/<endpoint>`` or ``Local/<exten>@<context>``."""
    if not _DIAL.fullmatch(value):
        raise UnsafeDialValue("agent phone", value)
    return value


async def queue_priority(handover: Handover) -> PriorityClass:
    """Without a store: the VIP line's callers are VIP, everyone else normal."""
    return PriorityClass.VIP if handover.queue == "vip" else PriorityClass.NORMAL


def patient_priority(store: StoreGateway) -> PriorityResolver:
    """The caller's class from their patient record (VIP / chronic flags) and the queue."""

    async def resolve(handover: Handover) -> PriorityClass:
        patient_id = handover.patient_id
        vip = handover.queue == "vip"
        chronic = False
        if patient_id is not None:
            try:
                record = await store.read(lambda s: PatientRepository(s).get(patient_id))
            except PatientNotFound:
                log.warning("hand-over names patient %d, who is not in the store", patient_id)
            else:
                vip = vip or record.vip
                chronic = record.chronic
        return PriorityClass.of(vip=vip, chronic=chronic)

    return resolve


# -- what the service publishes ------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CallQueued:
    call_id: str
    queue: str
    priority: PriorityClass
    patient_id: int | None
    at: dt.datetime


@dataclass(frozen=True, slots=True)
class CallOffered:
    """The call rings ``agent_id``: the moment to pop it on their console."""

    call_id: str
    agent_id: str
    queue: str
    priority: PriorityClass
    callback: bool
    waited_s: float
    handover: Handover
    at: dt.datetime


@dataclass(frozen=True, slots=True)
class CallAnswered:
    call_id: str
    agent_id: str
    agent_channel: str
    waited_s: float
    at: dt.datetime


@dataclass(frozen=True, slots=True)
class CallBridged:
    """Caller and agent talk in ``bridge_id``: where recording starts."""

    call_id: str
    agent_id: str
    caller_channel: str
    agent_channel: str
    bridge_id: str
    at: dt.datetime


@dataclass(frozen=True, slots=True)
class CallRequeued:
    call_id: str
    agent_id: str  # who did not answer
    at: dt.datetime


@dataclass(frozen=True, slots=True)
class CallAbandoned:
    call_id: str
    queue: str
    waited_s: float
    at: dt.datetime


@dataclass(frozen=True, slots=True)
class CallEnded:
    call_id: str
    agent_id: str
    at: dt.datetime


@dataclass(frozen=True, slots=True)
class CallbackRequested:
    """The caller hung up to be called back on ``number`` (E.164); they keep their place."""

    call_id: str
    number: str
    at: dt.datetime


@dataclass(frozen=True, slots=True)
class CallbackRefused:
    """The caller asked for a callback without a number to call (withheld or invalid
    caller ID): they were told so and keep holding."""

    call_id: str
    at: dt.datetime


@dataclass(frozen=True, slots=True)
class CallbackPlaced:
    """The agent answered a callback and Asterisk is dialling the patient."""

    call_id: str
    agent_id: str
    at: dt.datetime


@dataclass(frozen=True, slots=True)
class CallbackResult:
    call_id: str
    outcome: CallbackOutcome
    attempts: int
    at: dt.datetime


@dataclass(frozen=True, slots=True)
class CallOverflowed:
    """The caller left ``from_queue`` by its overflow rule: to queue or message ``target``."""

    call_id: str
    from_queue: str
    reason: OverflowReason
    kind: OverflowKind
    target: str
    at: dt.datetime


@dataclass(frozen=True, slots=True)
class WaitAnnounced:
    """The caller heard their place (``ahead``) and/or expected wait (None: not said)."""

    call_id: str
    ahead: int | None
    expected_wait_s: float | None
    at: dt.datetime


# -- live state --------------------------------------------------------------------------


@dataclass
class _Held:
    """A call an agent holds (ringing, talking or wrapping up)."""

    call: WaitingCall
    agent_id: str
    ring_channel_id: str
    agent_channel: str | None = None
    bridged: bool = False
    answered_at: dt.datetime | None = None
    offered_at: dt.datetime | None = None
    # A callback's patient leg (dialled by the agent's leg once the agent answered).
    patient_uniqueid: str | None = None
    patient_channel: str | None = None


@dataclass
class AcdService:
    """Distributes parked callers to agents through AMI. Build it, then :meth:`start`."""

    bus: EventBus
    ami: AmiClient
    queues: Mapping[str, Queue]
    agents: dict[str, Agent]
    phones: Mapping[str, str]
    priority_of: PriorityResolver = queue_priority
    clock: Clock = _utc_now
    ring_backstop_s: float = 5.0
    prompts: WaitPrompts | None = None
    announcements: AnnouncementPolicy | None = None
    callbacks: CallbackPolicy | None = None
    region: str = "CN"
    callback_recording: CallbackRecording | None = None
    tick_s: float = 1.0
    wait_deadline: WaitDeadlinePolicy = field(default_factory=WaitDeadlinePolicy)
    waiting: dict[str, WaitingCall] = field(default_factory=dict)
    held: dict[str, _Held] = field(default_factory=dict)
    handovers: dict[str, Handover] = field(default_factory=dict)
    parked: set[str] = field(default_factory=set)
    #: Callbacks whose patient did not answer, until their next attempt is due.
    retrying: dict[str, WaitingCall] = field(default_factory=dict)
    #: The number each parked caller can be called back on (None: withheld or invalid).
    caller_numbers: dict[str, str | None] = field(default_factory=dict)
    handle_times: dict[str, HandleTimeAverage] = field(default_factory=dict)
    _announced: dict[str, float] = field(default_factory=dict)
    #: Callers asked to confirm their callback number (no announcement cuts the question).
    _confirming: set[str] = field(default_factory=set)
    #: When each waiting caller's deadline was last pushed forward (the heartbeat).
    _deadline_pushed: dict[str, dt.datetime] = field(default_factory=dict)
    _retry_timers: dict[str, asyncio.TimerHandle] = field(default_factory=dict)
    _sequence: int = 0
    _timers: dict[tuple[str, TimerKind, str], asyncio.TimerHandle] = field(default_factory=dict)
    _tasks: set[asyncio.Task[object]] = field(default_factory=set)
    _subscriptions: list[Any] = field(default_factory=list)

    @classmethod
    def build(
        cls,
        *,
        bus: EventBus,
        ami: AmiClient,
        queues: Iterable[Queue],
        agents: Iterable[Agent],
        phones: Mapping[str, str],
        priority_of: PriorityResolver = queue_priority,
        clock: Clock = _utc_now,
        prompts: WaitPrompts | None = None,
        announcements: AnnouncementPolicy | None = None,
        callbacks: CallbackPolicy | None = None,
        region: str = "CN",
        wait_deadline: WaitDeadlinePolicy | None = None,
        callback_recording: CallbackRecording | None = None,
    ) -> AcdService:
        """Check the configuration (every agent has a safe phone, overflow rules lead
        somewhere) and build the service. Announcements, callbacks and overflow messages
        need ``prompts``."""
        checked = check_queues(queues)
        for queue in checked.values():
            rule = queue.overflow
            if rule is None or rule.kind is not OverflowKind.MESSAGE:
                continue
            if rule.target not in OVERFLOW_MESSAGES:
                raise ConfigurationError(
                    f"queue {queue.name!r} overflows to message {rule.target!r}, which does "
                    f"not exist; use one of {sorted(OVERFLOW_MESSAGES)}"
                )
            if prompts is None:
                raise ConfigurationError(
                    f"queue {queue.name!r} overflows to message {rule.target!r} but the ACD "
                    "has no prompts to play it; give the service its prompts"
                )
        by_id: dict[str, Agent] = {}
        for agent in agents:
            if not _AGENT_ID.fullmatch(agent.id):
                raise UnsafeDialValue("agent id", agent.id)
            if agent.id not in phones:
                raise UnknownAgent(agent.id)
            check_dial_string(phones[agent.id])
            by_id[agent.id] = agent
        return cls(
            bus=bus,
            ami=ami,
            queues=checked,
            agents=by_id,
            phones=dict(phones),
            priority_of=priority_of,
            clock=clock,
            prompts=prompts,
            announcements=announcements,
            callbacks=callbacks,
            region=region,
            wait_deadline=wait_deadline or WaitDeadlinePolicy(),
            callback_recording=callback_recording,
        )

    async def start(self) -> None:
        self._subscriptions = [
            self.bus.subscribe("acd-handover", [HANDOVER_TOPIC], self._on_handover),
            self.bus.subscribe(
                "acd-ami", ["ami.UserEvent", "ami.Hangup", "ami.BridgeEnter"], self._on_ami
            ),
        ]
        self._spawn(self._tick_loop())
        self.ami.on_login(self.resync)

    async def close(self) -> None:
        for sub in self._subscriptions:
            await self.bus.unsubscribe(sub, drain=False)
        self._subscriptions = []
        for handle in [*self._timers.values(), *self._retry_timers.values()]:
            handle.cancel()
        self._timers.clear()
        self._retry_timers.clear()
        for task in list(self._tasks):
            task.cancel()

    def restore(self, saved: Mapping[str, SavedAgentState]) -> None:
        """Agents' states from before a restart. A pause keeps its reason; an agent who was
        available is available again; one who held a call (ringing, talking, wrapping up)
        comes back paused with reason ``after-restart`` — that call is Asterisk's now, and
        the agent resumes when they are free."""
        for agent_id, state in saved.items():
            agent = self.agents.get(agent_id)
            if agent is None or agent.state is not AgentState.LOGGED_OUT:
                continue
            if state.state is AgentState.LOGGED_OUT:
                continue
            if state.state is AgentState.AVAILABLE:
                self.login(agent_id)
            elif state.state is AgentState.PAUSED and state.pause_reason:
                self.login(agent_id, paused_reason=state.pause_reason)
            else:
                self.login(agent_id, paused_reason=RESTART_PAUSE)

    def restore_callbacks(
        self,
        pending: Iterable[PendingCallback],
        findings: Mapping[str, Findings] | None = None,
    ) -> list[str]:
        """Callbacks asked for before a restart, back in their queues at their places
        (oldest first). ``findings``: what the IVR learnt on each call (its stored
        session, :meth:`acd.journal.AcdJournal.callback_findings`), so the pop says what
        it would have; a call without them pops the record's patient as identified, not
        verified. Routed on the next tick, once the AMI link is up. Returns the call ids
        restored."""
        learnt = findings or {}
        restored: list[str] = []
        for item in pending:
            queue = self.queues.get(item.queue)
            if queue is None or item.call_key in self.waiting or self.callbacks is None:
                log.warning("callback %s (queue %r) cannot be restored", item.call_key, item.queue)
                continue
            self._sequence += 1
            patient = str(item.patient_id) if item.patient_id is not None else None
            self.waiting[item.call_key] = WaitingCall(
                call_id=item.call_key,
                queue=queue.name,
                enqueued_at=item.queued_at,
                skill=queue.skill,
                language=queue.language,
                priority=PriorityClass(item.priority),
                sequence=self._sequence,
                patient_id=item.patient_id,
                callback_requested=True,
                callback_number=item.number,
                callback_attempts=item.attempts,
            )
            found = learnt.get(item.call_key) or Findings(
                reason="callback",
                language=queue.language,
                identity=Identity.IDENTIFIED if patient is not None else Identity.UNKNOWN,
                patient_id=patient,
                patient_name=None,
                intent=None,
                intents=(),
                step="",
                slots={},
                turns=0,
                last_heard=None,
            )
            self.handovers[item.call_key] = Handover(
                uniqueid=item.call_key,
                channel="",
                queue=queue.name,
                reason="callback",
                skill=None,
                language=queue.language,
                findings=found,
                at=item.queued_at,
            )
            restored.append(item.call_key)
        return restored

    def snapshot(self) -> AcdSnapshot:
        """The live state as immutable values (read-only; for the wallboard)."""
        held = []
        for h in self.held.values():
            agent = self.agents[h.agent_id]
            talking = agent.state is AgentState.ON_CALL and agent.current_call_id == h.call.call_id
            held.append(
                HeldCall(
                    call_id=h.call.call_id,
                    queue=h.call.queue,
                    agent_id=h.agent_id,
                    phase=HeldPhase.TALKING if talking else HeldPhase.RINGING,
                    enqueued_at=h.call.enqueued_at,
                    since=agent.state_since,
                )
            )
        return AcdSnapshot(
            taken_at=self.clock(),
            queues=tuple(self.queues.values()),
            agents=tuple(sorted(self.agents.values(), key=lambda a: a.id)),
            waiting=tuple(sorted(self.waiting.values(), key=lambda c: c.enqueued_at)),
            held=tuple(sorted(held, key=lambda c: c.agent_id)),
        )

    # -- agents' own actions (the console calls these) ------------------------------

    def agent(self, agent_id: str) -> Agent:
        try:
            return self.agents[agent_id]
        except KeyError:
            raise UnknownAgent(agent_id) from None

    def login(self, agent_id: str, *, paused_reason: str | None = None) -> Agent:
        return self._apply(
            states.login(self.agent(agent_id), self.clock(), paused_reason=paused_reason)
        )

    def logout(self, agent_id: str) -> Agent:
        return self._apply(states.logout(self.agent(agent_id), self.clock()))

    def pause(self, agent_id: str, reason: str) -> Agent:
        return self._apply(states.pause(self.agent(agent_id), reason, self.clock()))

    def resume(self, agent_id: str) -> Agent:
        return self._apply(states.resume(self.agent(agent_id), self.clock()))

    def end_wrap_up(self, agent_id: str) -> Agent:
        return self._apply(states.end_wrap_up(self.agent(agent_id), self.clock()))

    # -- inputs from the bus ---------------------------------------------------------

    async def _on_handover(self, _topic: str, handover: Handover) -> None:
        try:
            check_uniqueid(handover.uniqueid)
            check_channel(handover.channel)
        except UnsafeDialValue as exc:
            log.error("hand-over refused: %s; the dialplan's wait timer takes the caller", exc)
            return
        if handover.queue not in self.queues:
            log.error(
                "%s; sending the caller to Asterisk's queue",
                UnknownQueue(handover.queue, "a hand-over"),
            )
            await self._to_fallback(handover.channel)
            return
        self.handovers[handover.uniqueid] = handover
        await self._enqueue_if_ready(handover.uniqueid)

    async def _on_ami(self, topic: str, event: AmiEvent) -> None:
        if topic == "ami.UserEvent":
            kind = event.get("UserEvent")
            phase = event.get("Phase")
            if kind == "HotlineWait" and phase == "waiting":
                uniqueid = event.get("Uniqueid")
                self.caller_numbers[uniqueid] = callback_number(
                    _b64(event.get("CallerIDNumB64")), event.get("Presentation"), self.region
                )
                self.parked.add(uniqueid)
                await self._enqueue_if_ready(uniqueid)
            elif kind == "HotlineWait" and phase == "callback":
                self._on_callback_asked(event.get("Uniqueid"))
            elif kind == "HotlineWait" and phase == "callback-confirmed":
                self._on_callback_confirmed(event.get("Uniqueid"))
            elif kind == "HotlineWait" and phase == "callback-kept":
                self._confirming.discard(event.get("Uniqueid"))
            elif kind == "HotlineFallback":
                self._on_fallback(event.get("Uniqueid"), event.get("Reason"))
            elif kind == "HotlineAcd" and phase == "answered":
                self._on_agent_answered(event.get("Call"), event.get("Agent"), event.get("Channel"))
            elif kind == "HotlineAcd" and phase == "dialling":
                self._on_callback_dialling(
                    event.get("Call"), event.get("Uniqueid"), event.get("Channel")
                )
        elif topic == "ami.Hangup":
            self._on_hangup(event.get("Uniqueid"))
        elif topic == "ami.BridgeEnter":
            self._on_bridge_enter(event.get("Uniqueid"), event.get("BridgeUniqueid"))

    async def _enqueue_if_ready(self, call_id: str) -> None:
        handover = self.handovers.get(call_id)
        if handover is None or call_id not in self.parked:
            return
        if call_id in self.waiting or call_id in self.held:
            return
        priority = await self.priority_of(handover)
        queue = self.queues[handover.queue]
        now = self.clock()
        self._sequence += 1
        call = WaitingCall.arrive(
            queue,
            call_id=call_id,
            channel=handover.channel,
            now=now,
            sequence=self._sequence,
            priority=priority,
            patient_id=handover.patient_id,
            language=handover.language or None,
            skill=handover.skill,
        )
        self.bus.publish(
            "acd.queued", CallQueued(call_id, queue.name, priority, call.patient_id, now)
        )
        self._admit(call, now)
        self._route()

    def _admit(self, call: WaitingCall, now: dt.datetime) -> None:
        """Let a caller into their queue, or send them where its overflow rule says when
        the queue is past its limits (following the target queue's own rule in turn)."""
        queue = self.queues[call.queue]
        decision = overflow(queue, self._queue_states()[queue.name], now)
        if decision.accepts_new_callers or queue.overflow is None:
            self.waiting[call.call_id] = call
            return
        assert decision.refusal is not None
        self._overflow(call, decision.refusal, queue.overflow, now)

    def _overflow(
        self, call: WaitingCall, reason: OverflowReason, rule: OverflowRule, now: dt.datetime
    ) -> None:
        self.waiting.pop(call.call_id, None)
        self.bus.publish(
            "acd.overflowed",
            CallOverflowed(call.call_id, call.queue, reason, rule.kind, rule.target, now),
        )
        if rule.kind is OverflowKind.QUEUE:
            self._admit(call.moved_to(self.queues[rule.target], now), now)
            return
        self._forget(call.call_id)
        handover = self.handovers.get(call.call_id)
        language = handover.language if handover is not None else "zh"
        if call.channel is not None:
            self._spawn(
                self._play(
                    call.call_id,
                    call.channel,
                    overflow_message_text(rule.target, language),
                    language,
                    OVERFLOW_CONTEXT,
                    "fallback" if rule.then_fallback else "s",
                    only_while_waiting=False,
                )
            )

    def _queue_states(self) -> dict[str, QueueState]:
        return queue_states(
            self.queues,
            self.waiting.values(),
            self.agents.values(),
            {name: avg.mean_s for name, avg in self.handle_times.items()},
        )

    def _on_fallback(self, call_id: str, reason: str) -> None:
        """The dialplan gave a waiting caller to Asterisk's fallback queue (its wait limit
        passed): the ACD lets go, so no announcement or offer reaches them there."""
        call = self.waiting.get(call_id)
        if call is None or call.callback_requested:
            return
        log.warning("caller %s left for the fallback queue (%s); the ACD lets go", call_id, reason)
        del self.waiting[call_id]
        self._forget(call_id)

    def _on_agent_answered(self, call_id: str, agent_id: str, channel: str) -> None:
        held = self.held.get(call_id)
        if held is None or held.agent_id != agent_id:
            log.warning("answer of %s by %s matches no offer; ignored", call_id, agent_id)
            return
        held.agent_channel = channel
        now = self.clock()
        held.answered_at = now
        try:
            self._apply(states.answer(self.agents[agent_id], call_id, now))
        except StaleEvent as exc:
            log.info("%s", exc)
            return
        self.bus.publish(
            "acd.answered",
            CallAnswered(call_id, agent_id, channel, held.call.waited_s(now), now),
        )

    def _on_bridge_enter(self, uniqueid: str, bridge_id: str) -> None:
        held = self.held.get(uniqueid) or next(
            (h for h in self.held.values() if h.patient_uniqueid == uniqueid), None
        )
        if held is None or held.bridged or held.agent_channel is None:
            return
        held.bridged = True
        self.bus.publish(
            "acd.bridged",
            CallBridged(
                held.call.call_id,
                held.agent_id,
                held.patient_channel or held.call.channel or "",
                held.agent_channel,
                bridge_id,
                self.clock(),
            ),
        )

    # -- callbacks ---------------------------------------------------------------------

    def _on_callback_asked(self, call_id: str) -> None:
        """The caller pressed 1: their number read back with "1 to confirm, 2 to keep
        holding" — or, without a number to call, a word that they keep holding."""
        call = self.waiting.get(call_id)
        if call is None or call.callback_requested or call.channel is None:
            return  # already being offered to an agent, or asked twice
        if call_id in self._confirming:
            return  # the question is being asked
        if self.callbacks is None or self.prompts is None:
            return  # callbacks are not offered here: the dialplan keeps the caller holding
        handover = self.handovers.get(call_id)
        language = handover.language if handover is not None else "zh"
        number = self.caller_numbers.get(call_id)
        if number is None:
            self.bus.publish("acd.callback_refused", CallbackRefused(call_id, self.clock()))
            text = callback_refused_text(language)
            self._spawn(self._play(call_id, call.channel, text, language, WAIT_CONTEXT, "announce"))
            return
        self._confirming.add(call_id)
        text = callback_ask_text(spoken_digits(number, self.region), language)
        self._spawn(self._ask_callback(call_id, call.channel, text, language))

    async def _ask_callback(self, call_id: str, channel: str, text: str, language: str) -> None:
        asked = await self._play(call_id, channel, text, language, WAIT_CONTEXT, "callback-ask")
        if not asked:  # never asked: announcements and key 1 work for them again
            self._confirming.discard(call_id)

    def _on_callback_confirmed(self, call_id: str) -> None:
        """The caller pressed 1 after hearing their number: the call keeps its place
        without a channel, and the caller hears goodbye."""
        self._confirming.discard(call_id)
        call = self.waiting.get(call_id)
        number = self.caller_numbers.get(call_id)
        if call is None or call.callback_requested or call.channel is None or number is None:
            return  # an agent took the call meanwhile
        handover = self.handovers.get(call_id)
        language = handover.language if handover is not None else "zh"
        now = self.clock()
        self.waiting[call_id] = call.with_callback(number)
        self.bus.publish("acd.callback_requested", CallbackRequested(call_id, number, now))
        text = callback_confirmed_text(spoken_digits(number, self.region), language)
        self._spawn(
            self._play(
                call_id,
                call.channel,
                text,
                language,
                WAIT_CONTEXT,
                "callback-confirmed",
                only_while_waiting=False,
            )
        )

    def _on_callback_dialling(self, call_id: str, uniqueid: str, channel: str) -> None:
        held = self.held.get(call_id)
        if held is None or not held.call.callback_requested:
            return
        held.patient_uniqueid = uniqueid
        held.patient_channel = channel
        self.bus.publish(
            "acd.callback_placed", CallbackPlaced(call_id, held.agent_id, self.clock())
        )

    def _callback_done(self, held: _Held, now: dt.datetime) -> bool:
        """A callback's agent leg ended. Connected: done. Not reached: tried again after the
        policy's delay, or failed after the last attempt. Returns whether the call is
        finished (False: it waits for its next attempt)."""
        call = held.call
        if held.bridged:
            self.bus.publish(
                "acd.callback_result",
                CallbackResult(
                    call.call_id, CallbackOutcome.CONNECTED, call.callback_attempts + 1, now
                ),
            )
            return True
        retry = call.callback_not_reached()
        policy = self.callbacks
        if policy is None or retry.callback_attempts >= policy.max_attempts:
            self.bus.publish(
                "acd.callback_result",
                CallbackResult(call.call_id, CallbackOutcome.FAILED, retry.callback_attempts, now),
            )
            return True
        self.bus.publish(
            "acd.callback_result",
            CallbackResult(call.call_id, CallbackOutcome.NOT_REACHED, retry.callback_attempts, now),
        )
        self.retrying[call.call_id] = retry
        self._retry_timers[call.call_id] = asyncio.get_running_loop().call_later(
            policy.retry_after_s, self._retry_due, call.call_id
        )
        return False

    def _retry_due(self, call_id: str) -> None:
        self._retry_timers.pop(call_id, None)
        call = self.retrying.pop(call_id, None)
        if call is not None:
            self.waiting[call_id] = call  # its original place: enqueued_at and sequence kept
            self._route()

    def _is_callback(self, call_id: str) -> bool:
        call = self.waiting.get(call_id) or self.retrying.get(call_id)
        if call is None:
            held = self.held.get(call_id)
            call = held.call if held is not None else None
        return call is not None and call.callback_requested

    def _on_hangup(self, uniqueid: str) -> None:
        now = self.clock()
        if self._is_callback(uniqueid):
            return  # the caller hung up to be called back: the call lives on without them
        self._announced.pop(uniqueid, None)
        waiting = self.waiting.pop(uniqueid, None)
        if waiting is not None:
            self._forget(uniqueid)
            self.bus.publish(
                "acd.abandoned",
                CallAbandoned(uniqueid, waiting.queue, waiting.waited_s(now), now),
            )
            return
        held = self.held.get(uniqueid)
        if held is not None:  # the caller hung up while ringing or talking
            self._caller_gone(held, now)
            return
        for call_id, held in list(self.held.items()):
            if held.ring_channel_id == uniqueid:  # the agent's leg ended
                self._agent_leg_gone(call_id, held, now)
                return
        if uniqueid in self.handovers or uniqueid in self.parked:
            self._forget(uniqueid)

    def _caller_gone(self, held: _Held, now: dt.datetime) -> None:
        agent = self.agents[held.agent_id]
        call_id = held.call.call_id
        if agent.current_call_id != call_id:
            self._release(call_id)
            return
        if agent.state is AgentState.RINGING:
            self._apply(states.withdraw_offer(agent, call_id, now))
            self.bus.publish(
                "acd.abandoned",
                CallAbandoned(call_id, held.call.queue, held.call.waited_s(now), now),
            )
            self._release(call_id)
        elif agent.state is AgentState.ON_CALL:
            self._end_call(agent, held, now)

    def _agent_leg_gone(self, call_id: str, held: _Held, now: dt.datetime) -> None:
        agent = self.agents[held.agent_id]
        if agent.current_call_id != call_id:
            return
        if agent.state is AgentState.RINGING:
            # Asterisk gave up ringing (Originate timeout, busy, unreachable phone).
            self._apply(states.ring_timeout(agent, call_id, now))
        elif agent.state is AgentState.ON_CALL:
            self._end_call(agent, held, now)

    def _end_call(self, agent: Agent, held: _Held, now: dt.datetime) -> None:
        queue = self.queues[held.call.queue]
        call_id = held.call.call_id
        if held.answered_at is not None:
            talk_s = (now - held.answered_at).total_seconds()
            average = self.handle_times.get(queue.name, HandleTimeAverage())
            self.handle_times[queue.name] = average.add(talk_s + queue.wrap_up_s)
        finished = True
        if held.call.callback_requested:
            finished = self._callback_done(held, now)
            self.held.pop(call_id, None)  # before the agent's state change routes again
        self._apply(states.hang_up(agent, call_id, now, wrap_up_s=queue.wrap_up_s))
        self.bus.publish("acd.ended", CallEnded(call_id, agent.id, now))
        if finished:
            self._release(call_id)

    def _release(self, call_id: str) -> None:
        self.held.pop(call_id, None)
        self._forget(call_id)

    def _forget(self, call_id: str) -> None:
        self.handovers.pop(call_id, None)
        self.parked.discard(call_id)
        self.caller_numbers.pop(call_id, None)
        self._announced.pop(call_id, None)
        self._confirming.discard(call_id)
        self._deadline_pushed.pop(call_id, None)

    # -- the decision and its effects --------------------------------------------------

    def _route(self) -> None:
        if not self.waiting:
            return
        now = self.clock()
        for assignment in route(self.queues, self.waiting.values(), self.agents.values(), now):
            call = self.waiting.pop(assignment.call_id)
            queue = self.queues[call.queue]
            self.held[call.call_id] = _Held(
                call,
                assignment.agent_id,
                f"hotline-acd-{uuid.uuid4().hex[:20]}",
                offered_at=now,
            )
            self._apply(
                states.offer(
                    self.agents[assignment.agent_id],
                    call.call_id,
                    now,
                    ring_timeout_s=queue.ring_timeout_s,
                    callback=assignment.callback,
                ),
                route_after=False,
            )

    def _apply(self, transition: Transition, *, route_after: bool = True) -> Agent:
        agent = transition.agent
        self.agents[agent.id] = agent
        for effect in transition.effects:
            self._carry_out(effect)
        if route_after:
            self._route()
        return agent

    def _carry_out(self, effect: Effect) -> None:
        match effect:
            case StateChanged():
                self.bus.publish("acd.agent_state", effect)
            case RingAgent(agent_id=agent_id, call_id=call_id):
                self._ring(agent_id, call_id)
            case StartTimer(agent_id=agent_id, kind=kind, call_id=call_id, seconds=seconds):
                delay = seconds + (self.ring_backstop_s if kind is TimerKind.RING else 0.0)
                key = (agent_id, kind, call_id)
                self._timers[key] = asyncio.get_running_loop().call_later(
                    delay, self._timer_fired, key
                )
            case CancelTimer(agent_id=agent_id, kind=kind, call_id=call_id):
                handle = self._timers.pop((agent_id, kind, call_id), None)
                if handle is not None:
                    handle.cancel()
            case StopRinging(call_id=call_id):
                held = self.held.get(call_id)
                if held is not None:
                    self._spawn(self._hang_up_channel(held.ring_channel_id))
            case RequeueCallAtHead(call_id=call_id, agent_id=agent_id):
                held = self.held.pop(call_id, None)
                if held is not None:
                    self.waiting[call_id] = held.call.back_at_head()
                    self.bus.publish("acd.requeued", CallRequeued(call_id, agent_id, self.clock()))
            case ConnectCall():
                # The agent's leg bridges the caller itself ([hotline-acd-agent]).
                pass

    def _timer_fired(self, key: tuple[str, TimerKind, str]) -> None:
        self._timers.pop(key, None)
        agent_id, kind, call_id = key
        agent = self.agents[agent_id]
        if kind is TimerKind.RING and not self.ami.connected:
            # The answer may be among the events lost with the link: hanging up now could
            # cut a conversation. Wait for the link; resync() settles it from Asterisk.
            self._timers[key] = asyncio.get_running_loop().call_later(
                self.ring_backstop_s, self._timer_fired, key
            )
            return
        try:
            if kind is TimerKind.RING:
                self._apply(states.ring_timeout(agent, call_id, self.clock()))
            else:
                self._apply(states.end_wrap_up(agent, self.clock(), call_id=call_id))
        except StaleEvent as exc:
            log.info("%s", exc)

    # -- AMI actions -----------------------------------------------------------------

    def _ring(self, agent_id: str, call_id: str) -> None:
        held = self.held[call_id]
        handover = self.handovers.get(call_id)
        queue = self.queues[held.call.queue]
        self.bus.publish(
            "acd.offered",
            CallOffered(
                call_id,
                agent_id,
                queue.name,
                held.call.priority,
                held.call.callback_requested,
                held.call.waited_s(self.clock()),
                handover,  # type: ignore[arg-type]  # a held call always has its hand-over
                self.clock(),
            ),
        )
        if held.call.callback_requested and self.callbacks is not None:
            action = originate_callback_action(
                phone=self.phones[agent_id],
                agent_id=agent_id,
                call_id=call_id,
                patient_dial=dial_string(self.callbacks, held.call.callback_number or ""),
                patient_ring_s=self.callbacks.ring_s,
                channel_id=held.ring_channel_id,
                ring_timeout_s=queue.ring_timeout_s,
            )
            language = handover.language if handover is not None else queue.language
            self._spawn(self._originate_callback(action, agent_id, call_id, queue.name, language))
            return
        action = originate_agent_action(
            phone=self.phones[agent_id],
            agent_id=agent_id,
            call_id=call_id,
            caller_channel=held.call.channel or "",
            channel_id=held.ring_channel_id,
            ring_timeout_s=queue.ring_timeout_s,
        )
        self._spawn(self._originate(action, agent_id, call_id))

    async def _originate(
        self, action: dict[str, str | list[str]], agent_id: str, call_id: str
    ) -> None:
        try:
            await self.ami.send(action)
        except (AmiDisconnected, AmiTimeout) as exc:
            # Asterisk may have rung the agent all the same: the ring timer (held while
            # the link is down) and resync() after the reconnect settle it.
            log.warning("ringing agent %s for %s is unconfirmed: %s", agent_id, call_id, exc)
        except CtiError as exc:
            log.error("ringing agent %s for %s failed: %s", agent_id, call_id, exc)
            agent = self.agents[agent_id]
            if agent.state is AgentState.RINGING and agent.current_call_id == call_id:
                self._apply(states.ring_timeout(agent, call_id, self.clock()))

    async def _originate_callback(
        self,
        action: dict[str, str | list[str]],
        agent_id: str,
        call_id: str,
        queue: str,
        language: str,
    ) -> None:
        """Ring the agent for a callback, with the recording variables the patient's leg
        inherits (``[hotline-record-callback]`` announces and records once they answer)."""
        if self.callback_recording is not None:
            try:
                recording = await self.callback_recording(queue, language)
            except Exception as exc:  # not recorded is better than not called back
                log.error("callback %s is not recorded: %s", call_id, exc)
                recording = {}
            action["Variable"] = [
                *action["Variable"],
                *(
                    f"_{name}={recording[name]}"
                    for name in RECORDING_VARIABLES
                    if name in recording
                ),
            ]
        await self._originate(action, agent_id, call_id)

    async def _hang_up_channel(self, channel_id: str) -> None:
        try:
            await self.ami.send({"Action": "Hangup", "Channel": channel_id})
        except CtiError as exc:  # already gone: nothing to stop
            log.debug("hang-up of %s: %s", channel_id, exc)

    async def _to_fallback(self, channel: str) -> None:
        context, exten, priority = FALLBACK_TARGET
        try:
            await self.ami.send(
                {
                    "Action": "Redirect",
                    "Channel": channel,
                    "Context": context,
                    "Exten": exten,
                    "Priority": priority,
                }
            )
        except CtiError as exc:
            log.error("could not send %s to the fallback: %s", channel, exc)

    async def _play(
        self,
        call_id: str,
        channel: str,
        text: str,
        language: str,
        context: str,
        exten: str,
        *,
        only_while_waiting: bool = True,
    ) -> bool:
        """Render ``text`` and move ``channel`` to ``context,exten,1``, which plays it.
        Announcements (``only_while_waiting``) are dropped once the call left the queue:
        a Redirect then would pull the caller out of the agent's bridge. Returns whether
        the caller was sent to hear it."""
        if self.prompts is None:
            return False
        try:
            prompt = await self.prompts(text, language)
        except Exception as exc:  # a prompt that cannot be rendered is not worth a caller
            log.error("prompt for %s could not be rendered: %s", call_id, exc)
            return False
        try:
            for action in (
                {
                    "Action": "Setvar",
                    "Channel": channel,
                    "Variable": "HOTLINE_ACD_PROMPT",
                    "Value": prompt,
                },
                {
                    "Action": "Redirect",
                    "Channel": channel,
                    "Context": context,
                    "Exten": exten,
                    "Priority": "1",
                },
            ):
                if only_while_waiting and call_id not in self.waiting:
                    return False
                await self.ami.send(action)
        except CtiError as exc:  # the caller hung up meanwhile
            log.info("could not play to %s: %s", channel, exc)
            return False
        return True

    # -- after the AMI link comes back ------------------------------------------------

    async def resync(self) -> None:
        """Rebuild what the ACD missed while the AMI link was down, from Asterisk's own
        list of channels (run after every AMI login): callers who hung up are abandoned,
        agents whose leg ended are released, agents who answered meanwhile are on the call,
        and callers parked in ``[hotline-wait]`` whose arrival event was lost are queued."""
        asked_at = self.clock()
        try:
            channels = await self.ami.send_list({"Action": "CoreShowChannels"})
        except CtiError as exc:
            log.error("ACD resync after AMI login failed: %s", exc)
            return
        alive = {c.get("Uniqueid"): c for c in channels}
        for call_id, call in list(self.waiting.items()):
            if call.enqueued_at >= asked_at:
                continue  # queued after the snapshot was asked for: not in it, yet alive
            if not call.callback_requested and call_id not in alive:
                self._on_hangup(call_id)
        for call_id, held in list(self.held.items()):
            if held.offered_at is None or held.offered_at >= asked_at:
                continue  # rung after the snapshot: Asterisk may not have its leg yet
            leg = alive.get(held.ring_channel_id)
            if leg is None:
                self._on_hangup(held.ring_channel_id)
                continue
            if not held.call.callback_requested and call_id not in alive:
                self._on_hangup(call_id)
                continue
            answered = leg.get("Application") in ("Bridge", "Dial") or bool(leg.get("BridgeId"))
            agent = self.agents[held.agent_id]
            if answered and agent.state is AgentState.RINGING:
                self._on_agent_answered(call_id, held.agent_id, leg.get("Channel"))
            if not held.call.callback_requested and leg.get("BridgeId"):
                self._on_bridge_enter(call_id, leg.get("BridgeId"))
        for uniqueid, channel in alive.items():
            if channel.get("Context") == WAIT_CONTEXT and uniqueid not in self.parked:
                self.parked.add(uniqueid)  # its number is unknown: no callback offered
                await self._enqueue_if_ready(uniqueid)

    # -- the clock: overflow by waiting time, announcements ----------------------------

    async def _tick_loop(self) -> None:
        while True:
            await asyncio.sleep(self.tick_s)
            try:
                self.tick()
            except Exception:  # one bad tick must not stop the next ones
                log.exception("ACD tick failed")

    def tick(self) -> None:
        """Overflow callers past their queue's limits, then say what is worth saying, and
        push the waiting callers' deadlines forward (Hotline is alive)."""
        now = self.clock()
        moved = False
        for name, state in self._queue_states().items():
            decision = overflow(self.queues[name], state, now)
            for move in decision.moves:
                call = self.waiting.get(move.call_id)
                if call is not None:
                    self._overflow(call, move.reason, move.rule, now)
                    moved = True
        if moved or self.ami.connected:
            self._route()  # also picks up restored callbacks and retries once the link is up
        if self.announcements is not None and self.prompts is not None:
            self._announce(self.announcements, now)
        if self.ami.connected:
            self._push_deadlines(now)

    def _push_deadlines(self, now: dt.datetime) -> None:
        """The heartbeat (:mod:`acd.wait_deadline`): callers still in ``[hotline-wait]``
        (queued, or their agent's phone ringing) keep waiting while Hotline runs."""
        in_room = [c for c in self.waiting.values() if c.channel is not None] + [
            h.call for h in self.held.values() if not h.bridged and h.call.channel is not None
        ]
        for call in in_room:
            assert call.channel is not None
            since = self._deadline_pushed.get(call.call_id, call.enqueued_at)
            if not deadline_due(self.wait_deadline, now, since):
                continue
            self._deadline_pushed[call.call_id] = now
            self._spawn(self._set_deadline(call.channel, deadline_value(self.wait_deadline, now)))

    async def _set_deadline(self, channel: str, value: str) -> None:
        action = {"Action": "Setvar", "Channel": channel, "Variable": DEADLINE_VARIABLE}
        try:
            await self.ami.send({**action, "Value": value})
        except CtiError as exc:  # the caller left meanwhile: nothing to keep alive
            log.debug("deadline of %s not pushed: %s", channel, exc)

    def _announce(self, policy: AnnouncementPolicy, now: dt.datetime) -> None:
        states_now: dict[str, QueueState] | None = None
        for call in list(self.waiting.values()):
            busy = call.call_id in self.held or call.call_id in self._confirming
            if call.channel is None or busy:
                continue
            waited = call.waited_s(now)
            if not announcement_due(policy, waited, self._announced.get(call.call_id)):
                continue
            self._announced[call.call_id] = waited
            if states_now is None:
                states_now = self._queue_states()
            state = states_now[call.queue]
            item = announcement(
                policy,
                ahead=callers_ahead(state, now, call_id=call.call_id),
                expected_wait_s=expected_wait(
                    self.queues[call.queue], state, now, call_id=call.call_id
                ),
                callback_offer=self.callbacks is not None
                and self.caller_numbers.get(call.call_id) is not None,
            )
            if item is None:
                continue
            self.bus.publish(
                "acd.announced",
                WaitAnnounced(call.call_id, item.ahead, item.expected_wait_s, now),
            )
            handover = self.handovers.get(call.call_id)
            language = handover.language if handover is not None else "zh"
            self._spawn(
                self._play(
                    call.call_id,
                    call.channel,
                    announcement_text(item, language),
                    language,
                    WAIT_CONTEXT,
                    "announce",
                )
            )

    def _spawn(self, coro: Awaitable[object]) -> None:
        task: asyncio.Task[object] = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)


def originate_agent_action(
    *,
    phone: str,
    agent_id: str,
    call_id: str,
    caller_channel: str,
    channel_id: str,
    ring_timeout_s: float,
) -> dict[str, str | list[str]]:
    """The AMI action ringing an agent for a parked caller (pure; every value checked)."""
    check_dial_string(phone)
    check_uniqueid(call_id)
    check_uniqueid(channel_id)
    check_channel(caller_channel)
    if not _AGENT_ID.fullmatch(agent_id):
        raise UnsafeDialValue("agent id", agent_id)
    return {
        "Action": "Originate",
        "Channel": phone,
        "Context": AGENT_CONTEXT,
        "Exten": "s",
        "Priority": "1",
        "Async": "true",
        "Timeout": str(max(1, round(ring_timeout_s * 1000))),
        "ChannelId": channel_id,
        "OtherChannelId": channel_id + "-2",
        "CallerID": f"Hotline <{agent_id}>",
        "Variable": [
            f"HOTLINE_ACD_CALL={call_id}",
            f"HOTLINE_ACD_AGENT={agent_id}",
            f"HOTLINE_ACD_CALLER={caller_channel}",
        ],
    }


def originate_callback_action(
    *,
    phone: str,
    agent_id: str,
    call_id: str,
    patient_dial: str,
    patient_ring_s: int,
    channel_id: str,
    ring_timeout_s: float,
) -> dict[str, str | list[str]]:
    """The AMI action ringing an agent for a callback: once they answer, their leg
    (``[hotline-acd-callback]``) dials ``patient_dial`` and bridges the patient."""
    action = originate_agent_action(
        phone=phone,
        agent_id=agent_id,
        call_id=call_id,
        caller_channel="none",
        channel_id=channel_id,
        ring_timeout_s=ring_timeout_s,
    )
    action["Context"] = CALLBACK_CONTEXT
    action["Variable"] = [
        f"HOTLINE_ACD_CALL={call_id}",
        f"HOTLINE_ACD_AGENT={agent_id}",
        f"HOTLINE_CALLBACK_DIAL={patient_dial}",
        f"HOTLINE_CALLBACK_RING_S={int(patient_ring_s)}",
    ]
    return action


def _b64(value: str) -> str:
    try:
        return base64.b64decode(value, validate=True).decode("utf-8", "replace")
    except (binascii.Error, ValueError):
        return ""


__all__ = [
    "AGENT_CONTEXT",
    "CALLBACK_CONTEXT",
    "AcdService",
    "CallAbandoned",
    "CallAnswered",
    "CallBridged",
    "CallEnded",
    "CallOffered",
    "CallOverflowed",
    "CallQueued",
    "CallRequeued",
    "CallbackPlaced",
    "CallbackRefused",
    "CallbackRequested",
    "CallbackResult",
    "WaitAnnounced",
    "WaitPrompts",
    "check_channel",
    "check_dial_string",
    "check_uniqueid",
    "originate_agent_action",
    "originate_callback_action",
    "patient_priority",
    "queue_priority",
]
