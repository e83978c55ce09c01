"""A recording of what Asterisk says on AMI: the raw bytes, as Hotline receives them.

:class:`AmiRecorder` opens its own AMI connection with Hotline's credentials (so it sees
exactly the events Hotline's user may see), logs in and keeps every byte that follows the
login until stopped. ``hotline demo --capture-ami FILE`` uses it; the AMI ingest benchmark
replays such a capture, and a support engineer can ask a site for one.

The capture holds what Asterisk sent, caller IDs included: treat a capture from a live
system as patient data. The login exchange (and so the secret) is not part of it.
"""

from __future__ import annotations

import asyncio
import gzip
import logging
from pathlib import Path

from cti.ami import check_action_values
from cti.errors import AmiActionFailed

log = logging.getLogger(__name__)

_END = b"\r\n\r\n"


class AmiRecorder:
    """Records one AMI session's event stream from :meth:`start` to :meth:`stop`."""

    def __init__(self, host: str, port: int, username: str, secret: str) -> None:
        check_action_values({"Username": username, "Secret": secret})
        self._address = (host, port)
        self._login = (
            f"Action: Login\r\nActionID: recorder-login\r\nUsername: {username}\r\n"
            f"Secret: {secret}\r\nEvents: on\r\n\r\n"
        ).encode()
        self._chunks: list[bytes] = []
        self._task: asyncio.Task[None] | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def start(self, timeout_s: float = 10.0) -> None:
        """Connect and log in; raises :class:`AmiActionFailed` if Asterisk refuses."""
        reader, writer = await asyncio.wait_for(asyncio.open_connection(*self._address), timeout_s)
        self._writer = writer
        await reader.readline()  # "Asterisk Call Manager/x.y.z"
        writer.write(self._login)
        await writer.drain()
        pending = b""
        response: bytes | None = None
        while response is None:
            data = await asyncio.wait_for(reader.read(65536), timeout_s)
            if not data:
                raise AmiActionFailed("Login", "Asterisk closed the recorder's connection")
            pending += data
            # Events may come before the login's response: skip frames until it.
            while response is None and _END in pending:
                frame, _, pending = pending.partition(_END)
                if b"ActionID: recorder-login" in frame:
                    response = frame
        if b"Response: Success" not in response:
            raise AmiActionFailed("Login", "Asterisk refused the recorder's login")
        rest = pending
        self._chunks.append(rest)
        self._task = asyncio.get_running_loop().create_task(self._record(reader))

    async def _record(self, reader: asyncio.StreamReader) -> None:
        while data := await reader.read(65536):
            self._chunks.append(data)

    async def stop(self) -> bytes:
        """Stop recording; the bytes received, cut at the last complete message."""
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except (asyncio.CancelledError, ConnectionError):
                pass
        if self._writer is not None:
            self._writer.close()
        data = b"".join(self._chunks)
        complete = data.rfind(_END)
        return data[: complete + len(_END)] if complete >= 0 else b""


def save_capture(data: bytes, path: Path) -> None:
    """Write a capture; gzip-compressed when the name ends in ``.gz``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(data, mtime=0) if path.suffix == ".gz" else data)


def load_capture(path: Path) -> bytes:
    data = path.read_bytes()
    return gzip.decompress(data) if path.suffix == ".gz" else data
