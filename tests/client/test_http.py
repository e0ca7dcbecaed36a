"""Transport behaviour: headers, retries, Retry-After, rate limiting, logs.

Backoff is zero (see fakes.py); where a test needs to see the pauses it
replaces the sleep function and records what it was asked to wait.
"""

from __future__ import annotations

import logging
import math
import threading
import time

import httpx
import pytest

from pulumi_infrahub.client import (
    BadRequestError,
    ConfigurationError,
    ConnectionFailedError,
    InfrahubClient,
    RateLimiter,
    RateLimitError,
    ResponseLostError,
    RetryPolicy,
    RollingRateLimiter,
    ServerError,
    UnexpectedResponseError,
    _http,
)

from .fakes import API_KEY, FakeAPI, error, make_client, ok, vm

VMS = "/core/virtual-machines"


@pytest.fixture
def pauses(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    recorded: list[float] = []
    monkeypatch.setattr(_http, "_sleep", recorded.append)
    return recorded


def test_requests_carry_the_key_header_and_accept_json(
    api: FakeAPI, client: InfrahubClient
) -> None:
    api.on("GET", f"{VMS}/7", ok(instance=vm(7, "a")))

    client.virtual_machines.get(7)

    [sent] = api.sent
    assert sent.headers["api_key"] == API_KEY
    assert sent.headers["accept"] == "application/json"
    assert sent.headers["user-agent"].startswith("pulumi-infrahub/")
    assert "authorization" not in sent.headers


def test_get_is_retried_after_server_errors(
    api: FakeAPI, client: InfrahubClient
) -> None:
    api.on(
        "GET",
        f"{VMS}/7",
        error(503, "busy"),
        error(500, "Internal Server Error"),
        ok(instance=vm(7, "a")),
    )

    found = client.virtual_machines.get(7)

    assert found.id == 7
    assert len(api.requests_to("GET", f"{VMS}/7")) == 3


def test_retries_stop_after_the_policy_attempts(api: FakeAPI) -> None:
    api.on("GET", f"{VMS}/7", error(503, "busy"))
    client = make_client(api, retry=RetryPolicy(attempts=3, backoff=0))

    with pytest.raises(ServerError):
        client.virtual_machines.get(7)

    assert len(api.sent) == 3


def test_client_errors_are_not_retried(api: FakeAPI, client: InfrahubClient) -> None:
    api.on("GET", f"{VMS}/7/start", error(400, "VM is not SHUTOFF", "bad_request"))

    with pytest.raises(BadRequestError):
        client.virtual_machines.start(7)

    assert len(api.sent) == 1


def test_create_is_not_resent_after_a_server_error(
    api: FakeAPI, client: InfrahubClient
) -> None:
    api.on("POST", "/core/environments", error(500, "Internal Server Error"))
    api.on("GET", "/core/environments", ok(environments=[]))

    with pytest.raises(ServerError):
        client.environments.create("dev", region="CANADA-1")

    assert len(api.requests_to("POST", "/core/environments")) == 1


def test_create_is_resent_after_a_rate_limit_answer(
    api: FakeAPI, client: InfrahubClient
) -> None:
    created = {"id": 3, "name": "dev", "region": "CANADA-1"}
    api.on(
        "POST",
        "/core/environments",
        httpx.Response(429, text="Too Many Requests"),
        ok(environment=created),
    )

    env = client.environments.create("dev", region="CANADA-1")

    assert env.id == 3
    assert len(api.requests_to("POST", "/core/environments")) == 2


def test_action_is_resent_when_the_connection_was_never_made(
    api: FakeAPI, client: InfrahubClient
) -> None:
    api.on(
        "GET",
        f"{VMS}/7/stop",
        httpx.ConnectError("connection refused"),
        ok(),
    )

    client.virtual_machines.stop(7)

    assert len(api.sent) == 2


def test_action_is_not_resent_after_a_lost_answer(
    api: FakeAPI, client: InfrahubClient
) -> None:
    api.on("GET", f"{VMS}/7/stop", httpx.ReadTimeout("timed out"), ok())

    with pytest.raises(ResponseLostError):
        client.virtual_machines.stop(7)

    assert len(api.sent) == 1


def test_unreachable_api_raises_connection_failed_after_retries(
    api: FakeAPI,
) -> None:
    api.on("GET", "/core/regions", httpx.ConnectError("connection refused"))
    client = make_client(api, retry=RetryPolicy(attempts=2, backoff=0))

    with pytest.raises(ConnectionFailedError, match="Check the API URL"):
        client.regions.get_all()

    assert len(api.sent) == 2


def test_delete_that_lost_its_answer_and_then_finds_nothing_succeeds(
    api: FakeAPI, client: InfrahubClient
) -> None:
    api.on(
        "DELETE",
        f"{VMS}/7",
        httpx.RemoteProtocolError("server disconnected"),
        error(404, "VM 7 does not exists.", "not_found"),
    )

    client.virtual_machines.delete(7)

    assert len(api.sent) == 2


def test_delete_that_failed_with_5xx_and_then_finds_nothing_succeeds(
    api: FakeAPI, client: InfrahubClient
) -> None:
    api.on(
        "DELETE",
        "/core/volumes/3",
        error(502, "Bad Gateway"),
        error(404, "Volume not found", "not_found"),
    )

    client.volumes.delete(3)

    assert len(api.sent) == 2


def test_delete_of_a_missing_object_is_still_not_found(
    api: FakeAPI, client: InfrahubClient
) -> None:
    api.on("DELETE", f"{VMS}/7", error(404, "VM 7 does not exists.", "not_found"))

    with pytest.raises(Exception, match="HTTP 404"):
        client.virtual_machines.delete(7)


def test_retry_after_lengthens_the_pause(
    api: FakeAPI, client: InfrahubClient, pauses: list[float]
) -> None:
    api.on(
        "GET",
        "/core/regions",
        httpx.Response(429, headers={"Retry-After": "7"}, text=""),
        ok(regions=[]),
    )

    client.regions.get_all()

    assert pauses == [7.0]


def test_retry_after_beyond_the_policy_limit_ends_the_retries(
    api: FakeAPI, pauses: list[float]
) -> None:
    api.on("GET", "/core/regions", httpx.Response(429, headers={"Retry-After": "600"}))
    client = make_client(api, retry=RetryPolicy(backoff=0, max_retry_after=60))

    with pytest.raises(RateLimitError) as caught:
        client.regions.get_all()

    assert caught.value.retry_after == 600.0
    assert pauses == []
    assert len(api.sent) == 1


def test_retry_after_as_an_http_date_is_understood() -> None:
    when = "Wed, 21 Oct 2015 07:28:00 GMT"

    assert _http._retry_after(when) == 0.0
    assert _http._retry_after("2.5") == 2.5
    assert _http._retry_after("soon") is None


def test_backoff_doubles_up_to_the_cap_without_jitter() -> None:
    policy = RetryPolicy(backoff=1.0, max_backoff=5.0, jitter=0.0)

    delays = [policy.delay(n) for n in range(1, 6)]

    assert delays == [1.0, 2.0, 4.0, 5.0, 5.0]


def test_rate_limited_waits_stop_doubling_at_their_own_cap() -> None:
    policy = RetryPolicy(backoff=1.0, jitter=0.0)

    delays = [policy.delay(n, rate_limited=True) for n in range(1, 13)]

    assert delays[:5] == [1.0, 2.0, 4.0, 8.0, 10.0]
    assert max(delays) == policy.max_rate_limited_backoff
    assert sum(delays[:11]) > 60, "a throttled request must outwait the window"


def test_rate_limited_request_outlasts_the_ordinary_tries(api: FakeAPI) -> None:
    throttled = [httpx.Response(429, text="Too Many Requests")] * 7
    api.on("GET", "/core/regions", *throttled, ok(regions=[]))
    client = make_client(api, retry=RetryPolicy(attempts=3, backoff=0))

    assert client.regions.get_all() == []
    assert len(api.requests_to("GET", "/core/regions")) == 8


def test_rate_limited_request_gives_up_after_its_own_tries(api: FakeAPI) -> None:
    throttled = [httpx.Response(429, text="Too Many Requests")] * 5
    api.on("GET", "/core/regions", *throttled)
    policy = RetryPolicy(attempts=2, rate_limited_attempts=4, backoff=0)
    client = make_client(api, retry=policy)

    with pytest.raises(RateLimitError):
        client.regions.get_all()
    assert len(api.requests_to("GET", "/core/regions")) == 4


def test_server_error_after_a_run_of_rate_limits_is_retried(api: FakeAPI) -> None:
    throttled = [httpx.Response(429, text="Too Many Requests")] * 4
    failed = httpx.Response(500, text="oops")
    api.on("GET", "/core/regions", *throttled, failed, ok(regions=[]))
    client = make_client(api, retry=RetryPolicy(attempts=2, backoff=0))

    assert client.regions.get_all() == []
    assert len(api.requests_to("GET", "/core/regions")) == 6


def test_jitter_only_shortens_the_pause() -> None:
    policy = RetryPolicy(backoff=4.0, jitter=0.5)

    delays = [policy.delay(1) for _ in range(200)]

    assert all(2.0 <= d <= 4.0 for d in delays)
    assert len(set(delays)) > 1


def test_success_code_other_than_documented_is_reported(
    api: FakeAPI, client: InfrahubClient
) -> None:
    api.on("POST", "/core/profiles", ok(profile={"id": 1, "name": "p"}))

    with pytest.raises(
        UnexpectedResponseError, match="HTTP 200 where the API documents 201"
    ):
        client.profiles.create("p", data={"count": "1"})


def test_success_body_that_is_not_json_is_reported(
    api: FakeAPI, client: InfrahubClient
) -> None:
    api.on("GET", "/core/regions", httpx.Response(200, text="<html>maintenance</html>"))

    with pytest.raises(UnexpectedResponseError, match="not JSON"):
        client.regions.get_all()


def test_each_request_is_logged_at_debug_and_each_retry_at_warning(
    api: FakeAPI, client: InfrahubClient, caplog: pytest.LogCaptureFixture
) -> None:
    api.on("GET", f"{VMS}/7", error(502, "bad gateway"), ok(instance=vm(7, "a")))

    with caplog.at_level(logging.DEBUG, logger="pulumi_infrahub"):
        client.virtual_machines.get(7)

    mine = [r for r in caplog.records if r.name.startswith("pulumi_infrahub")]
    debug = [r.getMessage() for r in mine if r.levelno == logging.DEBUG]
    warnings = [r.getMessage() for r in mine if r.levelno == logging.WARNING]
    assert [m.split(" (")[0] for m in debug] == [
        f"GET {VMS}/7 -> 502",
        f"GET {VMS}/7 -> 200",
    ]
    assert len(warnings) == 1
    assert warnings[0].startswith(f"GET {VMS}/7 failed (HTTP 502); retrying in")
    assert all(API_KEY not in r.getMessage() for r in caplog.records)


def test_user_data_never_reaches_the_logs(
    api: FakeAPI, client: InfrahubClient, caplog: pytest.LogCaptureFixture
) -> None:
    api.on("POST", VMS, error(503, "busy"))
    api.on("GET", VMS, ok(instances=[]))

    with caplog.at_level(logging.DEBUG), pytest.raises(ServerError):
        client.virtual_machines.create(
            "a",
            environment_name="e",
            flavor_name="f",
            key_name="k",
            user_data="#cloud-config\npassword: hunter2",
        )

    assert caplog.records
    assert all("hunter2" not in r.getMessage() for r in caplog.records)


def test_the_library_sets_up_no_log_handlers() -> None:
    for name in ("pulumi_infrahub", "pulumi_infrahub.client"):
        assert logging.getLogger(name).handlers == []


def test_rate_limiter_lets_a_burst_through_then_spaces_requests(
    pauses: list[float],
) -> None:
    limiter = RateLimiter(requests_per_minute=60, burst=2)

    waits = [limiter.acquire() for _ in range(4)]

    assert waits[:2] == [0.0, 0.0]
    assert waits[2] == pytest.approx(1.0, abs=0.05)
    assert waits[3] == pytest.approx(2.0, abs=0.05)
    assert pauses == waits[2:]


def test_rate_limiter_holds_parallel_threads_to_the_rate() -> None:
    limiter = RateLimiter(requests_per_minute=6000, burst=1)  # one per 10 ms
    start = time.monotonic()

    threads = [threading.Thread(target=limiter.acquire) for _ in range(11)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert time.monotonic() - start >= 0.09


def test_unlimited_rate_limiter_never_waits(pauses: list[float]) -> None:
    limiter = RateLimiter(requests_per_minute=math.inf)

    assert sum(limiter.acquire() for _ in range(1000)) == 0
    assert pauses == []


def test_default_rate_is_well_below_the_api_limit() -> None:
    limiter = RateLimiter()

    assert limiter.requests_per_minute <= 0.7 * 500


def test_rolling_rate_limiter_spends_the_minute_at_once_then_waits_for_the_oldest(
    pauses: list[float],
) -> None:
    limiter = RollingRateLimiter(requests_per_minute=3)

    waits = [limiter.acquire() for _ in range(7)]

    assert waits[:3] == [0.0, 0.0, 0.0]
    assert waits[3:6] == pytest.approx([60.0, 60.0, 60.0], abs=0.05)
    assert waits[6] == pytest.approx(120.0, abs=0.05)
    assert pauses == waits[3:]


def test_rolling_rate_limiter_never_lets_a_minute_hold_more_than_its_budget(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Time passes only through the limiter's own sleeps and the gaps below.
    now = [0.0]

    class Clock:
        @staticmethod
        def monotonic() -> float:
            return now[0]

    monkeypatch.setattr(_http, "time", Clock)
    monkeypatch.setattr(_http, "_sleep", lambda s: now.__setitem__(0, now[0] + s))
    limiter = RollingRateLimiter(requests_per_minute=10)
    sent: list[float] = []

    for gap in [0.5, 0, 3, 0, 0, 7, 1, 0, 0, 0, 20, 0, 0, 0, 2, 0, 0, 40, 0, 0] * 3:
        now[0] += gap
        limiter.acquire()
        sent.append(now[0])

    busiest = max(sum(1 for t in sent if start <= t < start + 60) for start in sent)
    assert busiest == 10


def test_rolling_rate_limiter_refuses_a_budget_below_one_request() -> None:
    with pytest.raises(ConfigurationError, match="1 or more"):
        RollingRateLimiter(requests_per_minute=0.5)
