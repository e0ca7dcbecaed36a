"""The lookups a program calls, against the in-process emulator."""

from __future__ import annotations

import math
from collections.abc import Iterator

import pulumi
import pytest

from pulumi_infrahub import (
    NotFoundInCatalogError,
    get_environment,
    get_flavor,
    get_flavors,
    get_images,
    get_keypair,
    get_regions,
    get_stock,
)
from pulumi_infrahub.client import ConfigurationError, InfrahubClient, RateLimiter
from pulumi_infrahub.config import Settings
from pulumi_infrahub.emulator import DEMO_ENVIRONMENT, DEMO_KEYPAIR
from pulumi_infrahub.emulator.testing import RunningEmulator
from pulumi_infrahub.resources import _provider


def _client(settings: Settings) -> InfrahubClient:
    return InfrahubClient(
        api_key=settings.api_key,
        base_url=settings.api_url,
        rate_limiter=RateLimiter(math.inf),
    )


@pytest.fixture
def clean(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    """No settings anywhere: no stack config, no environment variables."""
    for name in (
        "INFRAHUB_API_KEY",
        "INFRAHUB_API_URL",
        "HYPERSTACK_API_KEY",
        "HYPERSTACK_API_ADDRESS",
        "PULUMI_CONFIG",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(_provider, "build_client", _client)
    monkeypatch.setattr(_provider, "_current", None)
    monkeypatch.setattr(_provider, "_stack_config", _provider._StackConfig())
    pulumi.runtime.set_all_config({})
    yield monkeypatch
    pulumi.runtime.set_all_config({})


@pytest.fixture
def api(clean: pytest.MonkeyPatch, emulator: RunningEmulator) -> RunningEmulator:
    """Settings from the environment, pointing at the emulator."""
    clean.setenv("INFRAHUB_API_KEY", emulator.api_key)
    clean.setenv("INFRAHUB_API_URL", emulator.base_url)
    return emulator


def test_get_flavors_filters_by_region_gpu_count_and_stock(
    api: RunningEmulator,
) -> None:
    flavors = get_flavors(region="CANADA-1", gpu="a100", min_gpu_count=2, in_stock=True)

    assert [f.name for f in flavors] == ["n3-A100x2", "n3-A100x4", "n3-A100x8"]
    assert {f.gpu for f in flavors} == {"A100-80G-PCIe"}
    assert all(f.region_name == "CANADA-1" for f in flavors)


def test_get_flavors_lists_those_out_of_stock(api: RunningEmulator) -> None:
    sold_out = get_flavors(in_stock=False)

    assert "n3-L40x1" in {f.name for f in sold_out if f.region_name == "US-1"}
    assert all(f.stock_available is False for f in sold_out)


def test_get_flavor_finds_one_by_name_and_region(api: RunningEmulator) -> None:
    flavor = get_flavor("n3-H100x1", region="US-1")

    assert (flavor.region_name, flavor.gpu_count) == ("US-1", 1)


def test_get_flavor_names_close_matches(api: RunningEmulator) -> None:
    with pytest.raises(NotFoundInCatalogError, match="'n1-cpu-medium'"):
        get_flavor("n1-cpu-mediun")


def test_get_images_of_a_region(api: RunningEmulator) -> None:
    images = get_images(region="NORWAY-1")

    assert images
    assert {i.region_name for i in images} == {"NORWAY-1"}


def test_get_environment_and_keypair_by_name(api: RunningEmulator) -> None:
    environment = get_environment(DEMO_ENVIRONMENT)
    keypair = get_keypair(DEMO_KEYPAIR, environment=DEMO_ENVIRONMENT)

    assert environment.region == "CANADA-1"
    assert keypair.name == DEMO_KEYPAIR


@pytest.mark.parametrize(
    ("lookup", "match"),
    [
        (lambda: get_environment("demo-enviroment"), DEMO_ENVIRONMENT),
        (lambda: get_keypair("demo-key"), DEMO_KEYPAIR),
        (lambda: get_stock(region="US1"), "'US-1'"),
        (lambda: get_images(region="norway"), "'NORWAY-1'"),
    ],
)
def test_an_unknown_name_names_close_matches(
    api: RunningEmulator, lookup: object, match: str
) -> None:
    with pytest.raises(NotFoundInCatalogError, match=match):
        lookup()  # type: ignore[operator]


def test_get_regions_and_stock(api: RunningEmulator) -> None:
    regions = [r.name for r in get_regions()]
    [us] = get_stock(region="US-1")

    assert regions == ["CANADA-1", "NORWAY-1", "US-1"]
    assert us.region == "US-1"
    assert {m.model for m in us.models} >= {"H100-80G-PCIe"}


def test_stack_config_comes_before_the_environment(
    clean: pytest.MonkeyPatch, emulator: RunningEmulator
) -> None:
    clean.setenv("INFRAHUB_API_KEY", "not-a-valid-key")
    clean.setenv("INFRAHUB_API_URL", "http://127.0.0.1:9/v1")
    pulumi.runtime.set_all_config(
        {"infrahub:apiKey": emulator.api_key, "infrahub:apiUrl": emulator.base_url},
        ["infrahub:apiKey"],
    )

    assert get_environment(DEMO_ENVIRONMENT).name == DEMO_ENVIRONMENT


def test_without_a_key_the_error_names_the_config_command(
    clean: pytest.MonkeyPatch,
) -> None:
    with pytest.raises(ConfigurationError) as raised:
        get_regions()

    assert "pulumi config set --secret infrahub:apiKey <key>" in str(raised.value)
