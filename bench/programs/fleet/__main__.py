"""The benchmark fleet: N GPU VMs, each with a public IP, a data volume
attached to it and two firewall rules, so five resources per VM.

Stack config (project namespace):

- `size`: N, the number of VMs (default 8).
- `prefix`: start of every object's name (default `fleet`); VM i is
  `<prefix>-vm-<i>`, its volume `<prefix>-data-<i>`.
- `round`: a label value on every VM; changing it is an in-place update.
- `shards`: 0 (default) puts every resource on the default dynamic provider;
  K > 0 spreads the fleet over K explicit `pulumi-python` providers, one
  provider process each, VM i and its resources on shard i mod K.
- `api`: `infrahub` (default), or `none` for the same graph of resources
  whose provider makes no API call, the yardstick of the preview benchmark.
"""

from __future__ import annotations

import uuid
from typing import Any

import pulumi
from pulumi import dynamic

import pulumi_infrahub as infrahub

ENVIRONMENT = "demo-environment"
FLAVOR = "n3-A100x1"
IMAGE = "Ubuntu Server 22.04 LTS R535 CUDA 12.2"
KEYPAIR = "demo-keypair"

config = pulumi.Config()
size = config.get_int("size") or 8
prefix = config.get("prefix") or "fleet"
round_label = config.get("round") or "0"
shard_count = config.get_int("shards") or 0
api = config.get("api") or "infrahub"


# -- the yardstick: the same graph, no API -----------------------------------


class NoApiProvider(dynamic.ResourceProvider):
    """Accepts every input as it is and remembers nothing but an id."""

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> dynamic.CheckResult:
        return dynamic.CheckResult(news, [])

    def diff(
        self, _id: str, _olds: dict[str, Any], _news: dict[str, Any]
    ) -> dynamic.DiffResult:
        return dynamic.DiffResult(changes=None)

    def create(self, props: dict[str, Any]) -> dynamic.CreateResult:
        return dynamic.CreateResult(str(uuid.uuid4().int % 10**9), props)

    def update(
        self, _id: str, _olds: dict[str, Any], news: dict[str, Any]
    ) -> dynamic.UpdateResult:
        return dynamic.UpdateResult(news)


class NoApiResource(dynamic.Resource):
    def __init__(
        self, name: str, props: dict[str, Any], opts: pulumi.ResourceOptions
    ) -> None:
        super().__init__(NoApiProvider(), name, props, opts)


# -- placement on providers ------------------------------------------------

shards: list[pulumi.ProviderResource] = []
if shard_count > 0:
    # An explicit provider gets only its own properties in configure(), not
    # the stack config: hand it the two settings the resources read.
    infrahub_config = pulumi.Config("infrahub")
    shard_props = {
        "infrahub:apiUrl": infrahub_config.require("apiUrl"),
        "infrahub:apiKey": infrahub_config.require_secret("apiKey"),
    }
    shards = [
        pulumi.ProviderResource("pulumi-python", f"shard-{k}", shard_props)
        for k in range(shard_count)
    ]


def placed(index: int, **options: Any) -> pulumi.ResourceOptions:
    provider = shards[index % len(shards)] if shards else None
    return pulumi.ResourceOptions(provider=provider, **options)


# -- the fleet ---------------------------------------------------------------

RULES = (
    ("ssh", "tcp", 22, "203.0.113.0/24"),
    ("metrics", "tcp", 9100, "10.0.0.0/8"),
)


def rule_props(protocol: str, port: int, cidr: str) -> dict[str, Any]:
    return {
        "direction": "ingress",
        "protocol": protocol,
        "remote_ip_prefix": cidr,
        "port_range_min": port,
        "port_range_max": port,
    }


def no_api_unit(i: int, vm_name: str, volume_name: str) -> pulumi.Output[str]:
    vm = NoApiResource(
        f"vm-{i}",
        {
            "name": vm_name,
            "environment_name": ENVIRONMENT,
            "flavor_name": FLAVOR,
            "image_name": IMAGE,
            "key_name": KEYPAIR,
            "assign_floating_ip": True,
            "labels": [f"fleet={prefix}", f"round={round_label}"],
        },
        placed(i),
    )
    volume = NoApiResource(
        f"data-{i}",
        {"name": volume_name, "environment_name": ENVIRONMENT, "size": 100},
        placed(i),
    )
    NoApiResource(
        f"attach-{i}", {"virtual_machine_id": vm.id, "volume_id": volume.id}, placed(i)
    )
    for rule, protocol, port, cidr in RULES:
        NoApiResource(
            f"{rule}-{i}",
            {"virtual_machine_id": vm.id, **rule_props(protocol, port, cidr)},
            placed(i),
        )
    return vm.id


def infrahub_unit(i: int, vm_name: str, volume_name: str) -> pulumi.Output[str]:
    vm = infrahub.VirtualMachine(
        f"vm-{i}",
        name=vm_name,
        environment_name=ENVIRONMENT,
        flavor_name=FLAVOR,
        image_name=IMAGE,
        key_name=KEYPAIR,
        assign_floating_ip=True,
        labels=[f"fleet={prefix}", f"round={round_label}"],
        opts=placed(i),
    )
    volume = infrahub.Volume(
        f"data-{i}",
        name=volume_name,
        environment_name=ENVIRONMENT,
        size=100,
        opts=placed(i),
    )
    infrahub.VolumeAttachment(
        f"attach-{i}", virtual_machine_id=vm.id, volume_id=volume.id, opts=placed(i)
    )
    for rule, protocol, port, cidr in RULES:
        infrahub.SecurityRule(
            f"{rule}-{i}",
            virtual_machine_id=vm.id,
            **rule_props(protocol, port, cidr),
            opts=placed(i),
        )
    return vm.id


unit = no_api_unit if api == "none" else infrahub_unit
pulumi.export(
    "vm_ids",
    [unit(i, f"{prefix}-vm-{i:02d}", f"{prefix}-data-{i:02d}") for i in range(size)],
)
