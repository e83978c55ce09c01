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

Bus topics this service publishes (payloads are the dataclasses below):

* ``acd.queued`` :class:`CallQueued`, ``acd.offered`` :class:`CallOffered` (the screen
  pop's trigger), ``acd.answered`` :class:`CallAnswered`, ``acd.bridged``
  :class:`CallBridged` (the seam for recording), ``acd.requeued`` :class:`CallRequeued`,
  ``acd.abandoned`` :class:`CallAbandoned`, ``acd.ended`` :class:`CallEnded`;
* ``acd.agent_state`` :class:`acd.agent_states.StateChanged`.
"""

from __future__ import annotations

import asyncio
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
from acd.errors import StaleEvent, UnknownAgent, UnknownQueue, UnsafeDialValue
from acd.model import Agent, AgentState, PriorityClass, Queue, WaitingCall
from acd.routing import route
from acd.snapshot import AcdSnapshot, HeldCall, HeldPhase
from crm_store.errors import PatientNotFound
from crm_store.gateway import StoreGateway
from crm_store.repositories.acd import SavedAgentState
from crm_store.repositories.patients import PatientRepository
from cti.ami import AmiClient, AmiEvent
from cti.bus import EventBus
from cti.errors import CtiError
from cti.handover import HANDOVER_TOPIC, Handover

log = logging.getLogger(__name__)

#: The dialplan context the agent's phone is originated into (dialplans/hotline.conf).
AGENT_CONTEXT = "hotline-acd-agent"
#: The pause reason of an agent who held a call when Hotline stopped.
RESTART_PAUSE = "after-restart"
#: Where a caller goes when Hotline cannot distribute them (Asterisk's queue).
FALLBACK_TARGET = ("hotline-agents", "s", "1")

_UNIQUEID = re.compile(r"[A-Za-z0-9._-]{1,64}")
_CHANNEL = re.compile(r"[A-Za-z0-9/@;._+:-]{1,128}")
_DIAL = re.compile(r"(PJSIP/[A-Za-z0-9_.+-]{1,64}|Local/[A-Za-z0-9_.+-]{1,64}@[A-Za-z0-9_-]{1,64})")
_AGENT_ID = re.compile(r"[A-Za-z0-9_.-]{1,64}")

Clock = Callable[[], dt.datetime]
PriorityResolver = Callable[[Handover], Awaitable[PriorityClass]]


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


# -- live state --------------------------------------------------------------------------


@dataclass
class _Held:
    """A call an agent holds (ringing, talking or wrapping up)."""

    call: WaitingCall
    agent_id: str
    ring_channel_id: str
    agent_channel: str | None = None
    bridged: bool = False


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
    waiting: dict[str, WaitingCall] = field(default_factory=dict)
    held: dict[str, _Held] = field(default_factory=dict)
    handovers: dict[str, Handover] = field(default_factory=dict)
    parked: set[str] = field(default_factory=set)
    _sequence: int = 0
    _timers: dict[tuple[str, TimerKind, str], asyncio.TimerHandle] = field(default_factory=dict)
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)
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
    ) -> AcdService:
        """Check the configuration (every agent has a safe phone) and build the service."""
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
            queues={q.name: q for q in queues},
            agents=by_id,
            phones=dict(phones),
            priority_of=priority_of,
            clock=clock,
        )

    async def start(self) -> None:
        self._subscriptions = [
            self.bus.subscribe("acd-handover", [HANDOVER_TOPIC], self._on_handover),
            self.bus.subscribe(
                "acd-ami", ["ami.UserEvent", "ami.Hangup", "ami.BridgeEnter"], self._on_ami
            ),
        ]

    async def close(self) -> None:
        for sub in self._subscriptions:
            await self.bus.unsubscribe(sub, drain=False)
        self._subscriptions = []
        for handle in self._timers.values():
            handle.cancel()
        self._timers.clear()
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
            if kind == "HotlineWait":
                self.parked.add(event.get("Uniqueid"))
                await self._enqueue_if_ready(event.get("Uniqueid"))
            elif kind == "HotlineAcd" and event.get("Phase") == "answered":
                self._on_agent_answered(event.get("Call"), event.get("Agent"), event.get("Channel"))
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
        self.waiting[call_id] = call
        self.bus.publish(
            "acd.queued", CallQueued(call_id, queue.name, priority, call.patient_id, now)
        )
        self._route()

    def _on_agent_answered(self, call_id: str, agent_id: str, channel: str) -> None:
        held = self.held.get(call_id)
        if held is None or held.agent_id != agent_id:
            log.warning("answer of %s by %s matches no offer; ignored", call_id, agent_id)
            return
        held.agent_channel = channel
        now = self.clock()
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
        held = self.held.get(uniqueid)
        if held is None or held.bridged or held.agent_channel is None:
            return
        held.bridged = True
        self.bus.publish(
            "acd.bridged",
            CallBridged(
                uniqueid,
                held.agent_id,
                held.call.channel or "",
                held.agent_channel,
                bridge_id,
                self.clock(),
            ),
        )

    def _on_hangup(self, uniqueid: str) -> None:
        now = self.clock()
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
        self._apply(states.hang_up(agent, call_id, now, wrap_up_s=queue.wrap_up_s))
        self.bus.publish("acd.ended", CallEnded(call_id, agent.id, now))
        self._release(call_id)

    def _release(self, call_id: str) -> None:
        self.held.pop(call_id, None)
        self._forget(call_id)

    def _forget(self, call_id: str) -> None:
        self.handovers.pop(call_id, None)
        self.parked.discard(call_id)

    # -- the decision and its effects --------------------------------------------------

    def _route(self) -> None:
        if not self.waiting:
            return
        now = self.clock()
        for assignment in route(self.queues, self.waiting.values(), self.agents.values(), now):
            call = self.waiting.pop(assignment.call_id)
            queue = self.queues[call.queue]
            self.held[call.call_id] = _Held(
                call, assignment.agent_id, f"hotline-acd-{uuid.uuid4().hex[:20]}"
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
        except CtiError as exc:
            log.error("ringing agent %s for %s failed: %s", agent_id, call_id, exc)
            agent = self.agents[agent_id]
            if agent.state is AgentState.RINGING and agent.current_call_id == call_id:
                self._apply(states.ring_timeout(agent, call_id, self.clock()))

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

    def _spawn(self, coro: Awaitable[None]) -> None:
        task: asyncio.Task[None] = asyncio.ensure_future(coro)
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


__all__ = [
    "AGENT_CONTEXT",
    "AcdService",
    "CallAbandoned",
    "CallAnswered",
    "CallBridged",
    "CallEnded",
    "CallOffered",
    "CallQueued",
    "CallRequeued",
    "check_channel",
    "check_dial_string",
    "check_uniqueid",
    "originate_agent_action",
    "patient_priority",
    "queue_priority",
]
