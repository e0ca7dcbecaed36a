"""Fixtures for driving the providers' hooks against the in-process emulator.

`infrahub` configures the providers the way the Pulumi engine does (through
`configure()` with the stack config) for the shared `emulator`, with a client
that polls every few milliseconds and never backs off: the emulator's delays
are zero, so waits end on the first look and tests stay fast.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from pulumi_infrahub.config import Settings
from pulumi_infrahub.emulator.testing import RunningEmulator
from pulumi_infrahub.resources import _provider

from .helpers import Infrahub, fast_client

ENVIRONMENT_VARIABLES = (
    "INFRAHUB_API_KEY",
    "INFRAHUB_API_URL",
    "HYPERSTACK_API_KEY",
    "HYPERSTACK_API_ADDRESS",
)


@pytest.fixture
def infrahub(
    emulator: RunningEmulator, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Infrahub]:
    for name in ENVIRONMENT_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(_provider, "build_client", fast_client)
    monkeypatch.setattr(_provider, "_current", None)
    monkeypatch.setattr(_provider, "_stack_config", _provider._StackConfig())
    client = fast_client(Settings(api_url=emulator.base_url, api_key=emulator.api_key))
    yield Infrahub(emulator, client)
    client.close()
    if _provider._current is not None:
        _provider._current.client.close()
