"""What the provider tests share: catalog names, a fast client, and the
shapes in which the engine hands properties to a provider."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from google.protobuf import struct_pb2
from pulumi.dynamic import Config, ConfigureRequest
from pulumi.runtime import rpc

from pulumi_infrahub.client import (
    InfrahubClient,
    PollSchedule,
    RateLimiter,
    RetryPolicy,
)
from pulumi_infrahub.config import Settings
from pulumi_infrahub.emulator import DEMO_ENVIRONMENT, DEMO_KEYPAIR
from pulumi_infrahub.emulator.testing import RunningEmulator
from pulumi_infrahub.resources._provider import InfrahubProvider

IMAGE = "Ubuntu Server 22.04 LTS R535 CUDA 12.2"
CPU_FLAVOR = "n1-cpu-medium"
GPU_FLAVOR = "n3-A100x2"

FAST_POLLS = PollSchedule(first=0.01, fast_for=60.0, factor=1.0, maximum=0.01)


def fast_client(settings: Settings) -> InfrahubClient:
    return InfrahubClient(
        api_key=settings.api_key,
        base_url=settings.api_url,
        retry=RetryPolicy(attempts=3, backoff=0.0, jitter=0.0),
        rate_limiter=RateLimiter(math.inf),
        poll_schedule=FAST_POLLS,
    )


def configure(
    provider: InfrahubProvider, emulator: RunningEmulator, api_key: str | None = None
) -> None:
    """Configure `provider` as the engine does, with the stack config of this
    emulator and its key (or `api_key`)."""
    config = {
        "infrahub:apiKey": api_key or emulator.api_key,
        "infrahub:apiUrl": emulator.base_url,
    }
    provider.configure(ConfigureRequest(Config(config, "test-project")))


@dataclass
class Infrahub:
    """The emulator as the provider tests use it."""

    emulator: RunningEmulator
    client: InfrahubClient

    def configure(self, provider: InfrahubProvider) -> InfrahubProvider:
        configure(provider, self.emulator)
        return provider

    def lookups(self) -> list[dict[str, Any]]:
        """Requests logged other than the environment list that every `check`
        reads first to try the key (cached afterwards)."""
        return [
            entry
            for entry in self.requests()
            if (entry["method"], entry["path"].split("?")[0])
            != ("GET", "/v1/core/environments")
        ]

    def requests(
        self, method: str | None = None, path: str = ""
    ) -> list[dict[str, Any]]:
        """Requests the emulator logged, filtered by method and path prefix."""
        return [
            entry
            for entry in self.emulator.admin.requests()
            if (method is None or entry["method"] == method)
            and entry["path"].split("?")[0].removeprefix("/v1").startswith(path)
        ]


def with_unknowns(props: dict[str, Any]) -> dict[str, Any]:
    """`props` as a provider receives them in a preview: through the engine's
    protobuf struct, with `rpc.UNKNOWN` values turned into unknowns."""
    struct = struct_pb2.Struct()
    struct.update(props)
    result: dict[str, Any] = rpc.deserialize_properties(struct, keep_unknowns=True)
    return result


def over_the_wire(props: dict[str, Any]) -> dict[str, Any]:
    """`props` as a provider receives them after a round trip through the
    engine: numbers become floats and None values disappear."""
    struct = struct_pb2.Struct()
    struct.update({k: v for k, v in props.items() if v is not None})
    result: dict[str, Any] = rpc.deserialize_properties(struct)
    return result


UNKNOWN = rpc.UNKNOWN


def vm_program(**fields: Any) -> dict[str, Any]:
    """VirtualMachine inputs as a program gives them (name left out)."""
    props: dict[str, Any] = {
        "name_prefix": "web",
        "environment_name": DEMO_ENVIRONMENT,
        "flavor_name": CPU_FLAVOR,
        "key_name": DEMO_KEYPAIR,
        "image_name": IMAGE,
    }
    props.update(fields)
    return {key: value for key, value in props.items() if value is not None}


def checked(
    provider: InfrahubProvider,
    news: dict[str, Any],
    olds: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The inputs `check` returns; fails the test on any check failure."""
    result = provider.check(olds or {}, news)
    reasons = {f.property: f.reason for f in result.failures}
    assert reasons == {}
    return result.inputs


def check_failures(
    provider: InfrahubProvider,
    news: dict[str, Any],
    olds: dict[str, Any] | None = None,
) -> dict[str, str]:
    """Reasons by property from `check`."""
    result = provider.check(olds or {}, news)
    return {f.property: f.reason for f in result.failures}


def ssh_rule(**fields: Any) -> dict[str, Any]:
    rule: dict[str, Any] = {
        "direction": "ingress",
        "protocol": "tcp",
        "remote_ip_prefix": "203.0.113.0/24",
        "port_range_min": 22,
        "port_range_max": 22,
    }
    rule.update(fields)
    return {key: value for key, value in rule.items() if value is not None}
