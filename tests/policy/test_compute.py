from pulumi_policy.proxy import (
    UNKNOWN_ARRAY_VALUE,
    UNKNOWN_NUMBER_VALUE,
    UNKNOWN_STRING_VALUE,
)

from pulumi_infrahub.policy import (
    VOLUME,
    allowed_flavors,
    allowed_gpu_models,
    max_gpus_per_vm,
    required_labels,
)

from .harness import check_resource, vm_props, volume_props

H100_X8 = {"flavor_name": "n3-H100x8", "gpu": "H100-80G-PCIe", "gpu_count": 8}
CPU_ONLY = {"flavor_name": "n1-cpu-medium", "gpu": "", "gpu_count": 0}


# allowed flavors


def test_any_flavor_passes_with_the_default_config():
    outcome = check_resource(allowed_flavors, vm_props(**H100_X8))

    assert outcome.violations == []
    assert outcome.skipped is None


def test_flavor_matching_an_allowed_pattern_passes():
    config = {"allowedFlavors": ["n3-A100x*", "n3-L40x1"]}

    outcome = check_resource(allowed_flavors, vm_props(), config=config)

    assert outcome.violations == []


def test_flavor_patterns_ignore_case():
    config = {"allowedFlavors": ["N3-a100X*"]}

    outcome = check_resource(allowed_flavors, vm_props(), config=config)

    assert outcome.violations == []


def test_flavor_outside_the_allowed_patterns_is_a_violation():
    config = {"allowedFlavors": ["n3-A100x*", "n3-L40x1"]}

    outcome = check_resource(
        allowed_flavors, vm_props(**H100_X8), name="big", config=config
    )

    [message] = outcome.violations
    assert message.startswith("VirtualMachine 'big' uses flavor 'n3-H100x8'")
    assert "allowedFlavors ('n3-A100x*', 'n3-L40x1')" in message
    assert "Choose a flavor that matches" in message


def test_denied_flavor_wins_over_allowed_patterns():
    config = {"allowedFlavors": ["*"], "deniedFlavors": ["n3-H100*"]}

    outcome = check_resource(allowed_flavors, vm_props(**H100_X8), config=config)

    [message] = outcome.violations
    assert "matches 'n3-H100*' in deniedFlavors" in message


def test_unknown_flavor_skips_the_check_and_names_the_value():
    config = {"allowedFlavors": ["n3-A100x*"]}
    props = vm_props(flavor_name=UNKNOWN_STRING_VALUE)

    outcome = check_resource(allowed_flavors, props, name="gpu-a", config=config)

    assert outcome.violations == []
    assert outcome.skipped is not None
    assert outcome.skipped.startswith("flavor_name of VirtualMachine 'gpu-a'")
    assert "pulumi up" in outcome.skipped


def test_unknown_flavor_is_not_read_when_every_flavor_is_allowed():
    props = vm_props(flavor_name=UNKNOWN_STRING_VALUE)

    outcome = check_resource(allowed_flavors, props)

    assert outcome.skipped is None
    assert outcome.violations == []


def test_missing_flavor_is_a_violation_when_flavors_are_limited():
    props = vm_props()
    del props["flavor_name"]

    outcome = check_resource(
        allowed_flavors, props, config={"allowedFlavors": ["n3-A100x*"]}
    )

    [message] = outcome.violations
    assert "has no flavor_name" in message


def test_flavor_policy_does_not_apply_to_volumes():
    outcome = check_resource(allowed_flavors, volume_props(), resource_type=VOLUME)

    assert outcome.not_applicable == "applies to VirtualMachine resources only"
    assert outcome.violations == []


# allowed GPU models


def test_gpu_model_outside_the_allowed_patterns_is_a_violation():
    config = {"allowedGpuModels": ["A100*", "L40"]}

    outcome = check_resource(allowed_gpu_models, vm_props(**H100_X8), config=config)

    [message] = outcome.violations
    assert message.startswith(
        "VirtualMachine 'trainer' has GPU model 'H100-80G-PCIe' (flavor 'n3-H100x8')"
    )
    assert "allowedGpuModels ('A100*', 'L40')" in message


def test_allowed_gpu_models_pass():
    config = {"allowedGpuModels": ["A100*", "L40"]}
    l40 = vm_props(flavor_name="n3-L40x2", gpu="L40", gpu_count=2)

    assert (
        check_resource(allowed_gpu_models, vm_props(), config=config).violations == []
    )
    assert check_resource(allowed_gpu_models, l40, config=config).violations == []


def test_cpu_only_vm_passes_any_gpu_model_list():
    config = {"allowedGpuModels": ["A100*"]}

    outcome = check_resource(allowed_gpu_models, vm_props(**CPU_ONLY), config=config)

    assert outcome.violations == []
    assert outcome.skipped is None


def test_gpu_model_comes_from_the_catalog_not_the_flavor_name():
    # A flavor name that looks like an A100 does not make the VM pass: the
    # model the provider resolved from the catalog decides.
    config = {"allowedGpuModels": ["A100*"]}
    props = vm_props(flavor_name="n3-A100x1", gpu="RTX-A6000")

    outcome = check_resource(allowed_gpu_models, props, config=config)

    [message] = outcome.violations
    assert "GPU model 'RTX-A6000'" in message


def test_unknown_gpu_model_skips_the_check():
    config = {"allowedGpuModels": ["A100*"]}
    props = vm_props(gpu=UNKNOWN_STRING_VALUE, flavor_name=UNKNOWN_STRING_VALUE)

    outcome = check_resource(allowed_gpu_models, props, config=config)

    assert outcome.violations == []
    assert outcome.skipped is not None
    assert outcome.skipped.startswith("gpu of VirtualMachine 'trainer'")


def test_missing_gpu_model_is_a_violation_when_models_are_limited():
    props = vm_props()
    del props["gpu"]

    outcome = check_resource(
        allowed_gpu_models, props, config={"allowedGpuModels": ["A100*"]}
    )

    [message] = outcome.violations
    assert "has no GPU model (gpu)" in message


# GPUs per VM


def test_vm_within_the_gpu_limit_passes():
    props = vm_props(flavor_name="n3-A100x4", gpu_count=4)

    outcome = check_resource(max_gpus_per_vm, props, config={"maxGpusPerVm": 4})

    assert outcome.violations == []


def test_vm_over_the_gpu_limit_is_a_violation():
    outcome = check_resource(
        max_gpus_per_vm, vm_props(**H100_X8), name="big", config={"maxGpusPerVm": 4}
    )

    [message] = outcome.violations
    assert message == (
        "VirtualMachine 'big' has 8 GPUs (flavor 'n3-H100x8'); the limit is 4 per "
        "VM (maxGpusPerVm). Choose a flavor with at most 4 GPUs, or raise "
        "maxGpusPerVm."
    )


def test_default_gpu_limit_is_eight():
    sixteen = vm_props(flavor_name="custom-x16", gpu_count=16)

    assert check_resource(max_gpus_per_vm, vm_props(**H100_X8)).violations == []
    assert len(check_resource(max_gpus_per_vm, sixteen).violations) == 1


def test_float_gpu_counts_and_limits_compare_as_whole_numbers():
    # Both numbers arrive as floats; the message must not print "8.0".
    props = vm_props(gpu_count=8.0)

    outcome = check_resource(max_gpus_per_vm, props, config={"maxGpusPerVm": 7.0})

    [message] = outcome.violations
    assert "has 8 GPUs" in message
    assert "the limit is 7 per VM" in message
    assert ".0" not in message


def test_gpu_count_is_not_parsed_from_the_flavor_name():
    # The flavor name claims one GPU, the catalog says eight: eight counts.
    props = vm_props(flavor_name="n3-A100x1", gpu_count=8)

    outcome = check_resource(max_gpus_per_vm, props, config={"maxGpusPerVm": 4})

    assert "has 8 GPUs" in outcome.violations[0]


def test_unknown_gpu_count_skips_and_says_which_value():
    props = vm_props(gpu_count=UNKNOWN_NUMBER_VALUE, flavor_name=UNKNOWN_STRING_VALUE)

    outcome = check_resource(max_gpus_per_vm, props, name="gpu-a")

    assert outcome.violations == []
    assert outcome.skipped is not None
    assert outcome.skipped.startswith("gpu_count of VirtualMachine 'gpu-a' is not")


def test_missing_gpu_count_is_a_violation_not_zero():
    props = vm_props()
    del props["gpu_count"]

    outcome = check_resource(max_gpus_per_vm, props)

    [message] = outcome.violations
    assert "has no gpu_count instead of a whole number" in message


def test_fractional_gpu_count_is_a_violation():
    outcome = check_resource(max_gpus_per_vm, vm_props(gpu_count=1.5))

    [message] = outcome.violations
    assert "gpu_count 1.5" in message


def test_cpu_only_vm_has_no_gpus_to_limit():
    outcome = check_resource(
        max_gpus_per_vm, vm_props(**CPU_ONLY), config={"maxGpusPerVm": 0}
    )

    assert outcome.violations == []


# required labels


def test_vm_with_the_required_labels_passes():
    config = {"requiredLabels": ["owner", "team"]}

    outcome = check_resource(required_labels, vm_props(), config=config)

    assert outcome.violations == []


def test_default_requires_an_owner_label():
    props = vm_props(labels=["team=vision"])

    outcome = check_resource(required_labels, props)

    [message] = outcome.violations
    assert message == (
        "VirtualMachine 'trainer' is missing the required label 'owner'. Add it, "
        "for example labels=['owner=...'], or change requiredLabels."
    )


def test_missing_labels_are_named_together():
    config = {"requiredLabels": ["owner", "team", "cost-center"]}
    props = vm_props(labels=["team=vision", "gpu-pool"])

    outcome = check_resource(required_labels, props, config=config)

    [message] = outcome.violations
    assert "missing the required labels 'owner', 'cost-center'" in message


def test_vm_without_labels_misses_every_required_label():
    props = vm_props()
    del props["labels"]

    outcome = check_resource(
        required_labels, props, config={"requiredLabels": ["owner", "team"]}
    )

    [message] = outcome.violations
    assert "'owner', 'team'" in message


def test_label_without_a_value_is_a_violation():
    props = vm_props(labels=["owner", "team= "])

    outcome = check_resource(
        required_labels, props, config={"requiredLabels": ["owner", "team"]}
    )

    [message] = outcome.violations
    assert "has the required labels 'owner', 'team' without a value" in message
    assert "labels=['owner=...', 'team=...']" in message


def test_labels_may_also_be_a_mapping():
    config = {"requiredLabels": ["owner", "team"]}
    props = vm_props(labels={"owner": "ml", "team": ""})

    outcome = check_resource(required_labels, props, config=config)

    [message] = outcome.violations
    assert "has the required label 'team' without a value" in message
    assert "labels={'team': '...'}" in message


def test_labels_of_another_shape_are_a_violation():
    outcome = check_resource(required_labels, vm_props(labels="owner=ml"))

    [message] = outcome.violations
    assert "neither a list of `key=value` texts nor a mapping" in message


def test_no_required_labels_means_nothing_to_check():
    props = vm_props(labels=[])

    outcome = check_resource(required_labels, props, config={"requiredLabels": []})

    assert outcome.violations == []


def test_unknown_labels_skip_the_check():
    props = vm_props(labels=UNKNOWN_ARRAY_VALUE)

    outcome = check_resource(required_labels, props)

    assert outcome.violations == []
    assert outcome.skipped is not None
    assert outcome.skipped.startswith("labels of VirtualMachine 'trainer'")


def test_unknown_label_text_may_be_the_missing_one_so_it_skips():
    config = {"requiredLabels": ["owner", "team"]}
    props = vm_props(labels=["owner=ml", UNKNOWN_STRING_VALUE])

    outcome = check_resource(required_labels, props, config=config)

    assert outcome.violations == []
    assert outcome.skipped is not None
    assert outcome.skipped.startswith("labels.1 of VirtualMachine 'trainer'")


def test_missing_key_is_reported_even_when_a_mapping_value_is_unknown():
    config = {"requiredLabels": ["owner", "team"]}
    props = vm_props(labels={"owner": UNKNOWN_STRING_VALUE})

    outcome = check_resource(required_labels, props, config=config)

    [message] = outcome.violations
    assert "missing the required label 'team'" in message
    assert outcome.skipped is not None
    assert outcome.skipped.startswith("labels.owner of VirtualMachine 'trainer'")
