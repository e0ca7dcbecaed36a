"""Takes over a VM made outside Pulumi (config `adoptId`), describing it as
it is: the first `up` records it, and nothing about it changes."""

import pulumi

import pulumi_infrahub as infrahub

config = pulumi.Config()

vm = infrahub.VirtualMachine(
    "trainer",
    adopt_id=config.require_int("adoptId"),
    environment_name="demo-environment",
    flavor_name="n3-L40x1",
    image_name="Ubuntu Server 22.04 LTS R535 CUDA 12.2",
    key_name="demo-keypair",
    assign_floating_ip=True,
    labels=["owner=ml-platform"],
)

pulumi.export("vm_id", vm.id)
pulumi.export("vm_name", vm.name)
