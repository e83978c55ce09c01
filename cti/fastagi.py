"""FastAGI: the server the dialplan's ``AGI(agi://host:port/<script>)`` reaches.

Own implementation on asyncio streams rather than panoramisk's ``fast_agi`` because a
telephony server must survive what that one does not: a peer that closes before sending
its environment, malformed result lines, a ``HANGUP`` notice between a command and its
result, and command arguments that carry line breaks. Parsing is pure
(:func:`parse_response`, :func:`parse_environment`, :func:`format_command`).
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field

from cti.errors import AgiCommandFailed, AgiHangup, AgiProtocolError, UnsafeAgiValue

log = logging.getLogger(__name__)

MAX_ENV_BYTES = 64 * 1024
MAX_LINE_BYTES = 16 * 1024
ENV_TIMEOUT_S = 5.0
#: Pending connections the listening socket holds. Every call of a burst connects at
#: once (calls arriving together, all answered by the IVR); asyncio's default of 100
#: overflows at 100 and the kernel then drops SYNs, delaying each excess call by the
#: 1 s, 3 s, 7 s... of TCP's SYN retries before its IVR even starts.
ACCEPT_BACKLOG = 4096

_RESULT = re.compile(r"^(?P<code>\d{3})(?P<sep>[ -])(?P<rest>.*)$")
_RESULT_VALUE = re.compile(r"^result=(?P<value>\S*)(?:\s+\((?P<data>[^)]*)\))?(?P<extra>.*)$")
_EXTRA_KV = re.compile(r"(\w+)=(\S+)")


@dataclass(frozen=True, slots=True)
class AgiResponse:
    """A parsed AGI result line such as ``200 result=1 (speech) endpos=8000``."""

    code: int
    result: str
    data: str | None = None
    extras: Mapping[str, str] = field(default_factory=dict)
    text: str = ""

    @property
    def ok(self) -> bool:
        return self.code == 200

    @property
    def result_int(self) -> int:
        try:
            return int(self.result)
        except ValueError:
            return 0


def parse_response(line: str) -> AgiResponse:
    """Parse one AGI result line; raise :class:`AgiProtocolError` if it is not one."""
    match = _RESULT.match(line)
    if match is None:
        raise AgiProtocolError(f"not an AGI result line: {line[:120]!r}")
    code = int(match["code"])
    rest = match["rest"].strip()
    if code != 200:
        return AgiResponse(code=code, result="", text=rest)
    value = _RESULT_VALUE.match(rest)
    if value is None:
        raise AgiProtocolError(f"AGI 200 line without result=: {line[:120]!r}")
    extras = dict(_EXTRA_KV.findall(value["extra"] or ""))
    return AgiResponse(code=200, result=value["value"], data=value["data"], extras=extras)


@dataclass(frozen=True, slots=True)
class AgiEnvironment:
    """The ``agi_*`` variables Asterisk sends at the start of a session."""

    values: Mapping[str, str]
    malformed_lines: int = 0
    repeated_keys: frozenset[str] = frozenset()

    @property
    def tampered(self) -> bool:
        """Whether the environment carries lines Asterisk would not write: a line break in
        caller-controlled text (caller ID name, dialled number) splits a value into what
        looks like more variables. Nothing caller-specific in it can then be trusted."""
        return bool(self.malformed_lines or self.repeated_keys)

    def get(self, key: str, default: str = "") -> str:
        return self.values.get(key, default)

    @property
    def script(self) -> str:
        """The path after ``agi://host:port/``, without any query string."""
        return self.get("agi_network_script").split("?", 1)[0].strip("/")

    @property
    def uniqueid(self) -> str:
        return self.get("agi_uniqueid")

    @property
    def channel(self) -> str:
        return self.get("agi_channel")

    @property
    def caller_number(self) -> str:
        return self.get("agi_callerid")

    @property
    def caller_name(self) -> str:
        return self.get("agi_calleridname")

    @property
    def arguments(self) -> list[str]:
        args: list[str] = []
        n = 1
        while f"agi_arg_{n}" in self.values:
            args.append(self.values[f"agi_arg_{n}"])
            n += 1
        return args


def parse_environment(lines: list[str]) -> AgiEnvironment:
    """Build the environment from ``key: value`` lines; count (don't fail on) bad ones."""
    values: dict[str, str] = {}
    malformed = 0
    repeated: set[str] = set()
    for line in lines:
        key, sep, value = line.partition(": ")
        if not sep or not key.startswith("agi_"):
            malformed += 1
            continue
        if key in values:
            repeated.add(key)
            continue  # Asterisk writes each once; keep the first
        values[key] = value
    return AgiEnvironment(
        values=values, malformed_lines=malformed, repeated_keys=frozenset(repeated)
    )


def quote_argument(value: str | int) -> str:
    """Quote one AGI command argument; refuse line breaks and NUL, which would end the
    command line and let the rest be read as a new command."""
    text = str(value)
    if "\n" in text or "\r" in text or "\x00" in text:
        raise UnsafeAgiValue(
            f"AGI argument {text[:40]!r} carries a line break or NUL; clean it before use"
        )
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def format_command(verb: str, *args: str | int) -> str:
    """One AGI command line. The verb is ours (upper-case words), arguments are quoted."""
    if not re.fullmatch(r"[A-Z]+( [A-Z]+)*", verb):
        raise UnsafeAgiValue(f"AGI verb {verb!r} is not a plain command word")
    return " ".join([verb, *(quote_argument(a) for a in args)]) + "\n"


@dataclass(frozen=True, slots=True)
class Playback:
    """How a ``STREAM FILE`` ended: the key that cut it short ("" if none) and the
    position reached, in samples (8000 a second for telephone audio)."""

    digit: str
    samples: int


class AgiSession:
    """One AGI conversation: send commands, read their results."""

    def __init__(
        self,
        env: AgiEnvironment,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        *,
        command_timeout_s: float = 600.0,
    ) -> None:
        self.env = env
        self._reader = reader
        self._writer = writer
        self.command_timeout_s = command_timeout_s
        self.hung_up = False

    async def command(self, verb: str, *args: str | int, check: bool = True) -> AgiResponse:
        """Run one command; raise :class:`AgiHangup` if the channel is gone, and
        :class:`AgiCommandFailed` for an error code when ``check``."""
        line = format_command(verb, *args)
        if self._writer.is_closing():
            raise AgiHangup("AGI connection already closed")
        self._writer.write(line.encode())
        try:
            await self._writer.drain()
            response = await asyncio.wait_for(self._read_result(), self.command_timeout_s)
        except (ConnectionError, asyncio.IncompleteReadError) as exc:
            self.hung_up = True
            raise AgiHangup(f"AGI connection lost during {verb}") from exc
        if response.code == 511:
            self.hung_up = True
            raise AgiHangup(f"channel hung up before {verb}")
        if check and not response.ok:
            raise AgiCommandFailed(verb, response.code, response.text)
        if response.ok and response.result == "-1" and verb in _HANGUP_ON_MINUS_ONE:
            self.hung_up = True
            raise AgiHangup(f"channel hung up during {verb}")
        return response

    async def _read_result(self) -> AgiResponse:
        while True:
            raw = await self._reader.readline()
            if not raw:
                raise asyncio.IncompleteReadError(b"", None)
            text = raw.decode("utf-8", "replace").rstrip("\r\n")
            if text == "HANGUP":
                # Asterisk tells a network AGI the channel is gone, then answers commands.
                self.hung_up = True
                continue
            if not text:
                continue
            response = parse_response(text)
            if text[3:4] == "-":  # multi-line usage text: read up to "520 End of ..."
                while True:
                    more = await self._reader.readline()
                    if not more or re.match(rb"^\d{3} ", more):
                        break
            return response

    # -- the commands Hotline uses --

    async def answer(self) -> None:
        await self.command("ANSWER")

    async def stream_file(self, path_without_extension: str, escape_digits: str = "") -> Playback:
        """Play a file; say which key interrupted it and how far it got."""
        response = await self.command("STREAM FILE", path_without_extension, escape_digits)
        try:
            endpos = int(response.extras.get("endpos", "0"))
        except ValueError:
            endpos = 0
        if endpos == 0:
            log.warning("AGI STREAM FILE played nothing (file missing in Asterisk's view?)")
        digit = chr(response.result_int) if response.result_int > 0 else ""
        return Playback(digit=digit, samples=endpos)

    async def set_variable(self, name: str, value: str) -> None:
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
            raise UnsafeAgiValue(f"channel variable name {name!r} is not plain")
        await self.command("SET VARIABLE", name, value)

    async def get_variable(self, name: str) -> str | None:
        response = await self.command("GET VARIABLE", name)
        return response.data if response.result == "1" else None

    async def verbose(self, message: str, level: int = 3) -> None:
        await self.command("VERBOSE", message, level)

    async def hangup(self) -> None:
        await self.command("HANGUP", check=False)


_HANGUP_ON_MINUS_ONE = frozenset({"ANSWER", "STREAM FILE", "WAIT FOR DIGIT", "GET DATA", "EXEC"})

AgiHandler = Callable[[AgiSession], Awaitable[None]]


class FastAgiServer:
    """Accepts Asterisk's FastAGI connections and routes each to a handler by script."""

    def __init__(self, routes: Mapping[str, AgiHandler], host: str, port: int) -> None:
        self.routes = dict(routes)
        self.host = host
        self.port = port
        self.sessions_started = 0
        self.sessions_failed = 0
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        self._server = await asyncio.start_server(
            self._accept,
            self.host,
            self.port,
            limit=MAX_LINE_BYTES,
            reuse_address=True,
            backlog=ACCEPT_BACKLOG,
        )
        log.info("FastAGI listening on %s:%d", self.host, self.port)

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
        try:
            await self._serve(reader, writer)
        finally:
            if task is not None:
                self._tasks.discard(task)
            writer.close()
            try:
                await writer.wait_closed()
            except (ConnectionError, OSError):
                pass

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = writer.get_extra_info("peername")
        try:
            env = await asyncio.wait_for(self._read_environment(reader), ENV_TIMEOUT_S)
        except (TimeoutError, AgiProtocolError, ValueError, ConnectionError) as exc:
            self.sessions_failed += 1
            log.warning("FastAGI peer %s sent no usable environment: %s", peer, exc)
            return
        handler = self.routes.get(env.script)
        if handler is None:
            self.sessions_failed += 1
            log.error(
                "FastAGI: no route for script %r (known: %s)", env.script, sorted(self.routes)
            )
            return
        if env.tampered:
            log.warning(
                "FastAGI %s: environment tampered with (%d malformed lines, repeated %s); "
                "caller identity will not be trusted",
                env.uniqueid,
                env.malformed_lines,
                sorted(env.repeated_keys),
            )
        self.sessions_started += 1
        session = AgiSession(env, reader, writer)
        try:
            await handler(session)
        except AgiHangup:
            log.info("FastAGI %s: caller hung up (%s)", env.script, env.uniqueid)
        except asyncio.CancelledError:
            raise
        except Exception:
            # The dialplan continues after AGI() and sends the caller to its fallback.
            self.sessions_failed += 1
            log.exception("FastAGI %s failed for %s", env.script, env.uniqueid)

    async def _read_environment(self, reader: asyncio.StreamReader) -> AgiEnvironment:
        lines: list[str] = []
        total = 0
        while True:
            raw = await reader.readline()
            if not raw:
                raise AgiProtocolError("connection closed before the AGI environment ended")
            total += len(raw)
            if total > MAX_ENV_BYTES:
                raise AgiProtocolError(f"AGI environment larger than {MAX_ENV_BYTES} bytes")
            line = raw.decode("utf-8", "replace").rstrip("\r\n")
            if not line:
                break
            lines.append(line)
        env = parse_environment(lines)
        if not env.values:
            raise AgiProtocolError("AGI environment has no agi_* variables")
        return env
