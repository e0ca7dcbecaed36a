"""One GPU VM with a public IP, a data volume attached to it, and SSH open to
one address range.

Every setting has a default that works against the emulator's demo tenant;
change one with `pulumi config set <key> <value>`:

- `sshCidr`: who may reach port 22 (default 203.0.113.0/24, a documentation
  range: set your own address, e.g. `$(curl -s ifconfig.me)/32`)
- `flavor`, `image`, `environment`, `keypair`: what to run, and where
- `volumeSize`: the data volume in GB
- `labels`: a JSON list of `key=value` texts, e.g. `'["owner=me"]'`
- `powerState`: ACTIVE, SHUTOFF or HIBERNATED
- `vmName`: a fixed VM name; left out, Pulumi picks a unique one
"""

import pulumi

import pulumi_infrahub as infrahub

config = pulumi.Config()
environment = config.get("environment") or "demo-environment"
flavor = config.get("flavor") or "n3-A100x1"
image = config.get("image") or "Ubuntu Server 22.04 LTS R535 CUDA 12.2"
keypair = config.get("keypair") or "demo-keypair"
ssh_cidr = config.get("sshCidr") or "203.0.113.0/24"
volume_size = config.get_int("volumeSize", 200)
labels = config.get_object("labels") or ["owner=ml-platform", "team=research"]

vm = infrahub.VirtualMachine(
    "gpu-box",
    name=config.get("vmName"),
    environment_name=environment,
    flavor_name=flavor,
    image_name=image,
    key_name=keypair,
    assign_floating_ip=True,
    labels=labels,
    power_state=config.get("powerState") or "ACTIVE",
)

data = infrahub.Volume(
    "data",
    environment_name=environment,
    size=volume_size,
    description="datasets and checkpoints",
)

attachment = infrahub.VolumeAttachment(
    "data-attachment",
    virtual_machine_id=vm.id,
    volume_id=data.id,
)

ssh = infrahub.SecurityRule(
    "ssh",
    virtual_machine_id=vm.id,
    direction="ingress",
    protocol="tcp",
    remote_ip_prefix=ssh_cidr,
    port_range_min=22,
    port_range_max=22,
)

pulumi.export("vm_id", vm.id)
pulumi.export("vm_name", vm.name)
pulumi.export("flavor", vm.flavor_name)
pulumi.export("gpu", pulumi.Output.concat(vm.gpu_count.apply(str), " x ", vm.gpu))
pulumi.export("public_ip", vm.floating_ip)
pulumi.export("ssh", pulumi.Output.concat("ssh ubuntu@", vm.floating_ip))
pulumi.export("volume_id", data.id)
pulumi.export("volume_device", attachment.device)
pulumi.export("ssh_rule_id", ssh.id)
