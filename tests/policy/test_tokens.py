import pytest

from pulumi_infrahub.policy import (
    SECURITY_RULE,
    VIRTUAL_MACHINE,
    VOLUME,
    VOLUME_ATTACHMENT,
)
from pulumi_infrahub.resources import (
    SecurityRule,
    VirtualMachine,
    Volume,
    VolumeAttachment,
)


@pytest.mark.parametrize(
    ("resource", "token"),
    [
        (VirtualMachine, VIRTUAL_MACHINE),
        (Volume, VOLUME),
        (SecurityRule, SECURITY_RULE),
        (VolumeAttachment, VOLUME_ATTACHMENT),
    ],
)
def test_policy_type_tokens_match_the_resource_classes(resource, token):
    # The dynamic resource's class keywords store the token's tail here; the
    # engine puts the Python dynamic provider's package in front.
    assert f"pulumi-python:{resource._resource_type_name}" == token
