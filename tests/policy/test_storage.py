from pulumi_policy.proxy import UNKNOWN_NUMBER_VALUE

from pulumi_infrahub.policy import VIRTUAL_MACHINE, VOLUME, max_volume_size

from .harness import check_resource, vm_props, volume_props


def test_volume_within_the_limit_passes():
    outcome = check_resource(
        max_volume_size,
        volume_props(size=200),
        resource_type=VOLUME,
        config={"maxSizeGb": 200},
    )

    assert outcome.violations == []


def test_volume_over_the_limit_is_a_violation():
    outcome = check_resource(
        max_volume_size,
        volume_props(size=2000.0),
        resource_type=VOLUME,
        name="datasets",
        config={"maxSizeGb": 500.0},
    )

    [message] = outcome.violations
    assert message == (
        "Volume 'datasets' has size 2000 GB; the limit is 500 GB (maxSizeGb). "
        "Choose at most 500 GB, split the data over several volumes, or raise "
        "maxSizeGb."
    )


def test_default_volume_limit_is_1024_gb():
    at_limit = volume_props(size=1024)
    over = volume_props(size=1025)

    assert (
        check_resource(max_volume_size, at_limit, resource_type=VOLUME).violations == []
    )
    assert (
        len(check_resource(max_volume_size, over, resource_type=VOLUME).violations) == 1
    )


def test_unknown_size_skips_the_check():
    outcome = check_resource(
        max_volume_size,
        volume_props(size=UNKNOWN_NUMBER_VALUE),
        resource_type=VOLUME,
        name="scratch",
    )

    assert outcome.violations == []
    assert outcome.skipped is not None
    assert outcome.skipped.startswith("size of Volume 'scratch'")


def test_missing_size_is_a_violation():
    props = volume_props()
    del props["size"]

    outcome = check_resource(max_volume_size, props, resource_type=VOLUME)

    [message] = outcome.violations
    assert "has no size instead of a number of GB" in message


def test_volume_policy_does_not_apply_to_vms():
    outcome = check_resource(max_volume_size, vm_props(), resource_type=VIRTUAL_MACHINE)

    assert outcome.not_applicable == "applies to Volume resources only"
