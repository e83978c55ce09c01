"""The FastAGI server under a burst of calls arriving together (real sockets, no Asterisk:
the peers speak the AGI environment as Asterisk does)."""

import asyncio
import socket
import subprocess
from pathlib import Path

from cti.fastagi import ACCEPT_BACKLOG, AgiSession, FastAgiServer

#: More calls at once than asyncio's default listen backlog (100).
BURST = 300


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def _call(port: int, uniqueid: str) -> bytes:
    """One channel reaching ``AGI(agi://…/inbound)``: send the environment, wait for the
    server to end the session."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(f"agi_network_script: inbound\nagi_uniqueid: {uniqueid}\n\n".encode())
    await writer.drain()
    rest = await reader.read()
    writer.close()
    return rest


def _listen_backlog(port: int) -> int:
    """The backlog of the socket listening on ``port``, as the kernel reports it (``ss``
    shows it as Send-Q of a listening socket)."""
    shown = subprocess.run(
        ["ss", "-Hltn", f"sport = :{port}"], capture_output=True, text=True, check=True
    ).stdout.split()
    return int(shown[2])  # State Recv-Q Send-Q Local Peer


def _somaxconn() -> int:
    """The kernel's cap on any listen backlog."""
    return int(Path("/proc/sys/net/core/somaxconn").read_text())


async def test_the_listening_socket_queues_a_burst_of_calls_beyond_asyncios_default():
    port = _free_port()
    server = FastAgiServer({}, "127.0.0.1", port)
    await server.start()
    try:
        backlog = _listen_backlog(port)
    finally:
        await server.close()
    assert backlog == min(ACCEPT_BACKLOG, _somaxconn())
    assert backlog >= BURST


async def test_every_call_of_a_burst_beyond_the_default_backlog_reaches_the_ivr():
    everyone_in = asyncio.Event()
    served: list[str] = []

    async def inbound(session: AgiSession) -> None:
        served.append(session.env.uniqueid)
        if len(served) == BURST:
            everyone_in.set()
        await everyone_in.wait()  # every session stays open until the whole burst is in

    port = _free_port()
    server = FastAgiServer({"inbound": inbound}, "127.0.0.1", port)
    await server.start()
    try:
        async with asyncio.timeout(120):
            await asyncio.gather(*(_call(port, f"burst.{k}") for k in range(BURST)))
    finally:
        await server.close()
    assert sorted(served) == sorted(f"burst.{k}" for k in range(BURST))
    assert server.sessions_started == BURST
    assert server.sessions_failed == 0
