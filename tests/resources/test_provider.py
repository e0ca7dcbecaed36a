"""What every provider shares: the API budget of the provider process."""

from __future__ import annotations

import pytest
from pulumi.dynamic import Config, ConfigureRequest

from pulumi_infrahub.client import ConfigurationError, RollingRateLimiter
from pulumi_infrahub.config import Settings
from pulumi_infrahub.resources import _provider
from pulumi_infrahub.resources._provider import REQUESTS_PER_MINUTE_VARIABLE


@pytest.fixture(autouse=True)
def fresh_stack_config(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(REQUESTS_PER_MINUTE_VARIABLE, raising=False)
    monkeypatch.setattr(_provider, "_stack_config", _provider._StackConfig())


def configure(config: dict[str, object]) -> None:
    _provider.InfrahubProvider().configure(
        ConfigureRequest(Config(config, "test-project"))
    )


def test_the_budget_is_half_the_api_limit_by_default() -> None:
    assert _provider.requests_per_minute() == 250


def test_stack_config_sets_the_budget_before_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(REQUESTS_PER_MINUTE_VARIABLE, "120")
    assert _provider.requests_per_minute() == 120

    configure({"infrahub:requestsPerMinute": "90"})

    assert _provider.requests_per_minute() == 90


@pytest.mark.parametrize("given", ["0", "501", "fast", "2.5"])
def test_a_budget_outside_the_api_limit_is_refused_with_the_fix(given: str) -> None:
    configure({"infrahub:requestsPerMinute": given})

    with pytest.raises(ConfigurationError) as raised:
        _provider.requests_per_minute()

    assert "infrahub:requestsPerMinute" in str(raised.value)
    assert "from 1 to 500" in str(raised.value)


def test_the_process_client_spends_the_budget_over_a_rolling_minute() -> None:
    configure({"infrahub:requestsPerMinute": "180"})

    client = _provider._default_client(
        Settings(api_url="http://127.0.0.1:9/v1", api_key="k")
    )

    assert isinstance(client.rate_limiter, RollingRateLimiter)
    assert client.rate_limiter.requests_per_minute == 180
    client.close()
