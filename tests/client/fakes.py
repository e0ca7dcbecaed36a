"""A scripted stand-in for the API, served through httpx.MockTransport.

Tests script answers per method and path and then assert on the requests the
client sent. Backoff is zero in every client built here: the tests check
which requests are repeated and how often, not how long the pauses are, and
real pauses would only make the suite slow.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from pulumi_infrahub.client import (
    InfrahubClient,
    PollSchedule,
    RateLimiter,
    RetryPolicy,
)

BASE_URL = "https://api.test/v1"
API_KEY = "test-key-0123456789"

Answer = httpx.Response | Exception | Callable[[httpx.Request], httpx.Response]


@dataclass
class SentRequest:
    method: str
    path: str
    params: dict[str, list[str]]
    headers: httpx.Headers
    body: Any

    @property
    def query(self) -> dict[str, str]:
        return {key: values[-1] for key, values in self.params.items()}


@dataclass
class FakeAPI:
    """Answers scripted per (method, path); the last answer repeats."""

    routes: dict[tuple[str, str], list[Answer]] = field(default_factory=dict)
    sent: list[SentRequest] = field(default_factory=list)

    def on(self, method: str, path: str, *answers: Answer) -> None:
        self.routes[(method, path)] = list(answers)

    def requests_to(self, method: str, path: str) -> list[SentRequest]:
        return [r for r in self.sent if r.method == method and r.path == path]

    def __call__(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path.removeprefix("/v1")
        params: dict[str, list[str]] = {}
        for key, value in request.url.params.multi_items():
            params.setdefault(key, []).append(value)
        body = json.loads(request.content) if request.content else None
        self.sent.append(
            SentRequest(request.method, path, params, request.headers, body)
        )

        answers = self.routes.get((request.method, path))
        if not answers:
            return httpx.Response(
                404,
                json={
                    "status": False,
                    "message": "no route",
                    "error_reason": "not_found",
                },
            )
        answer = answers.pop(0) if len(answers) > 1 else answers[0]
        if isinstance(answer, Exception):
            raise answer
        if isinstance(answer, httpx.Response):
            return answer
        return answer(request)


def ok(**payload: Any) -> httpx.Response:
    """A 200 with the API's envelope around `payload`."""
    return httpx.Response(200, json={"status": True, "message": "ok", **payload})


def error(status: int, message: str, reason: str | None = None) -> httpx.Response:
    body: dict[str, Any] = {"status": False, "message": message}
    if reason is not None:
        body["error_reason"] = reason
    return httpx.Response(status, json=body)


def vm(id_: int, name: str, status: str = "ACTIVE", **fields: Any) -> dict[str, Any]:
    return {"id": id_, "name": name, "status": status, **fields}


def make_client(api: FakeAPI, **overrides: Any) -> InfrahubClient:
    options: dict[str, Any] = {
        "retry": RetryPolicy(backoff=0.0, jitter=0.0),
        "rate_limiter": RateLimiter(requests_per_minute=math.inf),
        "poll_schedule": PollSchedule(first=0.0, fast_for=0.0, maximum=0.0),
        "transport": httpx.MockTransport(api),
    }
    options.update(overrides)
    return InfrahubClient(API_KEY, BASE_URL, **options)
