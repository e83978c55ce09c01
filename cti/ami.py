"""The AMI link: panoramisk underneath, with what a service needs on top.

- Reconnects with capped exponential backoff (panoramisk retries at a fixed interval).
- Every event is published on the bus as ``ami.<EventName>`` with an :class:`AmiEvent`;
  the socket reader only wraps and enqueues, subscribers run in their own tasks.
- Actions are never silently re-sent after a reconnect (panoramisk would replay them,
  which for an Originate means dialling a patient twice); instead they fail with
  :class:`AmiDisconnected` and the caller decides.
- Header values are checked before sending: a CR or LF in a caller-controlled string
  would otherwise become a new AMI header.
"""

from __future__ import annotations

import asyncio
import enum
import logging
import random
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

from panoramisk import Manager
from panoramisk.ami_protocol import AMIProtocol
from panoramisk.message import Message

from cti.bus import EventBus
from cti.errors import (
    AmiActionFailed,
    AmiDisconnected,
    AmiNotConnected,
    AmiTimeout,
    UnsafeAmiValue,
)
from cti.settings import Settings

log = logging.getLogger(__name__)

ActionValue = str | int | Sequence[str]
LoginHook = Callable[[], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class AmiEvent:
    """One event from Asterisk. ``fields`` is case-insensitive, as AMI headers are."""

    name: str
    fields: Mapping[str, Any]
    received_at: float

    def get(self, key: str, default: str = "") -> str:
        value = self.fields.get(key)
        if value is None:
            return default
        if isinstance(value, list):  # repeated header: keep the last, as Asterisk means it
            return str(value[-1])
        return str(value)

    @property
    def timestamp(self) -> float:
        """When Asterisk says it happened (manager.conf ``timestampevents``), else receipt."""
        raw = self.fields.get("Timestamp")
        if raw:
            try:
                return float(raw)
            except (TypeError, ValueError):
                pass
        return self.received_at


class LinkState(str, enum.Enum):
    STOPPED = "stopped"
    CONNECTING = "connecting"
    CONNECTED = "connected"  # logged in


@dataclass
class Backoff:
    """Capped exponential backoff with full jitter (pure; the clock is the caller's)."""

    initial_s: float
    max_s: float
    attempt: int = 0
    rng: random.Random = field(default_factory=random.Random)

    def next_delay(self) -> float:
        ceiling = min(self.max_s, self.initial_s * (2**self.attempt))
        self.attempt += 1
        return max(self.initial_s / 2, self.rng.uniform(0, ceiling))

    def reset(self) -> None:
        self.attempt = 0


def check_action_values(action: Mapping[str, ActionValue]) -> None:
    """Refuse header names or values that would break out of their AMI header line."""
    for key, value in action.items():
        values = [value] if isinstance(value, (str, int)) else list(value)
        for item in [key, *map(str, values)]:
            if "\r" in item or "\n" in item or "\x00" in item:
                raise UnsafeAmiValue(
                    f"AMI action {action.get('Action', '?')}: header {key!r} carries a line "
                    "break or NUL; refusing to send it (caller-controlled text must be cleaned "
                    "before it reaches an action)"
                )
        if not key or ":" in key:
            raise UnsafeAmiValue(f"AMI header name {key!r} is not valid")


_FRAME_END = "\r\n\r\n"
_NUMBER_FIELDS = ("CallerIDNum", "ConnectedLineNum")

Headers = dict[str, str | list[str]]


def repair_number_injection(lines: list[str]) -> tuple[list[str], bool]:
    """Re-join header lines that a line break inside a caller number split apart.

    Asterisk escapes control characters in caller *names* in AMI events, but not in
    caller *numbers*. Every channel snapshot writes ``<p>CallerIDNum`` immediately
    followed by ``<p>CallerIDName`` (and ``ConnectedLineNum``/``ConnectedLineName``), so
    any line between the two is part of the number, not a header: fold it back in.
    Returns the lines and whether anything was repaired.
    """
    # Fast path (every ordinary event): each number line is followed by its name line.
    for i, line in enumerate(lines):
        key = line.partition(": ")[0]
        if key.endswith(_NUMBER_FIELDS):
            partner = key[:-3] + "Name"
            if i + 1 >= len(lines) or not lines[i + 1].startswith(partner + ": "):
                break
    else:
        return lines, False
    out: list[str] = []
    repaired = False
    i = 0
    while i < len(lines):
        line = lines[i]
        key = line.partition(": ")[0]
        if key.endswith(_NUMBER_FIELDS):
            partner = key[:-3] + "Name"
            j = i + 1
            while j < len(lines) and lines[j].partition(": ")[0] != partner:
                j += 1
            if j < len(lines) and j > i + 1:
                out.append("\r\n".join(lines[i:j]))
                repaired = True
                i = j
                continue
        out.append(line)
        i += 1
    return out, repaired


def _numbers_intact(frame: str) -> bool:
    """True when every caller-number header of ``frame`` is directly followed by its name
    header — the case of every ordinary event, checked without splitting the frame.
    False means "let :func:`repair_number_injection` look", never a wrong answer."""
    for field_name in _NUMBER_FIELDS:
        start = 0
        while (at := frame.find(field_name, start)) != -1:
            line_start = frame.rfind("\n", 0, at) + 1
            end = at + len(field_name)
            if not frame.startswith(": ", end) or ":" in frame[line_start:at]:
                return False  # inside a value, or an unusual spelling: take the slow path
            line_end = frame.find("\r\n", end)
            partner = frame[line_start : end - 3] + "Name: "
            if line_end == -1 or not frame.startswith(partner, line_end + 2):
                return False
            start = line_end
    return True


def parse_headers(frame: str) -> tuple[Headers, str] | None:
    """The headers and body of one AMI message (its text without the blank line that
    ends it), or None when it is neither an event nor a response. Raises ValueError for
    a message whose identity headers repeat (injected text that could not be folded)."""
    lines = frame.strip("\r\n").split("\r\n")
    if _numbers_intact(frame):
        # Fast path (nearly every event): no repairs, no body, no repeated header.
        pairs = [line.split(": ", 1) for line in lines]
        try:
            fast: dict[str, str] = dict(pairs)
        except ValueError:  # a line without ": " (a body line)
            pass
        else:
            if len(fast) == len(pairs):
                if "Event" not in fast and "Response" not in fast:
                    return None
                return cast(Headers, fast), ""
        return _parse_lines(lines, repaired=False)
    lines, repaired = repair_number_injection(lines)
    return _parse_lines(lines, repaired=repaired)


def _parse_lines(lines: list[str], *, repaired: bool) -> tuple[Headers, str] | None:
    headers: Headers = {}
    body: list[str] = []
    for line in lines:
        key, sep, value = line.partition(": ")
        if not sep:
            body.append(line)  # a "Response: Follows" body (e.g. a CLI command's output)
            continue
        previous = headers.get(key)
        if previous is None:
            headers[key] = value
        else:
            headers[key] = [*previous, value] if isinstance(previous, list) else [previous, value]
    if "Event" not in headers and "Response" not in headers:
        return None
    for key in ("Event", "Response", "ActionID", "Uniqueid", "Linkedid"):
        if isinstance(headers.get(key), list):
            # Asterisk never repeats these; a repeat means injected text we could not fold.
            raise ValueError(f"AMI message repeats its {key} header")
    if repaired:
        _warn_repaired_once(headers)
    return headers, "\n".join(body)


#: Calls already warned about, newest last; bounded so a flood of hostile calls cannot
#: grow it. Every event of a hostile call repeats the injected caller number: one warning
#: per call says it, one per event would drown the log.
_REPAIRED_CALLS: OrderedDict[str, None] = OrderedDict()
_REPAIRED_CALLS_KEPT = 1024


def _warn_repaired_once(headers: Headers) -> None:
    call = headers.get("Linkedid") or headers.get("Uniqueid")
    if isinstance(call, str):
        if call in _REPAIRED_CALLS:
            return
        _REPAIRED_CALLS[call] = None
        if len(_REPAIRED_CALLS) > _REPAIRED_CALLS_KEPT:
            _REPAIRED_CALLS.popitem(last=False)
    log.warning(
        "AMI %s of call %s carried a line break in a caller number; folded back "
        "(further events of this call are folded silently)",
        headers.get("Event"),
        call,
    )


def parse_frame(frame: str) -> Message | None:
    """One AMI message as panoramisk's :class:`Message` (case-insensitive headers)."""
    parsed = parse_headers(frame)
    return None if parsed is None else Message(*parsed)


def _unwanted_event(frame: str, wanted: Callable[[str], bool]) -> bool:
    """A plain event (no ActionID) whose name nobody wants; Shutdown is always wanted."""
    if not frame.startswith("Event: ") or "\r\nActionID: " in frame:
        return False
    end = frame.find("\r\n")
    name = frame[7:] if end == -1 else frame[7:end]
    return name != "Shutdown" and not wanted(name)


class _HardenedProtocol(AMIProtocol):  # type: ignore[misc]
    """panoramisk's protocol with a framing and parsing that a bad frame cannot kill:
    one malformed or hostile message is logged and skipped, the link stays up.

    Plain events (no ActionID) skip panoramisk's case-insensitive Message and its
    pattern dispatch and go straight to the client's event sink: they are the bulk of
    the traffic, and Asterisk spells its headers consistently."""

    _pending = ""
    version: str | None
    event_sink: Callable[[str, Headers], None] | None = None
    #: Whether anybody wants events of this name; those nobody wants are not parsed
    #: (Asterisk always writes ``Event:`` first). Most of a busy link's traffic is such.
    event_wanted: Callable[[str], bool] | None = None

    def data_received(self, data: bytes) -> None:
        text = data.decode(getattr(self, "encoding", "utf-8"), "replace")
        if self.version is None and text.startswith("Asterisk Call Manager/"):
            banner, _, text = text.partition("\r\n")
            self.version = banner.partition("/")[2].strip()
        self._pending += text
        *frames, self._pending = self._pending.split(_FRAME_END)
        sink = self.event_sink
        wanted = self.event_wanted
        for frame in frames:
            if not frame.strip():
                continue
            if wanted is not None and _unwanted_event(frame, wanted):
                continue
            try:
                parsed = parse_headers(frame)
                if parsed is None:
                    continue
                headers, body = parsed
                name = headers.get("Event")
                if (
                    sink is not None
                    and isinstance(name, str)
                    and "ActionID" not in headers
                    and name != "Shutdown"
                ):
                    sink(name, headers)
                else:
                    self.handle_message(Message(headers, body))
            except Exception as exc:
                self.log.error("AMI message skipped (%s): %d bytes", exc, len(frame))


class _BackoffManager(Manager):  # type: ignore[misc]
    """panoramisk's Manager with backoff, explicit login outcome, and no action replay."""

    def __init__(self, client: AmiClient, **config: Any) -> None:
        self._client = client
        super().__init__(**config)

    # panoramisk reads this attribute for each retry; make every read the next backoff.
    @property
    def reconnect_timeout(self) -> float:
        if self._client._closing:
            return 3600.0  # never: close() cancels the loop's pending reconnect anyway
        delay = self._client.backoff.next_delay()
        log.info("AMI reconnect in %.2f s", delay)
        return delay

    @reconnect_timeout.setter
    def reconnect_timeout(self, _value: float) -> None:
        pass

    def connect(self, *args: Any, **kwargs: Any) -> Any:
        if self._client._closing:
            return None
        self._client._set_state(LinkState.CONNECTING)
        return super().connect(*args, **kwargs)

    def connection_made(self, f: asyncio.Future[Any]) -> None:
        super().connection_made(f)
        if isinstance(self.protocol, _HardenedProtocol):
            self.protocol.event_sink = self._client._publish_event
            self.protocol.event_wanted = self._client._event_wanted

    def login(self, future: asyncio.Future[Message]) -> bool:
        try:
            ok = bool(super().login(future))
        except Exception as exc:  # the socket went away mid-login
            log.warning("AMI login did not complete: %s", exc)
            return False
        if ok:
            self._client._on_logged_in()
        else:
            log.error(
                "AMI login refused for user %r: check the secret and the user in manager.conf",
                self.config.get("username"),
            )
            # Close so panoramisk reconnects (with backoff) instead of idling unauthenticated.
            self.protocol.close()
            self.connection_lost(None)
        return ok

    def connection_lost(self, exc: Exception | None) -> None:
        # The protocol parked unanswered actions for replay; fail them instead.
        while self.awaiting_actions:
            action = self.awaiting_actions.popleft()
            if not action.future.done():
                action.future.set_exception(
                    AmiDisconnected(f"AMI link dropped before {action['action']} was answered")
                )
        self._client._on_link_lost()
        if not self._client._closing:
            super().connection_lost(exc)


#: The AMI event classes Hotline's session asks for at login (``Events:``). The AMI user
#: may read more (``agi``, ``dtmf`` for people and tests watching a call); Hotline uses
#: none of those, and at hundreds of IVR calls their AGIExecStart/End and DTMF events
#: outnumber the rest (about 60 a keypad call) — not worth Asterisk sending or Hotline
#: reading.
EVENT_CLASSES = "system,call,agent,user,reporting"


class AmiClient:
    """A resilient AMI connection feeding the event bus."""

    def __init__(
        self,
        *,
        host: str,
        port: int,
        username: str,
        secret: str,
        bus: EventBus,
        backoff: Backoff | None = None,
        action_timeout_s: float = 10.0,
        events: str = EVENT_CLASSES,
    ) -> None:
        """``events``: the event classes to receive ("on": all the user may read)."""
        self.bus = bus
        self.backoff = backoff or Backoff(initial_s=0.5, max_s=30.0)
        self.action_timeout_s = action_timeout_s
        self.state = LinkState.STOPPED
        self.logins = 0
        self._closing = False
        self._login_hooks: list[LoginHook] = []
        self._connected_event = asyncio.Event()
        self._hook_tasks: set[asyncio.Task[None]] = set()
        self._manager = _BackoffManager(
            self,
            host=host,
            port=port,
            username=username,
            secret=secret,
            events=events,
            ping_delay=5,
            ping_interval=5,
            loop=asyncio.get_running_loop(),
            protocol_factory=_HardenedProtocol,
        )
        self._manager.register_event("*", self._dispatch)

    @classmethod
    def from_settings(
        cls, settings: Settings, bus: EventBus, *, events: str = EVENT_CLASSES
    ) -> AmiClient:
        """The client for the AMI user and link settings of this deployment."""
        return cls(
            host=settings.ami_host,
            port=settings.ami_port,
            username=settings.ami_username,
            secret=settings.ami_secret.get_secret_value(),
            bus=bus,
            backoff=Backoff(settings.ami_reconnect_initial_s, settings.ami_reconnect_max_s),
            action_timeout_s=settings.ami_action_timeout_s,
            events=events,
        )

    def on_login(self, hook: LoginHook) -> None:
        """Run ``hook`` after every successful login (first and after each reconnect)."""
        self._login_hooks.append(hook)

    async def start(self, *, wait_s: float | None = 30.0) -> None:
        """Connect; with ``wait_s``, return once logged in or raise :class:`AmiNotConnected`."""
        self._closing = False
        self._manager.connect()
        if wait_s is not None:
            await self.wait_connected(wait_s)

    async def wait_connected(self, timeout_s: float) -> None:
        try:
            await asyncio.wait_for(self._connected_event.wait(), timeout_s)
        except TimeoutError:
            raise AmiNotConnected(
                f"could not log in to AMI at {self._manager.config['host']}:"
                f"{self._manager.config['port']} within {timeout_s:.0f} s; is Asterisk up "
                "(`hotline asterisk status`) and is the AMI user/secret right?"
            ) from None

    async def close(self) -> None:
        self._closing = True
        self._manager.close()
        self._set_state(LinkState.STOPPED)
        for task in list(self._hook_tasks):
            task.cancel()

    @property
    def connected(self) -> bool:
        return self.state is LinkState.CONNECTED

    async def send(self, action: Mapping[str, ActionValue]) -> Message:
        """Send one action and return its response; raise if Asterisk refuses it."""
        responses = await self._send(action, as_list=False)
        response = responses[0] if isinstance(responses, list) else responses
        if not response.success:
            raise AmiActionFailed(str(action.get("Action")), str(response.get("Message", "")))
        return response

    async def send_list(
        self, action: Mapping[str, ActionValue], *, timeout_s: float | None = None
    ) -> list[Message]:
        """Send an action answered by an event list; return the list's events (without the
        leading response and the trailing ``...Complete`` event). ``timeout_s`` overrides
        the action timeout (an async Originate answers only when the callee does)."""
        messages = await self._send(action, as_list=True, timeout_s=timeout_s)
        if not isinstance(messages, list):
            messages = [messages]
        if messages and not messages[0].success:
            raise AmiActionFailed(str(action.get("Action")), str(messages[0].get("Message", "")))
        return [m for m in messages[1:] if not str(m.get("Event", "")).endswith("Complete")]

    async def _send(
        self, action: Mapping[str, ActionValue], *, as_list: bool, timeout_s: float | None = None
    ) -> Any:
        check_action_values(action)
        if not self.connected:
            raise AmiNotConnected(
                f"AMI link is {self.state.value}; {action.get('Action')} not sent"
            )
        payload = {
            k: (list(v) if isinstance(v, (list, tuple)) else str(v)) for k, v in action.items()
        }
        future = self._manager.send_action(payload, as_list=as_list)
        try:
            timeout = self.action_timeout_s if timeout_s is None else timeout_s
            return await asyncio.wait_for(asyncio.shield(future), timeout)
        except TimeoutError:
            raise AmiTimeout(
                f"Asterisk did not answer {action.get('Action')} within {timeout} s"
            ) from None

    # -- panoramisk callbacks (run inline in the socket reader: keep them cheap) --

    def _dispatch(self, _manager: Manager, message: Message) -> None:
        name = message.get("Event")
        if name:
            self.bus.publish("ami." + name, AmiEvent(name, message, time.time()))

    def _publish_event(self, name: str, headers: Headers) -> None:
        self.bus.publish("ami." + name, AmiEvent(name, headers, time.time()))

    def _event_wanted(self, name: str) -> bool:
        return self.bus.has_subscribers("ami." + name)

    def _on_logged_in(self) -> None:
        self.logins += 1
        self.backoff.reset()
        self._set_state(LinkState.CONNECTED)
        log.info("AMI logged in (login #%d)", self.logins)
        for hook in self._login_hooks:
            task = asyncio.get_running_loop().create_task(self._run_hook(hook))
            self._hook_tasks.add(task)
            task.add_done_callback(self._hook_tasks.discard)

    async def _run_hook(self, hook: LoginHook) -> None:
        try:
            await hook()
        except Exception:
            log.exception("AMI login hook %r failed", hook)

    def _on_link_lost(self) -> None:
        if self.state is LinkState.CONNECTED:
            log.warning("AMI link lost; reconnecting")
        self._set_state(LinkState.STOPPED if self._closing else LinkState.CONNECTING)

    def _set_state(self, state: LinkState) -> None:
        self.state = state
        if state is LinkState.CONNECTED:
            self._connected_event.set()
        else:
            self._connected_event.clear()
        self.bus.publish("cti.ami_link", state)
