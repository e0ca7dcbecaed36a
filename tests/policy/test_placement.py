from pulumi_policy.proxy import UNKNOWN_STRING_VALUE

from pulumi_infrahub.policy import SECURITY_RULE, VOLUME, allowed_locations

from .harness import check_resource, rule_props, vm_props, volume_props

LIMITED = {
    "allowedRegions": ["CANADA-1", "NORWAY-*"],
    "allowedEnvironments": ["research-*"],
}


def test_every_location_passes_with_the_default_config():
    props = vm_props(region="US-1", environment_name="anything")

    outcome = check_resource(allowed_locations, props)

    assert outcome.violations == []
    assert outcome.skipped is None


def test_vm_in_an_allowed_region_and_environment_passes():
    outcome = check_resource(allowed_locations, vm_props(), config=LIMITED)

    assert outcome.violations == []


def test_vm_in_another_region_is_a_violation():
    props = vm_props(region="US-1", environment_name="research-us")

    outcome = check_resource(allowed_locations, props, config=LIMITED)

    [message] = outcome.violations
    assert message.startswith("VirtualMachine 'trainer' is in region 'US-1'")
    assert "allowedRegions ('CANADA-1', 'NORWAY-*')" in message


def test_volume_in_another_environment_is_a_violation():
    props = volume_props(environment_name="prod-ca")

    outcome = check_resource(
        allowed_locations, props, resource_type=VOLUME, name="data", config=LIMITED
    )

    [message] = outcome.violations
    assert message.startswith("Volume 'data' is in environment 'prod-ca'")
    assert "allowedEnvironments ('research-*')" in message


def test_region_and_environment_are_reported_separately():
    props = vm_props(region="US-1", environment_name="prod-us")

    outcome = check_resource(allowed_locations, props, config=LIMITED)

    assert len(outcome.violations) == 2


def test_unknown_region_still_checks_the_environment():
    props = vm_props(region=UNKNOWN_STRING_VALUE, environment_name="prod-ca")

    outcome = check_resource(allowed_locations, props, config=LIMITED)

    [message] = outcome.violations
    assert "environment 'prod-ca'" in message
    assert outcome.skipped is not None
    assert outcome.skipped.startswith("region of VirtualMachine 'trainer'")


def test_missing_region_is_a_violation_when_regions_are_limited():
    props = vm_props()
    del props["region"]

    outcome = check_resource(allowed_locations, props, config=LIMITED)

    [message] = outcome.violations
    assert "has no region" in message


def test_location_policy_does_not_apply_to_firewall_rules():
    outcome = check_resource(
        allowed_locations, rule_props(), resource_type=SECURITY_RULE, config=LIMITED
    )

    assert (
        outcome.not_applicable == "applies to VirtualMachine or Volume resources only"
    )
