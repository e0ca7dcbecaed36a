"""Fixtures for the client tests: a scripted API and a client bound to it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from pulumi_infrahub.client import InfrahubClient

from .fakes import FakeAPI, make_client


@pytest.fixture
def api() -> FakeAPI:
    return FakeAPI()


@pytest.fixture
def client(api: FakeAPI) -> Iterator[InfrahubClient]:
    with make_client(api) as infrahub:
        yield infrahub
