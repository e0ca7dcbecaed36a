"""Polling until an object's status settles, with polls shared between waits.

A Pulumi program with a fleet of VMs waits on all of them at once, from
several provider threads. Polling each VM on its own would cost one request
per VM per poll and run into the API's limit of 500 requests a minute. So
each kind of object has one `SharedPoller` per client: a wait that needs
fresh data asks it for a snapshot (one list request covering every object of
that kind) newer than the last one it looked at. If another wait already
fetched one since, or is fetching one right now, it is reused; only when
none is fresh does the asking thread send the request itself. Waits then
schedule their next look from the snapshot they used, which lines them up on
the same snapshots: N waits with the same interval cost one request per
interval, not N.

Each wait polls every `PollSchedule.first` seconds (1 s by default) for its
first `fast_for` seconds, so a change is seen quickly early on, then
stretches the interval by `factor` up to `maximum` (5 s).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Generic, TypeVar

from pulumi_infrahub.client.errors import (
    ConfigurationError,
    FailedStateError,
    WaitTimeoutError,
)

__all__ = ["Listing", "PollSchedule", "SharedPoller", "wait_for"]

logger = logging.getLogger("pulumi_infrahub.client.waiting")

T = TypeVar("T")

# Looked up at call time so that tests can replace them.
_clock = time.monotonic
_sleep = time.sleep


@dataclass(frozen=True)
class PollSchedule:
    """How often one wait looks at its object."""

    first: float = 1.0
    fast_for: float = 20.0
    factor: float = 1.5
    maximum: float = 5.0

    def __post_init__(self) -> None:
        if self.first < 0 or self.maximum < self.first or self.factor < 1:
            raise ConfigurationError(
                "PollSchedule needs 0 <= first <= maximum and factor >= 1."
            )

    def next_interval(self, elapsed: float, previous: float) -> float:
        """The pause before the next look, given time spent and last pause."""
        if elapsed < self.fast_for:
            return self.first
        return min(self.maximum, max(previous, self.first) * self.factor)


class Listing(Mapping[int, T]):
    """Objects by id from one list of every object of a kind.

    `complete` says the list came in one answer (a single short page), so an
    id it lacks does not exist; a list of several pages is computed over live
    data and may skip an item that moved between pages.
    """

    def __init__(self, objects: Mapping[int, T], *, complete: bool) -> None:
        self._objects = dict(objects)
        self.complete = complete

    def __getitem__(self, id_: int) -> T:
        return self._objects[id_]

    def __iter__(self) -> Iterator[int]:
        return iter(self._objects)

    def __len__(self) -> int:
        return len(self._objects)


class SharedPoller(Generic[T]):
    """Hands out snapshots of every object of one kind, one fetch at a time.

    `fetch` returns the objects by id. The poller is thread-safe; at most one
    fetch runs at a time, and every thread waiting for a snapshot newer than
    its last one is served by the next fetch that started after it.
    """

    def __init__(self, fetch: Callable[[], Mapping[int, T]]) -> None:
        self._fetch = fetch
        self._condition = threading.Condition()
        self._fetching = False
        self._taken_at: float | None = None
        self._objects: Mapping[int, T] = {}
        self.fetches = 0

    def snapshot(self, newer_than: float) -> tuple[float, Mapping[int, T]]:
        """Objects from a fetch that started after `newer_than`, and its start.

        Reuses the latest snapshot if it is recent enough, joins a fetch in
        flight if that started recently enough, and fetches otherwise.
        """
        with self._condition:
            while True:
                if self._taken_at is not None and self._taken_at > newer_than:
                    return self._taken_at, self._objects
                if not self._fetching:
                    self._fetching = True
                    break
                self._condition.wait()

        started = _clock()
        try:
            objects = self._fetch()
        except BaseException:
            with self._condition:
                self._fetching = False
                self._condition.notify_all()
            raise

        with self._condition:
            self._fetching = False
            self.fetches += 1
            if self._taken_at is None or started > self._taken_at:
                self._taken_at, self._objects = started, objects
            self._condition.notify_all()
            # A thread that asked for data newer than this fetch's start sees
            # its own fetch as fresh enough: nothing can be newer.
            return started, objects

    def recent(self, max_age: float) -> Mapping[int, T]:
        """Objects from a fetch that started at most `max_age` seconds ago,
        fetched now only if there is none."""
        return self.snapshot(_clock() - max_age)[1]


def wait_for(
    poller: SharedPoller[T],
    id_: int,
    until: Callable[[T | None], bool],
    *,
    what: str,
    timeout: float,
    failed: Callable[[T | None], str | None] | None = None,
    confirm: Callable[[int], T | None] | None = None,
    schedule: PollSchedule | None = None,
    describe: Callable[[T | None], str] = lambda obj: repr(obj),
) -> T | None:
    """Poll object `id_` until `until(obj)` holds; return the last object.

    `obj` is None when the object is not in the snapshot. `confirm`, if given,
    re-reads a missing object directly before it is believed gone (list pages
    over live data can skip an item). A wait for the object to go needs no
    such read when the snapshot is a complete `Listing`: a list that lags
    behind the API only shows a deleted object for longer, never a live one
    as gone. `failed(obj)` returns why the object can
    no longer get there (or None), which ends the wait with FailedStateError.
    The deadline ends it with WaitTimeoutError. `what` describes the wait in
    logs and errors, e.g. "VM 12 becoming ACTIVE".
    """
    if timeout < 0:
        raise ConfigurationError(f"The timeout for {what} must be 0 or more.")
    schedule = schedule or PollSchedule()

    started = _clock()
    deadline = started + timeout
    logger.info("Waiting for %s (up to %.0f s)", what, timeout)

    newer_than = started
    interval = schedule.first
    _sleep(min(interval, timeout))
    while True:
        taken_at, objects = poller.snapshot(newer_than)
        current = objects.get(id_)
        complete = isinstance(objects, Listing) and objects.complete
        if current is None and confirm is not None and not (complete and until(None)):
            current = confirm(id_)

        if failed is not None:
            reason = failed(current)
            if reason is not None:
                raise FailedStateError(what, reason, last=current)
        if until(current):
            logger.info("Done: %s after %.0f s", what, _clock() - started)
            return current

        now = _clock()
        if now >= deadline:
            raise WaitTimeoutError(
                what,
                f"still {describe(current)} after {timeout:.0f} s; raise the "
                "timeout or look at the object in the console",
                last=current,
            )
        interval = schedule.next_interval(now - started, interval)
        due = min(taken_at + interval, deadline)
        newer_than = taken_at
        if due > now:
            _sleep(due - now)
