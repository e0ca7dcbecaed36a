"""The policies inside the policy runtime's own servicer, configured like the engine."""

import json
from pathlib import Path

import pytest
from pulumi_policy import EnforcementLevel
from pulumi_policy.proxy import UNKNOWN_NUMBER_VALUE

from pulumi_infrahub.policy import (
    SECURITY_RULE,
    VIRTUAL_MACHINE,
    VOLUME,
    VOLUME_ATTACHMENT,
    all_policies,
)

from .harness import (
    PROVIDER_BLOB,
    USER_DATA,
    Analyzer,
    ForbiddenKeys,
    check_resource,
    check_stack,
    rule_props,
    runtime_props,
    urn_of,
    vm_props,
    volume_props,
)

EXAMPLE_CONFIG = json.loads(
    (Path(__file__).parents[2] / "examples/policy-pack/gpu-limits.json").read_text()
)
H100_X8 = {"flavor_name": "n3-H100x8", "gpu": "H100-80G-PCIe", "gpu_count": 8}


def by_policy(diagnostics):
    return {item.policy: item for item in diagnostics}


def test_example_config_blocks_a_large_h100_vm_with_mandatory_messages():
    analyzer = Analyzer()
    analyzer.configure(EXAMPLE_CONFIG)

    diagnostics, _ = analyzer.analyze(VIRTUAL_MACHINE, "big", vm_props(**H100_X8))

    found = by_policy(diagnostics)
    assert set(found) == {
        "infrahub-vm-allowed-flavors",
        "infrahub-vm-allowed-gpu-models",
        "infrahub-vm-max-gpus",
    }
    assert {item.level for item in diagnostics} == {"mandatory"}
    assert found["infrahub-vm-max-gpus"].message == (
        "Checks that no VM has more GPUs than maxGpusPerVm.\n"
        "VirtualMachine 'big' has 8 GPUs (flavor 'n3-H100x8'); the limit is 4 per "
        "VM (maxGpusPerVm). Choose a flavor with at most 4 GPUs, or raise "
        "maxGpusPerVm."
    )


def test_compliant_vm_gets_no_diagnostics_under_the_example_config():
    analyzer = Analyzer()
    analyzer.configure(EXAMPLE_CONFIG)

    diagnostics, _ = analyzer.analyze(VIRTUAL_MACHINE, "trainer", vm_props())

    assert diagnostics == []


def test_unknown_gpu_count_is_an_advisory_note_naming_the_value():
    analyzer = Analyzer()
    analyzer.configure(EXAMPLE_CONFIG)
    props = vm_props(gpu_count=UNKNOWN_NUMBER_VALUE)

    diagnostics, _ = analyzer.analyze(VIRTUAL_MACHINE, "later", props)

    [note] = diagnostics
    assert note.policy == "infrahub-vm-max-gpus"
    assert note.level == "advisory"
    assert note.message.startswith(
        "can't run policy 'infrahub-vm-max-gpus' from policy pack "
        "'infrahub@v0.1.0' during preview: gpu_count of VirtualMachine 'later' is "
        "not known"
    )


def test_policy_level_applies_without_config():
    diagnostics, _ = Analyzer().analyze(VIRTUAL_MACHINE, "huge", vm_props(gpu_count=16))

    assert by_policy(diagnostics)["infrahub-vm-max-gpus"].level == "mandatory"


def test_config_level_beats_the_policy_level():
    analyzer = Analyzer()
    analyzer.configure({"infrahub-vm-max-gpus": "advisory"})

    diagnostics, _ = analyzer.analyze(VIRTUAL_MACHINE, "huge", vm_props(gpu_count=16))

    assert by_policy(diagnostics)["infrahub-vm-max-gpus"].level == "advisory"


def test_policy_entry_beats_all_and_all_beats_the_policy_level():
    analyzer = Analyzer()
    analyzer.configure({"all": "advisory", "infrahub-vm-required-labels": "mandatory"})
    props = vm_props(gpu_count=16, labels=[])

    diagnostics, _ = analyzer.analyze(VIRTUAL_MACHINE, "huge", props)

    found = by_policy(diagnostics)
    assert found["infrahub-vm-max-gpus"].level == "advisory"
    assert found["infrahub-vm-required-labels"].level == "mandatory"


def test_labels_follow_the_pack_level():
    props = vm_props(labels=[])

    advisory, _ = Analyzer(EnforcementLevel.ADVISORY).analyze(
        VIRTUAL_MACHINE, "a", props
    )
    mandatory, _ = Analyzer(EnforcementLevel.MANDATORY).analyze(
        VIRTUAL_MACHINE, "a", props
    )

    assert by_policy(advisory)["infrahub-vm-required-labels"].level == "advisory"
    assert by_policy(mandatory)["infrahub-vm-required-labels"].level == "mandatory"


def test_disabled_policy_reports_nothing():
    analyzer = Analyzer()
    analyzer.configure({"infrahub-vm-max-gpus": "disabled"})

    diagnostics, _ = analyzer.analyze(VIRTUAL_MACHINE, "huge", vm_props(gpu_count=16))

    assert "infrahub-vm-max-gpus" not in by_policy(diagnostics)


def test_policies_for_other_kinds_are_not_applicable():
    _, not_applicable = Analyzer().analyze(VOLUME, "data", volume_props())

    assert set(not_applicable) == {
        "infrahub-vm-allowed-flavors",
        "infrahub-vm-allowed-gpu-models",
        "infrahub-vm-max-gpus",
        "infrahub-firewall-no-public-admin-ports",
        "infrahub-vm-required-labels",
    }


def test_volume_attachments_are_left_alone():
    props = {"virtual_machine_id": 1, "volume_ids": [2], "__provider": PROVIDER_BLOB}

    diagnostics, not_applicable = Analyzer().analyze(VOLUME_ATTACHMENT, "att", props)

    assert diagnostics == []
    resource_policies = [p.name for p in all_policies() if p.name.count("-stack-") == 0]
    assert sorted(not_applicable) == sorted(resource_policies)


def test_open_ssh_rule_is_mandatory_by_default():
    props = rule_props(remote_ip_prefix="0.0.0.0/0")

    diagnostics, _ = Analyzer().analyze(SECURITY_RULE, "ssh", props)

    [item] = diagnostics
    assert item.policy == "infrahub-firewall-no-public-admin-ports"
    assert item.level == "mandatory"
    assert (
        "SecurityRule 'ssh' opens port 22 (SSH) over tcp to 0.0.0.0/0" in item.message
    )


def test_stack_total_counts_unchanged_and_new_vms_alike():
    # During a preview an unchanged VM shows its stored outputs and a new one
    # its checked inputs; both carry gpu_count and both count.
    unchanged = vm_props(name="a", gpu_count=4, id="101", status="ACTIVE")
    new = vm_props(name="b", gpu_count=4)
    analyzer = Analyzer()
    analyzer.configure({"infrahub-stack-max-gpus": {"maxTotalGpus": 6}})

    diagnostics = analyzer.analyze_stack(
        [(VIRTUAL_MACHINE, "a", unchanged), (VIRTUAL_MACHINE, "b", new)]
    )

    [item] = diagnostics
    assert item.policy == "infrahub-stack-max-gpus"
    assert item.level == "mandatory"
    assert item.urn == ""
    assert "The stack has 8 GPUs ('a' 4 and 'b' 4); the limit is 6" in item.message


def test_stack_with_an_unknown_count_under_the_limit_is_an_advisory_note():
    analyzer = Analyzer()
    later = vm_props(gpu_count=UNKNOWN_NUMBER_VALUE)

    diagnostics = analyzer.analyze_stack(
        [(VIRTUAL_MACHINE, "a", vm_props()), (VIRTUAL_MACHINE, "later", later)]
    )

    [note] = diagnostics
    assert note.level == "advisory"
    assert "gpu_count of VirtualMachine 'later'" in note.message


def test_missing_stack_gpu_count_is_attached_to_that_vm():
    broken = vm_props()
    del broken["gpu_count"]

    diagnostics = Analyzer().analyze_stack([(VIRTUAL_MACHINE, "broken", broken)])

    [item] = diagnostics
    assert item.urn == urn_of(VIRTUAL_MACHINE, "broken")


def test_messages_never_carry_user_data_or_the_provider_blob():
    analyzer = Analyzer(EnforcementLevel.MANDATORY)
    analyzer.configure(EXAMPLE_CONFIG)
    props = vm_props(
        **H100_X8,
        region="US-1",
        labels=[],
        security_rules=[rule_props(remote_ip_prefix="0.0.0.0/0")],
    )

    diagnostics, _ = analyzer.analyze(VIRTUAL_MACHINE, "everything-wrong", props)
    stack = analyzer.analyze_stack([(VIRTUAL_MACHINE, "everything-wrong", props)])

    assert len(diagnostics) == 6
    for item in [*diagnostics, *stack]:
        assert USER_DATA not in item.message
        assert "do-not-print-me" not in item.message
        assert PROVIDER_BLOB not in item.message


def test_policies_never_read_user_data_or_the_provider_blob():
    props = vm_props(
        **H100_X8,
        region="US-1",
        labels=[],
        security_rules=[rule_props(remote_ip_prefix="0.0.0.0/0")],
    )

    def guard(proxy):
        return ForbiddenKeys(proxy, {"user_data", "__provider"})

    with pytest.raises(AssertionError, match="a policy read 'user_data'"):
        guard(runtime_props(props)).get("user_data")
    for policy in all_policies():
        if "-stack-" in policy.name:
            outcome = check_stack(policy, [(VIRTUAL_MACHINE, "x", props)], wrap=guard)
        else:
            outcome = check_resource(policy, props, wrap=guard)
        assert outcome.skipped is None
