"""What one running emulator holds besides its store: faults, limits, the log."""

from __future__ import annotations

import json
import math
import random
import threading
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from pulumi_infrahub.emulator.encoding import RenderCache
from pulumi_infrahub.emulator.faults import FaultState
from pulumi_infrahub.emulator.settings import Clock, EmulatorSettings
from pulumi_infrahub.emulator.store import Store

REQUEST_LOG_SIZE = 10_000
REDACTED = "<redacted>"
_SECRET_FIELDS = frozenset({"user_data"})


class RateLimiter:
    """Fixed one-minute windows per client address, as the API describes:
    past the limit, every request gets 429 until the window ends."""

    def __init__(self, per_minute: int, clock: Clock) -> None:
        self.per_minute = per_minute
        self._clock = clock
        self._lock = threading.Lock()
        self._windows: dict[str, tuple[float, int]] = {}

    def allow(self, address: str) -> bool:
        if self.per_minute <= 0:
            return True
        now = self._clock.now()
        with self._lock:
            start, count = self._windows.get(address, (now, 0))
            if now - start >= 60.0:
                start, count = now, 0
            count += 1
            self._windows[address] = (start, count)
        return count <= self.per_minute

    def reset(self) -> None:
        with self._lock:
            self._windows.clear()


def redact(body: bytes) -> Any:
    """A request body for the log: parsed JSON with secrets blanked, or text."""
    if not body:
        return None
    try:
        # Numbers JSON cannot carry back out (1e400, NaN) are kept as written,
        # so that the log itself can always be served as JSON.
        document = json.loads(body, parse_float=_finite_or_text, parse_constant=str)
    except ValueError:
        return body.decode("utf-8", errors="replace")
    return _blank_secrets(document)


def _finite_or_text(text: str) -> float | str:
    number = float(text)
    return number if math.isfinite(number) else text


def _blank_secrets(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            key: REDACTED if key in _SECRET_FIELDS else _blank_secrets(item)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [_blank_secrets(item) for item in value]
    return value


@dataclass
class LoggedRequest:
    """One entry of the request log. The key is never kept; `tenant` is an
    opaque hash of it."""

    method: str
    path: str
    query: str
    status: int
    body: Any
    tenant: str | None
    at: float = 0.0
    """When the answer went out, in seconds since the epoch (emulator clock),
    so that request rates can be measured from the log."""

    def as_dict(self) -> dict[str, Any]:
        return {
            "at": self.at,
            "method": self.method,
            "path": self.path,
            "query": self.query,
            "status": self.status,
            "body": self.body,
            "tenant": self.tenant,
        }


@dataclass
class Runtime:
    """The emulator behind one app: settings, store, faults, limiter, log."""

    settings: EmulatorSettings
    store: Store
    faults: FaultState
    limiter: RateLimiter
    render_cache: RenderCache = field(default_factory=RenderCache)
    request_log: deque[LoggedRequest] = field(
        default_factory=lambda: deque(maxlen=REQUEST_LOG_SIZE)
    )

    @classmethod
    def start(cls, settings: EmulatorSettings) -> Runtime:
        faults = FaultState(settings.faults, random.Random(settings.random_seed))
        return cls(
            settings=settings,
            store=Store(settings, faults),
            faults=faults,
            limiter=RateLimiter(settings.rate_limit, settings.clock),
        )

    def reset(self) -> None:
        """Back to the first start: no resources, faults as configured."""
        self.store.reset()
        self.faults.configure(self.settings.faults)
        self.limiter.reset()
        self.request_log.clear()
