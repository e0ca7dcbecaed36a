"""Hyperstack (Infrahub API) infrastructure as Python programs run by Pulumi.

    import pulumi_infrahub as infrahub

    vm = infrahub.VirtualMachine(
        "train",
        environment_name="demo-environment",
        flavor_name="n3-A100x1",
        image_name="Ubuntu Server 22.04 LTS R535 CUDA 12.2",
        key_name="demo-keypair",
        assign_floating_ip=True,
    )

Settings come from the stack config (`pulumi config set --secret
infrahub:apiKey <key>`, `infrahub:apiUrl`) or from `INFRAHUB_API_KEY` /
`INFRAHUB_API_URL`.
"""

from pulumi_infrahub.lookups import (
    NotFoundInCatalogError,
    get_environment,
    get_flavor,
    get_flavors,
    get_images,
    get_keypair,
    get_regions,
    get_stock,
)
from pulumi_infrahub.resources import (
    SecurityRule,
    SecurityRuleArgs,
    VirtualMachine,
    VirtualMachineArgs,
    Volume,
    VolumeArgs,
    VolumeAttachment,
    VolumeAttachmentArgs,
)

__all__ = [
    "NotFoundInCatalogError",
    "SecurityRule",
    "SecurityRuleArgs",
    "VirtualMachine",
    "VirtualMachineArgs",
    "Volume",
    "VolumeArgs",
    "VolumeAttachment",
    "VolumeAttachmentArgs",
    "get_environment",
    "get_flavor",
    "get_flavors",
    "get_images",
    "get_keypair",
    "get_regions",
    "get_stock",
]
