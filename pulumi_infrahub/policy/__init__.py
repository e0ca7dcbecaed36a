"""Reusable pulumi-policy policies that hold stacks to flavor and GPU limits.

Importing this package starts nothing; a policy pack's `__main__.py` builds
the pack:

```python
from pulumi_policy import EnforcementLevel, PolicyPack

from pulumi_infrahub.policy import all_policies

PolicyPack("infrahub", all_policies(), EnforcementLevel.ADVISORY)
```

Each policy has a config schema whose defaults work without any config, and
its own enforcement level (`required_labels` has none and follows the pack's).
A level given in `--policy-pack-config` wins over the policy's, which wins
over the pack's.

Resource policies see a resource's inputs after the provider's `check`;
stack policies see every resource's outputs. A value a policy needs but that
is not known during preview makes it report what it can prove, then skip the
rest with an advisory note that names the value.
"""

from pulumi_policy import Policy

from ._support import (
    SECURITY_RULE,
    VIRTUAL_MACHINE,
    VOLUME,
    VOLUME_ATTACHMENT,
    PolicyConfigError,
    UnknownInputError,
)
from .compute import (
    ALLOWED_FLAVORS,
    ALLOWED_GPU_MODELS,
    MAX_GPUS_PER_VM,
    REQUIRED_LABELS,
    allowed_flavors,
    allowed_gpu_models,
    max_gpus_per_vm,
    required_labels,
)
from .network import NO_PUBLIC_ADMIN_PORTS, no_public_admin_ports
from .placement import ALLOWED_LOCATIONS, allowed_locations
from .stack import MAX_STACK_GPUS, MAX_STACK_VMS, max_stack_gpus, max_stack_vms
from .storage import MAX_VOLUME_SIZE, max_volume_size

__all__ = [
    "ALLOWED_FLAVORS",
    "ALLOWED_GPU_MODELS",
    "ALLOWED_LOCATIONS",
    "MAX_GPUS_PER_VM",
    "MAX_STACK_GPUS",
    "MAX_STACK_VMS",
    "MAX_VOLUME_SIZE",
    "NO_PUBLIC_ADMIN_PORTS",
    "REQUIRED_LABELS",
    "SECURITY_RULE",
    "VIRTUAL_MACHINE",
    "VOLUME",
    "VOLUME_ATTACHMENT",
    "PolicyConfigError",
    "UnknownInputError",
    "all_policies",
    "allowed_flavors",
    "allowed_gpu_models",
    "allowed_locations",
    "max_gpus_per_vm",
    "max_stack_gpus",
    "max_stack_vms",
    "max_volume_size",
    "no_public_admin_ports",
    "required_labels",
]


def all_policies() -> list[Policy]:
    """Every infrahub policy, in the order a preview lists them."""
    return [
        allowed_flavors,
        allowed_gpu_models,
        max_gpus_per_vm,
        allowed_locations,
        no_public_admin_ports,
        max_volume_size,
        required_labels,
        max_stack_gpus,
        max_stack_vms,
    ]
