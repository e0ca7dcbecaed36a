"""Providers as Pulumi stores them: pickled with dill into every resource's
state, and unpickled in the dynamic-provider process."""

from __future__ import annotations

import base64
import json
import pickletools
import subprocess
import sys
from typing import Any

import pytest
from pulumi.dynamic.dynamic import serialize_provider

from pulumi_infrahub.emulator import DEMO_ENVIRONMENT, DEMO_KEYPAIR
from pulumi_infrahub.resources import (
    SecurityRuleProvider,
    VirtualMachineProvider,
    VolumeAttachmentProvider,
    VolumeProvider,
)
from pulumi_infrahub.resources._provider import InfrahubProvider

from .helpers import IMAGE, Infrahub, checked, vm_program

PROVIDERS = [
    VirtualMachineProvider,
    VolumeProvider,
    SecurityRuleProvider,
    VolumeAttachmentProvider,
]


def pickled(provider: InfrahubProvider) -> bytes:
    """The provider exactly as `pulumi.dynamic.Resource` stores it."""
    return base64.b64decode(serialize_provider(provider))


def strings_in(blob: bytes) -> list[str]:
    return [arg for _, arg, _ in pickletools.genops(blob) if isinstance(arg, str)]


@pytest.mark.parametrize("cls", PROVIDERS)
def test_a_used_provider_pickles_as_a_bare_class_reference(
    infrahub: Infrahub, cls: type[InfrahubProvider]
) -> None:
    provider = infrahub.configure(cls())
    checked(VirtualMachineProvider(), vm_program())  # builds the shared client

    blob = pickled(provider)

    assert strings_in(blob) == [cls.__module__, cls.__qualname__]
    assert infrahub.emulator.api_key.encode() not in blob
    for word in (b"httpx", b"Client", b"lock", b"Lock", b"thread", b"api_key"):
        assert word not in blob
    assert len(blob) < 120


@pytest.mark.parametrize("cls", PROVIDERS)
def test_an_instance_attribute_never_travels(cls: type[InfrahubProvider]) -> None:
    provider = cls()
    provider.secret = "do-not-store"  # type: ignore[attr-defined]

    assert b"do-not-store" not in pickled(provider)


_RUN_IN_ANOTHER_PROCESS = """
import base64, json, sys
import dill
from pulumi.dynamic import Config, ConfigureRequest

job = json.loads(sys.stdin.read())
provider = dill.loads(base64.b64decode(job["blob"]))
provider.configure(ConfigureRequest(Config(job["config"], "quickstart")))
result = provider.check({}, job["news"])
assert not result.failures, [(f.property, f.reason) for f in result.failures]
created = provider.create(result.inputs)
read = provider.read(created.id, created.outs)
provider.delete(created.id, created.outs)
gone = provider.read(created.id, created.outs)
print(json.dumps({"id": created.id, "status": created.outs["status"],
                  "read": read.id, "gone": gone.id}))
"""


def test_a_provider_unpickled_in_another_process_creates_and_deletes(
    infrahub: Infrahub,
) -> None:
    job: dict[str, Any] = {
        "blob": serialize_provider(VirtualMachineProvider()),
        "config": {
            "infrahub:apiKey": infrahub.emulator.api_key,
            "infrahub:apiUrl": infrahub.emulator.base_url,
        },
        "news": {
            "name_prefix": "elsewhere",
            "environment_name": DEMO_ENVIRONMENT,
            "flavor_name": "n1-cpu-medium",
            "key_name": DEMO_KEYPAIR,
            "image_name": IMAGE,
        },
    }

    done = subprocess.run(
        [sys.executable, "-c", _RUN_IN_ANOTHER_PROCESS],
        input=json.dumps(job),
        capture_output=True,
        text=True,
        timeout=120,
        env={"PATH": "/usr/bin:/bin"},
    )

    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["status"] == "ACTIVE"
    assert result["read"] == result["id"]
    assert result["gone"] == ""
    assert infrahub.client.virtual_machines.get_all() == []
    assert infrahub.emulator.api_key not in done.stderr
