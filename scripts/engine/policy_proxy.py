"""Start-up of Python policy packs behind a stand-in analyzer.

The engine runs a Python policy pack through the language host's `RunPlugin`:
it reads a port from the plugin's output, connects to the `Analyzer` service
there and sends `ConfigureStack` with the stack's name, project,
organization, config and dry-run flag. `pulumi.policy`, however, reads those
facts from environment variables when it starts (`PULUMI_CONFIG`,
`PULUMI_PROJECT`, `PULUMI_STACK`, `PULUMI_ORGANIZATION`, `PULUMI_DRY_RUN`), so
they have to be known before the pack's process exists.

`PolicyProxy` bridges the two. It serves the `Analyzer` service itself, gives
its own port to the engine, answers `Handshake`, and keeps the
`ConfigureStack` request. The host then starts the pack with the matching
environment, reads the pack's port from its first output line, replays
`ConfigureStack` to it (the pack uses the stack tags in it) and from then on
forwards every call unchanged, as raw bytes.

If the engine calls anything else before `ConfigureStack` (it does so when no
stack is involved), the pack starts without stack variables.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent import futures
from typing import Any

import grpc
from pulumi.runtime.proto import analyzer_pb2

SERVICE = "pulumirpc.Analyzer"

# How long a forwarded call may wait for the pack to come up.
PACK_START_TIMEOUT_SECONDS = 120.0


def _identity(data: bytes) -> bytes:
    return data


class PolicyProxy:
    """An `Analyzer` server that stands in for a policy pack until it runs."""

    def __init__(self) -> None:
        self._server = grpc.server(futures.ThreadPoolExecutor(max_workers=8))
        self._server.add_generic_rpc_handlers((_Handler(self),))
        self._lock = threading.Lock()
        self._stack_known = threading.Event()
        self._stack_request: bytes | None = None
        self._pack_ready = threading.Event()
        self._channel: grpc.Channel | None = None
        self._failure: str | None = None

    def start(self) -> int:
        """Starts serving on a free local port and returns it."""
        port: int = self._server.add_insecure_port("127.0.0.1:0")
        self._server.start()
        return port

    def stop(self) -> None:
        self._server.stop(grace=None)
        if self._channel is not None:
            self._channel.close()

    def wait_for_stack(
        self, keep_waiting: Callable[[], bool]
    ) -> analyzer_pb2.AnalyzerStackConfigureRequest | None:
        """Blocks until the engine has said which stack the pack checks.

        Returns None when the engine called something else first, or when
        `keep_waiting()` turned false (the engine gave up on the plugin).
        """
        while not self._stack_known.wait(timeout=0.5):
            if not keep_waiting():
                return None
        if self._stack_request is None:
            return None
        stack: analyzer_pb2.AnalyzerStackConfigureRequest = (
            analyzer_pb2.AnalyzerStackConfigureRequest.FromString(self._stack_request)
        )
        return stack

    def attach_from_port_line(self, line: bytes) -> bytes:
        """Connects to the pack whose first stdout line is `line`.

        Returns what of the line the engine should still see: nothing, since
        the engine already has the proxy's port.
        """
        if not line.strip():
            self._fail("the policy pack exited before it printed its port")
            return line
        try:
            port = int(line.strip())
        except ValueError:
            self._fail(
                "the policy pack did not print its port first; it printed "
                f"{line.decode(errors='replace').strip()!r}"
            )
            return line
        self._attach(port)
        return b""

    def _attach(self, port: int) -> None:
        channel = grpc.insecure_channel(f"127.0.0.1:{port}")
        try:
            grpc.channel_ready_future(channel).result(timeout=30)
            if self._stack_request is not None:
                self._replay_configure_stack(channel, self._stack_request)
        except (grpc.FutureTimeoutError, grpc.RpcError) as problem:
            channel.close()
            self._fail(f"could not reach the policy pack on port {port}: {problem}")
            return
        self._channel = channel
        self._pack_ready.set()

    @staticmethod
    def _replay_configure_stack(channel: grpc.Channel, request: bytes) -> None:
        call = channel.unary_unary(
            f"/{SERVICE}/ConfigureStack",
            request_serializer=_identity,
            response_deserializer=_identity,
        )
        try:
            call(request, timeout=60)
        except grpc.RpcError as problem:
            # Packs built on older SDKs do not know this call; that is fine.
            if problem.code() != grpc.StatusCode.UNIMPLEMENTED:
                raise

    def _fail(self, reason: str) -> None:
        self._failure = reason
        self._pack_ready.set()

    def note_stack(self, request: bytes | None) -> None:
        """Records the `ConfigureStack` request, or that none will come."""
        with self._lock:
            if not self._stack_known.is_set():
                self._stack_request = request
                self._stack_known.set()

    def forward(self, method: str, request: bytes, context: Any) -> bytes:
        """Sends one call on to the pack once it runs, and returns its answer."""
        self.note_stack(None)
        if not self._pack_ready.wait(timeout=PACK_START_TIMEOUT_SECONDS):
            context.abort(
                grpc.StatusCode.UNAVAILABLE,
                "the policy pack did not start within "
                f"{PACK_START_TIMEOUT_SECONDS:.0f} seconds",
            )
        channel = self._channel
        if channel is None:
            context.abort(
                grpc.StatusCode.UNAVAILABLE,
                f"policy pack not started: {self._failure}",
            )
            raise AssertionError("context.abort returns only by raising")
        call = channel.unary_unary(
            method, request_serializer=_identity, response_deserializer=_identity
        )
        # gRPC reports "no deadline" as a remaining time of many centuries,
        # which would overflow if passed on as a timeout.
        remaining = context.time_remaining()
        timeout = remaining if remaining is not None and remaining < 1e9 else None
        try:
            answer: bytes = call(request, timeout=timeout)
        except grpc.RpcError as problem:
            context.abort(problem.code(), problem.details() or "")
        return answer


class _Handler(grpc.GenericRpcHandler):
    """Routes every `Analyzer` method either to the proxy or to the pack."""

    def __init__(self, proxy: PolicyProxy) -> None:
        self._proxy = proxy

    def service(
        self, handler_call_details: grpc.HandlerCallDetails
    ) -> grpc.RpcMethodHandler | None:
        method: str = handler_call_details.method
        service, _, name = method.strip("/").partition("/")
        if service != SERVICE:
            return None
        if name == "Handshake":
            return grpc.unary_unary_rpc_method_handler(self._handshake)
        if name == "ConfigureStack":
            return grpc.unary_unary_rpc_method_handler(self._configure_stack)

        def forward(request: bytes, context: Any) -> bytes:
            return self._proxy.forward(method, request, context)

        return grpc.unary_unary_rpc_method_handler(forward)

    def _handshake(self, request: bytes, context: Any) -> bytes:
        # The pack is not running yet; an empty answer is a valid
        # AnalyzerHandshakeResponse, which has no fields.
        answer: bytes = analyzer_pb2.AnalyzerHandshakeResponse().SerializeToString()
        return answer

    def _configure_stack(self, request: bytes, context: Any) -> bytes:
        self._proxy.note_stack(request)
        answer: bytes = (
            analyzer_pb2.AnalyzerStackConfigureResponse().SerializeToString()
        )
        return answer
