from pulumi_policy.proxy import UNKNOWN_NUMBER_VALUE

from pulumi_infrahub.policy import (
    VIRTUAL_MACHINE,
    VOLUME,
    max_stack_gpus,
    max_stack_vms,
)

from .harness import check_stack, urn_of, vm_props, volume_props


def vm(name, gpu_count, **props):
    return (VIRTUAL_MACHINE, name, vm_props(name=name, gpu_count=gpu_count, **props))


def test_stack_within_the_gpu_limit_passes():
    stack = [vm("a", 4), vm("b", 4)]

    outcome = check_stack(max_stack_gpus, stack, config={"maxTotalGpus": 8})

    assert outcome.violations == []
    assert outcome.skipped is None


def test_stack_over_the_gpu_limit_names_each_vm_and_the_limit():
    stack = [vm("eval", 1), vm("trainer", 8), vm("cpu", 0, gpu=""), vm("dev", 1)]

    outcome = check_stack(max_stack_gpus, stack, config={"maxTotalGpus": 8})

    [message] = outcome.violations
    assert message == (
        "The stack has 10 GPUs ('trainer' 8, 'dev' 1 and 'eval' 1); the limit is 8 "
        "(maxTotalGpus). Remove VMs or choose flavors with fewer GPUs, or raise "
        "maxTotalGpus."
    )
    assert outcome.urns == [None]


def test_stack_gpu_total_counts_float_counts_as_whole_numbers():
    stack = [vm("a", 2.0), vm("b", 3.0)]

    outcome = check_stack(max_stack_gpus, stack, config={"maxTotalGpus": 4.0})

    [message] = outcome.violations
    assert "The stack has 5 GPUs" in message
    assert "the limit is 4 " in message


def test_default_stack_gpu_limit_is_eight():
    assert check_stack(max_stack_gpus, [vm("a", 8)]).violations == []
    assert len(check_stack(max_stack_gpus, [vm("a", 8), vm("b", 1)]).violations) == 1


def test_stack_gpu_total_ignores_other_resources():
    stack = [vm("a", 8), (VOLUME, "data", volume_props(gpu_count=8))]

    outcome = check_stack(max_stack_gpus, stack, config={"maxTotalGpus": 8})

    assert outcome.violations == []


def test_unknown_count_is_skipped_when_the_known_ones_fit():
    stack = [vm("a", 4), vm("later", UNKNOWN_NUMBER_VALUE)]

    outcome = check_stack(max_stack_gpus, stack, config={"maxTotalGpus": 8})

    assert outcome.violations == []
    assert outcome.skipped is not None
    assert outcome.skipped.startswith("gpu_count of VirtualMachine 'later' is not")


def test_known_counts_over_the_limit_fail_whatever_the_unknown_ones():
    stack = [vm("a", 8), vm("b", 2), vm("later", UNKNOWN_NUMBER_VALUE)]

    outcome = check_stack(max_stack_gpus, stack, config={"maxTotalGpus": 8})

    [message] = outcome.violations
    assert "The stack has 10 GPUs" in message
    assert "That leaves out 1 VM whose GPU count is not known yet." in message
    assert outcome.skipped is None


def test_missing_gpu_count_is_a_violation_on_that_vm():
    broken = vm("broken", 0)
    del broken[2]["gpu_count"]

    outcome = check_stack(max_stack_gpus, [vm("a", 1), broken])

    [message] = outcome.violations
    assert message.startswith("VirtualMachine 'broken' has no gpu_count")
    assert outcome.urns == [urn_of(VIRTUAL_MACHINE, "broken")]


def test_long_stacks_are_listed_in_part():
    stack = [vm(f"node-{index:02}", 1) for index in range(12)]

    outcome = check_stack(max_stack_gpus, stack, config={"maxTotalGpus": 8})

    [message] = outcome.violations
    assert "'node-09' 1 and 2 more)" in message
    assert "'node-10'" not in message


def test_stack_within_the_vm_limit_passes():
    stack = [vm("a", 1), vm("b", 1)]

    outcome = check_stack(max_stack_vms, stack, config={"maxVms": 2})

    assert outcome.violations == []


def test_stack_over_the_vm_limit_names_the_vms_and_the_limit():
    stack = [vm("b", 1), vm("a", 0, gpu=""), vm("c", 1), (VOLUME, "d", volume_props())]

    outcome = check_stack(max_stack_vms, stack, config={"maxVms": 2.0})

    [message] = outcome.violations
    assert message == (
        "The stack has 3 VMs ('a', 'b' and 'c'); the limit is 2 (maxVms). "
        "Remove VMs, or raise maxVms."
    )


def test_vm_count_does_not_need_known_gpu_counts():
    stack = [vm("a", UNKNOWN_NUMBER_VALUE), vm("b", UNKNOWN_NUMBER_VALUE)]

    outcome = check_stack(max_stack_vms, stack, config={"maxVms": 1})

    assert len(outcome.violations) == 1
    assert outcome.skipped is None
