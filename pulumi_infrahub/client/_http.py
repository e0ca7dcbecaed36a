"""Transport: auth header, rate limiting, retries and the request log.

The retry policy itself is described in `pulumi_infrahub.client._client`,
beside the client that applies it.
"""

from __future__ import annotations

import enum
import logging
import math
import random
import threading
import time
from collections import Counter, deque
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from importlib import metadata
from typing import Any

import httpx

from pulumi_infrahub.client.errors import (
    APIError,
    ConfigurationError,
    ConnectionFailedError,
    InfrahubError,
    ResponseLostError,
    ServerError,
    TransportError,
    UnexpectedResponseError,
    api_error_from_response,
)

__all__ = [
    "DEFAULT_REQUESTS_PER_MINUTE",
    "HTTPSession",
    "RateLimiter",
    "Repeat",
    "RetryPolicy",
    "RollingRateLimiter",
]

logger = logging.getLogger("pulumi_infrahub.client")

# The API allows 500 requests a minute per source address and answers 429
# past that, with no header saying when to come back. Staying well below
# leaves room for a second process (a policy pack, a script) on the same host.
DEFAULT_REQUESTS_PER_MINUTE = 300.0
DEFAULT_BURST = 20
_WINDOW = 60.0

# Looked up at call time so that tests can replace it.
_sleep = time.sleep


def _user_agent() -> str:
    try:
        version = metadata.version("pulumi-infrahub")
    except metadata.PackageNotFoundError:  # pragma: no cover - source checkout
        version = "0"
    return f"pulumi-infrahub/{version}"


class Repeat(enum.Enum):
    """When a request may be sent again after a failure."""

    ALWAYS = "always"
    """Repeating cannot change the outcome: reads, deletes, replace-all PUTs."""

    IF_UNPROCESSED = "if-unprocessed"
    """Only when the API certainly did not act on it: no connection was made,
    or it answered 429. Creates and actions."""


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently a failed request is tried again.

    `attempts` counts every try, the first included. The n-th retry waits
    `backoff * 2 ** (n - 1)` seconds, capped at `max_backoff`, minus a random
    share of up to `jitter` of it so that parallel clients spread out. A
    `Retry-After` header raises the wait to what it asks for; one asking for
    more than `max_retry_after` seconds ends the retries.

    A 429 gets more patience: the API refuses every request until its
    one-minute window ends, so a request may be answered 429
    `rate_limited_attempts` times before it gives up, waiting at most
    `max_rate_limited_backoff` each time, which adds up to a little more than
    that minute. 429s and other failures are counted apart: a 500 after a run
    of 429s is the request's first ordinary failure.
    """

    attempts: int = 5
    backoff: float = 1.0
    max_backoff: float = 30.0
    rate_limited_attempts: int = 12
    max_rate_limited_backoff: float = 10.0
    jitter: float = 0.5
    max_retry_after: float = 120.0
    statuses: frozenset[int] = field(
        default_factory=lambda: frozenset({429, 500, 502, 503, 504})
    )

    def __post_init__(self) -> None:
        for name in ("attempts", "rate_limited_attempts"):
            if getattr(self, name) < 1:
                raise ConfigurationError(
                    f"RetryPolicy.{name} is {getattr(self, name)}; it counts the "
                    "first try too, so use 1 or more."
                )
        for name in (
            "backoff",
            "max_backoff",
            "max_rate_limited_backoff",
            "max_retry_after",
        ):
            if getattr(self, name) < 0:
                raise ConfigurationError(f"RetryPolicy.{name} must be 0 or more.")
        if not 0 <= self.jitter <= 1:
            raise ConfigurationError("RetryPolicy.jitter must be between 0 and 1.")

    def delay(
        self,
        retry: int,
        retry_after: float | None = None,
        *,
        rate_limited: bool = False,
    ) -> float | None:
        """Seconds to wait before retry number `retry` (1-based), or None
        when the server asks for a longer pause than this policy accepts."""
        cap = self.max_rate_limited_backoff if rate_limited else self.max_backoff
        base = min(cap, self.backoff * 2.0 ** (retry - 1))
        wait = base * (1 - self.jitter * random.random())
        if retry_after is None:
            return wait
        if retry_after > self.max_retry_after:
            return None
        return max(wait, retry_after)


class RateLimiter:
    """A thread-safe token bucket shared by every request of a client.

    Up to `burst` requests go out at once; beyond that, requests are spaced to
    `requests_per_minute`. Pass one instance to several clients to hold them
    to one budget. `math.inf` disables the limit.
    """

    def __init__(
        self,
        requests_per_minute: float = DEFAULT_REQUESTS_PER_MINUTE,
        burst: int = DEFAULT_BURST,
    ) -> None:
        if requests_per_minute <= 0:
            raise ConfigurationError(
                "RateLimiter.requests_per_minute must be above 0; use math.inf "
                "for no limit."
            )
        if burst < 1:
            raise ConfigurationError("RateLimiter.burst must be 1 or more.")
        self.requests_per_minute = requests_per_minute
        self.burst = burst
        self._rate = requests_per_minute / 60.0
        self._tokens = float(burst)
        self._updated = time.monotonic()
        self._lock = threading.Lock()

    def acquire(self) -> float:
        """Take one token, sleeping until it is due. Returns seconds waited."""
        if math.isinf(self._rate):
            return 0.0

        with self._lock:
            now = time.monotonic()
            elapsed = now - self._updated
            self._tokens = min(self.burst, self._tokens + elapsed * self._rate)
            self._updated = now
            # Taking the token before sleeping queues callers in arrival
            # order: each later caller sees a deeper deficit and sleeps longer.
            self._tokens -= 1
            wait = -self._tokens / self._rate if self._tokens < 0 else 0.0

        if wait > 0:
            _sleep(wait)
        return wait


class RollingRateLimiter(RateLimiter):
    """At most `requests_per_minute` requests in any 60 seconds, shared by
    every request of a client: the API's own rule, at a lower number.

    A burst may spend the whole minute's budget at once; once it is spent, a
    request waits until the one `requests_per_minute` requests before it is a
    minute old. A run of a few hundred requests is therefore not slowed at
    all while it fits the budget, unlike a token bucket, whose burst must
    stay small for its worst minute (burst plus rate) to stay under a limit.
    """

    def __init__(
        self, requests_per_minute: float = DEFAULT_REQUESTS_PER_MINUTE
    ) -> None:
        if requests_per_minute < 1:
            raise ConfigurationError(
                "RollingRateLimiter.requests_per_minute must be 1 or more; use "
                "math.inf for no limit."
            )
        super().__init__(requests_per_minute, burst=1)
        self._budget = (
            0 if math.isinf(requests_per_minute) else int(requests_per_minute)
        )
        # When the last `_budget` requests were (or will be) sent, oldest
        # first.
        self._sent: deque[float] = deque(maxlen=max(self._budget, 1))

    def acquire(self) -> float:
        if self._budget == 0:
            return 0.0

        with self._lock:
            now = time.monotonic()
            due = now
            if len(self._sent) == self._budget:
                due = max(now, self._sent[0] + _WINDOW)
            self._sent.append(due)

        wait = due - now
        if wait > 0:
            _sleep(wait)
        return wait


class HTTPSession:
    """Sends requests to one API URL with one key, and applies the policy."""

    def __init__(
        self,
        api_url: str,
        api_key: str,
        *,
        timeout: float | httpx.Timeout,
        retry: RetryPolicy,
        rate_limiter: RateLimiter,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.api_url = api_url
        self.retry = retry
        self.rate_limiter = rate_limiter
        self._client = httpx.Client(
            base_url=api_url + "/",
            headers={
                "api_key": api_key,
                "Accept": "application/json",
                "User-Agent": _user_agent(),
            },
            timeout=timeout,
            transport=transport,
        )

    def close(self) -> None:
        self._client.close()

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        repeat: Repeat = Repeat.ALWAYS,
        ok: Collection[int] = (200,),
    ) -> Any:
        """Send one call and return its decoded JSON body.

        Raises an APIError for an error status, a TransportError when no
        answer came, after the retries the policy and `repeat` allow.
        """
        attempt = 1
        # 429s have their own, larger allowance; the other failures share
        # `attempts`, so a 500 after a run of 429s does not end the request.
        failed: Counter[bool] = Counter()
        lost_earlier = False
        while True:
            self.rate_limiter.acquire()
            error, retry_after, response = self._send_once(method, path, params, json)

            if response is not None and response.status_code in ok:
                return _decode(response, method, path)
            if response is not None and response.is_success:
                expected = " or ".join(str(code) for code in ok)
                raise UnexpectedResponseError(
                    method,
                    path,
                    f"HTTP {response.status_code} where the API documents {expected}",
                )
            if (
                response is not None
                and response.status_code == 404
                and method == "DELETE"
                and lost_earlier
            ):
                # An earlier try got no answer or a 5xx, and this one finds
                # nothing: the earlier try did the delete.
                logger.debug("%s %s: gone after a lost answer", method, path)
                return {}

            assert error is not None
            rate_limited = isinstance(error, APIError) and error.status == 429
            failed[rate_limited] += 1
            policy = self.retry
            tries = policy.rate_limited_attempts if rate_limited else policy.attempts
            if not self._may_retry(error, repeat) or failed[rate_limited] >= tries:
                raise error
            delay = policy.delay(attempt, retry_after, rate_limited=rate_limited)
            if delay is None:
                raise error

            lost_earlier = lost_earlier or isinstance(
                error, (ResponseLostError, ServerError)
            )
            logger.warning(
                "%s %s failed (%s); retrying in %.1f s (try %d of %d)",
                method,
                path,
                _short(error),
                delay,
                failed[rate_limited] + 1,
                tries,
            )
            _sleep(delay)
            attempt += 1

    def _send_once(
        self,
        method: str,
        path: str,
        params: Mapping[str, Any] | None,
        json: Any,
    ) -> tuple[InfrahubError | None, float | None, httpx.Response | None]:
        started = time.monotonic()
        try:
            response = self._client.request(
                method, path.lstrip("/"), params=params, json=json
            )
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
            return ConnectionFailedError(method, path, _cause(exc)), None, None
        except (httpx.TimeoutException, httpx.NetworkError, httpx.ProtocolError) as exc:
            return ResponseLostError(method, path, _cause(exc)), None, None
        except httpx.TransportError as exc:
            return ConnectionFailedError(method, path, _cause(exc)), None, None

        elapsed_ms = (time.monotonic() - started) * 1000
        logger.debug(
            "%s %s -> %d (%.0f ms)", method, path, response.status_code, elapsed_ms
        )
        if response.is_success:
            return None, None, response

        retry_after = _retry_after(response.headers.get("Retry-After"))
        error = api_error_from_response(
            status=response.status_code,
            method=method,
            path=path,
            body=_json_or_none(response),
            text=response.text,
            retry_after=retry_after,
        )
        return error, retry_after, response

    def _may_retry(self, error: InfrahubError, repeat: Repeat) -> bool:
        if isinstance(error, ConnectionFailedError):
            return True
        if isinstance(error, APIError):
            if error.status not in self.retry.statuses:
                return False
            return error.status == 429 or repeat is Repeat.ALWAYS
        if isinstance(error, TransportError):
            return repeat is Repeat.ALWAYS
        return False


def _decode(response: httpx.Response, method: str, path: str) -> Any:
    if not response.content:
        return {}
    try:
        return response.json()
    except ValueError as exc:
        raise UnexpectedResponseError(method, path, "the body is not JSON") from exc


def _json_or_none(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header: a number or an HTTP date."""
    if value is None:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - datetime.now(timezone.utc)).total_seconds())


def _cause(exc: Exception) -> str:
    text = str(exc).strip()
    name = type(exc).__name__
    return f"{name}: {text}" if text else name


def _short(error: InfrahubError) -> str:
    if isinstance(error, APIError):
        reason = f" {error.error_reason}" if error.error_reason else ""
        return f"HTTP {error.status}{reason}"
    if isinstance(error, TransportError):
        return error.cause
    return type(error).__name__
