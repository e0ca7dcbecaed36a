from __future__ import annotations

from collections.abc import Callable

from pulumi_infrahub.emulator import ManualClock
from pulumi_infrahub.emulator.runtime import RateLimiter
from pulumi_infrahub.emulator.settings import DEFAULT_RATE_LIMIT, EmulatorSettings
from pulumi_infrahub.emulator.testing import RunningEmulator

from .helpers import api


def test_limit_is_the_real_one_by_default() -> None:
    assert EmulatorSettings().rate_limit == DEFAULT_RATE_LIMIT == 500


def test_requests_past_the_limit_get_429_until_the_window_ends(
    emulator_factory: Callable[..., RunningEmulator],
) -> None:
    clock = ManualClock()
    emulator = emulator_factory(clock=clock, rate_limit=5)

    with api(emulator) as client:
        allowed = [client.get("/core/regions").status_code for _ in range(5)]
        refused = client.get("/core/regions")
        clock.advance(59)
        still = client.get("/core/regions").status_code
        clock.advance(1)
        again = client.get("/core/regions").status_code

    assert allowed == [200] * 5
    assert refused.status_code == 429
    assert "500" not in refused.json()["message"]
    assert "5 requests a minute" in refused.json()["message"]
    assert still == 429
    assert again == 200


def test_limit_is_per_client_address() -> None:
    limiter = RateLimiter(2, ManualClock())

    first = [limiter.allow("10.0.0.1") for _ in range(3)]
    other = limiter.allow("10.0.0.2")

    assert first == [True, True, False]
    assert other is True


def test_zero_turns_the_limit_off() -> None:
    limiter = RateLimiter(0, ManualClock())

    assert all(limiter.allow("10.0.0.1") for _ in range(1000))
