"""The consoles' web server: uvicorn inside Hotline's own asyncio loop.

The composition root builds it next to the other parts::

    web = WebServer(create_app(store=store, bus=bus, settings=settings), settings)
    await web.start()      # returns once listening on settings.web_host:web_port
    ...
    await web.stop()

Unlike ``uvicorn.run`` it installs no signal handlers (the service owns those), binds
the socket itself so an address in use is a clear :class:`WebServerError` instead of a
``sys.exit`` inside the loop, and leaves logging configuration to the service.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import Iterator

import uvicorn
from fastapi import FastAPI

from cti.settings import Settings

log = logging.getLogger(__name__)


class WebServerError(Exception):
    """The web server could not start (address in use, app start-up failed)."""


class _EmbeddedServer(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        # Hotline's service handles SIGINT/SIGTERM and stops us; don't take them over.
        yield


class WebServer:
    """Serves ``app`` on ``settings.web_host:settings.web_port`` in the running loop."""

    def __init__(
        self,
        app: FastAPI,
        settings: Settings,
        *,
        graceful_shutdown_s: float = 5.0,
        startup_timeout_s: float = 30.0,
    ) -> None:
        self.app = app
        self.host = settings.web_host
        self.port = settings.web_port
        self.graceful_shutdown_s = graceful_shutdown_s
        self.startup_timeout_s = startup_timeout_s
        self._server: _EmbeddedServer | None = None
        self._task: asyncio.Task[None] | None = None

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    async def start(self) -> None:
        """Listen and return once requests are served; WebServerError if that fails."""
        if self.running:
            return
        sock = self._bind()
        config = uvicorn.Config(
            self.app,
            lifespan="on",
            log_config=None,  # the service configured logging already
            access_log=False,
            server_header=False,
            proxy_headers=False,
            ws="websockets-sansio",
            ws_max_size=64 * 1024,  # the browser sends nothing we read
            ws_ping_interval=20.0,
            ws_ping_timeout=20.0,
            timeout_graceful_shutdown=max(1, round(self.graceful_shutdown_s)),
        )
        server = _EmbeddedServer(config)
        self._server = server
        self._task = asyncio.get_running_loop().create_task(
            self._serve(server, sock), name="web-server"
        )
        try:
            async with asyncio.timeout(self.startup_timeout_s):
                while not server.started:
                    if self._task.done():
                        break
                    await asyncio.sleep(0.01)
        except TimeoutError:
            await self.stop()
            raise WebServerError(
                f"the web server did not start within {self.startup_timeout_s:.0f} s"
            ) from None
        if not server.started:
            error = self._task.exception() if not self._task.cancelled() else None
            self._task = None
            raise WebServerError(
                f"the web server on {self.url} failed to start: {error or 'see the log'}"
            ) from error
        log.info("web consoles listening on %s", self.url)

    async def stop(self) -> None:
        """Stop accepting, close open sockets (browsers reconnect elsewhere or later),
        run the app's shutdown; idempotent."""
        server, task = self._server, self._task
        self._server = self._task = None
        if server is None or task is None:
            return
        server.should_exit = True
        try:
            await asyncio.wait_for(task, timeout=self.graceful_shutdown_s + 10)
        except TimeoutError:
            server.force_exit = True
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        except WebServerError:
            pass

    def _bind(self) -> socket.socket:
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((self.host, self.port))
            sock.listen(128)
            sock.setblocking(False)
        except OSError as exc:
            sock.close()
            raise WebServerError(
                f"cannot listen on {self.url}: {exc.strerror or exc}; "
                "is another Hotline (or another program) using this port? "
                "Set HOTLINE_WEB_PORT to pick another."
            ) from exc
        return sock

    async def _serve(self, server: uvicorn.Server, sock: socket.socket) -> None:
        try:
            await server.serve(sockets=[sock])
        except SystemExit as exc:
            # uvicorn exits the process when the app's start-up fails; keep the process.
            raise WebServerError("the web app failed to start (see the log)") from exc
        finally:
            sock.close()
