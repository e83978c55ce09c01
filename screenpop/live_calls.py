"""The live calls board: calls in progress and the latest ended calls, kept current by
the bus (``call.started`` / ``call.updated`` / ``call.ended``, payload a
:class:`cti.tracker.TrackedCall`) and watched by any number of browser sockets.

The board holds display-ready :class:`CallView` values (caller number masked, patient
name resolved once); it is the single source of both the server-rendered page and the
WebSocket stream, so the two always agree. It knows nothing of HTTP or auditing: a
watcher (one per socket) decides what to send and audits it.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Literal

import phonenumbers

from crm_store.enums import CallDirection
from crm_store.gateway import StoreGateway
from crm_store.repositories.calls import CallRepository, CallSnapshot
from crm_store.repositories.patients import PatientRepository
from cti.bus import EventBus, Subscription
from screenpop.i18n import Translator, cause_label

log = logging.getLogger(__name__)

CALL_TOPICS = ("call.started", "call.updated", "call.ended")
ENDED_LIMIT = 50


def mask_number(e164: str | None, raw: str | None) -> str | None:
    """A caller number safe to show on a wall: country code, the first three digits and
    the last four (``+86 138****8000``); short numbers (extensions) as they are; None
    when the number was withheld or carries no digits."""
    if e164:
        try:
            parsed = phonenumbers.parse(e164, None)
        except phonenumbers.NumberParseException:
            parsed = None
        if parsed is not None:
            national = phonenumbers.national_significant_number(parsed)
            return f"+{parsed.country_code} {_mask_digits(national)}"
    digits = "".join(ch for ch in (raw or "") if ch.isascii() and ch.isdigit())
    if not digits:
        return None
    return _mask_digits(digits)


def _mask_digits(digits: str) -> str:
    if len(digits) <= 4:
        return digits
    if len(digits) >= 9:
        return digits[:3] + "*" * (len(digits) - 7) + digits[-4:]
    return "*" * (len(digits) - 4) + digits[-4:]


def format_duration(seconds: float) -> str:
    seconds = max(0, int(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


@dataclass(frozen=True)
class CallView:
    """A call as the consoles show it."""

    linkedid: str
    direction: CallDirection
    number_display: str | None  # masked; None: withheld
    patient_id: int | None
    patient_name: str | None
    arrived_at: dt.datetime
    answered_at: dt.datetime | None
    ended_at: dt.datetime | None
    hangup_cause: int | None
    hangup_cause_text: str | None

    @property
    def ended(self) -> bool:
        return self.ended_at is not None

    @property
    def duration_s(self) -> float | None:
        if self.ended_at is None:
            return None
        return (self.ended_at - self.arrived_at).total_seconds()

    def to_json(self, t: Translator, zone: dt.tzinfo) -> dict[str, Any]:
        """The wire form for the browser: display text ready, ISO times for the clock."""
        return {
            "linkedid": self.linkedid,
            "direction": self.direction.value,
            "direction_label": t(f"direction_{self.direction.value}"),
            "number": self.number_display or t("number_withheld"),
            "withheld": self.number_display is None,
            "patient_name": self.patient_name,
            "arrived_at": _iso(self.arrived_at),
            "answered_at": _iso(self.answered_at),
            "ended_at": _iso(self.ended_at),
            "arrived": format_time(self.arrived_at, zone),
            "answered": format_time(self.answered_at, zone),
            "ended": format_time(self.ended_at, zone),
            "duration_s": self.duration_s,
            "duration": None if self.duration_s is None else format_duration(self.duration_s),
            "cause": cause_label(t, self.hangup_cause, self.hangup_cause_text)
            if self.ended
            else "",
        }


def _iso(value: dt.datetime | None) -> str | None:
    return None if value is None else value.astimezone(dt.UTC).isoformat()


def format_time(
    value: dt.datetime | None, zone: dt.tzinfo, *, now: dt.datetime | None = None
) -> str:
    """``HH:MM:SS`` in the hospital's zone, with the date when it is not today."""
    if value is None:
        return ""
    local = value.astimezone(zone)
    today = (now or dt.datetime.now(dt.UTC)).astimezone(zone).date()
    return local.strftime("%H:%M:%S" if local.date() == today else "%m-%d %H:%M:%S")


def view_of(snapshot: CallSnapshot, patient_name: str | None) -> CallView:
    return CallView(
        linkedid=snapshot.linkedid,
        direction=snapshot.direction,
        number_display=mask_number(snapshot.caller_number_e164, snapshot.caller_number_raw),
        patient_id=snapshot.patient_id,
        patient_name=patient_name,
        arrived_at=snapshot.arrived_at,
        answered_at=snapshot.answered_at,
        ended_at=snapshot.ended_at,
        hangup_cause=snapshot.hangup_cause,
        hangup_cause_text=snapshot.hangup_cause_text,
    )


@dataclass(frozen=True)
class BoardState:
    active: tuple[CallView, ...]  # oldest first
    ended: tuple[CallView, ...]  # newest first
    ended_limit: int

    def patient_ids(self) -> set[int]:
        return {c.patient_id for c in (*self.active, *self.ended) if c.patient_id is not None}


@dataclass(frozen=True)
class BoardUpdate:
    kind: Literal["upsert", "ended"]
    call: CallView


class Resync:
    """Marker: the watcher fell behind; send the whole state again."""


RESYNC = Resync()


class BoardWatcher:
    """One socket's feed of board updates. Bounded: a browser that falls more than
    ``limit`` updates behind gets the whole state again instead of the backlog."""

    def __init__(self, limit: int = 1000) -> None:
        self.limit = limit
        self._queue: asyncio.Queue[BoardUpdate | Resync | None] = asyncio.Queue()

    def push(self, item: BoardUpdate | Resync | None) -> None:
        if item is not None and self._queue.qsize() >= self.limit:
            while not self._queue.empty():
                self._queue.get_nowait()
            self._queue.put_nowait(RESYNC)
            return
        self._queue.put_nowait(item)

    async def next(self) -> BoardUpdate | Resync | None:
        """The next update, :data:`RESYNC`, or None when the board stopped."""
        return await self._queue.get()


class CallBoard:
    """Live calls and the last ``ended_limit`` ended calls, fed by the bus."""

    def __init__(
        self,
        *,
        store: StoreGateway,
        bus: EventBus,
        ended_limit: int = ENDED_LIMIT,
        name_cache_size: int = 10_000,
    ) -> None:
        self.store = store
        self.bus = bus
        self.ended_limit = ended_limit
        self._active: dict[str, CallView] = {}
        self._ended: list[CallView] = []
        self._recently_ended: OrderedDict[str, None] = OrderedDict()
        self._names: OrderedDict[int, str | None] = OrderedDict()
        self._name_cache_size = name_cache_size
        self._watchers: set[BoardWatcher] = set()
        self._subscription: Subscription | None = None
        self.updates = 0

    async def start(self) -> None:
        """Load what the store has, then follow the bus."""
        limit = self.ended_limit

        def load(session: Any) -> tuple[list[CallSnapshot], list[CallSnapshot]]:
            calls = CallRepository(session)
            return calls.in_progress(), calls.recent_ended(limit=limit)

        open_calls, ended = await self.store.read(load)
        await self._resolve_names(c.patient_id for c in (*open_calls, *ended))
        for snapshot in open_calls:
            self._active[snapshot.linkedid] = view_of(snapshot, self._name(snapshot.patient_id))
        self._ended = [view_of(s, self._name(s.patient_id)) for s in ended]
        for view in reversed(self._ended):
            self._remember_ended(view.linkedid)
        self._subscription = self.bus.subscribe("screenpop-call-board", CALL_TOPICS, self._on_call)

    async def stop(self) -> None:
        if self._subscription is not None:
            await self.bus.unsubscribe(self._subscription, drain=False)
            self._subscription = None
        for watcher in list(self._watchers):
            watcher.push(None)
        self._watchers.clear()

    def state(self) -> BoardState:
        active = sorted(self._active.values(), key=lambda c: (c.arrived_at, c.linkedid))
        return BoardState(tuple(active), tuple(self._ended), self.ended_limit)

    def watch(self) -> tuple[BoardWatcher, BoardState]:
        """A new watcher and the state it starts from (taken atomically: no update can
        fall between the two)."""
        watcher = BoardWatcher()
        self._watchers.add(watcher)
        return watcher, self.state()

    def unwatch(self, watcher: BoardWatcher) -> None:
        self._watchers.discard(watcher)

    @property
    def watchers(self) -> int:
        return len(self._watchers)

    async def _on_call(self, topic: str, payload: Any) -> None:
        snapshot: CallSnapshot = payload.snapshot() if hasattr(payload, "snapshot") else payload
        if not isinstance(snapshot, CallSnapshot):
            log.warning("call board ignored a %s payload of type %s", topic, type(payload).__name__)
            return
        if snapshot.patient_id is not None and snapshot.patient_id not in self._names:
            await self._resolve_names([snapshot.patient_id])
        self.apply(view_of(snapshot, self._name(snapshot.patient_id)))

    def apply(self, view: CallView) -> BoardUpdate | None:
        """Put a call on the board and tell the watchers. A call that ended stays ended
        (a late ``call.updated`` cannot bring it back)."""
        if view.ended:
            self._active.pop(view.linkedid, None)
            self._ended = [c for c in self._ended if c.linkedid != view.linkedid]
            self._ended.insert(0, view)
            del self._ended[self.ended_limit :]
            self._remember_ended(view.linkedid)
            update = BoardUpdate("ended", view)
        elif view.linkedid in self._recently_ended:
            return None
        else:
            self._active[view.linkedid] = view
            update = BoardUpdate("upsert", view)
        self.updates += 1
        for watcher in self._watchers:
            watcher.push(update)
        return update

    def _remember_ended(self, linkedid: str) -> None:
        self._recently_ended[linkedid] = None
        self._recently_ended.move_to_end(linkedid)
        while len(self._recently_ended) > 10 * max(self.ended_limit, 100):
            self._recently_ended.popitem(last=False)

    def _name(self, patient_id: int | None) -> str | None:
        return None if patient_id is None else self._names.get(patient_id)

    async def _resolve_names(self, patient_ids: Any) -> None:
        wanted = {pid for pid in patient_ids if pid is not None and pid not in self._names}
        if not wanted:
            return
        try:
            found = await self.store.read(lambda s: PatientRepository(s).display_names(wanted))
        except Exception:
            # The call still shows (without a name); the next call of this patient retries.
            log.exception("could not look up %d patient names for the call board", len(wanted))
            return
        for pid in wanted:
            self._names[pid] = found.get(pid)
        while len(self._names) > self._name_cache_size:
            self._names.popitem(last=False)
