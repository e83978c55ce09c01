"""The call tracker: calls rebuilt from Asterisk's channel events.

A *call* is what Asterisk groups under one ``Linkedid``; its *legs* are the channels in
that group (the caller's channel, Local halves, agent channels). The tracker is pure: it
takes events and returns :class:`CallChange` values; persistence and fan-out are done by
whoever consumes those changes.

A call ends when its last leg hangs up; its hang-up cause is the one of its first leg
(the caller's, for an inbound call) because that is the one a report wants to read.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from typing import ClassVar

from crm_store.enums import CallDirection
from crm_store.phone_numbers import NormalisedNumber, normalise
from crm_store.repositories.calls import CallLegSnapshot, CallSnapshot
from cti.ami import AmiEvent
from cti.callerid import clean_caller_name, clean_caller_number

#: The AMI events the tracker consumes (bus topics ``ami.<name>``).
TRACKED_EVENTS = (
    "Newchannel",
    "Newstate",
    "NewCallerid",
    "DialBegin",
    "DialEnd",
    "BridgeEnter",
    "BridgeLeave",
    "Hangup",
    "UserEvent",
)

#: Dialplan contexts whose calls are inbound (used when resynchronising, when the
#: dialplan's HotlineCall user event may have been missed).
INBOUND_CONTEXTS = frozenset({"hotline-inbound", "hotline-fallback", "hotline-ivr"})

#: Hang-up cause recorded for a call that ended while Hotline could not see it.
LOST_CAUSE_TEXT = "ended while the AMI link was down (cause not reported)"

UP_STATE = "6"  # AST_STATE_UP


class ChangeKind(str, enum.Enum):
    STARTED = "started"
    UPDATED = "updated"
    ENDED = "ended"


@dataclass(slots=True)
class Leg:
    uniqueid: str
    channel: str
    created_at: datetime
    answered_at: datetime | None = None
    ended_at: datetime | None = None
    hangup_cause: int | None = None
    hangup_cause_text: str | None = None
    bridge_id: str | None = None
    dial_status: str | None = None

    def snapshot(self) -> CallLegSnapshot:
        return CallLegSnapshot(
            uniqueid=self.uniqueid,
            channel=self.channel,
            created_at=self.created_at,
            answered_at=self.answered_at,
            ended_at=self.ended_at,
            hangup_cause=self.hangup_cause,
        )


@dataclass(slots=True)
class TrackedCall:
    linkedid: str
    arrived_at: datetime
    direction: CallDirection = CallDirection.UNKNOWN
    caller_number_raw: str | None = None
    caller_name: str | None = None
    number: NormalisedNumber | None = None
    patient_id: int | None = None
    answered_at: datetime | None = None
    ended_at: datetime | None = None
    hangup_cause: int | None = None
    hangup_cause_text: str | None = None
    primary_uniqueid: str | None = None
    legs: dict[str, Leg] = field(default_factory=dict)

    @property
    def live_legs(self) -> list[Leg]:
        return [leg for leg in self.legs.values() if leg.ended_at is None]

    def snapshot(self) -> CallSnapshot:
        return CallSnapshot(
            linkedid=self.linkedid,
            direction=self.direction,
            caller_number_raw=self.caller_number_raw,
            caller_number_e164=self.number.e164 if self.number else None,
            caller_name=self.caller_name,
            patient_id=self.patient_id,
            arrived_at=self.arrived_at,
            answered_at=self.answered_at,
            ended_at=self.ended_at,
            hangup_cause=self.hangup_cause,
            hangup_cause_text=self.hangup_cause_text,
            legs=tuple(leg.snapshot() for leg in self.legs.values()),
        )


@dataclass(frozen=True, slots=True)
class CallChange:
    kind: ChangeKind
    call: TrackedCall


@dataclass(frozen=True, slots=True)
class ChannelStatus:
    """A live channel as ``CoreShowChannels`` reports it."""

    uniqueid: str
    linkedid: str
    channel: str
    state: str
    caller_number: str
    caller_name: str
    context: str
    duration_s: int

    @classmethod
    def from_fields(cls, get: Callable[[str], str]) -> ChannelStatus:
        return cls(
            uniqueid=get("Uniqueid"),
            linkedid=get("Linkedid") or get("Uniqueid"),
            channel=get("Channel"),
            state=get("ChannelState"),
            caller_number=get("CallerIDNum"),
            caller_name=get("CallerIDName"),
            context=get("Context"),
            duration_s=_parse_duration(get("Duration")),
        )


def _parse_duration(text: str) -> int:
    """``HH:MM:SS`` (as CoreShowChannel reports) to seconds; 0 when unreadable."""
    try:
        h, m, s = (int(part) for part in text.split(":"))
    except ValueError:
        return 0
    return h * 3600 + m * 60 + s


def _when(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


class CallTracker:
    """Live calls, updated by AMI events. Every method returns what changed."""

    def __init__(self, *, region: str = "CN") -> None:
        self.calls: dict[str, TrackedCall] = {}
        self._leg_to_call: dict[str, str] = {}
        self._normalise = lru_cache(maxsize=4096)(lambda raw: normalise(raw, region))
        self.ignored_events = 0

    # -- events --

    def apply(self, event: AmiEvent) -> CallChange | None:
        """Apply one AMI event; return the call it changed, if any."""
        handler = self._handlers.get(event.name)
        if handler is None:
            return None
        return handler(self, event)

    def _on_newchannel(self, event: AmiEvent) -> CallChange | None:
        uniqueid = event.get("Uniqueid")
        if not uniqueid:
            self.ignored_events += 1
            return None
        linkedid = event.get("Linkedid") or uniqueid
        at = _when(event.timestamp)
        call = self.calls.get(linkedid)
        started = call is None
        if call is None:
            call = TrackedCall(linkedid=linkedid, arrived_at=at)
            self.calls[linkedid] = call
        leg = Leg(uniqueid=uniqueid, channel=event.get("Channel"), created_at=at)
        if event.get("ChannelState") == UP_STATE:
            leg.answered_at = at
        call.legs[uniqueid] = leg
        self._leg_to_call[uniqueid] = linkedid
        if call.primary_uniqueid is None:
            call.primary_uniqueid = uniqueid
            self._set_caller(call, event.get("CallerIDNum"), event.get("CallerIDName"))
        return CallChange(ChangeKind.STARTED if started else ChangeKind.UPDATED, call)

    def _on_newstate(self, event: AmiEvent) -> CallChange | None:
        found = self._find(event)
        if found is None:
            return None
        call, leg = found
        if event.get("ChannelState") == UP_STATE and leg.answered_at is None:
            leg.answered_at = _when(event.timestamp)
            if leg.uniqueid == call.primary_uniqueid and call.answered_at is None:
                call.answered_at = leg.answered_at
            return CallChange(ChangeKind.UPDATED, call)
        return None

    def _on_newcallerid(self, event: AmiEvent) -> CallChange | None:
        found = self._find(event)
        if found is None:
            return None
        call, leg = found
        if leg.uniqueid != call.primary_uniqueid:
            return None
        self._set_caller(call, event.get("CallerIDNum"), event.get("CallerIDName"))
        return CallChange(ChangeKind.UPDATED, call)

    def _on_dialbegin(self, event: AmiEvent) -> CallChange | None:
        dest = self._leg(event.get("DestUniqueid"))
        if dest is None:
            return None
        dest[1].dial_status = "RINGING"
        return CallChange(ChangeKind.UPDATED, dest[0])

    def _on_dialend(self, event: AmiEvent) -> CallChange | None:
        dest = self._leg(event.get("DestUniqueid"))
        if dest is None:
            return None
        dest[1].dial_status = event.get("DialStatus") or None
        return CallChange(ChangeKind.UPDATED, dest[0])

    def _on_bridgeenter(self, event: AmiEvent) -> CallChange | None:
        found = self._find(event)
        if found is None:
            return None
        found[1].bridge_id = event.get("BridgeUniqueid") or None
        return CallChange(ChangeKind.UPDATED, found[0])

    def _on_bridgeleave(self, event: AmiEvent) -> CallChange | None:
        found = self._find(event)
        if found is None:
            return None
        found[1].bridge_id = None
        return CallChange(ChangeKind.UPDATED, found[0])

    def _on_userevent(self, event: AmiEvent) -> CallChange | None:
        if event.get("UserEvent") != "HotlineCall":
            return None
        found = self._find(event)
        if found is None:
            return None
        call = found[0]
        try:
            call.direction = CallDirection(event.get("Direction").lower())
        except ValueError:
            self.ignored_events += 1
            return None
        return CallChange(ChangeKind.UPDATED, call)

    def _on_hangup(self, event: AmiEvent) -> CallChange | None:
        found = self._find(event)
        if found is None:
            return None
        call, leg = found
        at = _when(event.timestamp)
        leg.ended_at = at
        try:
            leg.hangup_cause = int(event.get("Cause"))
        except ValueError:
            leg.hangup_cause = None
        leg.hangup_cause_text = event.get("Cause-txt") or None
        self._leg_to_call.pop(leg.uniqueid, None)
        return self._maybe_end(call, at)

    _handlers: ClassVar[dict[str, Callable[[CallTracker, AmiEvent], CallChange | None]]] = {
        "Newchannel": _on_newchannel,
        "Newstate": _on_newstate,
        "NewCallerid": _on_newcallerid,
        "DialBegin": _on_dialbegin,
        "DialEnd": _on_dialend,
        "BridgeEnter": _on_bridgeenter,
        "BridgeLeave": _on_bridgeleave,
        "UserEvent": _on_userevent,
        "Hangup": _on_hangup,
    }

    # -- resynchronisation --

    def resync(self, channels: Iterable[ChannelStatus], now: float) -> list[CallChange]:
        """Make the live calls match Asterisk's channel list (after a reconnect or start).

        Channels Hotline did not know are adopted with their age; known legs Asterisk no
        longer has are ended, with the cause marked as not reported.
        """
        at_now = _when(now)
        changes: dict[str, CallChange] = {}
        seen: set[str] = set()
        for status in channels:
            if not status.uniqueid:
                continue
            seen.add(status.uniqueid)
            call = self.calls.get(status.linkedid)
            created = _when(now - status.duration_s)
            if call is None:
                call = TrackedCall(linkedid=status.linkedid, arrived_at=created)
                self.calls[status.linkedid] = call
                changes[call.linkedid] = CallChange(ChangeKind.STARTED, call)
            leg = call.legs.get(status.uniqueid)
            if leg is None:
                leg = Leg(uniqueid=status.uniqueid, channel=status.channel, created_at=created)
                call.legs[status.uniqueid] = leg
                self._leg_to_call[status.uniqueid] = call.linkedid
                call.arrived_at = min(call.arrived_at, created)
                changes.setdefault(call.linkedid, CallChange(ChangeKind.UPDATED, call))
            if call.primary_uniqueid is None or status.uniqueid == status.linkedid:
                if call.primary_uniqueid != status.uniqueid:
                    call.primary_uniqueid = status.uniqueid
                    self._set_caller(call, status.caller_number, status.caller_name)
            if status.state == UP_STATE and leg.answered_at is None:
                leg.answered_at = at_now
                if status.uniqueid == call.primary_uniqueid and call.answered_at is None:
                    call.answered_at = at_now
                changes.setdefault(call.linkedid, CallChange(ChangeKind.UPDATED, call))
            if call.direction is CallDirection.UNKNOWN and status.context in INBOUND_CONTEXTS:
                call.direction = CallDirection.INBOUND
        for call in list(self.calls.values()):
            gone = [leg for leg in call.live_legs if leg.uniqueid not in seen]
            for leg in gone:
                leg.ended_at = at_now
                leg.hangup_cause_text = LOST_CAUSE_TEXT
                self._leg_to_call.pop(leg.uniqueid, None)
            if gone:
                ended = self._maybe_end(call, at_now)
                changes[call.linkedid] = ended or CallChange(ChangeKind.UPDATED, call)
        return list(changes.values())

    def adopt(self, snapshot: CallSnapshot) -> None:
        """Take back a call persisted as open (after a Hotline restart), so the next
        :meth:`resync` either keeps it live or ends it."""
        call = TrackedCall(
            linkedid=snapshot.linkedid,
            arrived_at=snapshot.arrived_at,
            direction=snapshot.direction,
            caller_number_raw=snapshot.caller_number_raw,
            caller_name=snapshot.caller_name,
            number=self._normalise(snapshot.caller_number_raw),
            patient_id=snapshot.patient_id,
            answered_at=snapshot.answered_at,
        )
        for leg_snapshot in snapshot.legs:
            leg = Leg(
                uniqueid=leg_snapshot.uniqueid,
                channel=leg_snapshot.channel,
                created_at=leg_snapshot.created_at,
                answered_at=leg_snapshot.answered_at,
                ended_at=leg_snapshot.ended_at,
                hangup_cause=leg_snapshot.hangup_cause,
            )
            call.legs[leg.uniqueid] = leg
            if leg.ended_at is None:
                self._leg_to_call[leg.uniqueid] = call.linkedid
        call.primary_uniqueid = snapshot.legs[0].uniqueid if snapshot.legs else None
        self.calls.setdefault(call.linkedid, call)

    def link_patient(self, linkedid: str, patient_id: int | None) -> CallChange | None:
        call = self.calls.get(linkedid)
        if call is None or call.patient_id == patient_id:
            return None
        call.patient_id = patient_id
        return CallChange(ChangeKind.UPDATED, call)

    def call_of_channel(self, uniqueid: str) -> TrackedCall | None:
        linkedid = self._leg_to_call.get(uniqueid)
        return self.calls.get(linkedid) if linkedid else None

    # -- internals --

    def _find(self, event: AmiEvent) -> tuple[TrackedCall, Leg] | None:
        return self._leg(event.get("Uniqueid"))

    def _leg(self, uniqueid: str) -> tuple[TrackedCall, Leg] | None:
        linkedid = self._leg_to_call.get(uniqueid)
        if linkedid is None:
            self.ignored_events += 1
            return None
        call = self.calls[linkedid]
        return call, call.legs[uniqueid]

    def _set_caller(self, call: TrackedCall, number: str, name: str) -> None:
        call.caller_number_raw = clean_caller_number(number)
        call.caller_name = clean_caller_name(name)
        call.number = self._normalise(call.caller_number_raw)

    def _maybe_end(self, call: TrackedCall, at: datetime) -> CallChange:
        if call.live_legs:
            return CallChange(ChangeKind.UPDATED, call)
        call.ended_at = at
        primary = call.legs.get(call.primary_uniqueid or "")
        if primary is not None:
            call.hangup_cause = primary.hangup_cause
            call.hangup_cause_text = primary.hangup_cause_text
        del self.calls[call.linkedid]
        return CallChange(ChangeKind.ENDED, call)
