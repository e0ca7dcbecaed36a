"""The Pulumi resources: VirtualMachine, Volume, SecurityRule and
VolumeAttachment, each with its `...Args` and the dynamic provider behind it.
"""

from pulumi_infrahub.resources.security_rule import (
    SecurityRule,
    SecurityRuleArgs,
    SecurityRuleProvider,
)
from pulumi_infrahub.resources.virtual_machine import (
    VirtualMachine,
    VirtualMachineArgs,
    VirtualMachineProvider,
)
from pulumi_infrahub.resources.volume import Volume, VolumeArgs, VolumeProvider
from pulumi_infrahub.resources.volume_attachment import (
    VolumeAttachment,
    VolumeAttachmentArgs,
    VolumeAttachmentProvider,
)

__all__ = [
    "SecurityRule",
    "SecurityRuleArgs",
    "SecurityRuleProvider",
    "VirtualMachine",
    "VirtualMachineArgs",
    "VirtualMachineProvider",
    "Volume",
    "VolumeArgs",
    "VolumeAttachment",
    "VolumeAttachmentArgs",
    "VolumeAttachmentProvider",
    "VolumeProvider",
]
