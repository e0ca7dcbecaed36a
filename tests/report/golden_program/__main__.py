"""The stack the preview-report goldens are previewed from.

`scenario` (stack config) picks a variant of one small GPU stack. The golden
generator deploys `base`, then previews every other variant against it, so
each preview shows one kind of change: none, an in-place update, a
replacement, creates and deletes, a policy violation, a secret input, a
failure, and a stack too large for one comment.
"""

import pulumi

from pulumi_infrahub.resources import (
    SecurityRule,
    VirtualMachine,
    Volume,
    VolumeAttachment,
)

ENVIRONMENT = "demo-environment"
KEYPAIR = "demo-keypair"
IMAGE = "Ubuntu Server 22.04 LTS R535 CUDA 12.2"
# Reports must never show this, whatever form the CLI writes it in.
SECRET_SENTINEL = "golden-sentinel-6c1f92"
LARGE_FLEET = 150

scenario = pulumi.Config().get("scenario") or "base"


# Each VM waits for the one before it, so the emulator hands out the same ids
# on every run and regenerated goldens differ only where something changed.
_previous: list[pulumi.Resource] = []


def vm(name: str, flavor: str, labels: list[str], **extra: object) -> VirtualMachine:
    made = VirtualMachine(
        name,
        name=f"golden-{name}",
        environment_name=ENVIRONMENT,
        key_name=KEYPAIR,
        image_name=IMAGE,
        flavor_name=flavor,
        labels=labels,
        opts=pulumi.ResourceOptions(depends_on=_previous[-1:]),
        **extra,
    )
    _previous.append(made)
    return made


web_labels = ["owner=ops", "team=web"]
if scenario == "update":
    web_labels = ["owner=platform", "team=web", "tier=gold"]
web_extra: dict[str, object] = {}
if scenario == "secret":
    web_extra["user_data"] = f"#cloud-config\n# {SECRET_SENTINEL}\n"
web = vm("web", "n1-cpu-small", web_labels, **web_extra)

trainer_flavor = {"replace": "n3-A100x2", "failed": "n3-A100x3"}.get(
    scenario, "n3-A100x1"
)
trainer = vm("trainer", trainer_flavor, ["owner=ml", "team=research"])

if scenario != "create-delete":
    vm("batch", "n3-L40x2", ["owner=ml", "team=batch"])

data = Volume("data", name="golden-data", environment_name=ENVIRONMENT, size=200)
VolumeAttachment("data-on-trainer", virtual_machine_id=trainer.id, volume_id=data.id)
SecurityRule(
    "web-https",
    virtual_machine_id=web.id,
    direction="ingress",
    protocol="tcp",
    remote_ip_prefix="0.0.0.0/0",
    port_range_min=443,
    port_range_max=443,
)

if scenario == "create-delete":
    vm("extra", "n3-A100x1", ["owner=ml", "team=research"])
    Volume("scratch", name="golden-scratch", environment_name=ENVIRONMENT, size=100)

if scenario == "policy":
    # Breaks the example pack's flavor, GPU model and GPU count limits, and
    # carries no labels, which it only advises against.
    vm("big", "n3-H100x8", [])

if scenario == "secret":
    vm(
        "init",
        "n1-cpu-small",
        ["owner=ops", "team=web"],
        user_data=pulumi.Output.secret(f"#cloud-config\n# {SECRET_SENTINEL}\n"),
    )

if scenario == "large":
    for number in range(LARGE_FLEET):
        vm(
            f"fleet-{number:03d}",
            "n1-cpu-small",
            ["owner=ops", "team=fleet", f"shard={number % 7}"],
        )

pulumi.export("web_ip", web.fixed_ip)
