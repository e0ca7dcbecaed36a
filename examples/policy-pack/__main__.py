"""The infrahub policy pack: every policy of `pulumi_infrahub.policy`.

The Pulumi engine runs this file for `--policy-pack examples/policy-pack`.
Building the pack starts its server and blocks, so nothing else belongs here;
tests import the policies from `pulumi_infrahub.policy` instead.
"""

from pulumi_policy import EnforcementLevel, PolicyPack

from pulumi_infrahub.policy import all_policies

PolicyPack(
    name="infrahub",
    policies=all_policies(),
    # Only policies without a level of their own follow this one.
    enforcement_level=EnforcementLevel.ADVISORY,
    description=(
        "Holds Hyperstack stacks to flavor, GPU, location, firewall, volume "
        "and label limits."
    ),
)
