"""The example policy pack under the real CLI, against the emulator.

Each test runs `pulumi preview` or `pulumi up` with
`--policy-pack examples/policy-pack` on a program whose VMs come from stack
config, so one stack can grow between runs.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from .conftest import EXAMPLES, Emulator, MakeProject, PulumiProject, StartEmulator

PACK = EXAMPLES / "policy-pack"
VM_TYPE = "pulumi-python:dynamic/infrahub:VirtualMachine"

PROGRAM = '''\
"""VMs from the `vms` config: a JSON list of {"name", "flavor"}.

A VM with "after": NAME takes its flavor through an output of VM NAME, so
while that VM is new, the flavor and its GPU count are unknown in a preview.
"""

import json

import pulumi

from pulumi_infrahub.resources import VirtualMachine

made = {}
for vm in json.loads(pulumi.Config().require("vms")):
    flavor = vm["flavor"]
    if "after" in vm:
        flavor = made[vm["after"]].id.apply(lambda _, flavor=flavor: flavor)
    made[vm["name"]] = VirtualMachine(
        vm["name"],
        name=vm["name"],
        environment_name="demo-environment",
        image_name="Ubuntu Server 22.04 LTS R535 CUDA 12.2",
        flavor_name=flavor,
        key_name="demo-keypair",
        labels=["owner=e2e", "team=policy"],
    )
'''

MakeStack = Callable[[list[dict[str, str]]], PulumiProject]


@pytest.fixture
def fast_emulator(start_emulator: StartEmulator) -> Emulator:
    return start_emulator("--no-delays")


@pytest.fixture
def make_stack(
    make_project: MakeProject, fast_emulator: Emulator, tmp_path: Path
) -> MakeStack:
    program = tmp_path / "policy-program"
    program.mkdir()
    (program / "__main__.py").write_text(PROGRAM)

    def make(vms: list[dict[str, str]]) -> PulumiProject:
        return make_project(
            program,
            emulator=fast_emulator,
            name="policy-e2e",
            config={"vms": json.dumps(vms)},
        )

    return make


def write_config(tmp_path: Path, name: str, config: dict[str, Any]) -> Path:
    path = tmp_path / f"{name}.json"
    path.write_text(json.dumps(config))
    return path


def with_pack(config: Path) -> tuple[str, ...]:
    return ("--policy-pack", str(PACK), "--policy-pack-config", str(config))


def emulator_vm_names(emulator: Emulator) -> list[str]:
    """Names of the VMs the emulator holds for the stack's tenant."""
    answer = httpx.get(
        f"{emulator.base_url}/core/virtual-machines",
        headers={"api_key": emulator.api_key},
        timeout=10,
    )
    answer.raise_for_status()
    return sorted(vm["name"] for vm in answer.json()["instances"])


def test_mandatory_violation_fails_the_preview_naming_the_vm_and_the_limit(
    make_stack: MakeStack, tmp_path: Path
) -> None:
    project = make_stack([{"name": "big", "flavor": "n3-A100x4"}])
    config = write_config(
        tmp_path, "per-vm", {"infrahub-vm-max-gpus": {"maxGpusPerVm": 2}}
    )

    run = project.preview(*with_pack(config), check=False)

    assert run.returncode != 0, run.describe()
    assert "[mandatory]" in run.output
    assert (
        "VirtualMachine 'big' has 4 GPUs (flavor 'n3-A100x4'); the limit is 2 per "
        "VM (maxGpusPerVm)." in run.output
    )


def test_advisory_violation_passes_the_preview_with_a_warning(
    make_stack: MakeStack, tmp_path: Path
) -> None:
    project = make_stack([{"name": "big", "flavor": "n3-A100x4"}])
    config = write_config(
        tmp_path,
        "advisory",
        {"infrahub-vm-max-gpus": {"enforcementLevel": "advisory", "maxGpusPerVm": 2}},
    )

    run = project.preview(*with_pack(config), check=False)

    assert run.returncode == 0, run.describe()
    assert "[advisory]" in run.output
    assert "VirtualMachine 'big' has 4 GPUs" in run.output


def test_stack_gpu_total_counts_vms_that_are_not_changing(
    make_stack: MakeStack, fast_emulator: Emulator, tmp_path: Path
) -> None:
    project = make_stack([{"name": "first", "flavor": "n3-A100x4"}])
    project.up()
    grown = [
        {"name": "first", "flavor": "n3-A100x4"},
        {"name": "second", "flavor": "n3-A100x2"},
    ]
    project.config_set("vms", json.dumps(grown))
    tight = write_config(
        tmp_path, "tight", {"infrahub-stack-max-gpus": {"maxTotalGpus": 5}}
    )
    roomy = write_config(
        tmp_path, "roomy", {"infrahub-stack-max-gpus": {"maxTotalGpus": 6}}
    )

    blocked = project.preview("--diff", *with_pack(tight), check=False)
    allowed = project.preview(*with_pack(roomy), check=False)

    assert emulator_vm_names(fast_emulator) == ["first"]
    assert blocked.returncode != 0, blocked.describe()
    # Only the second VM is planned; the first is counted from its state.
    assert "+ 1 to create" in blocked.output
    assert "VirtualMachine::second]" in blocked.output
    assert "VirtualMachine::first]" not in blocked.output
    assert (
        "The stack has 6 GPUs ('first' 4 and 'second' 2); the limit is 5 "
        "(maxTotalGpus)." in blocked.output
    )
    assert allowed.returncode == 0, allowed.describe()
    assert "infrahub-stack-max-gpus" not in allowed.output


def test_config_value_of_the_wrong_type_is_rejected_before_the_preview_runs(
    make_stack: MakeStack, tmp_path: Path
) -> None:
    project = make_stack([{"name": "small", "flavor": "n3-A100x1"}])
    config = write_config(
        tmp_path, "wrong-type", {"infrahub-stack-max-gpus": {"maxTotalGpus": "eight"}}
    )

    run = project.preview(*with_pack(config), check=False)

    assert run.returncode != 0, run.describe()
    assert "validating policy config" in run.output
    assert "infrahub-stack-max-gpus: maxTotalGpus: Invalid type" in run.output
    # The program never ran, so no VM was even planned.
    assert VM_TYPE not in run.output


def test_misspelt_config_key_stops_the_preview(
    make_stack: MakeStack, tmp_path: Path
) -> None:
    project = make_stack([{"name": "small", "flavor": "n3-A100x1"}])
    config = write_config(
        tmp_path, "misspelt", {"infrahub-vm-max-gpus": {"maxGpuPerVm": 0}}
    )

    run = project.preview(*with_pack(config), check=False)

    assert run.returncode != 0, run.describe()
    assert (
        "policy 'infrahub-vm-max-gpus' has no config key 'maxGpuPerVm'; its keys "
        "are 'maxGpusPerVm'" in run.output
    )


def test_up_creates_nothing_when_a_mandatory_policy_is_violated(
    make_stack: MakeStack, fast_emulator: Emulator
) -> None:
    project = make_stack(
        [
            {"name": "small", "flavor": "n3-A100x1"},
            {"name": "huge", "flavor": "n3-H100x8"},
        ]
    )

    run = project.up(*with_pack(PACK / "gpu-limits.json"), check=False)

    assert run.returncode != 0, run.describe()
    assert "VirtualMachine 'huge' uses flavor 'n3-H100x8'" in run.output
    assert "VirtualMachine 'huge' has 8 GPUs" in run.output
    assert emulator_vm_names(fast_emulator) == []
    assert project.resources(VM_TYPE) == []


def test_unknown_gpu_count_is_skipped_in_preview_and_enforced_by_up(
    make_stack: MakeStack, fast_emulator: Emulator, tmp_path: Path
) -> None:
    project = make_stack(
        [
            {"name": "base", "flavor": "n3-A100x1"},
            {"name": "later", "flavor": "n3-A100x4", "after": "base"},
        ]
    )
    config = write_config(
        tmp_path, "per-vm", {"infrahub-vm-max-gpus": {"maxGpusPerVm": 2}}
    )

    preview = project.preview(*with_pack(config), check=False)
    up = project.up(*with_pack(config), check=False)

    assert preview.returncode == 0, preview.describe()
    assert "can't run policy 'infrahub-vm-max-gpus'" in preview.output
    assert "gpu_count of VirtualMachine 'later' is not known" in preview.output
    assert up.returncode != 0, up.describe()
    assert "VirtualMachine 'later' has 4 GPUs" in up.output
    assert emulator_vm_names(fast_emulator) == ["base"]
