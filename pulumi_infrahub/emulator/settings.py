"""Settings of one emulator instance, and the clock its lifecycle runs on."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from pulumi_infrahub.emulator.faults import Faults

DEMO_API_KEY = "infrahub-emulator-demo-key"
"""The key a started emulator accepts when no key is configured."""

DEMO_ENVIRONMENT = "demo-environment"
"""The environment every tenant starts with (region CANADA-1)."""

DEMO_REGION = "CANADA-1"

DEMO_KEYPAIR = "demo-keypair"
"""The keypair every tenant starts with, inside `DEMO_ENVIRONMENT`."""

DEFAULT_RATE_LIMIT = 500
"""Requests a minute per client address, as on the real API."""


class Clock(Protocol):
    """Where the emulator reads the time: seconds since the epoch."""

    def now(self) -> float: ...


class SystemClock:
    """The wall clock."""

    def now(self) -> float:
        return time.time()


class ManualClock:
    """A clock that only moves when told to, for stepping through lifecycles."""

    def __init__(self, start: float = 1_767_225_600.0) -> None:
        self._now = start
        self._lock = threading.Lock()

    def now(self) -> float:
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._now += seconds


@dataclass(frozen=True)
class Delays:
    """Seconds each transition takes. All zero settles on the next request."""

    boot: float = 0.0
    """CREATING to ACTIVE (BUILD half-way)."""
    public_ip: float = 0.0
    """ACTIVE (or attach-floatingip) until the public IP shows."""
    attach: float = 0.0
    """Volume attachment ATTACHING to ATTACHED."""
    detach: float = 0.0
    """Volume attachment DETACHING until it is gone; also public IP detach."""
    hibernate: float = 0.0
    restore: float = 0.0
    delete: float = 0.0
    """DELETING until the VM or volume is gone (404)."""
    power: float = 0.0
    """Stop, start and hard reboot."""
    volume: float = 0.0
    """Volume creating to available."""
    rule: float = 0.0
    """Firewall rule pending to SUCCESS."""


DEMO_DELAYS = Delays(
    boot=6.0,
    public_ip=2.0,
    attach=1.0,
    detach=1.0,
    hibernate=3.0,
    restore=3.0,
    delete=2.0,
    power=2.0,
    volume=1.0,
    rule=1.0,
)
"""Delays of the started emulator: short, but long enough to watch."""


@dataclass(frozen=True)
class Exchange:
    """One request and its answer, as it crossed the emulator."""

    method: str
    path: str
    query: str
    request_headers: dict[str, str]
    request_body: bytes
    status: int
    response_headers: dict[str, str]
    response_body: bytes


@dataclass(frozen=True)
class EmulatorSettings:
    """Everything that shapes one emulator instance."""

    api_keys: tuple[str, ...] = ()
    """Accepted keys, one tenant each. Empty means `DEMO_API_KEY` only."""

    delays: Delays = field(default_factory=Delays)
    faults: Faults = field(default_factory=Faults)

    rate_limit: int = DEFAULT_RATE_LIMIT
    """Requests a minute per client address; 0 turns the limit off."""

    state_file: Path | None = None
    """Where the state is saved after each change and loaded at start."""

    seed_demo_resources: bool = True
    """Give every tenant `DEMO_ENVIRONMENT` and `DEMO_KEYPAIR` on first use."""

    clock: Clock = field(default_factory=SystemClock)
    random_seed: int | None = None

    exchange_recorder: Callable[[Exchange], Any] | None = None
    """Called with every API exchange, for contract checks in tests."""

    @property
    def accepted_keys(self) -> tuple[str, ...]:
        return self.api_keys or (DEMO_API_KEY,)
