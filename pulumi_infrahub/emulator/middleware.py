"""The gate in front of the API routes: rate limit, auth, faults, logging.

Written as plain ASGI rather than as Starlette `BaseHTTPMiddleware`, which
would wrap every request in a task and a memory stream and halve throughput.
Paths outside `/v1` (the admin endpoints) pass straight through.
"""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pulumi_infrahub.emulator.errors import error_body
from pulumi_infrahub.emulator.runtime import LoggedRequest, Runtime, redact
from pulumi_infrahub.emulator.settings import Exchange

API_PREFIX = "/v1"

MISSING_KEY_MESSAGE = "No API key was given. Send your key in the api_key header."
UNKNOWN_KEY_MESSAGE = "The API key is invalid, revoked or malformed."
RATE_LIMIT_MESSAGE = (
    "Too many requests: the limit is {limit} requests a minute per address. "
    "Wait before retrying."
)
BURST_MESSAGE = "Too many requests. Wait before retrying."

# Requests whose answer, when the fault asks for it, is lost after the
# change was made: the creates of every resource.
CREATE_PATHS = re.compile(
    r"^/v1/core/(virtual-machines|volumes|environments|keypairs|profiles"
    r"|virtual-machines/\d+/sg-rules|virtual-machines/\d+/attach-volumes)$"
)


class ConnectionDropped(Exception):
    """Raised after the status line went out, so the server cuts the
    connection and the client never sees the body."""


def _json(status: int, body: Any) -> tuple[int, bytes]:
    return status, json.dumps(body, separators=(",", ":")).encode()


class ApiGate:
    """Wraps the app; see the module docstring."""

    def __init__(self, app: ASGIApp, runtime: Runtime) -> None:
        self.app = app
        self.runtime = runtime

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or not (
            path == API_PREFIX or path.startswith(API_PREFIX + "/")
        ):
            await self.app(scope, receive, send)
            return

        exchange = _ExchangeCapture(scope, receive, send, self.runtime)
        runtime = self.runtime
        client = scope.get("client")
        address = client[0] if client else "unknown"
        if not runtime.limiter.allow(address):
            limit = runtime.limiter.per_minute
            message = RATE_LIMIT_MESSAGE.format(limit=limit)
            await exchange.answer(429, {"status": False, "message": message})
            return

        key = _api_key(scope)
        tenant = None if key is None else runtime.store.tenant_for_key(key)
        if tenant is None:
            message = MISSING_KEY_MESSAGE if key is None else UNKNOWN_KEY_MESSAGE
            await exchange.answer(401, error_body(401, message))
            return
        exchange.tenant = tenant.id

        faults = runtime.faults
        if faults.active:
            latency = faults.latency()
            if latency > 0:
                await asyncio.sleep(latency)
            if faults.take_burst():
                await exchange.answer(429, {"status": False, "message": BURST_MESSAGE})
                return
            status = faults.roll_server_error()
            if status is not None:
                body = error_body(status, "Internal Server Error")
                await exchange.answer(status, body)
                return
            exchange.may_drop = scope["method"] == "POST" and bool(
                CREATE_PATHS.match(path)
            )

        scope.setdefault("state", {})["tenant"] = tenant
        await self.app(scope, exchange.receive, exchange.send)


def _api_key(scope: Scope) -> str | None:
    # ASGI servers hand header names over in lower case, so `Api_key` and
    # `API_KEY` match too.
    for name, value in scope["headers"]:
        if name == b"api_key":
            key: str = value.decode("latin-1")
            return key
    return None


class _ExchangeCapture:
    """Reads the request body and the answer as they pass, for the request
    log and the contract recorder, and drops connections on demand."""

    def __init__(
        self, scope: Scope, receive: Receive, send: Send, runtime: Runtime
    ) -> None:
        self.scope = scope
        self._receive = receive
        self._send = send
        self.runtime = runtime
        self.tenant: str | None = None
        self.may_drop = False
        self._request_body: list[bytes] = []
        self._response_body: list[bytes] = []
        self._response_headers: list[tuple[bytes, bytes]] = []
        self._status = 0
        self._recording = runtime.settings.exchange_recorder is not None

    async def receive(self) -> Message:
        message = await self._receive()
        if message["type"] == "http.request":
            self._request_body.append(message.get("body", b""))
        return message

    async def send(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self._status = message["status"]
            self._response_headers = list(message.get("headers", []))
            if self.may_drop and self._status < 300 and self.runtime.faults.take_drop():
                self._finish()
                await self._send(message)
                raise ConnectionDropped(self.scope["path"])
        elif message["type"] == "http.response.body":
            if self._recording:
                self._response_body.append(message.get("body", b""))
            if not message.get("more_body", False):
                # Logged before the last byte leaves, so that a client that
                # has its answer also finds it in the log.
                self._finish()
        await self._send(message)

    async def answer(self, status: int, body: Any) -> None:
        """Answer from the gate itself, without reaching the routes."""
        await self._drain()
        status, payload = _json(status, body)
        await self.send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(payload)).encode()),
                ],
            }
        )
        await self.send({"type": "http.response.body", "body": payload})

    async def _drain(self) -> None:
        more = True
        while more:
            message = await self.receive()
            more = message["type"] == "http.request" and message.get("more_body", False)

    def _finish(self) -> None:
        scope = self.scope
        body = b"".join(self._request_body)
        query = scope.get("query_string", b"").decode("latin-1")
        self.runtime.request_log.append(
            LoggedRequest(
                method=scope["method"],
                path=scope["path"],
                query=query,
                status=self._status,
                body=redact(body),
                tenant=self.tenant,
                at=self.runtime.settings.clock.now(),
            )
        )
        recorder = self.runtime.settings.exchange_recorder
        if recorder is None:
            return
        request_headers = {
            name.decode("latin-1"): value.decode("latin-1")
            for name, value in scope["headers"]
        }
        if "api_key" in request_headers:
            request_headers["api_key"] = "redacted"
        recorder(
            Exchange(
                method=scope["method"],
                path=scope["path"],
                query=query,
                request_headers=request_headers,
                request_body=body,
                status=self._status,
                response_headers={
                    name.decode("latin-1"): value.decode("latin-1")
                    for name, value in self._response_headers
                },
                response_body=b"".join(self._response_body),
            )
        )
