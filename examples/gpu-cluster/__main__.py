"""A GPU cluster: `nodes` VMs of one flavor chosen from the live catalog,
each with a scratch volume attached, all behind the same firewall rules.

The flavor is the smallest one in the environment's region that has the
wanted GPU model, at least `gpusPerNode` GPUs and stock right now, so the
program asks for what can actually be had instead of failing half way.
The first node is the head: it gets the public IP, and the others are
reached through it (`ssh -J`).

Config (`pulumi config set <key> <value>`), with defaults for the emulator's
demo tenant:

- `nodes` (2), `gpuModel` ("A100", matched as part of the model name),
  `gpusPerNode` (1), `scratchSize` in GB (500)
- `adminCidr` (203.0.113.0/24): who may reach the nodes over SSH (only
  the head has a public address)
- `clusterCidr` (10.0.0.0/8): the private network the nodes talk over
- `environment`, `image`, `keypair`, `owner`
"""

import pulumi

import pulumi_infrahub as infrahub

config = pulumi.Config()
node_count = config.get_int("nodes", 2)
gpu_model = config.get("gpuModel") or "A100"
gpus_per_node = config.get_int("gpusPerNode", 1)
scratch_size = config.get_int("scratchSize", 500)
admin_cidr = config.get("adminCidr") or "203.0.113.0/24"
cluster_cidr = config.get("clusterCidr") or "10.0.0.0/8"
environment_name = config.get("environment") or "demo-environment"
image = config.get("image") or "Ubuntu Server 22.04 LTS R535 CUDA 12.2 with Docker"
keypair = config.get("keypair") or "demo-keypair"
owner = config.get("owner") or "ml-platform"

# RunError stops the program with its message alone, without a traceback.
if node_count < 1:
    raise pulumi.RunError(f"nodes is {node_count}; set it to 1 or more.")
if gpus_per_node < 1:
    raise pulumi.RunError(f"gpusPerNode is {gpus_per_node}; set it to 1 or more.")

environment = infrahub.get_environment(environment_name)
candidates = infrahub.get_flavors(
    region=environment.region,
    gpu=gpu_model,
    min_gpu_count=gpus_per_node,
    in_stock=True,
)
if not candidates:
    raise pulumi.RunError(
        f"No flavor in {environment.region} has {gpus_per_node}+ {gpu_model} GPUs "
        "in stock; change gpuModel, gpusPerNode or environment "
        "(get_flavors() and get_stock() show what there is)."
    )
flavor = candidates[0]

# Applied to every node: SSH from the admins, and everything between the
# nodes themselves (NCCL, MPI and the job scheduler pick their own ports).
shared_rules = [
    {
        "direction": "ingress",
        "protocol": "tcp",
        "remote_ip_prefix": admin_cidr,
        "port_range_min": 22,
        "port_range_max": 22,
    },
    {
        "direction": "ingress",
        "protocol": "tcp",
        "remote_ip_prefix": cluster_cidr,
        "port_range_min": 1,
        "port_range_max": 65535,
    },
    {"direction": "ingress", "protocol": "icmp", "remote_ip_prefix": cluster_cidr},
]

stack = pulumi.get_stack()
nodes = []
for index in range(node_count):
    role = "head" if index == 0 else "worker"
    node = infrahub.VirtualMachine(
        f"node-{index}",
        environment_name=environment.name,
        flavor_name=flavor.name,
        image_name=image,
        key_name=keypair,
        assign_floating_ip=index == 0,
        labels=[f"owner={owner}", f"cluster={stack}", f"role={role}"],
        security_rules=shared_rules,
    )
    scratch = infrahub.Volume(
        f"node-{index}-scratch",
        environment_name=environment.name,
        size=scratch_size,
        description=f"scratch space of node-{index}",
    )
    infrahub.VolumeAttachment(
        f"node-{index}-scratch-attachment",
        virtual_machine_id=node.id,
        volume_id=scratch.id,
    )
    nodes.append(node)

head = nodes[0]
pulumi.export("flavor", flavor.name)
pulumi.export("gpus", (flavor.gpu_count or 0) * node_count)
pulumi.export("head_ip", head.floating_ip)
pulumi.export("private_ips", [node.fixed_ip for node in nodes])
pulumi.export(
    "ssh",
    [
        pulumi.Output.concat("ssh ubuntu@", head.floating_ip)
        if node is head
        else pulumi.Output.concat(
            "ssh -J ubuntu@", head.floating_ip, " ubuntu@", node.fixed_ip
        )
        for node in nodes
    ],
)
