"""Pulumi's runtime mocks, with a monitor that keeps every registration.

The mocks answer each resource with its inputs plus a few computed outputs;
the providers' hooks never run here (they are tested against the emulator
in tests/resources). What is checked here is the wiring a program sees.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pulumi
import pytest
from pulumi.runtime.mocks import MockMonitor


class Mocks(pulumi.runtime.Mocks):
    def new_resource(
        self, args: pulumi.runtime.MockResourceArgs
    ) -> tuple[str | None, dict[str, Any]]:
        id_ = args.resource_id or f"{args.name}-id"
        outputs = dict(args.inputs)
        outputs.setdefault("status", "ACTIVE")
        return id_, outputs

    def call(
        self, args: pulumi.runtime.MockCallArgs
    ) -> tuple[dict[str, Any], list[tuple[str, str]] | None]:
        return {}, None


class RecordingMonitor(MockMonitor):
    """A mock monitor that keeps the raw register and read requests."""

    def __init__(self, mocks: pulumi.runtime.Mocks) -> None:
        super().__init__(mocks)
        self.registered: list[Any] = []
        self.read: list[Any] = []

    def RegisterResource(self, request: Any) -> Any:
        self.registered.append(request)
        return super().RegisterResource(request)

    def ReadResource(self, request: Any) -> Any:
        self.read.append(request)
        return super().ReadResource(request)

    def urn(self, name: str) -> str:
        """The URN the resource called `name` was given."""
        [found] = [urn for urn in self.resources if urn.endswith(f"::{name}")]
        return found

    def request(self, name: str) -> Any:
        """The registration of the resource called `name`."""
        [found] = [r for r in self.registered if r.name == name]
        return found


@pytest.fixture
def monitor() -> Iterator[RecordingMonitor]:
    mocks = Mocks()
    recording = RecordingMonitor(mocks)
    pulumi.runtime.set_mocks(
        mocks, project="quickstart", stack="test", preview=False, monitor=recording
    )
    yield recording
