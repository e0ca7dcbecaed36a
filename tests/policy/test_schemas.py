import json
import re
from pathlib import Path

import jsonschema
import pytest
from pulumi_policy import ResourceValidationArgs

from pulumi_infrahub.policy import (
    PolicyConfigError,
    all_policies,
    allowed_flavors,
    max_gpus_per_vm,
    max_stack_gpus,
)

from .harness import (
    Analyzer,
    check_resource,
    check_stack,
    engine_config,
    runtime_props,
    vm_props,
)

EXAMPLE_CONFIG = Path(__file__).parents[2] / "examples/policy-pack/gpu-limits.json"
POLICIES = {policy.name: policy for policy in all_policies()}


def test_policy_names_are_unique_and_valid():
    names = [policy.name for policy in all_policies()]

    assert len(set(names)) == len(names) == 9
    assert all(re.fullmatch(r"infrahub-[a-z0-9-]{1,80}", name) for name in names)


@pytest.mark.parametrize("name", sorted(POLICIES))
def test_schema_is_valid_json_schema_and_its_defaults_pass_it(name):
    schema = POLICIES[name].config_schema
    document = {"type": "object", "properties": schema.properties}

    jsonschema.Draft7Validator.check_schema(document)
    assert engine_config(POLICIES[name]).keys() == schema.properties.keys()


@pytest.mark.parametrize("name", sorted(POLICIES))
def test_every_config_key_is_described(name):
    for key, spec in POLICIES[name].config_schema.properties.items():
        assert spec.get("description"), f"{name}: {key} has no description"
        assert "default" in spec, f"{name}: {key} has no default"


@pytest.mark.parametrize(
    ("name", "config"),
    [
        ("infrahub-vm-max-gpus", {"maxGpusPerVm": "four"}),
        ("infrahub-vm-max-gpus", {"maxGpusPerVm": -1}),
        ("infrahub-vm-max-gpus", {"maxGpusPerVm": 2.5}),
        ("infrahub-vm-allowed-flavors", {"allowedFlavors": "n3-A100x1"}),
        ("infrahub-vm-allowed-flavors", {"allowedFlavors": []}),
        ("infrahub-vm-allowed-gpu-models", {"allowedGpuModels": [""]}),
        ("infrahub-stack-max-gpus", {"maxTotalGpus": True}),
        ("infrahub-stack-max-vms", {"maxVms": None}),
        ("infrahub-firewall-no-public-admin-ports", {"ports": [0]}),
        ("infrahub-firewall-no-public-admin-ports", {"ports": ["ssh"]}),
        ("infrahub-volume-max-size", {"maxSizeGb": 0}),
        ("infrahub-vm-required-labels", {"requiredLabels": ["owner", "owner"]}),
        ("infrahub-allowed-locations", {"allowedRegions": [7]}),
    ],
)
def test_config_of_the_wrong_type_is_rejected(name, config):
    with pytest.raises(jsonschema.ValidationError):
        engine_config(POLICIES[name], config)


def test_misspelt_config_key_fails_loudly_instead_of_using_the_default():
    # The engine cannot refuse extra keys, so the policy does.
    with pytest.raises(PolicyConfigError) as caught:
        check_resource(max_gpus_per_vm, vm_props(), config={"maxGpuPerVm": 1})

    assert str(caught.value) == (
        "policy 'infrahub-vm-max-gpus' has no config key 'maxGpuPerVm'; its keys "
        "are 'maxGpusPerVm'"
    )


def test_misspelt_stack_config_key_fails_loudly():
    with pytest.raises(PolicyConfigError, match="no config key 'maxGpus'"):
        check_stack(max_stack_gpus, [], config={"maxGpus": 1})


def test_config_of_the_wrong_type_fails_loudly_outside_the_engine():
    # Called without the engine's validation, a bad value is an error, not a pass.
    args = ResourceValidationArgs(
        resource_type="pulumi-python:dynamic/infrahub:VirtualMachine",
        props=runtime_props(vm_props()),
        urn="urn:pulumi:dev::p::t::trainer",
        name="trainer",
        opts=None,
        provider=None,
        config={"allowedFlavors": "n3-*"},
    )

    with pytest.raises(PolicyConfigError, match="allowedFlavors must be a list"):
        allowed_flavors.validate(args, lambda message, urn=None: None)


def test_example_config_names_only_policies_of_the_pack():
    config = json.loads(EXAMPLE_CONFIG.read_text())

    assert set(config) - {"all"} <= set(POLICIES)


def test_example_config_passes_the_engine_validation():
    Analyzer().configure(json.loads(EXAMPLE_CONFIG.read_text()))


def test_analyzer_rejects_a_config_of_the_wrong_type():
    with pytest.raises(jsonschema.ValidationError, match="'eight' is not of type"):
        Analyzer().configure({"infrahub-stack-max-gpus": {"maxTotalGpus": "eight"}})
