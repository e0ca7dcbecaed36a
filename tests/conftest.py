"""Fixtures shared by every test folder: an in-process emulator.

- `emulator`: one real uvicorn server for the whole session, on 127.0.0.1 with
  a free port, all delays zero and the rate limit off; reset before each test.
  It is a `RunningEmulator`: `.base_url` (ends in `/v1`), `.api_key`,
  `.other_api_key` (a second tenant), `.headers`, `.admin` (the `/_emulator`
  endpoints as methods), `.runtime` (in-process store, faults and log).
- `emulator_factory(**overrides)`: a fresh server with some settings changed
  (any `EmulatorSettings` field, e.g. `delays=Delays(boot=2)`,
  `clock=ManualClock()`, `rate_limit=5`, `faults=Faults(...)`); stopped after
  the test.
- `recorded_exchanges`: every request and answer that crossed any of these
  servers during the session, for the contract check in tests/contract.

Tests marked `session_end` run after all others, so that the contract check
sees every exchange of the session.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from pulumi_infrahub.emulator import EmulatorServer, EmulatorSettings, Exchange
from pulumi_infrahub.emulator.testing import RunningEmulator

TEST_API_KEY = "test-key-tenant-a"
OTHER_API_KEY = "test-key-tenant-b"

_RECORDED: list[Exchange] = []


def _test_settings(**overrides: Any) -> EmulatorSettings:
    base = EmulatorSettings(
        api_keys=(TEST_API_KEY, OTHER_API_KEY),
        rate_limit=0,
        random_seed=1234,
        exchange_recorder=_RECORDED.append,
    )
    return dataclasses.replace(base, **overrides)


@pytest.fixture(scope="session")
def recorded_exchanges() -> list[Exchange]:
    return _RECORDED


@pytest.fixture(scope="session")
def _shared_emulator() -> Iterator[EmulatorServer]:
    with EmulatorServer(_test_settings()) as server:
        yield server


@pytest.fixture
def emulator(_shared_emulator: EmulatorServer) -> RunningEmulator:
    _shared_emulator.runtime.reset()
    return RunningEmulator(_shared_emulator, TEST_API_KEY, OTHER_API_KEY)


@pytest.fixture
def emulator_factory() -> Iterator[Callable[..., RunningEmulator]]:
    servers: list[EmulatorServer] = []

    def start(**overrides: Any) -> RunningEmulator:
        server = EmulatorServer(_test_settings(**overrides)).start()
        servers.append(server)
        return RunningEmulator(server, TEST_API_KEY, OTHER_API_KEY)

    yield start
    for server in servers:
        server.stop()


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "session_end: run after every other test of the session"
    )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # The contract check of everything recorded must see every exchange.
    items.sort(key=lambda item: item.get_closest_marker("session_end") is not None)
