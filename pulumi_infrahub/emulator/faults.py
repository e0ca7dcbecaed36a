"""Faults injected on demand, set at start or through the admin endpoints.

`Faults` is the configuration; `FaultState` holds it with the counters that
one-shot faults (429 bursts, dropped connections) consume as requests arrive.
"""

from __future__ import annotations

import fnmatch
import random
import threading

from pydantic import BaseModel, ConfigDict, Field

DEFAULT_VM_ERROR_REASON = (
    "No valid host was found. There are not enough hosts available."
)


class Faults(BaseModel):
    """What goes wrong, and how often.

    Name patterns are shell-style globs (`fail-*`) matched against VM names.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    latency_ms: float = Field(default=0.0, ge=0, le=60_000)
    """Delay added before every API request is answered."""

    latency_jitter_ms: float = Field(default=0.0, ge=0, le=60_000)
    """Up to this much more delay, drawn afresh for each request."""

    error_rate: float = Field(default=0.0, ge=0, le=1)
    """Share of API requests answered with `error_status` before any change."""

    error_status: int = Field(default=500, ge=500, le=599)

    rate_limit_burst: int = Field(default=0, ge=0)
    """The next N API requests get 429, whatever the rate limit says."""

    drop_after_create: int = Field(default=0, ge=0)
    """The next N create requests are committed, then the connection drops
    before the answer is complete."""

    vm_error_pattern: str | None = None
    """VMs whose name matches end in `ERROR` instead of `ACTIVE`."""

    vm_error_reason: str = DEFAULT_VM_ERROR_REASON

    vm_stuck_pattern: str | None = None
    """VMs whose name matches never leave `CREATING`."""


class FaultState:
    """The faults in force and what is left of the one-shot ones."""

    def __init__(self, faults: Faults, rng: random.Random) -> None:
        self._lock = threading.Lock()
        self._rng = rng
        self.configure(faults)

    def configure(self, faults: Faults) -> None:
        with self._lock:
            self.faults = faults
            self._bursts_left = faults.rate_limit_burst
            self._drops_left = faults.drop_after_create

    @property
    def active(self) -> bool:
        return self.faults != _NO_FAULTS

    def latency(self) -> float:
        """Seconds to hold this request: the fixed latency plus its share of
        the jitter."""
        faults = self.faults
        jitter = 0.0
        if faults.latency_jitter_ms > 0:
            with self._lock:
                jitter = self._rng.uniform(0, faults.latency_jitter_ms)
        return (faults.latency_ms + jitter) / 1000

    def take_burst(self) -> bool:
        """True when this request is one of the forced 429s."""
        with self._lock:
            if self._bursts_left <= 0:
                return False
            self._bursts_left -= 1
            return True

    def roll_server_error(self) -> int | None:
        """The status to fail this request with, or None to serve it."""
        rate = self.faults.error_rate
        if rate <= 0:
            return None
        with self._lock:
            failed = self._rng.random() < rate
        return self.faults.error_status if failed else None

    def take_drop(self) -> bool:
        """True when this committed create must lose its connection."""
        with self._lock:
            if self._drops_left <= 0:
                return False
            self._drops_left -= 1
            return True

    @property
    def drops_pending(self) -> bool:
        return self._drops_left > 0

    def vm_fate(self, name: str) -> tuple[str, str | None]:
        """How the boot of a VM with this name ends: active, error or stuck."""
        faults = self.faults
        if faults.vm_stuck_pattern and fnmatch.fnmatchcase(
            name, faults.vm_stuck_pattern
        ):
            return "stuck", None
        if faults.vm_error_pattern and fnmatch.fnmatchcase(
            name, faults.vm_error_pattern
        ):
            return "error", faults.vm_error_reason
        return "active", None

    def describe(self) -> dict[str, object]:
        """The configuration plus what is left of the one-shot faults."""
        with self._lock:
            return {
                **self.faults.model_dump(),
                "rate_limit_burst_left": self._bursts_left,
                "drop_after_create_left": self._drops_left,
            }


_NO_FAULTS = Faults()
