"""Serving the emulator over a real socket: in a thread, or in the foreground."""

from __future__ import annotations

import logging
import socket
import threading
import time
from types import TracebackType

import uvicorn
from fastapi import FastAPI

from pulumi_infrahub.emulator.app import create_app
from pulumi_infrahub.emulator.middleware import ConnectionDropped
from pulumi_infrahub.emulator.runtime import Runtime
from pulumi_infrahub.emulator.settings import EmulatorSettings

API_PATH = "/v1"


class _HideDroppedConnections(logging.Filter):
    """Dropped connections are a fault asked for, not a server error."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        return not isinstance(error, ConnectionDropped)


def quiet_dropped_connections() -> None:
    logger = logging.getLogger("uvicorn.error")
    if not any(isinstance(f, _HideDroppedConnections) for f in logger.filters):
        logger.addFilter(_HideDroppedConnections())


def bind(host: str, port: int) -> socket.socket:
    """A listening socket; port 0 picks a free one."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # asyncio turns Nagle's algorithm off only on sockets that name TCP as
    # their protocol; left on, every answer waits 40 ms for a delayed ACK.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    sock.listen(2048)
    sock.setblocking(False)
    return sock


def base_url(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}{API_PATH}"


def make_server(app: FastAPI, log_level: str = "warning") -> uvicorn.Server:
    quiet_dropped_connections()
    config = uvicorn.Config(
        app,
        log_level=log_level,
        # The access log shows method, path and status, never headers.
        access_log=log_level in ("info", "debug"),
        lifespan="off",
        # Nothing stands in front of the emulator, and a forwarded address
        # would let a client step around the per-address rate limit.
        proxy_headers=False,
        timeout_keep_alive=30,
    )
    return uvicorn.Server(config)


class EmulatorServer:
    """An emulator served from a background thread, for tests and tools.

    ```python
    with EmulatorServer(EmulatorSettings(rate_limit=0)) as server:
        httpx.get(server.base_url + "/core/regions", headers=...)
    ```
    """

    def __init__(
        self,
        settings: EmulatorSettings | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.app = create_app(settings)
        self._host = host
        self._port = port
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self.base_url = ""

    @property
    def runtime(self) -> Runtime:
        runtime: Runtime = self.app.state.runtime
        return runtime

    @property
    def root_url(self) -> str:
        """The URL without `/v1`, where `/_emulator/...` lives."""
        return self.base_url.removesuffix(API_PATH)

    def start(self, timeout: float = 10.0) -> EmulatorServer:
        sock = bind(self._host, self._port)
        self.base_url = base_url(sock)
        server = make_server(self.app)
        thread = threading.Thread(
            target=server.run,
            kwargs={"sockets": [sock]},
            name="infrahub-emulator",
            daemon=True,
        )
        self._server, self._thread = server, thread
        thread.start()
        deadline = time.monotonic() + timeout
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"The emulator at {self.base_url} did not start.")
            time.sleep(0.005)
        return self

    def stop(self, timeout: float = 10.0) -> None:
        if self._server is None or self._thread is None:
            return
        self._server.should_exit = True
        self._thread.join(timeout)
        self._server = self._thread = None

    def __enter__(self) -> EmulatorServer:
        return self.start()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
